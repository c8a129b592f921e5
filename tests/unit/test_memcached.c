/* Unit tests for the memcached client (src/ratelimit/memcached*.c, consistent_hash.c).
 *
 * Pure: the reply parser (every reply type, split at every byte, malformed input), the server
 * list errors, the hash ring's spread and stability. Live: against real memcached processes
 * this test starts itself (/usr/bin/memcached is a declared dependency: missing, the live tests
 * fail), and against fake servers on the test's own loop (one that never answers, one that
 * answers garbage). No assertion depends on speed; waits are bounded by generous deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "base/buf.h"
#include "ratelimit/consistent_hash.h"
#include "ratelimit/memcached.h"
#include "ratelimit/memcached_reply.h"

#define MEMCACHED_BIN "/usr/bin/memcached"

/* ---- the reply parser ---------------------------------------------------------------------- */

/* A reply as a comparable string: "TYPE|flags|opaque|data|msg". */
static void describe(const mc_reply *r, buf *out) {
    buf_printf(out, "%s|%.*s|%s%.*s|%.*s|%.*s\n", mc_reply_type_name(r->type), (int)r->flags_len,
               r->flags ? r->flags : "", r->opaque ? "O:" : "", (int)r->opaque_len,
               r->opaque ? r->opaque : "", (int)r->data_len, r->data ? r->data : "",
               (int)r->msg_len, r->msg ? r->msg : "");
}

static ptrdiff_t parse_str(const char *s, mc_reply *r) {
    return mc_reply_parse(s, strlen(s), r);
}

static void test_reply_types(void **state) {
    (void)state;
    mc_reply r;
    assert_int_equal(parse_str("HD\r\n", &r), 4);
    assert_int_equal(r.type, MC_REPLY_HD);
    assert_int_equal(r.flags_len, 0);
    assert_null(r.opaque);

    const char *s = "HD O17 t9\r\nEN\r\n";
    assert_int_equal(parse_str(s, &r), 11);
    assert_int_equal(r.type, MC_REPLY_HD);
    assert_int_equal(r.flags_len, 6);
    assert_memory_equal(r.flags, "O17 t9", 6);
    assert_int_equal(r.opaque_len, 2);
    assert_memory_equal(r.opaque, "17", 2);

    s = "VA 2 s2 O5\r\n10\r\n";
    assert_int_equal(parse_str(s, &r), (ptrdiff_t)strlen(s));
    assert_int_equal(r.type, MC_REPLY_VA);
    assert_int_equal(r.data_len, 2);
    assert_memory_equal(r.data, "10", 2);
    assert_int_equal(r.flags_len, 5);
    assert_memory_equal(r.flags, "s2 O5", 5);
    assert_memory_equal(r.opaque, "5", 1);

    /* Binary data, CRLF inside the block included. */
    s = "VA 4\r\n\r\n\r\n\r\n";
    assert_int_equal(parse_str(s, &r), 12);
    assert_int_equal(r.data_len, 4);
    assert_memory_equal(r.data, "\r\n\r\n", 4);
    assert_int_equal(parse_str("VA 0\r\n\r\n", &r), 8);
    assert_int_equal(r.data_len, 0);

    struct {
        const char *in;
        mc_reply_type type;
    } simple[] = {
        {"EN\r\n", MC_REPLY_EN},     {"NF O1\r\n", MC_REPLY_NF}, {"NS\r\n", MC_REPLY_NS},
        {"EX c99\r\n", MC_REPLY_EX}, {"MN\r\n", MC_REPLY_MN},    {"ERROR\r\n", MC_REPLY_ERROR},
        {"HD \r\n", MC_REPLY_HD},
    };
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++) {
        assert_int_equal(parse_str(simple[i].in, &r), (ptrdiff_t)strlen(simple[i].in));
        assert_int_equal(r.type, simple[i].type);
    }

    s = "CLIENT_ERROR bad command line format\r\n";
    assert_int_equal(parse_str(s, &r), (ptrdiff_t)strlen(s));
    assert_int_equal(r.type, MC_REPLY_CLIENT_ERROR);
    assert_int_equal(r.msg_len, strlen("bad command line format"));
    assert_memory_equal(r.msg, "bad command line format", r.msg_len);
    assert_null(r.opaque);
    s = "SERVER_ERROR out of memory storing object\r\n";
    assert_int_equal(parse_str(s, &r), (ptrdiff_t)strlen(s));
    assert_int_equal(r.type, MC_REPLY_SERVER_ERROR);
    assert_memory_equal(r.msg, "out of memory", 13);
    assert_int_equal(parse_str("ERROR no such command\r\n", &r), 23);
    assert_int_equal(r.type, MC_REPLY_ERROR);
    /* Error replies have no flags: an O in the message is not an opaque. */
    assert_int_equal(parse_str("CLIENT_ERROR O12\r\n", &r), 18);
    assert_null(r.opaque);
}

