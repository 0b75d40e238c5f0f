/* store_deletion.c: the image_deletions table (store_deletion.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_deletion.h"

ks_rc ks_store_deletion_queue_member(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO image_deletions (image_server_id, user_id) SELECT id, ");
    ks_sql_str(&sql, conn, user_id);
    ks_buf_addf(&sql, " FROM image_servers");
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_deletion_queue_left(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   const char *user_id)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO image_deletions (image_server_id, user_id) VALUES (%d, ",
                server_id);
    ks_sql_str(&sql, conn, user_id);
    ks_buf_addf(&sql, ")");
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_deletion_queue_photo(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                    const char *user_id, unsigned photo_id)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO image_deletions (image_server_id, user_id, photo_id)"
                     " VALUES (%d, ", server_id);
    ks_sql_str(&sql, conn, user_id);
    ks_buf_addf(&sql, ", %u)", photo_id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_deletion_claim(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                              ks_deletion_t *out, int max, int *count)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *count = 0;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, image_server_id, user_id, COALESCE(photo_id, 0), attempts"
                     " FROM image_deletions WHERE ");
    if (user_id) {
        ks_buf_addf(&sql, "user_id = ");
        ks_sql_str(&sql, conn, user_id);
    } else {
        ks_buf_addf(&sql, "not_before <= NOW(3)");
    }
    ks_buf_addf(&sql, " ORDER BY id LIMIT %d FOR UPDATE SKIP LOCKED", max);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)) && *count < max) {
        ks_deletion_t *d = &out[(*count)++];
        d->id = atoll(row[0]);
        d->server_id = atoi(row[1]);
        snprintf(d->user_id, sizeof d->user_id, "%s", row[2]);
        d->photo_id = (unsigned)strtoul(row[3], NULL, 10);
        d->attempts = (unsigned)strtoul(row[4], NULL, 10);
    }
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_deletion_blocked(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                                int *blocked)
{
    long long count;
    ks_buf_t sql;
    ks_rc rc;

    *blocked = 0;
    if (d->photo_id)           /* photo ids are never used again */
        return KS_OK;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM members m WHERE m.user_id = ");
    ks_sql_str(&sql, conn, d->user_id);
    ks_buf_addf(&sql, " AND (m.image_server_id = %d OR EXISTS (SELECT 1 FROM album_photos p"
                     " WHERE p.member_id = m.id AND p.image_server_id = %d))",
                d->server_id, d->server_id);
    if ((rc = ks_store_int(ctx, conn, &sql, &count)) != KS_OK)
        return rc;
    *blocked = count > 0;
    return KS_OK;
}

ks_rc ks_store_deletion_done(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 128);
    ks_buf_addf(&sql, "DELETE FROM image_deletions WHERE id = %lld", d->id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_deletion_later(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                              long delay_s, const char *error)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE image_deletions SET attempts = attempts + 1,"
                     " not_before = NOW(3) + INTERVAL %ld SECOND, last_error = LEFT(", delay_s);
    ks_sql_str(&sql, conn, error);
    ks_buf_addf(&sql, ", 255) WHERE id = %lld", d->id);
    return ks_store_run(ctx, conn, &sql, NULL);
}
