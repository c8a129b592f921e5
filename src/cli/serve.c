/* hearth serve — the platform: versions and deployments managed through the control API,
 * served on the data plane. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "base/fs.h"
#include "cli/cli.h"
#include "observe/logstore.h"
#include "observe/metrics.h"
#include "platform/control.h"
#include "platform/runtime_ops.h"
#include "platform/server.h"
#include "platform/snapshot.h"

static const char kServeUsage[] =
    "Usage: hearth serve [options]\n"
    "\n"
    "Runs hearth as a platform: Workers are uploaded as immutable versions and deployed through\n"
    "the control API (see docs/api.md and `hearth deploy`), and served on the data plane.\n"
    "State is kept in DIR and survives restarts.\n"
    "\n"
    "Options:\n"
    "  --data DIR             state directory (default ./.hearth)\n"
    "  --listen ADDR:PORT     data plane address (default 0.0.0.0:8787; port 0 picks one)\n"
    "  --admin ADDR:PORT      control API and /metrics (default 127.0.0.1:8788)\n"
    "  --domain D             Workers answer at <name>.D (default localhost)\n"
    "  --default-worker NAME  the Worker for hosts nothing else matches\n"
    "  --threads N            event-loop threads (default: one per CPU)\n"
    "  --access-log           print a line per request\n"
    "  --max-body-size N      largest request body in bytes (default 104857600)\n"
    "  --ws-max-message N     largest WebSocket message a Worker receives, in bytes (default\n"
    "                         1048576; larger closes the socket with 1009)\n"
    "  --request-timeout S    seconds a client may take to send a request (default 30)\n"
    "  --idle-timeout S       seconds an idle keep-alive connection stays open (default 60)\n"
    "  --memory-limit MIB     JavaScript heap per Worker instance (default 128)\n"
    "  --ratelimit BACKEND    rate limit counters: embedded (default) or\n"
    "                         memcached://HOST:PORT[,HOST:PORT...] (shared by processes)\n"
    "  --ratelimit-fail MODE  when memcached cannot answer: open (allow, default) or closed\n"
    "  --logs-retention DAYS  keep stored logs this long (default 3)\n"
    "  --logs-max-size MIB    bound on stored logs, oldest dropped first (default 256)\n"
    "  --unload-after S       unload versions in no active deployment after S idle seconds\n"
    "                         (default 30)\n"
    "  -h, --help             show this help\n"
    "\n"
    "On first start an admin API token is printed once; HEARTH_ADMIN_TOKEN sets it instead.\n";

/* "ADDR:PORT", "[v6]:PORT" or ":PORT". */
static bool parse_addr(const char *s, char *ip, size_t iplen, int *port) {
    if (!s) return false;
    const char *colon = strrchr(s, ':');
    if (!colon) return false;
    long p;
    if (!cli_parse_long(colon + 1, 0, 65535, &p)) return false;
    size_t n = (size_t)(colon - s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0) {
        snprintf(ip, iplen, "0.0.0.0");
    } else {
        if (n >= iplen) return false;
        memcpy(ip, s, n);
        ip[n] = '\0';
    }
    *port = (int)p;
    return true;
}

static uv_signal_t sigint_h, sigterm_h;

static void on_signal(uv_signal_t *s, int signum) {
    (void)signum;
    fprintf(stderr, "[hearth] Shutting down (waiting up to 10s for requests in flight)\n");
    uv_signal_stop(&sigint_h);
    uv_signal_stop(&sigterm_h);
    uv_close((uv_handle_t *)&sigint_h, NULL);
    uv_close((uv_handle_t *)&sigterm_h, NULL);
    (void)s;
}