static void test_reply_incomplete_and_malformed(void **state) {
    (void)state;
    mc_reply r;
    const char *need_more[] = {
        "H",
        "HD",
        "HD\r",
        "HD O1",
        "VA",
        "VA 5",
        "VA 5\r\n",
        "VA 5\r\n12",
        "VA 5\r\n12345",
        "VA 5\r\n12345\r",
        "CLIENT_ERR",
        "CLIENT_ERROR",
        "CLIENT_ERROR oops",
        "E",
        "ER",
        "ERROR",
        "SERVER_ERROR x\r",
    };
    for (size_t i = 0; i < sizeof need_more / sizeof *need_more; i++) {
        if (parse_str(need_more[i], &r) != 0) fail_msg("\"%s\" is not incomplete", need_more[i]);
    }
    assert_int_equal(mc_reply_parse("", 0, &r), 0);

    const char *bad[] = {
        "hd\r\n",         "HX\r\n",
        "HDX\r\n",        "HD\n",
        "HD\rX",          "XHD\r\n",
        "VA\r\n",         "VA x\r\n",
        "VA -1\r\n",      "VA  2\r\n",
        "VA 2x\r\n",      "VA 2\r\nabc\r\n",
        "VA 2\r\nab\n\r", "VA 9999999\r\n",
        "ERRORS\r\n",     "HD\x01\r\n",
        "HD \x80\r\n",    "CLIENT_ERROR a\rb\r\n",
        "STORED\r\n",     "VALUE k 0 1\r\n",
        "END\r\n",        " HD\r\n",
        "\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse_str(bad[i], &r) != -1) fail_msg("\"%s\" is not rejected", bad[i]);
    }

    /* A line that has not ended within the limit never will be a reply. */
    buf long_line = {0};
    buf_puts(&long_line, "HD ");
    while (long_line.len < MC_REPLY_MAX_LINE - 1) buf_putc(&long_line, 'a');
    assert_int_equal(mc_reply_parse(long_line.data, long_line.len, &r), 0);
    buf_putc(&long_line, 'a');
    assert_int_equal(mc_reply_parse(long_line.data, long_line.len, &r), -1);
    /* ... and the limit includes the CRLF. */
    long_line.len = MC_REPLY_MAX_LINE - 2;
    buf_puts(&long_line, "\r\n");
    assert_int_equal(mc_reply_parse(long_line.data, long_line.len, &r), MC_REPLY_MAX_LINE);
    long_line.len = MC_REPLY_MAX_LINE - 1;
    buf_puts(&long_line, "\r\n");
    assert_int_equal(mc_reply_parse(long_line.data, long_line.len, &r), -1);
    buf_free(&long_line);
}

/* A stream of every reply type, parsed at once, then with the bytes split at every position
 * into two reads, then byte by byte: the same replies each time. */
static const char stream[] = "HD\r\n"
                             "HD O1 t9 k\r\n"
                             "VA 2 O2\r\n10\r\n"
                             "VA 0\r\n\r\n"
                             "VA 3 s3\r\n5  \r\n"
                             "EN\r\n"
                             "NF O3\r\n"
                             "NS\r\n"
                             "EX\r\n"
                             "MN\r\n"
                             "ERROR\r\n"
                             "CLIENT_ERROR bad command line format\r\n"
                             "SERVER_ERROR out of memory\r\n"
                             "VA 4 O4\r\n\r\nab\r\n";

/* Feeds chunks into a growing buffer as a connection would; appends what was parsed to out and
 * returns how many replies that was. */
static int feed(buf *in, const char *p, size_t n, buf *out) {
    buf_append(in, p, n);
    size_t off = 0;
    int replies = 0;
    for (;;) {
        mc_reply r;
        ptrdiff_t k = mc_reply_parse(in->data + off, in->len - off, &r);
        assert_true(k >= 0);
        if (k == 0) break;
        assert_true((size_t)k <= in->len - off);
        describe(&r, out);
        off += (size_t)k;
        replies++;
    }
    buf_consume(in, off);
    return replies;
}

static void test_reply_splits(void **state) {
    (void)state;
    size_t len = sizeof stream - 1;
    buf whole = {0}, in = {0};
    assert_int_equal(feed(&in, stream, len, &whole), 14);
    assert_int_equal(in.len, 0);
    assert_non_null(strstr(whole.data, "VA|s3||5  |\n"));
    assert_non_null(strstr(whole.data, "NF|O3|O:3||\n"));

    for (size_t k = 0; k <= len; k++) {
        buf got = {0};
        buf_clear(&in);
        feed(&in, stream, k, &got);
        feed(&in, stream + k, len - k, &got);
        assert_int_equal(in.len, 0);
        assert_string_equal(got.data, whole.data);
        buf_free(&got);
    }
    buf bytewise = {0};
    buf_clear(&in);
    for (size_t i = 0; i < len; i++) feed(&in, stream + i, 1, &bytewise);
    assert_string_equal(bytewise.data, whole.data);
    buf_free(&bytewise);
    buf_free(&whole);
    buf_free(&in);
}

