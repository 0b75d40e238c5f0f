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
#include "cluster.h"
#include "store_servers.h"

#define KS_STATUS_IMAGE_SERVERS_MAX 1000

static ks_rc read_image_servers(struct soap *soap, MYSQL *conn,
                                struct ks__GetSystemStatusResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t *servers;
    int count;
    ks_rc rc;

    if ((rc = ks_store_image_server_list(soap, conn, KS_STATUS_IMAGE_SERVERS_MAX, &servers,
                                         &count)) != KS_OK)
        return rc;
    if (!(response->imageServer = soap_new_ks__SystemImageServer(soap, count + 1)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < count; i++) {
        struct ks__SystemImageServer *s = &response->imageServer[i];
        if (!KS_CLUSTER_SERVER_ANSWER(soap, s, &servers[i]))
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        s->freeDiskBytes = ks_cluster_long(soap, servers[i].free_disk_bytes);
        s->itemsStored = ks_cluster_long(soap, servers[i].items_stored);
        s->avatarsComposed = ks_cluster_long(soap, servers[i].avatars_composed);
        if ((s->downBySilence = soap_malloc(soap, sizeof(enum xsd__boolean))))
            *s->downBySilence = servers[i].down_by_silence ? true_ : false_;
    }
    response->__sizeimageServer = count;
    return KS_OK;
}

static ks_rc read_counts(struct soap *soap, MYSQL *conn, struct ks__GetSystemStatusResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_store_counts_t counts;
    ks_rc rc;

    if ((rc = ks_store_counts(ctx, conn, &counts)) != KS_OK)
        return rc;
    if (!(response->counts = soap_new_ks__SystemCounts(soap, -1)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    response->counts->members = counts.members;
    response->counts->items = counts.items;
    response->counts->categories = counts.categories;
    return KS_OK;
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
    if (!(response->dbServer = soap_new_ks__SystemDbServer(soap, status->node_count)))
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
