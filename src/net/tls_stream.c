#include "net/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

struct tls_stream {
    uv_tcp_t *tcp;
    SSL *ssl;
    BIO *rbio, *wbio; /* the network side: ciphertext received, ciphertext to send */
    tls_stream_callbacks cb;
    void *ud;
    bool ready;   /* the handshake is done */
    bool ended;   /* on_end was called */
    bool closed;  /* tls_stream_close was called: freed once the handle is closed */
    bool reading; /* wanted by the user (tls_stream_set_reading) */
    buf pending;  /* plaintext written before the handshake was done */
    char in[16 * 1024];
};

typedef struct tls_write {
    uv_write_t req;
    tls_stream *t;
    char data[];
} tls_write;

/* One context for the process: loading the system's CAs is too slow to do per connection. */
static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *shared_ctx;

static SSL_CTX *client_ctx(const char *ca_file, char *err, size_t errlen) {
    pthread_mutex_lock(&ctx_lock);
    if (!shared_ctx) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (ctx) {
            SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
            SSL_CTX_set_default_verify_paths(ctx);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
            if (ca_file && *ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
                snprintf(err, errlen, "cannot load the CA certificates in %s", ca_file);
                SSL_CTX_free(ctx);
                ctx = NULL;
            }
        } else {
            snprintf(err, errlen, "cannot create a TLS context");
        }
        shared_ctx = ctx;
    }
    SSL_CTX *ctx = shared_ctx;
    pthread_mutex_unlock(&ctx_lock);
    ERR_clear_error();
    return ctx;
}

/* Why the TLS connection failed: the certificate check if that is what failed, else
 * OpenSSL's reason. */
static void describe_failure(tls_stream *t, char *out, size_t n) {
    long v = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_get_error();
    if (v != X509_V_OK) {
        snprintf(out, n, "TLS certificate verification failed: %s",
                 X509_verify_cert_error_string(v));
    } else if (e) {
        char why[200];
        ERR_error_string_n(e, why, sizeof why);
        snprintf(out, n, "TLS handshake failed: %s", why);
    } else {
        snprintf(out, n, "TLS handshake failed");
    }
    ERR_clear_error();
}

static void end(tls_stream *t, const char *error) {
    if (t->ended || t->closed) return;
    t->ended = true;
    uv_read_stop((uv_stream_t *)t->tcp);
    t->cb.on_end(t->ud, error);
}

static void on_write_done(uv_write_t *w, int status) {
    tls_write *wr = (tls_write *)w;
    tls_stream *t = wr->t;
    free(wr);
    if (t->closed || t->ended) return;
    if (status < 0) {
        end(t, uv_strerror(status));
        return;
    }
    if (t->cb.on_drain && uv_stream_get_write_queue_size((uv_stream_t *)t->tcp) == 0)
        t->cb.on_drain(t->ud);
}

/* Sends what OpenSSL produced. False if the socket refused it. */
static bool flush(tls_stream *t) {
    size_t n = BIO_ctrl_pending(t->wbio);
    if (n == 0) return true;
    tls_write *wr = xmalloc(sizeof *wr + n);
    wr->t = t;
    BIO_read(t->wbio, wr->data, (int)n);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)n);
    if (uv_write(&wr->req, (uv_stream_t *)t->tcp, &b, 1, on_write_done) < 0) {
        free(wr);
        return false;
    }
    return true;
}

static bool write_plain(tls_stream *t, const void *data, size_t len) {
    while (len) {
        int chunk = len > (1u << 30) ? 1 << 30 : (int)len;
        int n = SSL_write(t->ssl, data, chunk); /* a memory BIO takes everything */
        if (n <= 0) return false;
        data = (const char *)data + n;
        len -= (size_t)n;
    }
    return flush(t);
}

