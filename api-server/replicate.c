/* replicate.c: the retry of item layer pushes that failed.
 *
 * RegisterItem and UpdateItem push every layer to every active image server
 * and record each outcome in item_replicas (op_catalog.c). A failed row is
 * pushed again here, from the database's canonical copy at its current
 * sha256, once replica_retry seconds times its attempts (at most ten times
 * as long) have passed since the last try, and only while its server is
 * active. The background renderer calls ks_replicas_retry between rounds;
 * each call handles at most replica_retry_batch rows, oldest first, so one
 * round stays short. Renderers of several API servers may pick the same row
 * at once: the second push is harmless (the image server's PUT is atomic
 * and idempotent), so rows are not locked across the HTTP calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image_client.h"
#include "log.h"

#define KS_REPLICA_BACKOFF_MAX 10

typedef struct {
    int server_id, item_id, layer_no;
    unsigned attempts;
    char sha256[65];
} ks_replica_row_t;

/* Pushes one layer again and records the outcome. */
static void retry_one(ks_api_ctx_t *ctx, MYSQL *conn, const ks_replica_row_t *row)
{
    ks_image_server_t server;
    unsigned char *png = NULL;
    size_t size = 0;
    ks_err_t ignored;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_store_image_server(ctx, conn, row->server_id, &server)) == KS_OK &&
        (rc = ks_store_layer_png(ctx, conn, row->item_id, row->layer_no, NULL, &png, &size,
                                 NULL)) == KS_OK)
        rc = ks_image_put_layer(ctx, &server, row->item_id, row->layer_no, png, size,
                                row->sha256, 0);
    free(png);
    if (rc == KS_OK)
        ks_log_info("replicas: layer %d/%d pushed to image server %d at attempt %u",
                    row->item_id, row->layer_no, row->server_id, row->attempts + 1);
    else
        ks_log_warn("replicas: layer %d/%d to image server %d: attempt %u failed: %s",
                    row->item_id, row->layer_no, row->server_id, row->attempts + 1,
                    ctx->err.msg);
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "UPDATE item_replicas SET sha256 = '%s', state = '%s',"
                     " attempts = attempts + 1, last_error = LEFT(", row->sha256,
                rc == KS_OK ? "ok" : "failed");
    ks_sql_str(&sql, conn, rc == KS_OK ? NULL : ctx->err.msg);
    ks_buf_addf(&sql, ", 255) WHERE image_server_id = %d AND item_id = %d AND layer_no = %d",
                row->server_id, row->item_id, row->layer_no);
    ks_sql_run(&sql, ctx->db, conn, NULL, &ignored);
    ks_buf_free(&sql);
}

ks_rc ks_replicas_retry(ks_api_ctx_t *ctx, int *retried)
{
    ks_replica_row_t *rows;
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    int count = 0, batch = ctx->conf->replica_retry_batch;
    ks_rc rc;

    *retried = 0;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT r.image_server_id, r.item_id, r.layer_no, r.attempts, l.sha256"
                     " FROM item_replicas r"
                     " JOIN item_layers l ON l.item_id = r.item_id AND l.layer_no = r.layer_no"
                     " JOIN image_servers s ON s.id = r.image_server_id AND s.mode = 'active'"
                     " WHERE r.state = 'failed' AND r.updated_at <= NOW(3) - INTERVAL"
                     " (%d * LEAST(r.attempts, %d)) SECOND"
                     " ORDER BY r.updated_at LIMIT %d", ctx->conf->replica_retry_s,
                KS_REPLICA_BACKOFF_MAX, batch);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    rows = calloc((size_t)batch, sizeof *rows);
    if (!rows) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res)) && count < batch) {
        ks_replica_row_t *r = &rows[count++];
        r->server_id = atoi(row[0]);
        r->item_id = atoi(row[1]);
        r->layer_no = atoi(row[2]);
        r->attempts = (unsigned)strtoul(row[3], NULL, 10);
        snprintf(r->sha256, sizeof r->sha256, "%s", row[4]);
    }
    mysql_free_result(res);
    for (int i = 0; i < count; i++)
        retry_one(ctx, conn, &rows[i]);
    free(rows);
    *retried = count;
    return KS_OK;
}
