/* websocket_handshake — the client's half of the RFC 6455 opening handshake, shared by the
 * blocking CLI client (websocket_client.c) and the async one Workers use
 * (websocket_connect.c): the request, and the checks of the server's 101. */
#ifndef HEARTH_NET_WEBSOCKET_HANDSHAKE_H
#define HEARTH_NET_WEBSOCKET_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "net/websocket.h"

/* A fresh Sec-WebSocket-Key (base64 of 16 random bytes) and the Sec-WebSocket-Accept the
 * server must answer with. False if the RNG failed. */
bool ws_client_key(char key[25], char expected[WS_ACCEPT_LEN + 1]);

/* Appends the handshake request: GET target (an empty target is "/"), Host, Upgrade,
 * Connection, the key and version, Sec-WebSocket-Protocol when protocols is not NULL, then
 * extra_lines ("Name: value\r\n" each, may be NULL) and the empty line. */
void ws_handshake_request(buf *out, const char *target, size_t target_len, const char *host,
                          const char *key, const char *protocols, const char *extra_lines);

/* The value of the first field `name` in "Name: value\r\n" lines (trimmed), or NULL. */
const char *ws_header_field(const char *lines, size_t len, const char *name, size_t *vlen);

/* Checks a 101's header lines: Upgrade, Connection, the accept value, no extension, and a
 * subprotocol only if it was offered (protocols: the offered list, or NULL), copied to
 * protocol_out ("" if none). NULL if all is well, else what is wrong ("a wrong
 * Sec-WebSocket-Accept", ...). */
const char *ws_check_handshake(const char *lines, size_t len, const char *expected,
                               const char *protocols, char *protocol_out, size_t outlen);

#endif
