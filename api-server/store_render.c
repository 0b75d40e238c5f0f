/* store_render.c: SQL of render_queue (store_render.h). */
#include "store_render.h"

#include <stdlib.h>

ks_rc ks_store_render_queue_item(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int *queued)
{
    long long wearers;
    ks_rc rc;

    /* READ COMMITTED: the INSERT ... SELECT below reads without locks, so
     * this count takes them (and waits for outfits being written). */
    if ((rc = ks_store_intf(ctx, conn, &wearers, "SELECT COUNT(*) FROM outfit WHERE item_id = %d"
                            " LOCK IN SHARE MODE", item_id)) != KS_OK ||
        (rc = ks_store_execf(ctx, conn, "INSERT INTO render_queue (member_id, reason)"
                             " SELECT member_id, 'new art of item %d' FROM outfit"
                             " WHERE item_id = %d ON DUPLICATE KEY UPDATE reason = VALUES(reason),"
                             " not_before = LEAST(not_before, NOW(3)), attempts = 0", item_id,
                             item_id)) != KS_OK)
        return rc;
    *queued = (int)wearers;
    return KS_OK;
}

static const ks_col_t job_cols[] = KS_COLUMNS(ks_render_job_t, member_id, attempts, reason);

ks_rc ks_store_render_claim(ks_api_ctx_t *ctx, MYSQL *conn, ks_render_job_t *job)
{
    return ks_store_onef(ctx, conn, KS_COLS(job_cols), job, "SELECT member_id, attempts, reason"
                         " FROM render_queue WHERE not_before <= NOW(3)"
                         " ORDER BY not_before, member_id LIMIT 1 FOR UPDATE SKIP LOCKED");
}

ks_rc ks_store_render_done(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id)
{
    return ks_store_execf(ctx, conn, "DELETE FROM render_queue WHERE member_id = %lld", member_id);
}

ks_rc ks_store_render_later(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, long delay_s,
                            const char *error)
{
    return ks_store_execf(ctx, conn, "UPDATE render_queue SET attempts = attempts + 1,"
                          " not_before = NOW(3) + INTERVAL %ld SECOND, last_error = LEFT(%s, 255)"
                          " WHERE member_id = %lld", delay_s, error, member_id);
}

/* ---- Time-limited items ------------------------------------------------------------- */

ks_rc ks_store_render_queue_ended(ks_api_ctx_t *ctx, MYSQL *conn, int max, int *queued)
{
    long long *members;
    ks_col_t cols[] = {{KS_COL_LLONG, 0, sizeof(long long)}};
    ks_buf_t sql;
    int count = 0, distinct = 0;
    ks_rc rc;

    *queued = 0;
    if (!(members = calloc((size_t)max, sizeof *members)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    /* The claim: wearers of ended items not queued yet, their outfit rows
     * locked (a server running the same round skips them and takes others).
     * No ORDER BY: the plan starts from the few ended items
     * (items_available_until) and reads their wearers by outfit_item, never
     * the whole outfit table. */
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT o.member_id FROM outfit o JOIN items i ON i.id = o.item_id"
                " WHERE i.available_until <= NOW() AND NOT EXISTS (SELECT 1 FROM render_queue q"
                " WHERE q.member_id = o.member_id) LIMIT %d FOR UPDATE SKIP LOCKED", max);
    rc = ks_store_rows(ctx, conn, &sql, cols, 1, members, sizeof *members, max, &count);
    if (rc == KS_OK && count > 0) {
        ks_buf_init(&sql, 4096 + (size_t)count * 64);
        ks_buf_addf(&sql, "INSERT INTO render_queue (member_id, reason) VALUES ");
        for (int i = 0; i < count; i++) {
            int seen = 0;                  /* a member wearing two ended items: once */
            for (int j = 0; j < i && !seen; j++)
                seen = members[j] == members[i];
            if (!seen)
                ks_buf_addf(&sql, "%s(%lld, 'an item it wears ended')", distinct++ ? ", " : "",
                            members[i]);
        }
        ks_buf_addf(&sql, " ON DUPLICATE KEY UPDATE not_before = LEAST(not_before, NOW(3))");
        rc = ks_store_run(ctx, conn, &sql, NULL);
    }
    free(members);
    if (rc == KS_OK)
        *queued = count;
    return rc;
}
