/* op_node.c: the calls of the image servers themselves (role node):
 * RegisterImageServer and Heartbeat, and the catalog they must hold:
 * GetCatalogManifest and GetItemLayer.
 *
 * An image server registers at start and then beats every few seconds; the
 * background renderer of every API server marks an active server whose
 * heartbeats stopped for image_server_timeout seconds down
 * (ks_node_mark_silent_down) and flags it down_by_silence, so that its next
 * heartbeat makes it active again. A mode an admin set (SetImageServerMode)
 * is never changed here: draining stays draining, down stays down.
 *
 * The catalog is read from the database, the canonical copy: a server that
 * lost or spoiled a layer repairs it from there, never from a peer. All four
 * read and write the master: a node catching up must not miss a layer
 * registered a moment ago on a lagging replica.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "store.h"

#define KS_MANIFEST_LIMIT_MAX 1000
#define KS_MANIFEST_LIMIT_DEFAULT 500
#define KS_NODE_WEIGHT_MAX 1000

/* An http:// or https:// URL of at most 255 bytes without spaces or
 * control characters. */
static int check_url(struct soap *soap, const char *field, const char *value)
{
    if (!value || !*value)
        return ks_fault(soap, "InvalidArgument", "%s is required", field);
    if (strlen(value) > 255)
        return ks_fault(soap, "InvalidArgument", "%s is longer than 255 bytes", field);
    if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
        return ks_fault(soap, "InvalidArgument", "%s must start with http:// or https://", field);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return ks_fault(soap, "InvalidArgument", "%s holds a space or control character",
                            field);
    return SOAP_OK;
}

int ks__RegisterImageServer(struct soap *soap, char *name, char *internalUrl, char *publicUrl,
                            int weight, struct ks__RegisterImageServerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE) || ks_check_member_id(soap, "name", name) ||
        check_url(soap, "internalUrl", internalUrl) || check_url(soap, "publicUrl", publicUrl))
        return soap->error;
    if (weight < 1 || weight > KS_NODE_WEIGHT_MAX)
        return ks_fault(soap, "InvalidArgument", "weight must be 1..%d", KS_NODE_WEIGHT_MAX);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO image_servers (name, internal_url, public_url, weight,"
                     " last_heartbeat) VALUES (");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, internalUrl);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, publicUrl);
    /* mode before down_by_silence: MariaDB assigns left to right. */
    ks_buf_addf(&sql, ", %d, NOW(3)) ON DUPLICATE KEY UPDATE internal_url = VALUES(internal_url),"
                     " public_url = VALUES(public_url), weight = VALUES(weight),"
                     " last_heartbeat = NOW(3),"
                     " mode = IF(down_by_silence, 'active', mode), down_by_silence = 0", weight);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, mode, member_count, UNIX_TIMESTAMP(last_heartbeat)"
                     " FROM image_servers WHERE name = ");
    ks_sql_str(&sql, conn, name);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    row = mysql_fetch_row(res);
    if (row && (response->server = soap_new_ks__ImageServer(soap, -1))) {
        struct ks__ImageServer *s = response->server;
        s->id = atoi(row[0]);
        s->name = name;
        s->internalUrl = internalUrl;
        s->publicUrl = publicUrl;
        s->weight = weight;
        s->mode = soap_strdup(soap, row[1]);
        s->memberCount = atoi(row[2]);
        if (row[3] && (s->lastHeartbeat = soap_malloc(soap, sizeof(time_t))))
            *s->lastHeartbeat = (time_t)atoll(row[3]);
    }
    mysql_free_result(res);
    if (!row)
        return ks_fault(soap, "Internal", "image server \"%s\" vanished while registering", name);
    if (!response->server)
        return soap->error = SOAP_EOM;
    ks_log_info("image server \"%s\" registered (%s, %s, weight %d): %s", name, internalUrl,
                publicUrl, weight, response->server->mode);
    return SOAP_OK;
}

int ks__Heartbeat(struct soap *soap, char *name, LONG64 itemsStored, LONG64 avatarsComposed,
                  LONG64 storeFreeBytes, struct ks__HeartbeatResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int revived;

    if (ks_auth_require(soap, KS_ROLE_NODE) || ks_check_member_id(soap, "name", name))
        return soap->error;
    if (itemsStored < 0 || avatarsComposed < 0 || storeFreeBytes < 0)
        return ks_fault(soap, "InvalidArgument",
                        "itemsStored, avatarsComposed and storeFreeBytes must not be negative");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_begin(ctx, conn)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT down_by_silence FROM image_servers WHERE name = ");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, " FOR UPDATE");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        goto fail;
    row = mysql_fetch_row(res);
    revived = row && row[0] && atoi(row[0]);
    mysql_free_result(res);
    if (!row) {
        ks_store_rollback(ctx, conn);
        return ks_fault(soap, "NotFound", "image server \"%s\" is not registered", name);
    }
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE image_servers SET last_heartbeat = NOW(3), items_stored = %lld,"
                     " avatars_composed = %lld, free_disk_bytes = %lld,"
                     " mode = IF(down_by_silence, 'active', mode), down_by_silence = 0"
                     " WHERE name = ", (long long)itemsStored, (long long)avatarsComposed,
                (long long)storeFreeBytes);
    ks_sql_str(&sql, conn, name);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        goto fail;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT mode FROM image_servers WHERE name = ");
    ks_sql_str(&sql, conn, name);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        goto fail;
    row = mysql_fetch_row(res);
    response->mode = soap_strdup(soap, row && row[0] ? row[0] : "down");
    mysql_free_result(res);
    if ((rc = ks_store_commit(ctx, conn)) != KS_OK)
        goto fail;
    if (revived)
        ks_log_info("image server \"%s\" beats again: active", name);
    return SOAP_OK;
