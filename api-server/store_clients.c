/* store_clients.c: the api_clients SQL of store_clients.h. */
#include "store_clients.h"

static const ks_col_t client_cols[] = {
    KS_COL(KS_COL_STR, ks_client_row_t, secret_hash),
    KS_COL(KS_COL_STR, ks_client_row_t, role),
    KS_COL(KS_COL_STR, ks_client_row_t, image_server),
    KS_COL(KS_COL_ULLONG, ks_client_row_t, version),
    KS_COL(KS_COL_UINT, ks_client_row_t, failed_logins),
    KS_COL(KS_COL_INT, ks_client_row_t, throttled),
};

ks_rc ks_store_client(ks_api_ctx_t *ctx, MYSQL *conn, const char *name, int free_failures,
                      int throttle_max_s, ks_client_row_t *out)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT secret_hash, role, image_server, version, failed_logins,"
                     " failed_logins >= %d AND last_failed_at > NOW(3) - INTERVAL"
                     " LEAST(failed_logins - %d, %d) SECOND FROM api_clients"
                     " WHERE enabled = 1 AND name = ", free_failures, free_failures - 1,
                throttle_max_s);
    ks_sql_str(&sql, conn, name);
    return ks_store_one(ctx, conn, &sql, KS_COLS(client_cols), out);
}

ks_rc ks_store_client_failed(ks_api_ctx_t *ctx, MYSQL *conn, const char *name)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE api_clients SET failed_logins = failed_logins + 1,"
                     " last_failed_at = NOW(3) WHERE name = ");
    ks_sql_str(&sql, conn, name);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_client_passed(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                             const char *old_hash, const char *fresh_hash)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "UPDATE api_clients SET failed_logins = 0");
    if (fresh_hash) {
        ks_buf_addf(&sql, ", secret_hash = ");
        ks_sql_str(&sql, conn, fresh_hash);
    }
    ks_buf_addf(&sql, " WHERE name = ");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, " AND secret_hash = ");
    ks_sql_str(&sql, conn, old_hash);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_client_set(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                          const char *secret_hash, const char *role, const char *image_server)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO api_clients (name, secret_hash, role, image_server) VALUES (");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, secret_hash);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, role);
    ks_buf_addf(&sql, ", ");
    if (image_server)
        ks_sql_str(&sql, conn, image_server);
    else
        ks_buf_addf(&sql, "NULL");
    ks_buf_addf(&sql, ") ON DUPLICATE KEY UPDATE secret_hash = VALUES(secret_hash),"
                     " role = VALUES(role), image_server = VALUES(image_server), enabled = 1,"
                     " version = version + 1, failed_logins = 0");
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_client_revoke(ks_api_ctx_t *ctx, MYSQL *conn, const char *name)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE api_clients SET enabled = 0, version = version + 1 WHERE name = ");
    ks_sql_str(&sql, conn, name);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) == KS_OK && mysql_affected_rows(conn) == 0)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "no API client \"%s\"", name);
    return rc;
}
