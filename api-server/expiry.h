/* expiry.h: the expiry job of time-limited items (expiry.c), a background
 * job of every API server (job.h), started and stopped by main.c. */
#ifndef KS_API_EXPIRY_H
#define KS_API_EXPIRY_H

#include "api.h"

/* Starts the job: a look every conf->expiry_interval_ms. */
ks_rc ks_expiry_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err);

/* Stops it after the round under way (no-op when it was not started). */
void ks_expiry_stop(void);

#endif
