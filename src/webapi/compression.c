/* Compression ops: a zlib z_stream per CompressionStream / DecompressionStream, kept in C
 * behind a numeric handle (src/runtime/compression.js holds only the number). The same ops
 * encode and decode HTTP bodies (Content-Encoding gzip and br, src/runtime/content_coding.js);
 * "br" (Brotli, libbrotli) is only for those: the Compression Standard's classes do not take it.
 *
 *   compressionCreate(format, decompress) → handle   format: "gzip", "deflate", "deflate-raw", "br"
 *   compressionPush(handle, bytes) → [output, consumed, more]   see op_compression_push
 *   compressionFinish(handle) → ArrayBuffer            the rest of the output; frees the handle
 *   compressionFree(handle)                            frees it (cancel/abort); no-op if gone
 *
 * Decompression errors throw a TypeError and free the handle: corrupt data, data after the end
 * of the compressed stream, and (at finish) a stream that ended before its end.
 *
 * Lifetime. Handles live in a per-thread table. JavaScript frees them in the transform's
 * flush and cancel and on errors. A stream abandoned half-way (never closed, cancelled or
 * aborted) is freed by a sweep, run each time a handle is created, of the handles whose
 * invocation has ended, and in any case when the thread exits. A stream created in global
 * scope (no invocation) is only freed by JavaScript or at thread exit. */
#include "webapi/compression.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <zlib.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "js/engine.h"
#include "platform/invocation.h"
#include "platform/shard.h"

#define OUT_STEP  65536
#define OUT_LIMIT (1u << 20) /* output per push, at most about */

typedef struct zentry {
    double id;
    uint64_t inv_id; /* the invocation that created it (0: global scope) */
    bool decompress;
    bool ended;  /* inflate reached the end of the compressed stream */
    z_stream zs; /* zlib's state; for Brotli, only its next_in/avail_in (the input) are used */
    BrotliEncoderState *br_enc; /* Brotli instead of zlib, when one of these is set */
    BrotliDecoderState *br_dec;
} zentry;

typedef struct ztable {
    zentry **items;
    size_t len, cap;
    double next_id;
} ztable;

static pthread_key_t table_key;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void entry_free(zentry *e) {
    if (e->br_enc)
        BrotliEncoderDestroyInstance(e->br_enc);
    else if (e->br_dec)
        BrotliDecoderDestroyInstance(e->br_dec);
    else if (e->decompress)
        inflateEnd(&e->zs);
    else
        deflateEnd(&e->zs);
    free(e);
}

static void table_destroy(void *p) {
    ztable *t = p;
    for (size_t i = 0; i < t->len; i++) entry_free(t->items[i]);
    free(t->items);
    free(t);
}

static void table_key_init(void) {
    pthread_key_create(&table_key, table_destroy);
}

static ztable *table_get(bool create) {
    pthread_once(&table_once, table_key_init);
    ztable *t = pthread_getspecific(table_key);
    if (!t && create) {
        t = xcalloc(1, sizeof *t);
        pthread_setspecific(table_key, t);
    }
    return t;
}

static size_t table_index(ztable *t, double id) {
    for (size_t i = 0; t && i < t->len; i++)
        if (t->items[i]->id == id) return i;
    return SIZE_MAX;
}

static void table_remove_at(ztable *t, size_t i) {
    entry_free(t->items[i]);
    t->items[i] = t->items[--t->len];
}

static void table_remove(double id) {
    ztable *t = table_get(false);
    size_t i = table_index(t, id);
    if (i != SIZE_MAX) table_remove_at(t, i);
}

/* Frees the streams of invocations that have ended (abandoned without close or cancel). */
static void sweep(js_call *c, ztable *t) {
    shard *sh = shard_of(c);
    if (!sh) return;
    for (size_t i = 0; i < t->len;) {
        zentry *e = t->items[i];
        if (e->inv_id && !invocation_lookup(sh, e->inv_id))
            table_remove_at(t, i);
        else
            i++;
    }
}

static zentry *lookup(js_call *c, const char *what) {
    double id = js_arg_number(c, 0);
    ztable *t = table_get(false);
    size_t i = table_index(t, id);
    if (i == SIZE_MAX) {
        js_throw(c, "TypeError", "The %s stream is closed (or belonged to a request that ended)",
                 what);
        return NULL;
    }
    return t->items[i];
}

static const char *stream_name(const zentry *e) {
    return e->decompress ? "DecompressionStream" : "CompressionStream";
}

