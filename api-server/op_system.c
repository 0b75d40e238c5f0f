/* op_system.c: GetSystemStatus, the health of the platform for staff (admin).
 *
 * The database pool part is this API server's own view of its pool: each
 * API server checks the servers itself and counts the reads it sent them.
 * Image servers and counts are read from the database. When the database
 * cannot be read the answer still carries the pool, with databaseError
 * saying why the rest is missing: a status page is most needed when
 * something is broken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

#define KS_STATUS_IMAGE_SERVERS_MAX 1000

static LONG64 to_long(const char *s)
{
    return s ? (LONG64)strtoll(s, NULL, 10) : 0;
}

static ks_rc read_image_servers(struct soap *soap, MYSQL *conn,
                                struct ks__GetSystemStatusResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, name, internal_url, public_url, weight, mode, member_count,"
                     " UNIX_TIMESTAMP(last_heartbeat), free_disk_bytes, items_stored, avatars_composed,"
                     " down_by_silence FROM image_servers"
                     " ORDER BY id LIMIT %d", KS_STATUS_IMAGE_SERVERS_MAX);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    response->imageServer = soap_new_ks__SystemImageServer(soap, (int)mysql_num_rows(res) + 1);
    if (!response->imageServer) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res))) {
        struct ks__SystemImageServer *s = &response->imageServer[n++];
        s->id = atoi(row[0]);
        s->name = soap_strdup(soap, row[1]);
        s->internalUrl = soap_strdup(soap, row[2]);
        s->publicUrl = soap_strdup(soap, row[3]);
        s->weight = atoi(row[4]);
        s->mode = soap_strdup(soap, row[5]);
        s->memberCount = atoi(row[6]);
        if (row[7] && (s->lastHeartbeat = soap_malloc(soap, sizeof(time_t))))
            *s->lastHeartbeat = (time_t)to_long(row[7]);
        if (row[8] && (s->freeDiskBytes = soap_malloc(soap, sizeof(LONG64))))
            *s->freeDiskBytes = to_long(row[8]);
        if (row[9] && (s->itemsStored = soap_malloc(soap, sizeof(LONG64))))
            *s->itemsStored = to_long(row[9]);
        if (row[10] && (s->avatarsComposed = soap_malloc(soap, sizeof(LONG64))))
            *s->avatarsComposed = to_long(row[10]);
        if ((s->downBySilence = soap_malloc(soap, sizeof(enum xsd__boolean))))
            *s->downBySilence = atoi(row[11]) ? true_ : false_;
    }
    response->__sizeimageServer = n;
    mysql_free_result(res);
    return KS_OK;
}

static ks_rc read_counts(struct soap *soap, MYSQL *conn, struct ks__GetSystemStatusResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    /* Members: the image servers' member_count (each assignment, import,
     * move and deletion keeps it), not COUNT(*) of members, a full scan of
     * the largest table (tests/explain). */
    ks_buf_addf(&sql, "SELECT (SELECT COALESCE(SUM(member_count), 0) FROM image_servers),"
                     " (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM categories)");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    response->counts = soap_new_ks__SystemCounts(soap, -1);
    if (row && response->counts) {
        response->counts->members = to_long(row[0]);
        response->counts->items = to_long(row[1]);
        response->counts->categories = to_long(row[2]);
    }
    mysql_free_result(res);
    return response->counts ? KS_OK : ks_err(&ctx->err, KS_NOMEM, "out of memory");
}

/* The pool's servers, as the answer lists them. */
static ks_rc pool_servers(struct soap *soap, struct ks__GetSystemStatusResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_db_pool_status_t *status = soap_malloc(soap, sizeof *status);

    if (!status)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    ks_db_pool_status(ks_db_session_pool(ctx->db), status);
    response->poolGeneration = (int)status->generation;
    response->maxLagSeconds = status->max_lag_s;
    response->dbServer = soap_new_ks__SystemDbServer(soap, status->node_count);
    if (!response->dbServer)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < status->node_count; i++) {
        const ks_db_node_status_t *node = &status->nodes[i];
        struct ks__SystemDbServer *s = &response->dbServer[i];
        char address[160];
        snprintf(address, sizeof address, "%s:%d", node->host, node->port);
        s->role = node->is_master ? "master" : "replica";
        s->address = soap_strdup(soap, address);
        s->weight = node->weight;
        s->state = (char *)ks_db_state_name(node->state);
        if (node->lag_s >= 0 && (s->lagSeconds = soap_malloc(soap, sizeof(int))))
            *s->lagSeconds = node->lag_s;
        s->readsServed = (LONG64)node->reads;
        if (node->reason[0])
            s->reason = soap_strdup(soap, node->reason);
    }
    response->__sizedbServer = status->node_count;
    return KS_OK;
}

int ks__GetSystemStatus(struct soap *soap, struct ks__GetSystemStatusResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    /* The counts from a replica; the image servers from the master, so an
     * admin sees at once what a mode change or a heartbeat just wrote (as
     * ListImageServers does), and from the replica when the master is down. */
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) == KS_OK &&
        (rc = read_counts(soap, conn, response)) == KS_OK &&
        (rc = ks_db_reader_fresh(ctx->db, &conn, &ctx->err)) == KS_OK)
        rc = read_image_servers(soap, conn, response);
    if (rc == KS_DBDOWN) {
        response->__sizeimageServer = 0;
        response->counts = NULL;
        response->databaseError = soap_strdup(soap, ctx->err.msg);
    } else if (rc != KS_OK) {
        return ks_fault_rc(soap, rc, &ctx->err);
    }
    /* Last, so the pool's state includes what this call found. */
    if ((rc = pool_servers(soap, response)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    return SOAP_OK;
}
