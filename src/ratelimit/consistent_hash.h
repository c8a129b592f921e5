/* consistent_hash — a hash ring that maps keys to servers so that adding or removing a server
 * only moves the keys of the ring segments it takes or gives back.
 *
 * Each server is placed at `points` pseudo-random positions (hashes of "<name>#<i>"); a key
 * belongs to the first point at or after its own hash, wrapping around. With ~160 points per
 * server the shares come out even to within a few percent, and a new server takes its keys
 * from all the others without moving any between them. Positions depend only on the names, so
 * every process configured with the same servers agrees on the mapping, whatever the order. */
#ifndef HEARTH_RATELIMIT_CONSISTENT_HASH_H
#define HEARTH_RATELIMIT_CONSISTENT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CH_DEFAULT_POINTS 160

typedef struct ch_ring ch_ring;

/* A well-mixed 64-bit hash of bytes (FNV-1a, then a finalizer that spreads every input bit over
 * the whole word: FNV alone leaves similar short strings close together). */
uint64_t ch_hash64(const void *p, size_t len);

/* A ring of `count` servers named names[0..count) (count >= 1; names are copied). */
ch_ring *ch_ring_new(const char *const *names, size_t count, unsigned points);
/* The index (into the names given to ch_ring_new) of the server that owns key. */
size_t ch_ring_lookup(const ch_ring *r, const void *key, size_t len);
void ch_ring_free(ch_ring *r);

#endif
