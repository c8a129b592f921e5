/* websocket_response — parses the server's answer to a WebSocket handshake (http-parser in
 * response mode): a 101 head, after which the bytes are the WebSocket's, or any other
 * response with its body (Content-Length, chunked, or up to the close), whose headers and body
 * become the Response a Worker's fetch() gets. Pure: no I/O. */
#ifndef HEARTH_NET_WEBSOCKET_RESPONSE_H
#define HEARTH_NET_WEBSOCKET_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_response_parser ws_response_parser;
typedef enum ws_parse_result {
    WS_PARSE_MORE,     /* give it more bytes (or ws_response_parser_eof) */
    WS_PARSE_UPGRADE,  /* a 101 head is complete; *used bytes of this call belong to it */
    WS_PARSE_COMPLETE, /* another status, with its whole body */
    WS_PARSE_ERROR,    /* not HTTP, or too large: ws_response_parser_error says why */
} ws_parse_result;

ws_response_parser *ws_response_parser_new(size_t max_body_bytes);
void ws_response_parser_free(ws_response_parser *p);
ws_parse_result ws_response_parser_feed(ws_response_parser *p, const char *data, size_t len,
                                        size_t *used);
/* The server closed the connection: a body delimited by the close is complete. */
ws_parse_result ws_response_parser_eof(ws_response_parser *p);
const char *ws_response_parser_error(const ws_response_parser *p);
int ws_response_status(const ws_response_parser *p);
const char *ws_response_reason(const ws_response_parser *p);
const char *ws_response_lines(const ws_response_parser *p, size_t *len);
const uint8_t *ws_response_body(const ws_response_parser *p, size_t *len);

#endif