static void ret_output(js_call *c, buf *out) {
    if (!out->len) {
        buf_free(out);
        js_ret_bytes(c, "", 0);
        return;
    }
    size_t len;
    char *p = buf_detach(out, &len);
    js_ret_bytes_take(c, p, len);
}

static void op_compression_create(js_call *c) {
    size_t flen;
    const char *format = js_arg_string(c, 0, &flen);
    bool decompress = js_arg_bool(c, 1);
    if (!format) return;
    int bits = 0;
    if (strcmp(format, "br") == 0) {
        /* below */
    } else if (strcmp(format, "gzip") == 0)
        bits = 15 + 16;
    else if (strcmp(format, "deflate") == 0)
        bits = 15;
    else if (strcmp(format, "deflate-raw") == 0)
        bits = -15;
    else {
        js_throw(c, "TypeError", "Unsupported compression format: '%s'", format);
        return;
    }
    zentry *e = xcalloc(1, sizeof *e);
    e->decompress = decompress;
    int rc;
    if (bits == 0) {
        if (decompress)
            e->br_dec = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        else if ((e->br_enc = BrotliEncoderCreateInstance(NULL, NULL, NULL)))
            /* Quality 4: what servers use for on-the-fly compression (11 is for static files). */
            BrotliEncoderSetParameter(e->br_enc, BROTLI_PARAM_QUALITY, 4);
        rc = e->br_dec || e->br_enc ? Z_OK : Z_MEM_ERROR;
    } else {
        rc = decompress ? inflateInit2(&e->zs, bits)
                        : deflateInit2(&e->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8,
                                       Z_DEFAULT_STRATEGY);
    }
    if (rc != Z_OK) {
        free(e);
        js_throw(c, "Error", "%s: zlib initialisation failed",
                 decompress ? "DecompressionStream" : "CompressionStream");
        return;
    }
    ztable *t = table_get(true);
    sweep(c, t);
    e->id = ++t->next_id;
    e->inv_id = js_call_async_id(c);
    if (t->len == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->items = xrealloc(t->items, t->cap * sizeof *t->items);
    }
    t->items[t->len++] = e;
    js_ret_number(c, e->id);
}

/* run() for Brotli, with zlib's result codes: Z_STREAM_END once the stream's end was reached,
 * Z_DATA_ERROR for corrupt input, else Z_OK. */
static int run_brotli(zentry *e, int flush, buf *out, size_t limit, bool *more) {
    for (;;) {
        buf_reserve(out, OUT_STEP);
        size_t avail_in = e->zs.avail_in, avail_out = OUT_STEP;
        const uint8_t *next_in = e->zs.next_in;
        uint8_t *next_out = (uint8_t *)out->data + out->len;
        bool done, pending;
        if (e->br_dec) {
            BrotliDecoderResult r = BrotliDecoderDecompressStream(e->br_dec, &avail_in, &next_in,
                                                                  &avail_out, &next_out, NULL);
            if (r == BROTLI_DECODER_RESULT_ERROR) return Z_DATA_ERROR;
            done = r == BROTLI_DECODER_RESULT_SUCCESS;
            pending = r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
        } else {
            BrotliEncoderOperation op =
                flush == Z_FINISH ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
            if (!BrotliEncoderCompressStream(e->br_enc, op, &avail_in, &next_in, &avail_out,
                                             &next_out, NULL))
                return Z_STREAM_ERROR;
            done = flush == Z_FINISH && BrotliEncoderIsFinished(e->br_enc);
            pending = BrotliEncoderHasMoreOutput(e->br_enc) || (flush == Z_FINISH && !done);
        }
        e->zs.next_in = (Bytef *)next_in;
        e->zs.avail_in = (uInt)avail_in;
        out->len += OUT_STEP - avail_out;
        if (done) return Z_STREAM_END;
        if (!pending && avail_in == 0) return Z_OK;
        if (!pending && avail_out != 0) return Z_OK; /* no progress possible */
        if (limit && out->len >= limit) {
            *more = true;
            return Z_OK;
        }
    }
}

/* Runs deflate or inflate over the input with `flush`, appending what is produced to out.
 * With a limit, stops once out holds that much and sets *more if zlib may have more output
 * pending. Returns the last zlib result (Z_STREAM_END when the stream's end was reached). */
