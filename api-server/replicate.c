/* replicate.c: the retry of item layer pushes that failed.
 *
 * RegisterItem and UpdateItem push every layer to every active image server
 * and record each outcome in item_replicas (op_catalog.c, store_servers.c). A failed row is
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
#include "store_servers.h"

#define KS_REPLICA_BACKOFF_MAX 10

/* Pushes one layer again and records the outcome. */
static void retry_one(ks_api_ctx_t *ctx, MYSQL *conn, const ks_replica_row_t *row)
{
    ks_image_server_t server;
    unsigned char *png = NULL;
    size_t size = 0;
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
    /* a record that fails only means one more try */
    ks_store_replica_retried(ctx, conn, row, rc == KS_OK ? NULL : ctx->err.msg);
}

ks_rc ks_replicas_retry(ks_api_ctx_t *ctx, int *retried)
{
    ks_replica_row_t *rows;
    MYSQL *conn;
    int count = 0, batch = ctx->conf->replica_retry_batch;
    ks_rc rc;

    *retried = 0;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    if (!(rows = calloc((size_t)batch, sizeof *rows)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    rc = ks_store_replicas_due(ctx, conn, ctx->conf->replica_retry_s, KS_REPLICA_BACKOFF_MAX,
                               rows, batch, &count);
    for (int i = 0; rc == KS_OK && i < count; i++)
        retry_one(ctx, conn, &rows[i]);
    free(rows);
    *retried = count;
    return rc;
}
