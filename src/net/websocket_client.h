/* websocket_client — a small blocking WebSocket client (RFC 6455, framed by wslay) for the
 * CLI: `hearth tail` connects to the control API with it and prints what arrives.
 *
 * URLs: ws://host[:port]/path, and http:// taken as ws:// (the control API's address works
 * as is). wss:// and https:// are refused: TLS is not supported yet (put hearth behind a
 * TLS-terminating proxy and connect to the proxy's plain side, or use ws:// locally).
 *
 * One thread uses a client at a time; nothing here touches a libuv loop. Pings are answered,
 * the server's close frame is answered, messages are reassembled and text is checked to be
 * UTF-8 (wslay closes with 1007 otherwise).
 *
 *     ws_client *c = ws_client_connect(url, &opt, err, sizeof err, &status);
 *     while ((rc = ws_client_run(c, 250, on_message, ud, err, sizeof err)) == 1)
 *         if (interrupted) ws_client_close(c, WS_CLOSE_NORMAL, "");  // then run until 0
 *     ws_client_free(c);
 */
#ifndef HEARTH_NET_WEBSOCKET_CLIENT_H
#define HEARTH_NET_WEBSOCKET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/websocket.h"

typedef struct ws_client ws_client;

typedef struct ws_client_options {
    /* Extra request header lines, "Name: value\r\n" each (e.g. Authorization), or NULL. */
    const char *headers;
    /* Subprotocols to offer, comma-separated, or NULL. */
    const char *protocols;
    int timeout_ms;           /* for connecting and the handshake; default (0) 10 s */
    size_t max_message_bytes; /* largest message received; default (0) 16 MiB → close 1009 */
} ws_client_options;

/* Connects and performs the opening handshake (status 101, Sec-WebSocket-Accept checked).
 * NULL with a message in err on failure; when the server answered with another status, it is
 * stored in *http_status (may be NULL; 0 when there was no answer) and err holds the status
 * line and the start of the body, e.g. "the server answered 401 Unauthorized: bad token". */
ws_client *ws_client_connect(const char *url, const ws_client_options *opt, char *err,
                             size_t errlen, int *http_status);

typedef void (*ws_client_message_cb)(void *ud, ws_opcode op, const uint8_t *data, size_t len);

/* Receives (calling cb for each message), answers pings and sends what is queued, for up to
 * timeout_ms (-1: until the connection is over). Returns 1 if the connection is still open
 * when the time is up or a signal interrupted the wait, 0 once it is over (close handshake
 * done, or the connection dropped: see ws_client_close_code), -1 on an error (err). */
int ws_client_run(ws_client *c, int timeout_ms, ws_client_message_cb cb, void *ud, char *err,
                  size_t errlen);

/* Queues a message; it goes out as far as the socket takes it now, the rest with
 * ws_client_run. False once the connection is closing or over. */
bool ws_client_send(ws_client *c, ws_opcode op, const void *data, size_t len);

/* Starts the close handshake; ws_client_run returns 0 once the server answered. */
void ws_client_close(ws_client *c, int code, const char *reason);

/* Once the connection is over: the server's close code (1005 if its close frame had none,
 * 1006 if the connection dropped without one) and reason (not NUL-terminated). */
int ws_client_close_code(const ws_client *c, const char **reason, size_t *reason_len);

/* The subprotocol the server selected, or "". */
const char *ws_client_protocol(const ws_client *c);

void ws_client_free(ws_client *c);

#endif
