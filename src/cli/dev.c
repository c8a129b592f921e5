/* hearth dev — serve Workers from their project directories, reloading on edits. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "base/ids.h"
#include "cli/cli.h"
#include "platform/project.h"
#include "platform/runtime_ops.h"
#include "platform/server.h"
#include "platform/snapshot.h"

#define WATCH_INTERVAL_MS 200

static const char kDevUsage[] =
    "Usage: hearth dev [DIR...] [options]\n"
    "\n"
    "Serves the Worker in DIR (default: the current directory), configured by its\n"
    "wrangler.toml, wrangler.json or wrangler.jsonc, and reloads it when its files change.\n"
    "With several directories, each Worker answers at <name>.localhost and the first one\n"
    "answers every other host.\n"
    "\n"
    "Options:\n"
    "  --port N              port to listen on (default 8787; 0 picks a free one)\n"
    "  --ip ADDR             address to listen on (default 127.0.0.1)\n"
    "  -e, --env NAME        use [env.NAME] of the config (and .dev.vars.NAME)\n"
    "  --threads N           event-loop threads (default: one per CPU)\n"
    "  --no-access-log       do not print a line per request\n"
    "  --max-body-size N     largest request body in bytes (default 104857600)\n"
    "  --ws-max-message N    largest WebSocket message a Worker receives, in bytes (default\n"
    "                        1048576; larger closes the socket with 1009)\n"
    "  --request-timeout S   seconds a client may take to send a request (default 30)\n"
    "  --idle-timeout S      seconds an idle keep-alive connection stays open (default 60)\n"
    "  --memory-limit MIB    JavaScript heap per Worker instance (default 128)\n"
    "  --ratelimit BACKEND   rate limit counters: embedded (default) or\n"
    "                        memcached://HOST:PORT[,HOST:PORT...] (shared by processes)\n"
    "  --ratelimit-fail MODE when memcached cannot answer: open (allow, default) or closed\n"
    "  -h, --help            show this help\n";

typedef struct dev_project {
    char *dir;
    worker_version *version;
    char **watched;
    uint64_t *stamps;
    size_t watched_count;
} dev_project;

typedef struct dev_state {
    hearth_server server;
    js_shard *compiler;
    dev_project *projects;
    size_t project_count;
    uv_loop_t *loop;
    uv_timer_t watch_timer;
    uv_signal_t sigint, sigterm;
    int signals;
} dev_state;

static void print_build_output(const project_build_result *res) {
    if (res->diag.text.len) fputs(res->diag.text.data, stderr);
    if (res->error) fprintf(stderr, "%s\n", res->error);
}

/* Records what the last build looked at, keeping earlier paths too: after a failed build the
 * file that fixes it may be one the failed build never reached. */
static void set_watched(dev_project *p, project_build_result *res) {
    for (size_t i = 0; i < res->watched_count; i++) {
        bool known = false;
        for (size_t k = 0; k < p->watched_count && !known; k++)
            known = strcmp(p->watched[k], res->watched[i]) == 0;
        if (known) continue;
        p->watched = xrealloc(p->watched, (p->watched_count + 1) * sizeof(char *));
        p->stamps = xrealloc(p->stamps, (p->watched_count + 1) * sizeof(uint64_t));
        p->watched[p->watched_count] = xstrdup(res->watched[i]);
        p->watched_count++;
    }
    for (size_t k = 0; k < p->watched_count; k++) p->stamps[k] = fs_stamp(p->watched[k]);
}

static void publish(dev_state *st);
static void release_build_memory(dev_state *st);

static int build(dev_state *st, dev_project *p, bool initial) {
    char id[37];
    uuid_v4(id);
    project_build_result res;
    int rc = project_build(st->compiler, p->dir, cli_environment(), id, &res);
    print_build_output(&res);
    set_watched(p, &res);
    if (rc == 0) {
        if (p->version) worker_version_unref(p->version);
        p->version = res.version;
        res.version = NULL;
        if (!initial) {
            release_build_memory(st);
            publish(st); /* returns once every thread serves the new version */
            fprintf(stderr, "[hearth] Reloaded %s (%zu module%s)\n", p->version->worker_name,
                    res.module_count, res.module_count == 1 ? "" : "s");
        }
    } else if (!initial) {
        fprintf(stderr, "[hearth] Reload of %s failed; still serving the previous version\n",
                p->dir);
    }
    project_build_result_free(&res);
    return rc;
}

/* After builds: the trial runs of top-level code left garbage on the compiler's heap; collect
 * it and give the memory back to the system (a dev server mostly sits idle). */
static void release_build_memory(dev_state *st) {
    js_shard_gc(st->compiler);
    malloc_trim(0);
}

/* Each project is a script with its one version at 100%; the first answers every other host. */
static void publish(dev_state *st) {
    snapshot *snap = snapshot_new(NULL);
    for (size_t i = 0; i < st->project_count; i++) {
        worker_version *v = st->projects[i].version;
        script_entry *se = snapshot_add_script(snap, v->worker_name);
        snapshot_add_version(se, v);
        snapshot_set_split(se, v, 100, NULL, 0);
    }
    snapshot_set_default(snap, &snap->scripts[0]);
    snapshot_publish(snap);
    server_notify_snapshot(&st->server, 2000);
}

