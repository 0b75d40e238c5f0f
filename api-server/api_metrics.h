/* api_metrics.h: kisekae-api's counters for Prometheus.
 *
 * server.c records every request it serves: its operation (the SOAP
 * operation's name, or one of the pseudo-operations below for what is not a
 * dispatched SOAP call), the stable fault code it ended with, if any, and
 * its duration; avatar_read.c counts the avatar cache's hits and misses.
 * Recording is atomics only (no lock on the request path; an operation's
 * name takes a lock once, the first time it is seen). The metrics_listen
 * option (main.c) starts an internal listener (common/prom.h) whose GET
 * /metrics renders them with the database pool's members and the queues'
 * depths read at that moment.
 */
#ifndef KS_API_METRICS_H
#define KS_API_METRICS_H

#include "api.h"
#include "buf.h"

/* Pseudo-operations: what a request was when it was no SOAP operation. */
#define KS_API_OP_INVALID "invalid"        /* refused, malformed, or naming no operation */
#define KS_API_OP_AVATAR "http_avatar"     /* GET /avatar/... */
#define KS_API_OP_WSDL "http_wsdl"         /* GET /?wsdl */
#define KS_API_OP_GET_OTHER "http_other"   /* any other GET (404) */

/* The slot of operation name (interned: at most 128 names; past that, the
 * slot of "invalid", or -1 which ks_api_metrics_request ignores; a NULL or
 * empty name is "invalid"). Safe from any thread. */
int ks_api_metrics_op(const char *name);

/* Records one request of operation op (a slot from ks_api_metrics_op) that
 * ended with fault code fault_code (NULL when it succeeded) after seconds. */
void ks_api_metrics_request(int op, const char *fault_code, double seconds);

/* Records one read of the avatar cache: hit 1 found a fresh view. */
void ks_api_metrics_avatar_cache(int hit);

/* Starts the internal listener on conf->metrics_listen (nothing when it is
 * ""), rendering with pool's status; stop stops it (nothing when not
 * started). Returns KS_OK or the error. */
ks_rc ks_api_metrics_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err);
void ks_api_metrics_stop(void);

/* Appends the exposition (what GET /metrics answers); ctx reads the queues
 * (NULL: their gauges are left out). */
void ks_api_metrics_render(ks_db_pool_t *pool, ks_api_ctx_t *ctx, ks_buf_t *out);

#endif
