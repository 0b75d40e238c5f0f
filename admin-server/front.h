/* front.h: kisekae-admin's FastCGI front: each worker thread (fcgi_pool.h)
 * owns a session of the admin database and a gSOAP context; a request is
 * read (its body under max_request_bytes, parsed by form.h), answered by
 * the dispatcher (routes.h) and written back with the security headers
 * every answer carries. */
#ifndef KS_ADMIN_FRONT_H
#define KS_ADMIN_FRONT_H

#include "admin.h"
#include "fcgi_pool.h"

/* Starts serving server->conf->listen; the caller blocks the signals it
 * sigwait()s for first. */
ks_rc ks_admin_front_start(ks_admin_server_t *server, ks_fcgi_pool_t **out, ks_err_t *err);

/* Finishes the requests under way and stops (ks_fcgi_pool_stop). */
void ks_admin_front_stop(ks_fcgi_pool_t *pool);

#endif