fail:
    ks_store_rollback(ctx, conn);
    return ks_fault_rc(soap, rc, &ctx->err);
}

int ks__GetCatalogManifest(struct soap *soap, int *offset, int *limit,
                           struct ks__GetCatalogManifestResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int page_offset = offset ? *offset : 0;
    int page_limit = limit ? *limit : KS_MANIFEST_LIMIT_DEFAULT;
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE))
        return soap->error;
    if (page_offset < 0 || page_offset > KS_PAGE_OFFSET_MAX)
        return ks_fault(soap, "InvalidArgument", "offset must be 0..%d", KS_PAGE_OFFSET_MAX);
    if (page_limit < 1 || page_limit > KS_MANIFEST_LIMIT_MAX)
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_MANIFEST_LIMIT_MAX);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 128);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM item_layers");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    row = mysql_fetch_row(res);
    response->total = row && row[0] ? (LONG64)strtoll(row[0], NULL, 10) : 0;
    mysql_free_result(res);
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT item_id, layer_no, sha256 FROM item_layers"
                     " ORDER BY item_id, layer_no LIMIT %d OFFSET %d", page_limit, page_offset);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->layer = soap_new_ks__ManifestLayer(soap, (int)mysql_num_rows(res) + 1);
    if (!response->layer) {
        mysql_free_result(res);
        return soap->error = SOAP_EOM;
    }
    while ((row = mysql_fetch_row(res))) {
        struct ks__ManifestLayer *l = &response->layer[response->__sizelayer++];
        l->itemId = atoi(row[0]);
        l->layerNo = atoi(row[1]);
        l->sha256 = soap_strdup(soap, row[2]);
    }
    mysql_free_result(res);
    return SOAP_OK;
}

int ks__GetItemLayer(struct soap *soap, int itemId, int layerNo,
                     struct ks__GetItemLayerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned long *lengths;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE))
        return soap->error;
    if (itemId < 1)
        return ks_fault(soap, "InvalidArgument", "itemId must be positive");
    if (layerNo < 0 || layerNo > 255)
        return ks_fault(soap, "InvalidArgument", "layerNo must be 0..255");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT sha256, png FROM item_layers WHERE item_id = %d AND layer_no = %d",
                itemId, layerNo);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    row = mysql_fetch_row(res);
    if (!row) {
        mysql_free_result(res);
        return ks_fault(soap, "NotFound", "layer %d/%d not found", itemId, layerNo);
    }
    lengths = mysql_fetch_lengths(res);
    response->itemId = itemId;
    response->layerNo = layerNo;
    response->sha256 = soap_strdup(soap, row[0]);
    response->png.__ptr = soap_malloc(soap, lengths[1] ? lengths[1] : 1);
    if (response->png.__ptr) {
        memcpy(response->png.__ptr, row[1], lengths[1]);
        response->png.__size = (int)lengths[1];
    }
    mysql_free_result(res);
    if (!response->sha256 || !response->png.__ptr)
        return soap->error = SOAP_EOM;
    return SOAP_OK;
}

ks_rc ks_node_mark_silent_down(ks_api_ctx_t *ctx)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ctx->conf->image_server_timeout_s <= 0)
        return KS_OK;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    /* Only servers that ever beat: one configured by an image_server line
     * and never heard of is not judged by heartbeats. The SELECT names them
     * for the log; the UPDATE repeats the condition, so a beat in between
     * keeps its server active. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT name FROM image_servers WHERE mode = 'active' AND last_heartbeat"
                     " < NOW(3) - INTERVAL %d SECOND LIMIT 100", ctx->conf->image_server_timeout_s);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)))
        ks_log_warn("image server \"%s\": no heartbeat for %d s: marking it down", row[0],
                    ctx->conf->image_server_timeout_s);
    mysql_free_result(res);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE image_servers SET mode = 'down', down_by_silence = 1"
                     " WHERE mode = 'active' AND last_heartbeat < NOW(3) - INTERVAL %d SECOND",
                ctx->conf->image_server_timeout_s);
    return ks_store_run(ctx, conn, &sql, NULL);
}
