#include "ratelimit/consistent_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

typedef struct ch_point {
    uint64_t hash;
    uint32_t server;
} ch_point;

struct ch_ring {
    ch_point *points; /* sorted by hash, then server (so equal hashes resolve the same way) */
    size_t count;
};

uint64_t ch_hash64(const void *p, size_t len) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis and prime */
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    /* Finalizer: xor-shift / multiply rounds with odd constants, so that each input bit flips
     * about half of the output bits. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static int point_cmp(const void *a, const void *b) {
    const ch_point *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->server < y->server ? -1 : x->server > y->server;
}

ch_ring *ch_ring_new(const char *const *names, size_t count, unsigned points) {
    ch_ring *r = xcalloc(1, sizeof *r);
    r->count = count * points;
    r->points = xcalloc(r->count ? r->count : 1, sizeof *r->points);
    size_t n = 0;
    for (size_t s = 0; s < count; s++) {
        size_t name_len = strlen(names[s]);
        char *label = xmalloc(name_len + 16);
        memcpy(label, names[s], name_len);
        for (unsigned i = 0; i < points; i++) {
            int k = snprintf(label + name_len, 16, "#%u", i);
            r->points[n].hash = ch_hash64(label, name_len + (size_t)k);
            r->points[n].server = (uint32_t)s;
            n++;
        }
        free(label);
    }
    qsort(r->points, r->count, sizeof *r->points, point_cmp);
    return r;
}

size_t ch_ring_lookup(const ch_ring *r, const void *key, size_t len) {
    if (r->count == 0) return 0;
    uint64_t h = ch_hash64(key, len);
    /* The first point with hash >= h; past the last one, the ring wraps to the first. */
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->points[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r->points[lo == r->count ? 0 : lo].server;
}

void ch_ring_free(ch_ring *r) {
    if (!r) return;
    free(r->points);
    free(r);
}
