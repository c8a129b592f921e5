/* memcached_reply — the replies of memcached's meta text protocol, parsed from a byte buffer.
 *
 * A pure function over bytes, so it can be fed whatever a read returned: a reply split across
 * reads anywhere gives "need more" until its last byte arrives, and the result never depends
 * on where the splits were. It validates as it scans, so garbage is rejected as soon as the
 * bytes seen cannot start any reply (a server speaking another protocol is noticed at once,
 * not after a timeout).
 *
 * Grammar (protocol.txt, "Meta Commands"):
 *   meta reply   HD | EN | NF | NS | EX | MN [ ' ' flags ] CRLF
 *   value reply  VA ' ' <datalen> [ ' ' flags ] CRLF <data> CRLF
 *   errors       ERROR [ ' ' msg ] CRLF | CLIENT_ERROR [ ' ' msg ] CRLF | SERVER_ERROR ...
 * Flags are printable ASCII and spaces; the opaque flag `O<token>` is picked out of them. */
#ifndef HEARTH_RATELIMIT_MEMCACHED_REPLY_H
#define HEARTH_RATELIMIT_MEMCACHED_REPLY_H

#include <stddef.h>
#include <stdint.h>

/* A reply line (everything but a VA data block) is at most this long, CRLF included: memcached
 * writes a few flags, the key at most (250 bytes) and short error messages. Longer is garbage. */
#define MC_REPLY_MAX_LINE 2048
/* The largest VA data block accepted (counters are 20 digits; this leaves room for anything). */
#define MC_REPLY_MAX_VALUE (1024 * 1024)

typedef enum mc_reply_type {
    MC_REPLY_HD,
    MC_REPLY_VA,
    MC_REPLY_EN,
    MC_REPLY_NF,
    MC_REPLY_NS,
    MC_REPLY_EX,
    MC_REPLY_MN,
    MC_REPLY_ERROR, /* this and the two below are the error replies (no flags, no opaque) */
    MC_REPLY_CLIENT_ERROR,
    MC_REPLY_SERVER_ERROR,
} mc_reply_type;

/* Pointers point into the parsed buffer. */
typedef struct mc_reply {
    mc_reply_type type;
    const char *flags; /* meta replies: the return flags, e.g. "O17 t9" (flags_len may be 0) */
    size_t flags_len;
    const char *opaque; /* the token of the first O flag (without the 'O'), or NULL */
    size_t opaque_len;
    const char *data; /* VA: the data block, without its CRLF */
    size_t data_len;
    const char *msg; /* error replies: the text after the code (msg_len may be 0) */
    size_t msg_len;
} mc_reply;

/* Parses the reply at the start of p[0..len). Returns the bytes it takes (> 0) and fills *out,
 * 0 if p holds only the beginning of a reply (*out untouched), or -1 if the bytes cannot be a
 * reply. */
ptrdiff_t mc_reply_parse(const char *p, size_t len, mc_reply *out);

/* The number in a counter's data block: decimal digits, then the spaces memcached leaves when a
 * decrement shortens a number in place ("10" - 10 reads back as "0 "). 0 and *out, or -1. */
int mc_reply_number(const char *p, size_t len, uint64_t *out);

const char *mc_reply_type_name(mc_reply_type t);

#endif
