/* render.c: composing avatars on their image servers, and the background
 * renderer.
 *
 * An operation that changes what a member wears composes the new version
 * itself, inside its transaction (ks_render_avatar). When an item's art is
 * replaced, the avatars wearing it are too many to compose in the admin's
 * call: UpdateItem queues them in render_queue, in its own transaction, and
 * the renderer thread of every API server works the queue off. A renderer
 * claims one row at a time with SELECT ... FOR UPDATE SKIP LOCKED, so
 * renderers on several API servers never take the same member and never wait
 * for each other; in the same transaction it locks the member, bumps the
 * version, composes and deletes the row. A failure rolls all of that back and
 * pushes the row's not_before out (render_retry seconds times the attempts,
 * at most ten times), with the error in last_error and the log.
 *
 * Time-limited items: the expiry job (expiry.c) only queues the wearers of
 * an ended item; ks_render_next_version takes it off in the transaction
 * that raises the version and composes it, so what a member wears never runs
 * ahead of the image of its version.
 *
 * Between rounds the renderer also marks image servers whose heartbeats
 * stopped down (node_health.c) and pushes again the item layers whose push
 * failed (replicate.c) and works off the images queued for deletion
 * (deletion.c), as it is the one thread that wakes on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "avatar_read.h"
#include "deletion.h"
#include "log.h"
#include "node_health.h"
#include "job.h"
#include "render.h"
#include "store_members.h"
#include "store_render.h"
#include "webhook.h"

#define KS_RENDER_BACKOFF_MAX 10     /* retry delay grows up to this many render_retry */

ks_rc ks_render_push_layers(ks_api_ctx_t *ctx, MYSQL *conn, const ks_image_server_t *server,
                            const ks_layer_row_t *layers, int count)
{
    for (int i = 0; i < count; i++) {
        unsigned char *png;
        size_t size;
        int archived;
        ks_rc rc;

        if ((rc = ks_store_layer_png(ctx, conn, layers[i].item_id, layers[i].layer_no,
                                     layers[i].sha256, &png, &size, &archived)) != KS_OK)
            return rc;
        rc = ks_image_put_layer(ctx, server, layers[i].item_id, layers[i].layer_no, png, size,
                                layers[i].sha256, archived);
        free(png);
        if (rc != KS_OK)
            return rc;
    }
    return KS_OK;
}

ks_rc ks_render_avatar(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                       const ks_image_server_t *server)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_layer_row_t *layers;
    int count;
    ks_rc rc;

    if ((rc = ks_store_server_usable(ctx, server)) != KS_OK ||
        (rc = ks_store_worn_layers(soap, conn, member->id, &layers, &count)) != KS_OK)
        return rc;
    rc = ks_image_compose(ctx, server, member->user_id, member->version, layers, count);
    if (rc != KS_CONFLICT)
        return rc;
    ks_log_info("image server \"%s\" misses layers of member \"%s\": pushing them again",
                server->name, member->user_id);
    if ((rc = ks_render_push_layers(ctx, conn, server, layers, count)) != KS_OK)
        return rc;
    rc = ks_image_compose(ctx, server, member->user_id, member->version, layers, count);
    return rc == KS_CONFLICT ? ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" still "
                                      "misses layers after a repair: %s", server->name,
                                      ctx->err.msg)
                             : rc;
}

ks_rc ks_render_next_version(struct soap *soap, MYSQL *conn, ks_member_t *member,
                             const ks_image_server_t *server, const char *event)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int dropped;
    ks_rc rc;

    /* time-limited items that ended come off with this version, never later */
    if ((rc = ks_store_outfit_drop_ended(ctx, conn, member->id, &dropped)) != KS_OK ||
        (rc = ks_store_member_next_version(ctx, conn, member)) != KS_OK ||
        (rc = ks_render_avatar(soap, conn, member, server)) != KS_OK)
        return rc;
    return event ? ks_webhook_avatar_event(ctx, conn, event, member, server) : KS_OK;
}

/* ---- the background renderer ------------------------------------------------------ */


/* One round of the renderer (ks_store_txn): the job it claimed, if any, and
 * the member it composed. */
typedef struct {
    struct soap *soap;
    int claimed;
    ks_render_job_t job;
    ks_member_t member;
} render_round_t;

/* Claims the next due member, composes its next version and takes it off
 * the queue. The compose, an effect outside the database, comes before the
 * last statements, so a retry could follow it; that is safe: a retry reads
 * the version again (the raise was rolled back) and composes that same
 * version from the same outfit and art (ks_store_worn_layers holds them
 * locked), writing the same file again. In practice the only statement
 * after it deletes a row this transaction has locked, which waits for no one. */
