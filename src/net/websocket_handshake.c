#include "net/websocket_handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

bool ws_client_key(char key[25], char expected[WS_ACCEPT_LEN + 1]) {
    unsigned char nonce[16];
    if (RAND_bytes(nonce, sizeof nonce) != 1) return false;
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof nonce);
    ws_accept_key(key, 24, expected);
    return true;
}

void ws_handshake_request(buf *out, const char *target, size_t target_len, const char *host,
                          const char *key, const char *protocols, const char *extra_lines) {
    /* "ws://host" and "ws://host?x" have an empty path: the request target starts with "/". */
    const char *slash = target_len && target[0] == '/' ? "" : "/";
    buf_printf(out, "GET %s%.*s HTTP/1.1\r\nHost: %s\r\n", slash, (int)target_len, target, host);
    buf_printf(out,
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n",
               key);
    if (protocols && *protocols) buf_printf(out, "Sec-WebSocket-Protocol: %s\r\n", protocols);
    if (extra_lines && *extra_lines) {
        buf_puts(out, extra_lines);
        if (out->data[out->len - 1] != '\n') buf_puts(out, "\r\n");
    }
    buf_puts(out, "\r\n");
}

const char *ws_header_field(const char *lines, size_t len, const char *name, size_t *vlen) {
    size_t nlen = strlen(name);
    const char *p = lines, *end = lines + len;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < le && (*v == ' ' || *v == '\t')) v++;
            while (le > v && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t')) le--;
            *vlen = (size_t)(le - v);
            return v;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

const char *ws_check_handshake(const char *lines, size_t len, const char *expected,
                               const char *protocols, char *protocol_out, size_t outlen) {
    size_t vlen = 0;
    if (outlen) protocol_out[0] = '\0';
    const char *v = ws_header_field(lines, len, "upgrade", &vlen);
    if (!ws_header_has_token(v, vlen, "websocket")) return "no \"Upgrade: websocket\"";
    v = ws_header_field(lines, len, "connection", &vlen);
    if (!ws_header_has_token(v, vlen, "upgrade")) return "no \"Connection: Upgrade\"";
    v = ws_header_field(lines, len, "sec-websocket-accept", &vlen);
    if (!v || vlen != WS_ACCEPT_LEN || memcmp(v, expected, WS_ACCEPT_LEN) != 0)
        return "a wrong Sec-WebSocket-Accept";
    if (ws_header_field(lines, len, "sec-websocket-extensions", &vlen))
        return "an extension that was not offered";
    v = ws_header_field(lines, len, "sec-websocket-protocol", &vlen);
    if (v) {
        if (!protocols || vlen == 0 || vlen >= outlen) return "a subprotocol that was not offered";
        memcpy(protocol_out, v, vlen);
        protocol_out[vlen] = '\0';
        if (!ws_header_has_token(protocols, strlen(protocols), protocol_out)) {
            protocol_out[0] = '\0';
            return "a subprotocol that was not offered";
        }
    }
    return NULL;
}
