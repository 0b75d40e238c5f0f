/* job.h: the API server's background jobs. Each runs on a thread of its own
 * with its own database session, HTTP client and gSOAP arena (a request's
 * context, as an operation has), calling its round function at an interval,
 * at once when woken, and again at once while a round says more is due.
 * Signals stay blocked on the thread (main.c takes them). */
#ifndef KS_API_JOB_H
#define KS_API_JOB_H

#include "api.h"

typedef struct ks_job ks_job_t;

/* A round: does some work with ctx (ctx->db begun as a fresh database call;
 * the arena of soap emptied after; a round of many steps begins the session
 * again, and empties the arena, between them, and stops early once
 * ks_job_stopping(job)). Returns 1 when more is due at once. */
typedef int (*ks_job_round_fn)(struct soap *soap, ks_api_ctx_t *ctx, ks_job_t *job, void *arg);

/* 1 once the job was asked to stop. */
int ks_job_stopping(ks_job_t *job);

/* Starts job name (for the log), calling round(arg) every interval_ms;
 * http_timeout_ms is its HTTP client's. *out is freed by ks_job_stop. */
ks_rc ks_job_start(const char *name, const ks_api_conf_t *conf, ks_db_pool_t *pool,
                   long http_timeout_ms, int interval_ms, ks_job_round_fn round, void *arg,
                   ks_job_t **out, ks_err_t *err);

/* Has the job run a round now (no-op on NULL). */
void ks_job_wake(ks_job_t *job);

/* Stops the job after the round under way and frees it (no-op on NULL). */
void ks_job_stop(ks_job_t *job);

#endif