static void test_reply_number(void **state) {
    (void)state;
    uint64_t v = 0;
    assert_int_equal(mc_reply_number("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(mc_reply_number("0  ", 3, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(mc_reply_number("10000", 5, &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(mc_reply_number("18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(mc_reply_number("18446744073709551616", 20, &v), -1);
    assert_int_equal(mc_reply_number("", 0, &v), -1);
    assert_int_equal(mc_reply_number(" 1", 2, &v), -1);
    assert_int_equal(mc_reply_number("1 2", 3, &v), -1);
    assert_int_equal(mc_reply_number("abc", 3, &v), -1);
    assert_int_equal(mc_reply_number("-1", 2, &v), -1);
}

/* ---- the server list ----------------------------------------------------------------------- */

static void expect_bad_servers(const char *servers, const char *want) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    mc_options o;
    mc_options_defaults(&o);
    o.servers = servers;
    char err[256] = "";
    mc_client *c = mc_client_new(&loop, &o, err, sizeof err);
    if (c) fail_msg("servers \"%s\" were accepted", servers ? servers : "(null)");
    if (!strstr(err, want)) fail_msg("servers \"%s\": got \"%s\", want \"%s\"", servers, err, want);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void expect_good_servers(const char *servers, uint32_t count) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    mc_options o;
    mc_options_defaults(&o);
    o.servers = servers;
    char err[256] = "";
    mc_client *c = mc_client_new(&loop, &o, err, sizeof err);
    if (!c) fail_msg("servers \"%s\" were rejected: %s", servers, err);
    mc_stats st;
    mc_client_stats(c, &st);
    assert_int_equal(st.servers, count);
    mc_client_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_servers(void **state) {
    (void)state;
    expect_bad_servers(NULL, "no memcached servers given");
    expect_bad_servers("", "no memcached servers given");
    expect_bad_servers("  ", "no memcached servers given");
    expect_bad_servers("host:", "\"host:\" has no port");
    expect_bad_servers("host", "\"host\" has no port");
    expect_bad_servers(":11211", "\":11211\" has no host");
    expect_bad_servers("127.0.0.1:0", "\"127.0.0.1:0\": bad port \"0\"");
    expect_bad_servers("127.0.0.1:65536", "bad port \"65536\"");
    expect_bad_servers("127.0.0.1:99999999999999999999", "bad port");
    expect_bad_servers("127.0.0.1:12x", "bad port \"12x\"");
    expect_bad_servers("127.0.0.1:+1", "bad port");
    expect_bad_servers("127.0.0.1:1,,127.0.0.1:2", "empty entry");
    expect_bad_servers("127.0.0.1:1,", "empty entry");
    expect_bad_servers("[::1:11211", "\"[::1:11211\" has no closing ']'");
    expect_bad_servers("[::1]", "\"[::1]\" has no port");
    expect_bad_servers("[::1]:", "\"[::1]:\" has no port");
    expect_bad_servers("[::1]x", "expected ':'");
    expect_bad_servers("[zz]:1", "\"zz\" is not an IPv6 address");
    expect_bad_servers("[127.0.0.1]:1", "is not an IPv6 address");
    expect_bad_servers("[]:1", "no valid IPv6 address");
    expect_bad_servers("::1:11211", "IPv6 address goes in brackets");
    expect_bad_servers("bad host!:1", "\"bad host!\" is not a valid host name");
    expect_bad_servers("127.0.0.1:1, 127.0.0.1:1", "\"127.0.0.1:1\" is listed twice");
    buf many = {0};
    for (int i = 0; i <= MC_MAX_SERVERS; i++)
        buf_printf(&many, "%s127.0.0.1:%d", i ? "," : "", i + 1);
    expect_bad_servers(many.data, "more than 64 servers");
    buf_free(&many);

    expect_good_servers("127.0.0.1:1", 1);
    expect_good_servers(" 127.0.0.1:1 ,\t[::1]:2 ", 2);
    expect_good_servers("localhost:11211", 1);
}

/* ---- the ring ------------------------------------------------------------------------------ */

static void test_ring(void **state) {
    (void)state;
    const char *names[] = {"10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"};
    enum { N = 30000 };
    ch_ring *r3 = ch_ring_new(names, 3, CH_DEFAULT_POINTS);
    ch_ring *r4 = ch_ring_new(names, 4, CH_DEFAULT_POINTS);
    /* The order the servers are listed in does not matter. */
    const char *shuffled[] = {names[2], names[0], names[1]};
    ch_ring *r3s = ch_ring_new(shuffled, 3, CH_DEFAULT_POINTS);
    size_t per3[3] = {0}, moved = 0;
    for (int k = 0; k < N; k++) {
        char key[32];
        int n = snprintf(key, sizeof key, "route:%d", k);
        size_t a = ch_ring_lookup(r3, key, (size_t)n), b = ch_ring_lookup(r4, key, (size_t)n);
        per3[a]++;
        assert_string_equal(shuffled[ch_ring_lookup(r3s, key, (size_t)n)], names[a]);
        if (a != b) {
            moved++;
            assert_int_equal(b, 3); /* nothing moves between the old servers */
        }
    }
    for (int i = 0; i < 3; i++) {
        double share = per3[i] / (N / 3.0);
        if (share < 0.85 || share > 1.15) fail_msg("server %d has %zu of %d keys", i, per3[i], N);
    }
    double frac = (double)moved / N;
    if (frac < 0.15 || frac > 0.35) fail_msg("adding a 4th server moved %.3f of the keys", frac);
    ch_ring_free(r3);
    ch_ring_free(r4);
    ch_ring_free(r3s);

    /* The hash mixes: one bit of difference flips about half of the output. */
    int flips = 0;
    for (int k = 0; k < 1000; k++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "k%d", 2 * k);
        snprintf(b, sizeof b, "k%d", 2 * k + 1);
        flips += __builtin_popcountll(ch_hash64(a, strlen(a)) ^ ch_hash64(b, strlen(b)));
    }
    assert_true(flips > 1000 * 28 && flips < 1000 * 36);
    ch_ring *one = ch_ring_new(names, 1, CH_DEFAULT_POINTS);
    assert_int_equal(ch_ring_lookup(one, "x", 1), 0);
    ch_ring_free(one);
}

/* ---- memcached processes ------------------------------------------------------------------- */

typedef struct mcd {
    pid_t pid;
    int port;
} mcd;

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_accepts(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Starts memcached on port (0: a free one) and waits until it accepts connections. */
static void mcd_start(mcd *m, int port) {
    if (access(MEMCACHED_BIN, X_OK) != 0)
        fail_msg("%s is missing: memcached is a declared dependency of the rate limiter "
                 "(apt-get install memcached)",
                 MEMCACHED_BIN);
    m->port = port ? port : free_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", m->port);
    m->pid = fork();
    assert_true(m->pid >= 0);
    if (m->pid == 0) {
        /* memcached refuses to run as root unless told which user to be. */
        if (geteuid() == 0)
            execl(MEMCACHED_BIN, "memcached", "-u", "root", "-l", "127.0.0.1", "-p", portstr, "-U",
                  "0", "-t", "1", "-m", "16", (char *)NULL);
        else
            execl(MEMCACHED_BIN, "memcached", "-l", "127.0.0.1", "-p", portstr, "-U", "0", "-t",
                  "1", "-m", "16", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (port_accepts(m->port)) return;
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid)
            fail_msg("memcached exited (port %d)", m->port);
        usleep(10000);
    }
    fail_msg("memcached did not start on port %d", m->port);
}

static void mcd_stop(mcd *m) {
    if (m->pid <= 0) return;
    kill(m->pid, SIGKILL);
    waitpid(m->pid, NULL, 0);
    m->pid = 0;
}

/* ---- running the loop ---------------------------------------------------------------------- */

static bool in_call; /* set around mc_* calls: callbacks must never run inside them */

typedef struct result {
    int status;
    uint64_t value;
    int calls;
} result;

static void record(void *arg, int status, uint64_t value) {
    assert_false(in_call);
    result *r = arg;
    r->status = status;
    r->value = value;
    r->calls++;
}

static void do_incr(mc_client *c, const char *route, const char *key, uint64_t delta, uint32_t ttl,
                    result *r) {
    in_call = true;
    mc_incr(c, route, strlen(route), key, strlen(key), delta, ttl, record, r);
    in_call = false;
}
static void do_decr(mc_client *c, const char *route, const char *key, uint64_t delta, result *r) {
    in_call = true;
    mc_decr(c, route, strlen(route), key, strlen(key), delta, r ? record : NULL, r);
    in_call = false;
}
static void do_get(mc_client *c, const char *route, const char *key, result *r) {
    in_call = true;
    mc_get(c, route, strlen(route), key, strlen(key), record, r);
    in_call = false;
}

static void on_guard(uv_timer_t *t) {
    *(bool *)t->data = true;
}

/* Runs the loop until *count reaches want (or, with want < 0, for -want ms). */
static void run_until(uv_loop_t *loop, const int *count, int want, uint64_t ms) {
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, on_guard, ms, 0);
    while (!expired && (!count || *count < want)) uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (count && *count < want) fail_msg("timed out: %d of %d callbacks", *count, want);
}

static void sleep_loop(uv_loop_t *loop, uint64_t ms) {
    run_until(loop, NULL, 0, ms);
}

/* One result: issue, run, check the status (and the value when MC_OK). */
static void expect(uv_loop_t *loop, result *r, int status, uint64_t value) {
    run_until(loop, &r->calls, 1, 5000);
    assert_int_equal(r->calls, 1);
    if (r->status != status)
        fail_msg("status %d (%s), want %d (%s)", r->status, mc_strerror(r->status), status,
                 mc_strerror(status));
    if (status == MC_OK) assert_int_equal(r->value, value);
    memset(r, 0, sizeof *r);
}

static mc_client *client_for(uv_loop_t *loop, const char *servers, uint32_t timeout_ms) {
    mc_options o;
    mc_options_defaults(&o);
    o.servers = servers;
    o.timeout_ms = timeout_ms;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 100;
    char err[256];
    mc_client *c = mc_client_new(loop, &o, err, sizeof err);
    if (!c) fail_msg("mc_client_new(%s): %s", servers, err);
    return c;
}

static void client_done(uv_loop_t *loop, mc_client *c) {
    mc_client_close(c);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* ---- live: counters ------------------------------------------------------------------------ */

static void test_live_counters(void **state) {
    (void)state;
    mcd m;
    mcd_start(&m, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    mc_client *c = client_for(&loop, servers, 5000);
    result r = {0};

    /* Autovivify: the first incr creates the counter with the delta. */
    for (uint64_t i = 1; i <= 3; i++) {
        do_incr(c, "route", "k1", 1, 60, &r);
        expect(&loop, &r, MC_OK, i);
    }
    do_get(c, "route", "k1", &r);
    expect(&loop, &r, MC_OK, 3);
    do_incr(c, "route", "k2", 5, 60, &r);
    expect(&loop, &r, MC_OK, 5);
    do_incr(c, "route", "k2", 5, 60, &r);
    expect(&loop, &r, MC_OK, 10);
    do_get(c, "route", "missing", &r);
    expect(&loop, &r, MC_MISS, 0);

    /* Decrements stop at 0; memcached pads the shortened number with spaces ("0 "). */
    do_decr(c, "route", "k2", 3, &r);
    expect(&loop, &r, MC_OK, 7);
    do_decr(c, "route", "k2", 100, &r);
    expect(&loop, &r, MC_OK, 0);
    do_get(c, "route", "k2", &r);
    expect(&loop, &r, MC_OK, 0);
    do_decr(c, "route", "missing", 1, &r);
    expect(&loop, &r, MC_MISS, 0);

    /* Fire and forget, then read back (one connection: in order). */
    do_incr(c, "route", "k3", 10, 60, &r);
    expect(&loop, &r, MC_OK, 10);
    do_decr(c, "route", "k3", 4, NULL);
    do_get(c, "route", "k3", &r);
    expect(&loop, &r, MC_OK, 6);

    /* Bad keys fail asynchronously without reaching the server. */
    do_incr(c, "route", "has space", 1, 60, &r);
    assert_int_equal(r.calls, 0);
    expect(&loop, &r, MC_EPROTO, 0);
    char longkey[252];
    memset(longkey, 'k', 251);
    longkey[251] = '\0';
    do_get(c, "route", longkey, &r);
    expect(&loop, &r, MC_EPROTO, 0);
    longkey[250] = '\0';
    do_incr(c, "route", longkey, 2, 60, &r);
    expect(&loop, &r, MC_OK, 2);
    do_get(c, "route", "", &r);
    expect(&loop, &r, MC_EPROTO, 0);

    /* A non-numeric value is a protocol error for this command only. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)m.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char *set = "set text 0 0 3\r\nabc\r\n";
    assert_int_equal(write(fd, set, strlen(set)), (ssize_t)strlen(set));
    char reply[64];
    assert_true(read(fd, reply, sizeof reply) > 0);
    close(fd);
    do_get(c, "route", "text", &r);
    expect(&loop, &r, MC_EPROTO, 0);
    do_incr(c, "route", "text", 1, 60, &r);
    expect(&loop, &r, MC_EPROTO, 0);
    do_get(c, "route", "k1", &r);
    expect(&loop, &r, MC_OK, 3);

    mc_stats st;
    mc_client_stats(c, &st);
    assert_int_equal(st.servers, 1);
    assert_int_equal(st.servers_up, 1);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.errors, 5); /* three bad keys, the non-numeric value twice */
    assert_true(st.ok >= 16);
    client_done(&loop, c);
    mcd_stop(&m);
}

static void test_live_ttl(void **state) {
    (void)state;
    mcd m;
    mcd_start(&m, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    mc_client *c = client_for(&loop, servers, 5000);
    result r = {0};
    do_incr(c, "r", "short", 1, 1, &r);
    expect(&loop, &r, MC_OK, 1);
    do_incr(c, "r", "long", 1, 60, &r);
    expect(&loop, &r, MC_OK, 1);
    do_get(c, "r", "short", &r);
    expect(&loop, &r, MC_OK, 1);
    /* memcached's clock ticks once a second, so a 1 s item is gone within 2 s. */
    sleep_loop(&loop, 2100);
    do_get(c, "r", "short", &r);
    expect(&loop, &r, MC_MISS, 0);
    do_get(c, "r", "long", &r);
    expect(&loop, &r, MC_OK, 1);
    /* An expired counter starts over. */
    do_incr(c, "r", "short", 1, 1, &r);
    expect(&loop, &r, MC_OK, 1);
    client_done(&loop, c);
    mcd_stop(&m);
}

/* 10 000 increments issued in one go (one loop iteration), all answered, in order. */
typedef struct pipeline {
    int calls, bad;
    uint64_t last;
} pipeline;

static void on_pipelined(void *arg, int status, uint64_t value) {
    assert_false(in_call);
    pipeline *p = arg;
    p->calls++;
    if (status != MC_OK || value != p->last + 1) p->bad++;
    p->last = value;
}

static void test_live_pipeline(void **state) {
    (void)state;
    mcd m;
    mcd_start(&m, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    mc_client *c = client_for(&loop, servers, 10000);
    pipeline p = {0};
    enum { COUNT = 10000 };
    in_call = true;
    for (int i = 0; i < COUNT; i++) mc_incr(c, "one", 3, "counter", 7, 1, 60, on_pipelined, &p);
    in_call = false;
    run_until(&loop, &p.calls, COUNT, 30000);
    assert_int_equal(p.bad, 0);
    assert_int_equal(p.last, COUNT);
    result r = {0};
    do_get(c, "one", "counter", &r);
    expect(&loop, &r, MC_OK, COUNT);
    mc_stats st;
    mc_client_stats(c, &st);
    assert_int_equal(st.sent, COUNT + 1);
    assert_int_equal(st.ok, COUNT + 1);
    client_done(&loop, c);
    mcd_stop(&m);
}

/* Two servers: routes spread over both and each counter lives where the ring says. */
static void test_live_two_servers(void **state) {
    (void)state;
    mcd m[2];
    mcd_start(&m[0], 0);
    mcd_start(&m[1], 0);
    char names[2][32], servers[80];
    for (int i = 0; i < 2; i++) snprintf(names[i], sizeof names[i], "127.0.0.1:%d", m[i].port);
    snprintf(servers, sizeof servers, "%s,%s", names[0], names[1]);
    const char *ring_names[] = {names[0], names[1]};
    ch_ring *ring = ch_ring_new(ring_names, 2, CH_DEFAULT_POINTS);

    uv_loop_t loop;
    uv_loop_init(&loop);
    mc_client *both = client_for(&loop, servers, 5000);
    mc_client *only[2] = {client_for(&loop, names[0], 5000), client_for(&loop, names[1], 5000)};
    enum { ROUTES = 200 };
    static result inc[ROUTES], got[2][ROUTES];
    memset(inc, 0, sizeof inc);
    memset(got, 0, sizeof got);
    int per[2] = {0};
    char route[32], key[48];
    for (int i = 0; i < ROUTES; i++) {
        snprintf(route, sizeof route, "limit-%d", i);
        snprintf(key, sizeof key, "rl:%d:window", i);
        do_incr(both, route, key, (uint64_t)i + 1, 60, &inc[i]);
        /* The same route with another key goes to the same server. */
        snprintf(key, sizeof key, "rl:%d:other", i);
        do_incr(both, route, key, 1, 60, &inc[i]);
        per[ch_ring_lookup(ring, route, strlen(route))]++;
    }
    int calls = 0;
    for (int spins = 0; spins < 500 && calls < 2 * ROUTES; spins++) {
        sleep_loop(&loop, 10);
        calls = 0;
        for (int i = 0; i < ROUTES; i++) calls += inc[i].calls;
    }
    assert_int_equal(calls, 2 * ROUTES);
    calls = 0;
    for (int i = 0; i < ROUTES; i++) assert_int_equal(inc[i].status, MC_OK);
    assert_true(per[0] >= ROUTES / 5 && per[1] >= ROUTES / 5);

    for (int i = 0; i < ROUTES; i++) {
        snprintf(route, sizeof route, "limit-%d", i);
        snprintf(key, sizeof key, "rl:%d:window", i);
        for (int s = 0; s < 2; s++) do_get(only[s], "x", key, &got[s][i]);
    }
    for (int spins = 0; spins < 500 && calls < 2 * ROUTES; spins++) {
        sleep_loop(&loop, 10);
        calls = 0;
        for (int i = 0; i < ROUTES; i++) calls += got[0][i].calls + got[1][i].calls;
    }
    assert_int_equal(calls, 2 * ROUTES);
    for (int i = 0; i < ROUTES; i++) {
        snprintf(route, sizeof route, "limit-%d", i);
        size_t home = ch_ring_lookup(ring, route, strlen(route));
        assert_int_equal(got[home][i].calls, 1);
        assert_int_equal(got[home][i].status, MC_OK);
        assert_int_equal(got[home][i].value, (uint64_t)i + 1);
        assert_int_equal(got[1 - home][i].status, MC_MISS);
    }
    ch_ring_free(ring);
    mc_client_close(only[0]);
    mc_client_close(only[1]);
    client_done(&loop, both);
    mcd_stop(&m[0]);
    mcd_stop(&m[1]);
}

/* A server that dies: pending and later commands fail fast with MC_EDOWN; once it is back, the
 * client reconnects after its backoff. */
static void test_live_restart(void **state) {
    (void)state;
    mcd m;
    mcd_start(&m, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    mc_client *c = client_for(&loop, servers, 5000); /* no timeout can explain a failure */
    result r = {0};
    do_incr(c, "r", "k", 1, 60, &r);
    expect(&loop, &r, MC_OK, 1);

    mcd_stop(&m);
    uint64_t t0 = uv_hrtime();
    do_incr(c, "r", "k", 1, 60, &r);
    expect(&loop, &r, MC_EDOWN, 0);
    /* Down now: fails fast, and still asynchronously. */
    do_incr(c, "r", "k", 1, 60, &r);
    assert_int_equal(r.calls, 0);
    expect(&loop, &r, MC_EDOWN, 0);
    assert_true((uv_hrtime() - t0) / 1000000 < 4000);
    mc_stats st;
    mc_client_stats(c, &st);
    assert_int_equal(st.servers_up, 0);
    /* Reconnection attempts fail (refused) meanwhile, with growing backoff. */
    sleep_loop(&loop, 150);

    mcd_start(&m, m.port);
    bool ok = false;
    for (int i = 0; i < 250 && !ok; i++) {
        do_incr(c, "r", "fresh", 1, 60, &r);
        run_until(&loop, &r.calls, 1, 5000);
        ok = r.status == MC_OK;
        if (!ok) assert_int_equal(r.status, MC_EDOWN);
        memset(&r, 0, sizeof r);
        if (!ok) sleep_loop(&loop, 20);
    }
    assert_true(ok);
    do_get(c, "r", "fresh", &r);
    run_until(&loop, &r.calls, 1, 5000);
    assert_int_equal(r.status, MC_OK);
    mc_client_stats(c, &st);
    assert_int_equal(st.servers_up, 1);
    assert_true(st.reconnects >= 1);
    assert_int_equal(st.timeouts, 0);
    client_done(&loop, c);
    mcd_stop(&m);
}

/* ---- fake servers -------------------------------------------------------------------------- */

/* The fake's `reply` that makes it answer each command "VA 1 O<its opaque>" with the value 7. */
static const char FAKE_ECHO[] = "echo";

typedef struct fake {
    uv_tcp_t listener;
    const char *reply; /* written once per read; NULL: never answer; FAKE_ECHO */
    int port, connections;
    uv_tcp_t *peers[64];
    int npeers;
    buf got; /* FAKE_ECHO: what was received, and how much of it was answered */
    size_t answered;
    int lines;
} fake;

typedef struct fake_write {
    uv_write_t req;
    char data[];
} fake_write;

static void fake_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
    (void)h;
    static char space[65536];
    (void)n;
    *b = uv_buf_init(space, sizeof space);
}

static void fake_written(uv_write_t *w, int status) {
    (void)status;
    free(w);
}

static void free_handle(uv_handle_t *h) {
    free(h);
}

static void fake_echo(fake *f, uv_stream_t *s, const char *p, size_t n) {
    buf_append(&f->got, p, n);
    buf out = {0};
    char *nl;
    while ((nl = memchr(f->got.data + f->answered, '\n', f->got.len - f->answered))) {
        char *line = f->got.data + f->answered;
        *nl = '\0';
        const char *o = strstr(line, " O");
        assert_non_null(o);
        int len = (int)strspn(o + 2, "0123456789");
        buf_printf(&out, "VA 1 O%.*s\r\n7\r\n", len, o + 2);
        *nl = '\n';
        f->lines++;
        f->answered = (size_t)(nl + 1 - f->got.data);
    }
    if (!out.len) return;
    fake_write *w = malloc(sizeof *w + out.len);
    memcpy(w->data, out.data, out.len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)out.len);
    uv_write(&w->req, s, &b, 1, fake_written);
    buf_free(&out);
}

static void fake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    fake *f = s->data;
    if (n < 0) {
        for (int i = 0; i < f->npeers; i++)
            if (f->peers[i] == (uv_tcp_t *)s) f->peers[i] = NULL;
        uv_close((uv_handle_t *)s, free_handle);
        return;
    }
    if (n == 0 || !f->reply) return;
    if (f->reply == FAKE_ECHO) {
        fake_echo(f, s, b->base, (size_t)n);
        return;
    }
    uv_write_t *w = malloc(sizeof *w);
    uv_buf_t out = uv_buf_init((char *)f->reply, (unsigned)strlen(f->reply));
    uv_write(w, s, &out, 1, fake_written);
}

static void fake_connection(uv_stream_t *server, int status) {
    fake *f = server->data;
    assert_int_equal(status, 0);
    uv_tcp_t *peer = malloc(sizeof *peer);
    uv_tcp_init(server->loop, peer);
    peer->data = f;
    assert_int_equal(uv_accept(server, (uv_stream_t *)peer), 0);
    f->connections++;
    assert_true(f->npeers < 64);
    f->peers[f->npeers++] = peer;
    uv_unref((uv_handle_t *)peer);
    uv_read_start((uv_stream_t *)peer, fake_alloc, fake_read);
}

static void fake_start(uv_loop_t *loop, fake *f, const char *reply) {
    memset(f, 0, sizeof *f);
    f->reply = reply;
    uv_tcp_init(loop, &f->listener);
    f->listener.data = f;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&f->listener, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener, 16, fake_connection), 0);
    int len = sizeof a;
    uv_tcp_getsockname(&f->listener, (struct sockaddr *)&a, &len);
    f->port = ntohs(a.sin_port);
    /* Only the client's pending commands should keep the loop running. */
    uv_unref((uv_handle_t *)&f->listener);
}

static void fake_stop(fake *f) {
    buf_free(&f->got);
    uv_close((uv_handle_t *)&f->listener, NULL);
    for (int i = 0; i < f->npeers; i++)
        if (f->peers[i]) uv_close((uv_handle_t *)f->peers[i], free_handle);
}

static void test_timeout(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake f;
    fake_start(&loop, &f, NULL);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", f.port);
    mc_client *c = client_for(&loop, servers, 100);
    result r[3] = {{0}};
    do_incr(c, "r", "a", 1, 60, &r[0]);
    do_get(c, "r", "b", &r[1]);
    do_decr(c, "r", "c", 1, &r[2]);
    run_until(&loop, &r[2].calls, 1, 5000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, MC_ETIMEDOUT);
    }
    mc_stats st;
    mc_client_stats(c, &st);
    assert_int_equal(st.timeouts, 3);
    /* The connection was reset and the client comes back (to a server that still never
     * answers). */
    memset(r, 0, sizeof r);
    bool timed_out = false;
    for (int i = 0; i < 100 && !timed_out; i++) {
        do_incr(c, "r", "a", 1, 60, &r[0]);
        run_until(&loop, &r[0].calls, 1, 5000);
        timed_out = r[0].status == MC_ETIMEDOUT;
        if (!timed_out) assert_int_equal(r[0].status, MC_EDOWN);
        memset(r, 0, sizeof r);
        if (!timed_out) sleep_loop(&loop, 10);
    }
    assert_true(timed_out);
    assert_true(f.connections >= 2);
    mc_client_close(c);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A server that answers garbage (or another command's reply): MC_EPROTO, then a new
 * connection. */
static void garbage_case(const char *reply) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake f;
    fake_start(&loop, &f, reply);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", f.port);
    mc_client *c = client_for(&loop, servers, 5000);
    result r = {0};
    do_incr(c, "r", "a", 1, 60, &r);
    expect(&loop, &r, MC_EPROTO, 0);
    bool again = false;
    for (int i = 0; i < 100 && !again; i++) {
        do_get(c, "r", "a", &r);
        run_until(&loop, &r.calls, 1, 5000);
        again = r.status == MC_EPROTO;
        if (!again) assert_int_equal(r.status, MC_EDOWN);
        memset(&r, 0, sizeof r);
        if (!again) sleep_loop(&loop, 10);
    }
    assert_true(again);
    assert_true(f.connections >= 2);
    mc_stats st;
    mc_client_stats(c, &st);
    assert_true(st.reconnects >= 1);
    assert_int_equal(st.timeouts, 0);
    mc_client_close(c);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_garbage(void **state) {
    (void)state;
    garbage_case("HTTP/1.1 400 Bad Request\r\n\r\n");
    garbage_case("HD O4242\r\n"); /* someone else's reply */
    garbage_case("HD\r\n");       /* no opaque */
}

/* A connection that takes long to establish: commands that time out meanwhile are answered
 * (MC_ETIMEDOUT) but keep their place; once connected they are sent anyway and their replies
 * skipped, so the next command gets its own reply. The slow connect: a listener with a backlog
 * of 0 whose one slot is taken, so the kernel drops the client's SYN until the slot frees up
 * and the SYN is retransmitted (after 1 s on Linux). */
static void test_slow_connect(void **state) {
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 0), 0);
    socklen_t alen = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    int filler = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof a), 0);

    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", ntohs(a.sin_port));
    mc_options o;
    mc_options_defaults(&o);
    o.servers = servers;
    o.timeout_ms = 800;
    o.connect_timeout_ms = 10000;
    char err[128];
    mc_client *c = mc_client_new(&loop, &o, err, sizeof err);
    assert_non_null(c);
    result r = {0};
    do_incr(c, "r", "first", 1, 60, &r);
    expect(&loop, &r, MC_ETIMEDOUT, 0);
    mc_stats st;
    mc_client_stats(c, &st);
    assert_int_equal(st.servers_up, 0);

    /* Free the slot and serve: the retransmitted SYN gets through. */
    fake f;
    memset(&f, 0, sizeof f);
    f.reply = FAKE_ECHO;
    uv_tcp_init(&loop, &f.listener);
    f.listener.data = &f;
    assert_int_equal(uv_tcp_open(&f.listener, lfd), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f.listener, 16, fake_connection), 0);
    uv_unref((uv_handle_t *)&f.listener);
    close(filler);

    bool ok = false;
    for (int i = 0; i < 10 && !ok; i++) {
        do_get(c, "r", "second", &r);
        run_until(&loop, &r.calls, 1, 5000);
        ok = r.status == MC_OK;
        if (!ok) assert_int_equal(r.status, MC_ETIMEDOUT);
        if (ok) assert_int_equal(r.value, 7);
        memset(&r, 0, sizeof r);
    }
    assert_true(ok);
    /* The timed-out command went out first, and its reply was skipped. */
    assert_true(f.lines >= 2);
    assert_true(strncmp(f.got.data, "ma first ", 9) == 0);
    mc_client_stats(c, &st);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.servers_up, 1);
    mc_client_close(c);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- close --------------------------------------------------------------------------------- */

