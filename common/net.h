/* net.h: listening sockets for the servers: "host:port" (IPv4 or [IPv6]) or
 * "unix:/absolute/path". A unix socket left by a dead server is replaced, one
 * a live server answers on is refused, and the socket is made 0666 so nginx
 * workers running as another user can connect. */
#ifndef KS_NET_H
#define KS_NET_H

#include "ks.h"

/* Binds and listens on spec with the given backlog; *fd is close-on-exec and
 * blocking (the caller sets O_NONBLOCK if it wants). */
ks_rc ks_net_listen(const char *spec, int backlog, int *fd, ks_err_t *err);

/* Removes the socket file of a "unix:" spec (after closing its fd). */
void ks_net_unlink(const char *spec);

#endif
