/* expiry.c: the end of time-limited items (expiry.h).
 *
 * Each round queues, in one short transaction, up to KS_EXPIRY_BATCH wearers
 * of items whose window has ended (ks_store_render_queue_ended: their outfit
 * rows claimed FOR UPDATE SKIP LOCKED, so the API servers running this job
 * share the work and never wait for each other) and wakes the renderer. The
 * renderer (render.c) takes the ended items off each member in the
 * transaction that raises its version and composes it, with the category's
 * default put on where a required category is left bare and an
 * avatar.changed event: the outfit never runs ahead of the rendered image,
 * and this job composes nothing itself. A full batch runs the next round at
 * once; a member whose compose fails stays queued with the renderer's
 * backoff (and keeps the item on until its image server can compose).
 */
#include "expiry.h"
#include "job.h"
#include "log.h"
#include "store_render.h"

#define KS_EXPIRY_BATCH 64

/* The transaction of a round (ks_store_txn); arg is the int queued. */
static ks_rc queue_round(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    return ks_store_render_queue_ended(ctx, conn, KS_EXPIRY_BATCH, arg);
}

static int expiry_round(struct soap *soap, ks_api_ctx_t *ctx, ks_job_t *job, void *arg)
{
    MYSQL *conn;
    int queued = 0;

    (void)soap;
    (void)job;
    (void)arg;
    if (ks_db_master(ctx->db, &conn, &ctx->err) != KS_OK ||
        ks_store_txn(ctx, conn, queue_round, &queued) != KS_OK) {
        ks_log_warn("expiry: queueing the wearers of ended items failed: %s", ctx->err.msg);
        return 0;
    }
    if (queued > 0) {
        ks_log_info("expiry: %d worn items ended; their wearers are queued", queued);
        ks_renderer_wake();
    }
    return queued == KS_EXPIRY_BATCH;
}

static ks_job_t *job;

ks_rc ks_expiry_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err)
{
    return ks_job_start("expiry", conf, pool, 1000, conf->expiry_interval_ms, expiry_round, NULL,
                        &job, err);
}

void ks_expiry_stop(void)
{
    ks_job_stop(job);
    job = NULL;
}
