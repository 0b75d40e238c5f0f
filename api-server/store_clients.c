/* store_clients.c: the api_clients SQL of store_clients.h. */
#include "store_clients.h"

static const ks_col_t client_cols[] = KS_COLUMNS(ks_client_row_t, secret_hash, role, image_server,
    version, failed_logins, throttled);

ks_rc ks_store_client(ks_api_ctx_t *ctx, MYSQL *conn, const char *name, int free_failures,
                      int throttle_max_s, ks_client_row_t *out)
{
    return ks_store_onef(ctx, conn, KS_COLS(client_cols), out,
                         "SELECT secret_hash, role, image_server, version, failed_logins,"
                         " failed_logins >= %d AND last_failed_at > NOW(3) - INTERVAL"
                         " LEAST(failed_logins - %d, %d) SECOND FROM api_clients"
                         " WHERE enabled = 1 AND name = %s", free_failures, free_failures - 1,
                         throttle_max_s, name);
}

ks_rc ks_store_client_failed(ks_api_ctx_t *ctx, MYSQL *conn, const char *name)
{
    return ks_store_execf(ctx, conn, "UPDATE api_clients SET failed_logins = failed_logins + 1,"
                          " last_failed_at = NOW(3) WHERE name = %s", name);
}

ks_rc ks_store_client_passed(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                             const char *old_hash, const char *fresh_hash)
{
    return ks_store_execf(ctx, conn, "UPDATE api_clients SET failed_logins = 0,"
                          " secret_hash = COALESCE(%s, secret_hash) WHERE name = %s"
                          " AND secret_hash = %s", fresh_hash, name, old_hash);
}

ks_rc ks_store_client_set(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                          const char *secret_hash, const char *role, const char *image_server)
{
    return ks_store_execf(ctx, conn, "INSERT INTO api_clients (name, secret_hash, role,"
                          " image_server) VALUES (%s, %s, %s, %s) ON DUPLICATE KEY UPDATE"
                          " secret_hash = VALUES(secret_hash), role = VALUES(role),"
                          " image_server = VALUES(image_server), enabled = 1,"
                          " version = version + 1, failed_logins = 0",
                          name, secret_hash, role, image_server);
}

ks_rc ks_store_client_revoke(ks_api_ctx_t *ctx, MYSQL *conn, const char *name)
{
    ks_rc rc = ks_store_execf(ctx, conn, "UPDATE api_clients SET enabled = 0,"
                              " version = version + 1 WHERE name = %s", name);

    if (rc == KS_OK && mysql_affected_rows(conn) == 0)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "no API client \"%s\"", name);
    return rc;
}
