/* admin_metrics.h: kisekae-admin's counters for Prometheus.
 *
 * front.c records every request by the route it reached (routes.c's
 * table: method and page pattern, such as "GET /items/{}") and HTTP status,
 * with its duration; page_login.c counts sign-ins by result; page.c counts
 * the API calls that failed. Recording is atomics only. The metrics_listen
 * option (main.c) starts an internal listener (common/prom.h) answering GET
 * /metrics with them.
 */
#ifndef KS_ADMIN_METRICS_H
#define KS_ADMIN_METRICS_H

#include "buf.h"
#include "ks.h"

/* Sign-in results. */
enum { KS_SIGN_IN_OK, KS_SIGN_IN_REFUSED, KS_SIGN_IN_ERROR, KS_SIGN_IN_RESULTS };

/* Records one request: route is its index in ks_routes (-1: none matched),
 * status its HTTP status, seconds its duration. */
void ks_admin_metrics_request(int route, int status, double seconds);
/* Records one sign-in attempt with its result (KS_SIGN_IN_...). */
void ks_admin_metrics_sign_in(int result);
/* Records one failed API call: unavailable 1 when no API server answered,
 * 0 when the call was answered with a fault. */
void ks_admin_metrics_api_failure(int unavailable);

/* Appends the exposition (what GET /metrics answers). */
void ks_admin_metrics_render(ks_buf_t *out);

/* Starts the internal listener on listen (nothing when it is ""); stop
 * stops it (nothing when not started). Returns KS_OK or the error. */
ks_rc ks_admin_metrics_start(const char *listen, ks_err_t *err);
void ks_admin_metrics_stop(void);

#endif