static void on_watch_tick(uv_timer_t *t) {
    dev_state *st = t->data;
    for (size_t i = 0; i < st->project_count; i++) {
        dev_project *p = &st->projects[i];
        bool changed = false;
        for (size_t k = 0; k < p->watched_count && !changed; k++)
            changed = fs_stamp(p->watched[k]) != p->stamps[k];
        if (changed) build(st, p, false);
    }
}

static void free_projects(dev_state *st) {
    for (size_t i = 0; i < st->project_count; i++) {
        dev_project *p = &st->projects[i];
        if (p->version) worker_version_unref(p->version);
        for (size_t k = 0; k < p->watched_count; k++) free(p->watched[k]);
        free(p->watched);
        free(p->stamps);
        free(p->dir);
    }
    free(st->projects);
    st->projects = NULL;
    st->project_count = 0;
}

static void on_signal(uv_signal_t *s, int signum) {
    dev_state *st = s->data;
    if (++st->signals > 1) {
        fprintf(stderr, "[hearth] Forced exit\n");
        _exit(128 + signum);
    }
    fprintf(stderr, "[hearth] Shutting down (waiting up to %.0fs for requests in flight)\n",
            (double)st->server.cfg.shutdown_grace_ms / 1000.0);
    uv_timer_stop(&st->watch_timer);
    uv_close((uv_handle_t *)&st->watch_timer, NULL);
    uv_signal_stop(&st->sigint);
    uv_signal_stop(&st->sigterm);
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
}

int cmd_dev(int argc, char **argv) {
    server_config cfg;
    server_config_defaults(&cfg);
    cfg.dev = true;
    const char *dirs[64];
    size_t ndirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r;
        if ((r = cli_server_option(argc, argv, &i, &cfg, kDevUsage)) != 0) {
            if (r < 0) return 2;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kDevUsage, stdout);
            return 0;
        } else if (!strcmp(a, "--port")) {
            long n;
            if (!cli_parse_long(v, 0, 65535, &n))
                return cli_usage_error(kDevUsage, "--port needs a port number from 0 to 65535");
            cfg.port = (int)n;
            i++;
        } else if (!strcmp(a, "--ip")) {
            if (!v) return cli_usage_error(kDevUsage, "--ip needs an address");
            snprintf(cfg.ip, sizeof cfg.ip, "%s", v);
            i++;
        } else if (!strcmp(a, "--no-access-log")) {
            cfg.access_log = false;
        } else if (a[0] == '-') {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option %s", a);
            return cli_usage_error(kDevUsage, msg);
        } else if (ndirs < 64) {
            dirs[ndirs++] = a;
        }
    }
    if (ndirs == 0) dirs[ndirs++] = ".";

    if (cli_start_runtime() != 0) return 1;
    dev_state st;
    memset(&st, 0, sizeof st);
    js_shard_options copts = {0};
    st.compiler = js_shard_new(&copts);
    st.projects = xcalloc(ndirs, sizeof *st.projects);
    st.project_count = ndirs;
    int status = 0;
    for (size_t i = 0; i < ndirs && status == 0; i++) {
        st.projects[i].dir = xstrdup(dirs[i]);
        if (build(&st, &st.projects[i], true) != 0) status = 1;
    }
    if (status == 0) release_build_memory(&st);
    char errbuf[256];
    if (status == 0 && server_start(&st.server, &cfg, errbuf, sizeof errbuf) != 0) {
        fprintf(stderr, "hearth: %s\n", errbuf);
        status = 1;
    }
    if (status != 0) {
        free_projects(&st);
        js_shard_free(st.compiler);
        js_engine_shutdown();
        return status;
    }
    publish(&st);
    for (size_t i = 0; i < ndirs; i++)
        fprintf(stderr, "[hearth] Serving %s (%s) with %u thread%s\n",
                st.projects[i].version->worker_name, st.projects[i].dir, st.server.shard_count,
                st.server.shard_count == 1 ? "" : "s");
    const char *shown_ip = strchr(cfg.ip, ':') ? "[::1]" : cfg.ip;
    if (!strcmp(cfg.ip, "0.0.0.0")) shown_ip = "127.0.0.1";
    fprintf(stderr, "[hearth] Ready on http://%s:%d\n", shown_ip, st.server.port);

    uv_loop_t loop;
    uv_loop_init(&loop);
    st.loop = &loop;
    uv_timer_init(&loop, &st.watch_timer);
    st.watch_timer.data = &st;
    uv_timer_start(&st.watch_timer, on_watch_tick, WATCH_INTERVAL_MS, WATCH_INTERVAL_MS);
    uv_signal_init(&loop, &st.sigint);
    uv_signal_init(&loop, &st.sigterm);
    st.sigint.data = st.sigterm.data = &st;
    uv_signal_start(&st.sigint, on_signal, SIGINT);
    uv_signal_start(&st.sigterm, on_signal, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    /* The signal handlers are gone now, so a second Ctrl-C during the graceful stop ends the
     * process the default way. */
    server_stop(&st.server);
    free_projects(&st);
    snapshot_publish(snapshot_new(NULL));
    js_shard_free(st.compiler);
    js_engine_shutdown();
    fprintf(stderr, "[hearth] Stopped\n");
    return 0;
}
