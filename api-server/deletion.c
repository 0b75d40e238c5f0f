/* deletion.c: the images image servers must delete (deletion.h).
 *
 * DeleteAvatar, DeleteAlbumPhoto and MoveAvatars queue what must go in
 * image_deletions, in the transaction that makes the images unused, then
 * try at once (ks_deletions_run with the user's id); the renderer thread of
 * every API server works off what is left between its rounds, so an image
 * server that was down, unreachable or marked down deletes the files when it
 * is back, and the files a move left behind are deleted too. A member
 * deletion waits while a member of that user_id (moved back, or created
 * again) uses images on that server: the server deletes a member's folder
 * as a whole.
 */
#include <stdio.h>
#include <string.h>
#include "deletion.h"
#include "image_client.h"
#include "log.h"
#include "store_deletion.h"

#define KS_DELETION_BATCH 64
#define KS_DELETION_BACKOFF_MAX 10    /* the delay grows up to this many deletion_retry */

/* Asks the image server to delete d (unless blocked, or the server failed
 * earlier in this run: *failed, set when it fails now); the row goes or
 * waits. KS_OK unless the database failed. */
static ks_rc run_one(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                     const ks_image_server_t *server, int *failed, int *done)
{
    unsigned factor = d->attempts + 1 < KS_DELETION_BACKOFF_MAX ? d->attempts + 1
                                                               : KS_DELETION_BACKOFF_MAX;
    long delay = (long)ctx->conf->deletion_retry_s * factor;
    char why[256];
    int blocked;
    ks_rc rc;

    if ((rc = ks_store_deletion_blocked(ctx, conn, d, &blocked)) != KS_OK)
        return rc;
    if (blocked)
        return ks_store_deletion_later(ctx, conn, d, delay, "a member of that user id uses "
                                       "images there");
    if (*failed)          /* one wait per dead server and run, not one per row */
        return ks_store_deletion_later(ctx, conn, d, delay, "its image server failed a"
                                       " deletion a moment before");
    rc = d->photo_id ? ks_image_delete_album(ctx, server, d->user_id, d->photo_id)
                     : ks_image_delete_member(ctx, server, d->user_id);
    if (rc == KS_OK) {
        (*done)++;
        return ks_store_deletion_done(ctx, conn, d);
    }
    *failed = 1;
    snprintf(why, sizeof why, "%.255s", ctx->err.msg);
    ks_log_warn("deleting %s of \"%s\" on image server \"%s\" failed (attempt %u), again in %ld s:"
                " %s", d->photo_id ? "an album photo" : "the images", d->user_id, server->name,
                d->attempts + 1, delay, why);
    return ks_store_deletion_later(ctx, conn, d, delay, why);
}

void ks_deletions_try_now(ks_api_ctx_t *ctx, const char *user_id)
{
    int done;

    if (ks_deletions_run(ctx, user_id, &done) != KS_OK)
        ks_log_warn("deleting the images of \"%s\": %s; the renderer tries again", user_id,
                    ctx->err.msg);
}

/* One run (ks_store_txn): whose deletions (NULL: everyone's), and how many
 * were done. The image servers' deletions happen inside the transaction,
 * before the rows go; a retry after a deadlock asks again for what was
 * deleted already, which an image server answers as done (a deletion is
 * idempotent), so the retry is safe. */
typedef struct {
    const char *user_id;
    int done;
} deletion_run_t;

static ks_rc deletion_run(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    deletion_run_t *run = arg;
    ks_deletion_t rows[KS_DELETION_BATCH];
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int count = 0, server_count = 0, failed[KS_IMAGE_SERVERS_MAX] = {0};
    ks_rc rc;

    run->done = 0;
    if ((rc = ks_store_deletion_claim(ctx, conn, run->user_id, rows, KS_DELETION_BATCH, &count))
            != KS_OK ||
        (count && (rc = ks_store_image_servers(ctx, conn, servers, &server_count)) != KS_OK))
        return rc;
    for (int i = 0; i < count; i++) {
        const ks_image_server_t *server = ks_store_find_server(servers, server_count,
                                                               rows[i].server_id);
        if (!server) {
            rc = ks_store_deletion_later(ctx, conn, &rows[i], ctx->conf->deletion_retry_s *
                                         (long)KS_DELETION_BACKOFF_MAX, "no such image server");
        } else if (run->user_id && strcmp(server->mode, "down") == 0) {
            continue;            /* the renderer tries it: no wait in the caller's call */
        } else {
            rc = run_one(ctx, conn, &rows[i], server, &failed[server - servers], &run->done);
        }
        if (rc != KS_OK)
            return rc;
    }
    return KS_OK;
}

ks_rc ks_deletions_run(ks_api_ctx_t *ctx, const char *user_id, int *done)
{
    deletion_run_t run = {.user_id = user_id};
    MYSQL *conn;
    ks_rc rc;

    *done = 0;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, deletion_run, &run)) != KS_OK)
        return rc;
    *done = run.done;
    if (*done)
        ks_log_info("deletions: %d done%s%s", *done, user_id ? " for " : "",
                    user_id ? user_id : "");
    return KS_OK;
}
