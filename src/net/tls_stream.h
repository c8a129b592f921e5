/* tls_stream — the client side of TLS on a connected libuv TCP handle, with OpenSSL memory
 * BIOs: ciphertext moves through libuv, plaintext through calls and callbacks. Used by the
 * outbound WebSocket client (websocket_connect.c).
 *
 * The server's certificate is verified against the system's CAs plus ca_file (PEM, may be
 * NULL), and its name against `host` (a DNS name or an IP literal). One SSL_CTX serves the
 * process: the first tls_stream_start's ca_file is the one used.
 *
 * Callbacks run from the loop, never inside a call into this API; a callback may call any
 * function here, including tls_stream_close (nothing more is reported after it). */
#ifndef HEARTH_NET_TLS_STREAM_H
#define HEARTH_NET_TLS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct tls_stream tls_stream;

typedef struct tls_stream_callbacks {
    void (*on_ready)(void *ud); /* the handshake is done and the certificate verified */
    void (*on_data)(void *ud, const char *data, size_t len); /* plaintext received */
    /* The connection is over: error NULL when the peer ended it (close_notify or EOF), else
     * why it failed ("certificate verify failed: ..."). The last callback. */
    void (*on_end)(void *ud, const char *error);
    /* Optional: the ciphertext waiting for the socket went from some to none. */
    void (*on_drain)(void *ud);
} tls_stream_callbacks;

/* Starts the handshake on tcp, a connected handle allocated with malloc: the tls_stream owns
 * it from now on. NULL with err if TLS cannot even start (then tcp is closed and freed). */
tls_stream *tls_stream_start(uv_tcp_t *tcp, const char *host, const char *ca_file,
                             const tls_stream_callbacks *cb, void *ud, char *err, size_t errlen);
/* Changes who hears the callbacks (the next one included). */
void tls_stream_set_callbacks(tls_stream *t, const tls_stream_callbacks *cb, void *ud);
/* Sends plaintext (held until the handshake is done). False once the connection is over. */
bool tls_stream_write(tls_stream *t, const void *data, size_t len);
/* Ciphertext bytes waiting for the socket. */
size_t tls_stream_queued(const tls_stream *t);
/* Pauses or resumes reading from the socket (flow control). */
void tls_stream_set_reading(tls_stream *t, bool on);
/* Sends close_notify if it can, closes the TCP connection and frees t. No callback follows. */
void tls_stream_close(tls_stream *t);

#endif
