/* store_deletion.c: the image_deletions table (store_deletion.h). */
#include "store_deletion.h"

ks_rc ks_store_deletion_queue_member(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id)
{
    return ks_store_execf(ctx, conn, "INSERT INTO image_deletions (image_server_id, user_id)"
                          " SELECT id, %s FROM image_servers", user_id);
}

ks_rc ks_store_deletion_queue_left(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   const char *user_id)
{
    return ks_store_execf(ctx, conn, "INSERT INTO image_deletions (image_server_id, user_id)"
                          " VALUES (%d, %s)", server_id, user_id);
}

ks_rc ks_store_deletion_queue_photo(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                    const char *user_id, unsigned photo_id)
{
    return ks_store_execf(ctx, conn, "INSERT INTO image_deletions (image_server_id, user_id,"
                          " photo_id) VALUES (%d, %s, %u)", server_id, user_id, photo_id);
}

static const ks_col_t deletion_cols[] = KS_COLUMNS(ks_deletion_t, id, server_id, user_id, photo_id,
    attempts);

ks_rc ks_store_deletion_claim(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                              ks_deletion_t *out, int max, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, KS_STORE_SQL_MAX);
    ks_buf_addf(&sql, "SELECT id, image_server_id, user_id, COALESCE(photo_id, 0), attempts"
                     " FROM image_deletions WHERE ");
    if (user_id)
        ks_store_sqlf(&sql, conn, "user_id = %s", user_id);
    else
        ks_buf_addf(&sql, "not_before <= NOW(3)");
    ks_buf_addf(&sql, " ORDER BY id LIMIT %d FOR UPDATE SKIP LOCKED", max);
    return ks_store_rows(ctx, conn, &sql, KS_COLS(deletion_cols), out, sizeof *out, max, count);
}

ks_rc ks_store_deletion_blocked(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                                int *blocked)
{
    long long count;
    ks_rc rc;

    *blocked = 0;
    if (d->photo_id)           /* photo ids are never used again */
        return KS_OK;
    if ((rc = ks_store_intf(ctx, conn, &count, "SELECT COUNT(*) FROM members m WHERE"
                            " m.user_id = %s AND (m.image_server_id = %d OR EXISTS (SELECT 1"
                            " FROM album_photos p WHERE p.member_id = m.id"
                            " AND p.image_server_id = %d))", d->user_id, d->server_id,
                            d->server_id)) != KS_OK)
        return rc;
    *blocked = count > 0;
    return KS_OK;
}

ks_rc ks_store_deletion_done(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d)
{
    return ks_store_execf(ctx, conn, "DELETE FROM image_deletions WHERE id = %lld", d->id);
}

ks_rc ks_store_deletion_later(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                              long delay_s, const char *error)
{
    return ks_store_execf(ctx, conn, "UPDATE image_deletions SET attempts = attempts + 1,"
                          " not_before = NOW(3) + INTERVAL %ld SECOND, last_error = LEFT(%s, 255)"
                          " WHERE id = %lld", delay_s, error, d->id);
}