static int run(zentry *e, int flush, buf *out, size_t limit, bool *more) {
    if (e->br_enc || e->br_dec) return run_brotli(e, flush, out, limit, more);
    int rc;
    for (;;) {
        buf_reserve(out, OUT_STEP);
        e->zs.next_out = (Bytef *)out->data + out->len;
        e->zs.avail_out = OUT_STEP;
        rc = e->decompress ? inflate(&e->zs, flush) : deflate(&e->zs, flush);
        out->len += OUT_STEP - e->zs.avail_out;
        if (rc == Z_STREAM_END) return rc;
        if (rc != Z_OK && rc != Z_BUF_ERROR) return rc;
        /* zlib stopped without filling the output: the input is used up (Z_NO_FLUSH) or no
         * progress is possible. With Z_FINISH, only Z_STREAM_END ends deflate. */
        if (e->zs.avail_out != 0 && (flush == Z_NO_FLUSH || rc == Z_BUF_ERROR)) return rc;
        if (limit && out->len >= limit) {
            *more = true;
            return rc;
        }
    }
}

/* Decompression errors carry workerd's messages, which Workers may match on. */
#define TRAILING_MESSAGE "Trailing bytes after end of compressed data"

/* compressionPush(handle, bytes) → [output, bytesConsumed, more]. Output is bounded (about
 * OUT_LIMIT) so a decompression bomb cannot grow the C heap: the caller pushes the rest of
 * its bytes again, and pushes (possibly empty) input while `more` says output is pending. */
static void op_compression_push(js_call *c) {
    zentry *e = lookup(c, "compression");
    if (!e) return;
    size_t len;
    const uint8_t *in = js_arg_bytes(c, 1, &len);
    if (!in) return;
    double id = e->id;
    if (e->ended && len) {
        table_remove(id);
        js_throw(c, "TypeError", "%s", TRAILING_MESSAGE);
        return;
    }
    buf out = {0};
    const char *error = NULL;
    bool more = false;
    size_t used = 0;
    if (!e->ended) {
        /* zlib's avail_in is 32 bits: larger chunks are taken in slices. */
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        e->zs.next_in = (Bytef *)in;
        e->zs.avail_in = n;
        int rc = run(e, Z_NO_FLUSH, &out, OUT_LIMIT, &more);
        used = n - e->zs.avail_in;
        e->zs.next_in = NULL;
        e->zs.avail_in = 0;
        if (rc == Z_STREAM_END && e->decompress) {
            e->ended = true;
            if (used < len) error = TRAILING_MESSAGE;
        } else if (rc == Z_MEM_ERROR) {
            error = "out of memory";
        } else if ((rc != Z_OK && rc != Z_BUF_ERROR) || (!used && len && !more)) {
            error = "Decompression failed."; /* (no progress at all: never loop forever) */
        }
    }
    if (error) {
        buf_free(&out);
        if (e->decompress)
            js_throw(c, "TypeError", "%s", error);
        else
            js_throw(c, "TypeError", "%s: %s", stream_name(e), error);
        table_remove(id);
        return;
    }
    js_ret_list(c);
    js_ret_push_bytes(c, out.data ? out.data : "", out.len);
    js_ret_push_number(c, (double)used);
    js_ret_push_bool(c, more);
    buf_free(&out);
}

static void op_compression_finish(js_call *c) {
    zentry *e = lookup(c, "compression");
    if (!e) return;
    double id = e->id;
    buf out = {0};
    if (e->decompress) {
        if (!e->ended)
            js_throw(c, "TypeError",
                     "Called close() on a decompression stream with incomplete data");
        else
            js_ret_bytes(c, "", 0);
    } else {
        e->zs.next_in = NULL;
        e->zs.avail_in = 0;
        bool more = false;
        int rc = run(e, Z_FINISH, &out, 0, &more);
        if (rc != Z_STREAM_END) {
            buf_free(&out);
            js_throw(c, "Error", "CompressionStream: compression failed");
        } else {
            ret_output(c, &out);
        }
    }
    table_remove(id);
}

static void op_compression_free(js_call *c) {
    table_remove(js_arg_number(c, 0));
    js_ret_undefined(c);
}

static const js_op compression_ops[] = {
    {"compressionCreate", op_compression_create},
    {"compressionPush", op_compression_push},
    {"compressionFinish", op_compression_finish},
    {"compressionFree", op_compression_free},
};

void compression_ops_register(void) {
    js_ops_register(compression_ops, sizeof compression_ops / sizeof compression_ops[0]);
}
