/* fcgi_pool.h: the worker threads of a FastCGI application (libfcgi's
 * FCGX_* API) behind nginx, shared by kisekae-image and kisekae-admin.
 *
 * The pool binds the listening socket with ks_net_listen (net.h: the host
 * as given, SO_REUSEADDR, a stale unix socket replaced, made 0666 for nginx
 * workers running as another user) and runs `threads` workers, each owning
 * one FCGX_Request and looping on FCGX_Accept_r; each accepted request goes
 * to the handler, then FCGX_Finish_r. With `fastcgi_keep_conn on`, nginx
 * pins a worker to each upstream connection: configure at least as many
 * threads as nginx keeps connections.
 *
 * Stopping: the listening socket is shut down (accept() fails in every idle
 * worker), idle kept connections are shut down, busy workers finish their
 * request (SIGTERM finishes the requests under way) and all are joined.
 */
#ifndef KS_FCGI_POOL_H
#define KS_FCGI_POOL_H

#include <fcgiapp.h>
#include "ks.h"

typedef struct ks_fcgi_pool ks_fcgi_pool_t;

typedef struct {
    const char *listen;          /* "host:port" or "unix:/path"; must outlive the pool */
    int threads;
    void *arg;                   /* the application's, passed to every callback */
    /* Optional: makes worker index's own state (*state), before its thread
     * starts; KS_OK or an error that stops the start. */
    ks_rc (*worker_init)(void *arg, int index, void **state, ks_err_t *err);
    void (*worker_free)(void *arg, void *state);
    /* Handles one request; the pool finishes it afterwards. */
    void (*handle)(void *arg, void *state, FCGX_Request *request);
} ks_fcgi_pool_conf_t;

/* Initialises libfcgi (and puts SIGTERM back to its default handler, which
 * libfcgi replaces), binds the socket and starts the workers. Block the
 * signals the caller wants to sigwait() for before calling: the workers
 * inherit the mask. conf is copied. */
ks_rc ks_fcgi_pool_start(const ks_fcgi_pool_conf_t *conf, ks_fcgi_pool_t **out, ks_err_t *err);

/* Workers started. */
int ks_fcgi_pool_threads(const ks_fcgi_pool_t *pool);

/* Stops as described above, frees every worker's state, closes (and for a
 * unix socket removes) the socket and frees the pool. NULL is ignored. */
void ks_fcgi_pool_stop(ks_fcgi_pool_t *pool);

/* ---- request helpers every application shares ---------------------------- */

/* A CGI parameter of the request, or NULL. */
const char *ks_fcgi_param(FCGX_Request *request, const char *name);

/* Discards what the request left of its body; past 64 MiB the connection is
 * closed after the answer instead, so a kept connection stays in step. */
void ks_fcgi_drain(FCGX_Request *request);

#endif
