/* ws_client_probe — drives src/net/websocket_client.c from the end-to-end tests.
 *
 *   ws_client_probe URL [-H "Name: value"]... [-p PROTOCOLS] [-s TEXT]... [-n COUNT]
 *                   [--wait MS] [--close CODE:REASON]
 *
 * Connects (printing "open protocol=<selected>"), sends each -s message, then prints every
 * message received ("text <len> <data>" / "binary <len>") until COUNT have arrived (default:
 * as many as were sent) or --wait MS passed, closes (1000 "done" unless --close), waits for
 * the end and prints "close <code> <reason>". A failed connection prints "error: <message>"
 * and "status <http status>" on stderr and exits with 2. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/websocket_client.h"

static int received;

static void on_message(void *ud, ws_opcode op, const uint8_t *data, size_t len) {
    (void)ud;
    received++;
    if (op == WS_TEXT)
        printf("text %zu %.*s\n", len, (int)len, (const char *)data);
    else
        printf("binary %zu\n", len);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ws_client_probe URL [options]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    buf headers = {0};
    const char *protocols = NULL, *sends[64];
    int nsends = 0, count = -1, wait_ms = -1, close_code = 1000;
    const char *close_reason = "done";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "%s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "-H") == 0) {
            buf_printf(&headers, "%s\r\n", v);
        } else if (strcmp(a, "-p") == 0) {
            protocols = v;
        } else if (strcmp(a, "-s") == 0 && nsends < 64) {
            sends[nsends++] = v;
        } else if (strcmp(a, "-n") == 0) {
            count = atoi(v);
        } else if (strcmp(a, "--wait") == 0) {
            wait_ms = atoi(v);
        } else if (strcmp(a, "--close") == 0) {
            close_code = atoi(v);
            const char *colon = strchr(v, ':');
            close_reason = colon ? colon + 1 : "";
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    if (count < 0) count = nsends;

    ws_client_options opt = {.headers = headers.data, .protocols = protocols, .timeout_ms = 5000};
    char err[512];
    int status = 0;
    ws_client *c = ws_client_connect(argv[1], &opt, err, sizeof err, &status);
    buf_free(&headers);
    if (!c) {
        fprintf(stderr, "error: %s\nstatus %d\n", err, status);
        return 2;
    }
    printf("open protocol=%s\n", ws_client_protocol(c));
    fflush(stdout);
    for (int i = 0; i < nsends; i++) ws_client_send(c, WS_TEXT, sends[i], strlen(sends[i]));

    int rc = 1;
    int waited = 0;
    /* Receive until enough messages came (or the wait is over, or the server closed). */
    while (rc == 1 && received < count && (wait_ms < 0 || waited < wait_ms)) {
        rc = ws_client_run(c, 50, on_message, NULL, err, sizeof err);
        waited += 50;
    }
    if (rc == 1 && wait_ms >= 0) {
        while (rc == 1 && waited < wait_ms) {
            rc = ws_client_run(c, 50, on_message, NULL, err, sizeof err);
            waited += 50;
        }
    }
    if (rc == 1) {
        ws_client_close(c, close_code, close_reason);
        rc = ws_client_run(c, 5000, on_message, NULL, err, sizeof err);
    }
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", err);
        ws_client_free(c);
        return 1;
    }
    const char *reason;
    size_t reason_len;
    int code = ws_client_close_code(c, &reason, &reason_len);
    printf("close %d %.*s\n", code, (int)reason_len, reason);
    ws_client_free(c);
    return rc == 0 ? 0 : 1;
}
