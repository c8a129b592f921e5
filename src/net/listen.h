/* listen — listening TCP sockets for the servers (data plane shards, control API). */
#ifndef HEARTH_NET_LISTEN_H
#define HEARTH_NET_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/* A listening socket on ip:port (IPv4 or IPv6 literal). With reuseport, several sockets can
 * share the address (SO_REUSEPORT) and the kernel spreads connections across them. Returns the
 * fd, or -1 with a message naming the address. */
int net_listen(const char *ip, int port, bool reuseport, char *err, size_t errlen);
/* 0 if nothing listens on ip:port yet; -1 with "cannot listen on ...: Address already in use".
 * (SO_REUSEPORT would otherwise let a second server silently share — and split — a port.) */
int net_port_free(const char *ip, int port, char *err, size_t errlen);
/* The port a socket is bound to. */
int net_bound_port(int fd);

#endif
