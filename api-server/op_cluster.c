/* op_cluster.c: the image servers, for staff: ListImageServers,
 * SetImageServerMode.
 *
 * A server's mode decides what the API does with it: `active` takes new
 * members, `draining` keeps composing for its members but takes no new ones,
 * `down` is not called at all (its members' changes fail with
 * ImageServerUnavailable until it is back or they are moved). Both read the
 * master: staff expect to see the change they just made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "store.h"

#define SERVER_COLUMNS "SELECT id, name, internal_url, public_url, weight, mode, member_count," \
                       " UNIX_TIMESTAMP(last_heartbeat) FROM image_servers"

static void server_from_row(struct soap *soap, MYSQL_ROW row, struct ks__ImageServer *s)
{
    s->id = atoi(row[0]);
    s->name = soap_strdup(soap, row[1]);
    s->internalUrl = soap_strdup(soap, row[2]);
    s->publicUrl = soap_strdup(soap, row[3]);
    s->weight = atoi(row[4]);
    s->mode = soap_strdup(soap, row[5]);
    s->memberCount = atoi(row[6]);
    if (row[7] && (s->lastHeartbeat = soap_malloc(soap, sizeof(time_t))))
        *s->lastHeartbeat = (time_t)atoll(row[7]);
}

int ks__ListImageServers(struct soap *soap, struct ks__ListImageServersResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, SERVER_COLUMNS " ORDER BY id");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->server = soap_new_ks__ImageServer(soap, (int)mysql_num_rows(res) + 1);
    if (!response->server) {
        mysql_free_result(res);
        return soap->error = SOAP_EOM;
    }
    while ((row = mysql_fetch_row(res)))
        server_from_row(soap, row, &response->server[response->__sizeserver++]);
    mysql_free_result(res);
    return SOAP_OK;
}

int ks__SetImageServerMode(struct soap *soap, char *name, char *mode,
                           struct ks__SetImageServerModeResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64) ||
        ks_check_text(soap, "mode", mode, 16))
        return soap->error;
    if (strcmp(mode, "active") && strcmp(mode, "draining") && strcmp(mode, "down"))
        return ks_fault(soap, "InvalidArgument", "mode must be active, draining or down");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 512);
    /* The admin's word: a heartbeat no longer revives a server set down. */
    ks_buf_addf(&sql, "UPDATE image_servers SET mode = '%s', down_by_silence = 0 WHERE name = ",
                mode);
    ks_sql_str(&sql, conn, name);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, SERVER_COLUMNS " WHERE name = ");
    ks_sql_str(&sql, conn, name);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    row = mysql_fetch_row(res);
    if (row && (response->server = soap_new_ks__ImageServer(soap, -1)))
        server_from_row(soap, row, response->server);
    mysql_free_result(res);
    if (!row)
        return ks_fault(soap, "NotFound", "image server \"%s\" not found", name);
    if (!response->server)
        return soap->error = SOAP_EOM;
    ks_log_info("image server \"%s\" set %s", name, mode);
    return SOAP_OK;
}