typedef struct close_probe {
    mc_client *c;
    int canceled, other, reissued;
} close_probe;

static void on_close_probe(void *arg, int status, uint64_t value) {
    (void)value;
    close_probe *p = arg;
    if (status == MC_ECANCELED)
        p->canceled++;
    else
        p->other++;
    /* Commands issued while closing are canceled too. */
    if (p->reissued < 3) {
        p->reissued++;
        mc_incr(p->c, "r", 1, "again", 5, 1, 60, on_close_probe, p);
    }
}

static void test_close_pending(void **state) {
    (void)state;
    mcd m;
    mcd_start(&m, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[80];
    /* The second server never existed: its commands fail fast (once known down). */
    int dead_port = free_port();
    snprintf(servers, sizeof servers, "127.0.0.1:%d,127.0.0.1:%d", m.port, dead_port);
    mc_client *c = client_for(&loop, servers, 5000);
    close_probe p = {.c = c};
    for (int i = 0; i < 100; i++) {
        char route[16];
        int n = snprintf(route, sizeof route, "r%d", i);
        mc_incr(c, route, (size_t)n, "k", 1, 1, 60, on_close_probe, &p);
    }
    mc_get(c, "r", 1, "bad key", 7, on_close_probe, &p); /* a deferred answer */
    assert_int_equal(p.canceled + p.other, 0);
    mc_client_close(c);
    assert_int_equal(p.canceled, 101 + 3);
    assert_int_equal(p.other, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* Closing with commands on the wire, from inside a callback. */
    uv_loop_init(&loop);
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    c = client_for(&loop, servers, 5000);
    result r = {0};
    do_incr(c, "r", "k", 1, 60, &r);
    expect(&loop, &r, MC_OK, 1);
    close_probe q = {.c = c, .reissued = 3};
    for (int i = 0; i < 50; i++) mc_incr(c, "r", 1, "k", 1, 1, 60, on_close_probe, &q);
    uv_run(&loop, UV_RUN_NOWAIT); /* flushed; replies not read yet (most likely) */
    mc_client_close(c);
    assert_int_equal(q.canceled + q.other, 50);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    mcd_stop(&m);
}

typedef struct closer {
    mc_client *c;
    int calls, canceled;
} closer;

static void on_closer(void *arg, int status, uint64_t value) {
    (void)value;
    closer *k = arg;
    k->calls++;
    if (status == MC_ECANCELED) k->canceled++;
    if (k->calls == 1) mc_client_close(k->c);
}

static void test_close_in_callback(void **state) {
    (void)state;
    mcd m;
    mcd_start(&m, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    mc_client *c = client_for(&loop, servers, 5000);
    closer k = {.c = c};
    for (int i = 0; i < 20; i++) mc_incr(c, "r", 1, "k", 1, 1, 60, on_closer, &k);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(k.calls, 20);
    assert_int_equal(k.canceled, 19);
    assert_int_equal(uv_loop_close(&loop), 0);
    mcd_stop(&m);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_types),   cmocka_unit_test(test_reply_incomplete_and_malformed),
        cmocka_unit_test(test_reply_splits),  cmocka_unit_test(test_reply_number),
        cmocka_unit_test(test_servers),       cmocka_unit_test(test_ring),
        cmocka_unit_test(test_live_counters), cmocka_unit_test(test_live_ttl),
        cmocka_unit_test(test_live_pipeline), cmocka_unit_test(test_live_two_servers),
        cmocka_unit_test(test_live_restart),  cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_garbage),       cmocka_unit_test(test_slow_connect),
        cmocka_unit_test(test_close_pending), cmocka_unit_test(test_close_in_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