int cmd_serve(int argc, char **argv) {
    server_config cfg;
    server_config_defaults(&cfg);
    cfg.dev = false;
    cfg.access_log = false;
    snprintf(cfg.ip, sizeof cfg.ip, "0.0.0.0");
    control_config cc;
    memset(&cc, 0, sizeof cc);
    cc.data_dir = ".hearth";
    cc.domain = "localhost";
    snprintf(cc.admin_ip, sizeof cc.admin_ip, "127.0.0.1");
    cc.admin_port = 8788;
    cc.max_upload_bytes = 100u * 1024 * 1024;
    logstore_options logs_opt;
    logstore_options_defaults(&logs_opt);
    /* Searches run on the control thread: a long one would hold up deployments. */
    logs_opt.search_timeout_ms = 2000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r;
        if ((r = cli_server_option(argc, argv, &i, &cfg, kServeUsage)) != 0) {
            if (r < 0) return 2;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kServeUsage, stdout);
            return 0;
        } else if (!strcmp(a, "--data")) {
            if (!v) return cli_usage_error(kServeUsage, "--data needs a directory");
            cc.data_dir = v;
            i++;
        } else if (!strcmp(a, "--listen")) {
            if (!parse_addr(v, cfg.ip, sizeof cfg.ip, &cfg.port))
                return cli_usage_error(kServeUsage, "--listen needs ADDR:PORT, e.g. 0.0.0.0:8787");
            i++;
        } else if (!strcmp(a, "--admin")) {
            if (!parse_addr(v, cc.admin_ip, sizeof cc.admin_ip, &cc.admin_port))
                return cli_usage_error(kServeUsage, "--admin needs ADDR:PORT, e.g. 127.0.0.1:8788");
            i++;
        } else if (!strcmp(a, "--domain")) {
            if (!v || !*v) return cli_usage_error(kServeUsage, "--domain needs a domain name");
            cc.domain = v;
            i++;
        } else if (!strcmp(a, "--default-worker")) {
            if (!v || !*v)
                return cli_usage_error(kServeUsage, "--default-worker needs a Worker name");
            cc.default_worker = v;
            i++;
        } else if (!strcmp(a, "--access-log")) {
            cfg.access_log = true;
        } else if (!strcmp(a, "--logs-retention")) {
            double days;
            if (!cli_parse_seconds(v, &days) || days <= 0)
                return cli_usage_error(kServeUsage,
                                       "--logs-retention needs a number of days, e.g. 3 or 0.5");
            logs_opt.retention_ms = (uint64_t)(days * 86400000.0);
            i++;
        } else if (!strcmp(a, "--logs-max-size")) {
            long mib;
            if (!cli_parse_long(v, 1, 1L << 20, &mib))
                return cli_usage_error(kServeUsage, "--logs-max-size needs a number of MiB");
            logs_opt.max_bytes = (uint64_t)mib * 1024 * 1024;
            i++;
        } else if (!strcmp(a, "--unload-after")) {
            double s;
            if (!cli_parse_seconds(v, &s))
                return cli_usage_error(kServeUsage, "--unload-after needs seconds, e.g. 30 or 0.5");
            cfg.unload_idle_ms = (uint64_t)(s * 1000.0) ? (uint64_t)(s * 1000.0) : 1;
            i++;
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option %s", a);
            return cli_usage_error(kServeUsage, msg);
        }
    }

    if (cli_start_runtime() != 0) return 1;
    signal(SIGPIPE, SIG_IGN);
    char errbuf[512];
    /* The logs store is open before the shards start: they append to it. */
    if (mkdir(cc.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "hearth: cannot create %s: %s\n", cc.data_dir, strerror(errno));
        js_engine_shutdown();
        return 1;
    }
    char *logs_path = fs_join(cc.data_dir, "logs.db");
    logstore *logs = logstore_open(logs_path, &logs_opt, errbuf, sizeof errbuf);
    free(logs_path);
    if (!logs) {
        fprintf(stderr, "hearth: %s\n", errbuf);
        js_engine_shutdown();
        return 1;
    }
    cfg.logstore = logs;
    hearth_server server;
    if (server_start(&server, &cfg, errbuf, sizeof errbuf) != 0) {
        fprintf(stderr, "hearth: %s\n", errbuf);
        logstore_close(logs);
        js_engine_shutdown();
        return 1;
    }
    metrics_registry *metrics = metrics_registry_new();
    cc.server = &server;
    cc.metrics = metrics;
    control *ctl = NULL;
    int admin_port = 0;
    if (control_start(&cc, &ctl, &admin_port, errbuf, sizeof errbuf) != 0) {
        fprintf(stderr, "hearth: %s\n", errbuf);
        server_stop(&server);
        logstore_close(logs);
        metrics_registry_free(metrics);
        js_engine_shutdown();
        return 1;
    }
    fprintf(stderr, "[hearth] State in %s\n", cc.data_dir);
    fprintf(stderr, "[hearth] Control API on http://%s:%d\n", cc.admin_ip, admin_port);
    fprintf(stderr, "[hearth] Serving on http://%s:%d (Workers at <name>.%s)\n", cfg.ip,
            server.port, cc.domain);

    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_signal_init(&loop, &sigint_h);
    uv_signal_init(&loop, &sigterm_h);
    uv_signal_start(&sigint_h, on_signal, SIGINT);
    uv_signal_start(&sigterm_h, on_signal, SIGTERM);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    /* The control plane first (no new deployments), then the data plane drains. */
    control_stop(ctl);
    server_stop(&server);
    snapshot_publish(snapshot_new(NULL));
    logstore_close(logs); /* writes what the last requests logged */
    metrics_registry_free(metrics);
    js_engine_shutdown();
    fprintf(stderr, "[hearth] Stopped\n");
    return 0;
}