/* After ciphertext came in: the handshake, then the plaintext it carries. */
static void advance(tls_stream *t) {
    char msg[300];
    if (!t->ready) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        bool sent = flush(t);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (sent && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)) return;
            describe_failure(t, msg, sizeof msg);
            end(t, msg);
            return;
        }
        t->ready = true;
        bool ok = write_plain(t, t->pending.data, t->pending.len);
        buf_free(&t->pending);
        if (!ok) {
            end(t, "cannot write to the socket");
            return;
        }
        t->cb.on_ready(t->ud);
    }
    while (!t->closed && !t->ended) {
        char plain[16 * 1024];
        ERR_clear_error();
        int n = SSL_read(t->ssl, plain, sizeof plain);
        if (n > 0) {
            t->cb.on_data(t->ud, plain, (size_t)n);
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        flush(t); /* a read may answer (key updates) */
        if (e == SSL_ERROR_WANT_READ) return;
        if (e == SSL_ERROR_ZERO_RETURN) {
            end(t, NULL);
            return;
        }
        describe_failure(t, msg, sizeof msg);
        end(t, msg);
        return;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
    (void)suggested;
    tls_stream *t = h->data;
    *out = uv_buf_init(t->in, sizeof t->in);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    tls_stream *t = s->data;
    if (nread == 0 || t->closed || t->ended) return;
    if (nread < 0) {
        if (nread != UV_EOF)
            end(t, uv_strerror((int)nread));
        else
            end(t, t->ready ? NULL : "the server closed the connection during the TLS handshake");
        return;
    }
    BIO_write(t->rbio, b->base, (int)nread);
    advance(t);
}

static void update_reading(tls_stream *t) {
    if (t->closed || t->ended) return;
    if (t->reading)
        uv_read_start((uv_stream_t *)t->tcp, on_alloc, on_read);
    else
        uv_read_stop((uv_stream_t *)t->tcp);
}

static bool is_ip_literal(const char *host) {
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static void on_tcp_closed(uv_handle_t *h) {
    tls_stream *t = h->data;
    free(h);
    SSL_free(t->ssl); /* frees both BIOs */
    buf_free(&t->pending);
    free(t);
}

static void on_bare_tcp_closed(uv_handle_t *h) {
    free(h);
}

tls_stream *tls_stream_start(uv_tcp_t *tcp, const char *host, const char *ca_file,
                             const tls_stream_callbacks *cb, void *ud, char *err, size_t errlen) {
    SSL_CTX *ctx = client_ctx(ca_file, err, errlen);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl) {
        if (ctx) snprintf(err, errlen, "cannot create a TLS connection");
        uv_close((uv_handle_t *)tcp, on_bare_tcp_closed);
        return NULL;
    }
    tls_stream *t = xcalloc(1, sizeof *t);
    t->tcp = tcp;
    tcp->data = t;
    t->ssl = ssl;
    t->cb = *cb;
    t->ud = ud;
    t->reading = true;
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, t->rbio, t->wbio);
    SSL_set_connect_state(ssl);
    if (is_ip_literal(host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        SSL_set_tlsext_host_name(ssl, host); /* SNI */
        SSL_set1_host(ssl, host);
    }
    ERR_clear_error();
    SSL_do_handshake(ssl); /* the ClientHello */
    if (!flush(t)) {
        snprintf(err, errlen, "cannot write to the socket");
        t->closed = true;
        uv_close((uv_handle_t *)tcp, on_tcp_closed);
        return NULL;
    }
    update_reading(t);
    return t;
}

void tls_stream_set_callbacks(tls_stream *t, const tls_stream_callbacks *cb, void *ud) {
    t->cb = *cb;
    t->ud = ud;
}

bool tls_stream_write(tls_stream *t, const void *data, size_t len) {
    if (t->closed || t->ended) return false;
    if (!t->ready) {
        buf_append(&t->pending, data, len);
        return true;
    }
    return write_plain(t, data, len);
}

size_t tls_stream_queued(const tls_stream *t) {
    return uv_stream_get_write_queue_size((const uv_stream_t *)t->tcp);
}

void tls_stream_set_reading(tls_stream *t, bool on) {
    t->reading = on;
    update_reading(t);
}

void tls_stream_close(tls_stream *t) {
    if (t->closed) return;
    if (t->ready && !t->ended) {
        SSL_shutdown(t->ssl); /* close_notify, on its way before the handle closes */
        size_t n = BIO_ctrl_pending(t->wbio);
        if (n) {
            char tmp[256];
            int got = BIO_read(t->wbio, tmp, n < sizeof tmp ? (int)n : (int)sizeof tmp);
            uv_buf_t b = uv_buf_init(tmp, got > 0 ? (unsigned)got : 0);
            if (got > 0) uv_try_write((uv_stream_t *)t->tcp, &b, 1);
        }
    }
    t->closed = true;
    uv_read_stop((uv_stream_t *)t->tcp);
    uv_close((uv_handle_t *)t->tcp, on_tcp_closed);
}
