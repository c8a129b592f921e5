#include "net/websocket_response.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/buf.h"

#define MAX_HEAD (64 * 1024) /* status line and header lines */

struct ws_response_parser {
    http_parser hp;
    size_t max_body;
    size_t head_bytes;
    buf reason;
    buf lines; /* "Name: value\r\n" */
    bool in_value;
    buf body;
    bool upgrade, complete;
    const char *error;
    char error_buf[160];
};

static ws_response_parser *of(http_parser *hp) {
    return hp->data;
}

/* Counts head bytes; false (and an error) past the limit. */
static bool head_room(ws_response_parser *p, size_t len) {
    p->head_bytes += len;
    if (p->head_bytes <= MAX_HEAD) return true;
    p->error = "the server's response head is larger than 64 KiB";
    return false;
}

static int on_status(http_parser *hp, const char *at, size_t len) {
    ws_response_parser *p = of(hp);
    if (!head_room(p, len)) return -1;
    buf_append(&p->reason, at, len);
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len) {
    ws_response_parser *p = of(hp);
    if (!head_room(p, len + 4)) return -1;
    if (p->in_value) {
        buf_puts(&p->lines, "\r\n");
        p->in_value = false;
    }
    buf_append(&p->lines, at, len);
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len) {
    ws_response_parser *p = of(hp);
    if (!head_room(p, len)) return -1;
    if (!p->in_value) {
        buf_puts(&p->lines, ": ");
        p->in_value = true;
    }
    buf_append(&p->lines, at, len);
    return 0;
}

static int on_headers_complete(http_parser *hp) {
    ws_response_parser *p = of(hp);
    if (p->in_value) buf_puts(&p->lines, "\r\n");
    p->in_value = false;
    if (hp->status_code < 100) {
        /* http-parser takes any 1-3 digits; HTTP's status codes have three. */
        snprintf(p->error_buf, sizeof p->error_buf, "the server answered with status %u",
                 hp->status_code);
        p->error = p->error_buf;
        return -1;
    }
    if (hp->status_code == 101) {
        p->upgrade = true;
        return 2; /* no body: what follows is the WebSocket's */
    }
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len) {
    ws_response_parser *p = of(hp);
    if (p->body.len + len > p->max_body) {
        snprintf(p->error_buf, sizeof p->error_buf,
                 "the server's response body is larger than %zu bytes", p->max_body);
        p->error = p->error_buf;
        return -1;
    }
    buf_append(&p->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *hp) {
    ws_response_parser *p = of(hp);
    if (!p->upgrade) p->complete = true;
    http_parser_pause(hp, 1); /* anything after it is not ours to parse */
    return 0;
}

static const http_parser_settings settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

ws_response_parser *ws_response_parser_new(size_t max_body_bytes) {
    ws_response_parser *p = xcalloc(1, sizeof *p);
    http_parser_init(&p->hp, HTTP_RESPONSE);
    p->hp.data = p;
    p->max_body = max_body_bytes;
    return p;
}

void ws_response_parser_free(ws_response_parser *p) {
    if (!p) return;
    buf_free(&p->reason);
    buf_free(&p->lines);
    buf_free(&p->body);
    free(p);
}

static ws_parse_result result(ws_response_parser *p) {
    if (p->upgrade) return WS_PARSE_UPGRADE;
    if (p->complete) return WS_PARSE_COMPLETE;
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (p->error || (e != HPE_OK && e != HPE_PAUSED)) {
        if (!p->error) {
            snprintf(p->error_buf, sizeof p->error_buf,
                     "the server's answer is not a valid HTTP response (%s)",
                     http_errno_description(e));
            p->error = p->error_buf;
        }
        return WS_PARSE_ERROR;
    }
    return WS_PARSE_MORE;
}

ws_parse_result ws_response_parser_feed(ws_response_parser *p, const char *data, size_t len,
                                        size_t *used) {
    *used = 0;
    if (p->upgrade || p->complete || p->error) return result(p);
    *used = http_parser_execute(&p->hp, &settings, data, len);
    return result(p);
}

ws_parse_result ws_response_parser_eof(ws_response_parser *p) {
    if (p->upgrade || p->complete || p->error) return result(p);
    http_parser_execute(&p->hp, &settings, NULL, 0);
    if (!p->upgrade && !p->complete && !p->error) {
        /* Whatever http-parser thinks of it, the message was cut short. */
        p->error = "the server closed the connection before its response was complete";
        return WS_PARSE_ERROR;
    }
    return result(p);
}

const char *ws_response_parser_error(const ws_response_parser *p) {
    return p->error ? p->error : "";
}

int ws_response_status(const ws_response_parser *p) {
    return p->hp.status_code;
}

const char *ws_response_reason(const ws_response_parser *p) {
    return p->reason.data ? p->reason.data : "";
}

const char *ws_response_lines(const ws_response_parser *p, size_t *len) {
    *len = p->lines.len;
    return p->lines.data ? p->lines.data : "";
}

const uint8_t *ws_response_body(const ws_response_parser *p, size_t *len) {
    *len = p->body.len;
    return (const uint8_t *)(p->body.data ? p->body.data : "");
}