static ks_rc render_round(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    render_round_t *r = arg;
    ks_image_server_t server;
    ks_rc rc;

    r->claimed = 0;
    if ((rc = ks_store_render_claim(ctx, conn, &r->job)) != KS_OK)
        return rc;
    r->claimed = 1;
    if ((rc = ks_store_member_by_id(ctx, conn, r->job.member_id, 1, &r->member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, r->member.image_server_id, &server)) != KS_OK ||
        (rc = ks_render_next_version(r->soap, conn, &r->member, &server, KS_EVENT_CHANGED))
            != KS_OK)
        return rc;
    return ks_store_render_done(ctx, conn, r->job.member_id);
}

/* Composes the next due member of render_queue again. *claimed is 0 when
 * there was none (or the database could not say). */
static void render_next(struct soap *soap, int *claimed)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    render_round_t r = {.soap = soap};
    const ks_render_job_t *job = &r.job;
    MYSQL *conn;
    ks_err_t ignored;
    ks_rc rc;

    *claimed = 0;
    if (ks_db_master(ctx->db, &conn, &ctx->err) != KS_OK)
        return;
    rc = ks_store_txn(ctx, conn, render_round, &r);
    if (!r.claimed)
        return;
    *claimed = 1;
    if (rc == KS_OK) {
        ks_avatar_forget(r.member.user_id);    /* GetAvatar here sees the new version at once */
        ks_log_info("renderer: member \"%s\" composed again at version %u (%s)",
                    r.member.user_id, r.member.version, job->reason);
        return;
    }
    {
        unsigned factor = job->attempts + 1 < KS_RENDER_BACKOFF_MAX ? job->attempts + 1
                                                                   : KS_RENDER_BACKOFF_MAX;
        long delay = (long)ctx->conf->render_retry_s * factor;
        ks_log_warn("renderer: member %lld (%s): attempt %u failed (%s): %s; next try in %ld s",
                    job->member_id, job->reason, job->attempts + 1, ks_rc_name(rc),
                    ctx->err.msg, delay);
        if (ks_db_master(ctx->db, &conn, &ignored) == KS_OK &&
            ks_store_render_later(ctx, conn, job->member_id, delay, ctx->err.msg) != KS_OK)
            ks_log_warn("renderer: member %lld stays due: %s", job->member_id, ctx->err.msg);
    }
}

/* Adds to member_count the new members whose addition after their
 * creation failed (store.c, ks_store_assigned). */
static void flush_member_counts(ks_api_ctx_t *ctx)
{
    MYSQL *conn;

    ks_db_session_begin(ctx->db);
    if (ks_db_master(ctx->db, &conn, &ctx->err) != KS_OK ||
        ks_store_member_counts_flush(ctx, conn) != KS_OK)
        ks_log_warn("renderer: adding new members to member_count failed: %s", ctx->err.msg);
}

/* The renderer's round (job.h): up to render_batch members composed again,
 * each a database call of its own, then the upkeep no one else wakes for. */
static int renderer_round(struct soap *soap, ks_api_ctx_t *ctx, ks_job_t *job, void *arg)
{
    int done = 0, claimed = 1, retried, deleted;

    (void)arg;
    while (claimed && done < ctx->conf->render_batch && !ks_job_stopping(job)) {
        ks_db_session_begin(ctx->db);
        render_next(soap, &claimed);
        soap_destroy(soap);
        soap_end(soap);
        done += claimed;
    }
    ks_db_session_begin(ctx->db);
    if (ks_node_mark_silent_down(ctx) != KS_OK)
        ks_log_warn("renderer: marking silent image servers down failed: %s", ctx->err.msg);
    ks_db_session_begin(ctx->db);
    if (ks_replicas_retry(ctx, &retried) != KS_OK)
        ks_log_warn("renderer: retrying failed layer pushes failed: %s", ctx->err.msg);
    ks_db_session_begin(ctx->db);
    if (ks_deletions_run(ctx, NULL, &deleted) != KS_OK)
        ks_log_warn("renderer: deleting queued images failed: %s", ctx->err.msg);
    flush_member_counts(ctx);
    return claimed;               /* a whole batch: more may be due, look again at once */
}

static ks_job_t *renderer;

ks_rc ks_renderer_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err)
{
    return ks_job_start("renderer", conf, pool, (long)conf->image_timeout_s * 1000,
                        conf->render_interval_s * 1000, renderer_round, NULL, &renderer, err);
}

void ks_renderer_wake(void)
{
    ks_job_wake(renderer);
}

void ks_renderer_stop(void)
{
    ks_job_stop(renderer);
    renderer = NULL;
}
