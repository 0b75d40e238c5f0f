/* dispatch.h: serving one request whatever the transport (dispatch.c),
 * for the transports; the reload a SIGHUP asks for, for main.c. */
#ifndef KS_API_DISPATCH_H
#define KS_API_DISPATCH_H

#include "api.h"

/* Reloads what may change while serving (on SIGHUP); err says why not. */
typedef ks_rc (*ks_api_reload_fn)(ks_db_pool_t *pool, ks_err_t *err);

/* A worker's gSOAP context: ks_api_worker_new configures it and its ctx
 * (database session, HTTP client); the transport then sets soap->fsend (and
 * soap->socket for standalone HTTP). */
struct soap *ks_api_worker_new(const ks_api_conf_t *conf, ks_db_pool_t *pool,
                               ks_api_ctx_t *ctx);
void ks_api_worker_free(struct soap *soap, ks_api_ctx_t *ctx);
/* A worker with no request to serve calls this at least every
 * KS_IDLE_CHECK_S seconds: its database session lets go of the connections
 * to servers a reload removed. */
#define KS_IDLE_CHECK_S 1
void ks_api_worker_idle(ks_api_ctx_t *ctx);
/* Serves the request in ctx (head, body) and writes the answer through
 * soap->fsend; the request is a database call of its own
 * (ks_db_session_begin). *keep_alive counts the requests the connection may
 * still serve (start at max_keep_alive + 1); it is 0 afterwards when the
 * connection must close. */
void ks_api_serve_request(struct soap *soap, int *keep_alive);

/* main.c names the pool and its reload function before serving; its signal
 * thread calls ks_api_reload_ask on SIGHUP (it only sets a flag). */
void ks_api_reload_init(ks_db_pool_t *pool, ks_api_reload_fn reload);
void ks_api_reload_ask(int sig);
/* The transport's main thread calls this each time it wakes (it waits a
 * second at most): it runs the reload a SIGHUP asked for, in that thread. */
void ks_api_reload_if_asked(void);

#endif
