/* store.c: the shared reads and writes of store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "assign.h"
#include "log.h"
#include "store.h"

ks_rc ks_store_run(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result)
{
    ks_rc rc = ks_sql_run(sql, ctx->db, conn, result, &ctx->err);
    ks_buf_free(sql);
    return rc;
}

static ks_rc exec(ks_api_ctx_t *ctx, MYSQL *conn, const char *statement)
{
    return ks_db_query(ctx->db, conn, statement, strlen(statement), NULL, &ctx->err);
}

ks_rc ks_store_begin(ks_api_ctx_t *ctx, MYSQL *conn)
{
    return exec(ctx, conn, "START TRANSACTION");
}

ks_rc ks_store_commit(ks_api_ctx_t *ctx, MYSQL *conn)
{
    return exec(ctx, conn, "COMMIT");
}

void ks_store_rollback(ks_api_ctx_t *ctx, MYSQL *conn)
{
    ks_err_t ignored;
    ks_db_query(ctx->db, conn, "ROLLBACK", 8, NULL, &ignored);
}

ks_rc ks_store_txn(ks_api_ctx_t *ctx, MYSQL *conn, ks_store_txn_fn fn, void *arg)
{
    ks_rc rc;

    for (int attempt = 1;; attempt++) {
        if ((rc = ks_store_begin(ctx, conn)) == KS_OK) {
            if ((rc = fn(ctx, conn, arg)) == KS_OK && (rc = ks_store_commit(ctx, conn)) == KS_OK)
                return KS_OK;
            ks_store_rollback(ctx, conn);
        }
        if (rc != KS_BUSY || attempt >= KS_BUSY_ATTEMPTS)
            return rc;
    }
}

ks_rc ks_store_int(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, long long *value)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;

    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    *value = row && row[0] ? atoll(row[0]) : 0;
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_queue_depths(ks_api_ctx_t *ctx, long long *render_queue, long long *deletions)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT (SELECT COUNT(*) FROM render_queue),"
                     " (SELECT COUNT(*) FROM image_deletions)");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    *render_queue = row && row[0] ? atoll(row[0]) : 0;
    *deletions = row && row[1] ? atoll(row[1]) : 0;
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_member(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id, int for_update,
                      ks_member_t *out)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, image_server_id, version FROM members WHERE user_id = ");
    ks_sql_str(&sql, conn, user_id);
    if (for_update)
        ks_buf_addf(&sql, " FOR UPDATE");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (!row) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" not found", user_id);
    }
    out->id = atoll(row[0]);
    snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
    out->image_server_id = atoi(row[1]);
    out->version = (unsigned)strtoul(row[2], NULL, 10);
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_member_by_id(ks_api_ctx_t *ctx, MYSQL *conn, long long id, int for_update,
                            ks_member_t *out)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, image_server_id, version, user_id FROM members WHERE id = %lld%s",
                id, for_update ? " FOR UPDATE" : "");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (!row) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOTFOUND, "member %lld not found", id);
    }
    out->id = atoll(row[0]);
    out->image_server_id = atoi(row[1]);
    out->version = (unsigned)strtoul(row[2], NULL, 10);
    snprintf(out->user_id, sizeof out->user_id, "%s", row[3]);
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_server_usable(ks_api_ctx_t *ctx, const ks_image_server_t *server)
{
    if (strcmp(server->mode, "down") == 0)
        return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" is marked down",
                      server->name);
    return KS_OK;
}

static void image_server_from_row(MYSQL_ROW row, ks_image_server_t *out)
{
    out->id = atoi(row[0]);
    snprintf(out->name, sizeof out->name, "%s", row[1]);
    snprintf(out->internal_url, sizeof out->internal_url, "%s", row[2]);
    snprintf(out->public_url, sizeof out->public_url, "%s", row[3]);
    snprintf(out->mode, sizeof out->mode, "%s", row[4]);
}

#define IMAGE_SERVER_COLUMNS "SELECT id, name, internal_url, public_url, mode FROM image_servers"

/* Reads the one image server sql (IMAGE_SERVER_COLUMNS ...) selects:
 * KS_NOTFOUND, without a message, when there is none. */
static ks_rc read_server(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, ks_image_server_t *out)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;

    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    if ((row = mysql_fetch_row(res)))
        image_server_from_row(row, out);
    else
        rc = KS_NOTFOUND;
    mysql_free_result(res);
    return rc;
}

ks_rc ks_store_image_server(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_image_server_t *out)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, IMAGE_SERVER_COLUMNS " WHERE id = %d", id);
    rc = read_server(ctx, conn, &sql, out);
    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_ERROR, "image server %d is in no row of "
                                      "image_servers", id)
                             : rc;
}

ks_rc ks_store_image_server_named(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                  ks_image_server_t *out)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, IMAGE_SERVER_COLUMNS " WHERE name = ");
    ks_sql_str(&sql, conn, name);
    rc = read_server(ctx, conn, &sql, out);
    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "image server \"%s\" not found",
                                      name)
                             : rc;
}

/* What the picker needs of each image server, with the row itself. */
#define ASSIGN_COLUMNS "SELECT id, name, internal_url, public_url, mode, weight, member_count" \
                       " FROM image_servers ORDER BY id"

ks_rc ks_store_pick_image_server(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                 const int *exclude, int n_exclude, ks_image_server_t *out)
{
    ks_image_server_t rows[KS_IMAGE_SERVERS_MAX];
    ks_assign_server_t candidates[KS_IMAGE_SERVERS_MAX];
    ks_assign_t *picker = ks_assign_process();
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0, chosen = -1;

    if (!picker)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for the image server picker");
    /* A plain read: no lock, and on the master, so a mode set a moment ago
     * counts from this call on. */
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, ASSIGN_COLUMNS);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)) && n < KS_IMAGE_SERVERS_MAX) {
        image_server_from_row(row, &rows[n]);
        candidates[n] = (ks_assign_server_t){.id = rows[n].id, .weight = atoi(row[5]),
                                             .member_count = atoll(row[6]),
                                             .active = strcmp(rows[n].mode, "active") == 0};
        n++;
    }
    mysql_free_result(res);

    if (name) {
        for (int i = 0; i < n && chosen < 0; i++)
            if (strcmp(rows[i].name, name) == 0)
                chosen = i;
        if (chosen < 0)
            return ks_err(&ctx->err, KS_NOTFOUND, "image server \"%s\" not found", name);
        if (!candidates[chosen].active)
            return ks_err(&ctx->err, KS_CONFLICT, "image server \"%s\" is %s and takes no new"
                          " members", name, rows[chosen].mode);
        for (int i = 0; i < n_exclude; i++)
            if (exclude[i] == rows[chosen].id)
                return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" failed this"
                              " call already", name);
        ks_assign_hold(picker, rows[chosen].id);
    } else if ((chosen = ks_assign_pick(picker, candidates, n, exclude, n_exclude)) < 0) {
        return ks_err(&ctx->err, KS_UNAVAILABLE, n_exclude ? "no other active image server"
                                                           : "no active image server");
    }
    *out = rows[chosen];
    return KS_OK;
}

/* Adds count members to server id's member_count (a statement of its own). */
static ks_rc add_member_count(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE image_servers SET member_count = member_count + %lld WHERE id = %d",
                count, id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

void ks_store_assigned(ks_api_ctx_t *ctx, MYSQL *conn, int server_id, int created)
{
    ks_assign_t *picker = ks_assign_process();
    long long count;
    ks_err_t saved = ctx->err;           /* the call's own error, if any, stays */

    if (!picker)
        return;
    ks_assign_finish(picker, server_id, created);
    if ((count = ks_assign_take_pending(picker, server_id, 0)) == 0)
        return;
    if (add_member_count(ctx, conn, server_id, count) != KS_OK) {
        ks_log_warn("adding %lld to image server %d's member_count failed (the renderer tries"
                    " again): %s", count, server_id, ctx->err.msg);
        ks_assign_give_back(picker, server_id, count);
    }
    ctx->err = saved;
}

ks_rc ks_store_member_counts_flush(ks_api_ctx_t *ctx, MYSQL *conn)
{
    ks_assign_t *picker = ks_assign_process();
    int ids[KS_IMAGE_SERVERS_MAX];
    long long counts[KS_IMAGE_SERVERS_MAX];
    ks_rc first = KS_OK;
    int n;

    if (!picker)
        return KS_OK;
    n = ks_assign_take_all_pending(picker, ids, counts, KS_IMAGE_SERVERS_MAX);
    for (int i = 0; i < n; i++) {
        ks_rc rc = add_member_count(ctx, conn, ids[i], counts[i]);
        if (rc != KS_OK) {
            ks_assign_give_back(picker, ids[i], counts[i]);
            if (first == KS_OK)
                first = rc;               /* its message stays in ctx->err */
        }
    }
    return first;
}

ks_rc ks_store_active_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out,
                                    int max, int *count)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *count = 0;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, IMAGE_SERVER_COLUMNS " WHERE mode = 'active' ORDER BY id");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)) && *count < max)
        image_server_from_row(row, &out[(*count)++]);
    mysql_free_result(res);
    return KS_OK;
}

/* Reads the layer rows sql selects (item_id, layer_no, z_order, x, y, width,
 * height, sha256) into the arena. */
static ks_rc read_layers(struct soap *soap, MYSQL *conn, ks_buf_t *sql, ks_layer_row_t **layers,
                         int *count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;
    int n;

    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    *count = 0;
    *layers = soap_malloc(soap, (mysql_num_rows(res) + 1) * sizeof **layers);
    if (!*layers) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for %llu layers",
                      (unsigned long long)mysql_num_rows(res));
    }
    for (n = 0; (row = mysql_fetch_row(res)); n++) {
        ks_layer_row_t *l = &(*layers)[n];
        l->item_id = atoi(row[0]);
        l->layer_no = atoi(row[1]);
        l->z_order = atoi(row[2]);
        l->x = atoi(row[3]);
        l->y = atoi(row[4]);
        l->width = atoi(row[5]);
        l->height = atoi(row[6]);
        snprintf(l->sha256, sizeof l->sha256, "%s", row[7]);
    }
    *count = n;
    mysql_free_result(res);
    return KS_OK;
}

#define LAYER_COLUMNS "SELECT l.item_id, l.layer_no, l.z_order, l.x, l.y, l.width, l.height, l.sha256"

ks_rc ks_store_worn_layers(struct soap *soap, MYSQL *conn, long long member_id,
                           ks_layer_row_t **layers, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, LAYER_COLUMNS " FROM outfit o JOIN item_layers l ON l.item_id = o.item_id"
                " WHERE o.member_id = %lld ORDER BY l.z_order, l.item_id, l.layer_no",
                member_id);
    return read_layers(soap, conn, &sql, layers, count);
}

ks_rc ks_store_item_layers(struct soap *soap, MYSQL *conn, const int *ids, int count,
                           ks_layer_row_t **layers, int *layer_count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, LAYER_COLUMNS " FROM item_layers l WHERE l.item_id IN (0");
    for (int i = 0; i < count; i++)
        ks_buf_addf(&sql, ", %d", ids[i]);
    ks_buf_addf(&sql, ") ORDER BY l.z_order, l.item_id, l.layer_no");
    return read_layers(soap, conn, &sql, layers, layer_count);
}

/* The member's version and the items it wears (ascending), in one statement:
 * both come from the same snapshot, even on a replica applying a change. */
static ks_rc read_version_and_outfit(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                                     unsigned *version, int **ids, int *count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0, rows;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT m.version, o.item_id FROM members m LEFT JOIN outfit o"
                " ON o.member_id = m.id WHERE m.id = %lld ORDER BY o.item_id", member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    rows = (int)mysql_num_rows(res);
    *ids = soap_malloc(soap, (size_t)(rows + 1) * sizeof **ids);
    if (!*ids) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res))) {
        *version = (unsigned)strtoul(row[0], NULL, 10);
        if (row[1])
            (*ids)[n++] = atoi(row[1]);
    }
    *count = n;
    mysql_free_result(res);
    return rows ? KS_OK : ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" not found",
                                 member->user_id);
}

ks_rc ks_store_layer_png(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int layer_no,
                         const char *sha256, unsigned char **png, size_t *size, int *archived)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned long *lengths;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT png, 0 FROM item_layers WHERE item_id = %d AND layer_no = %d",
                item_id, layer_no);
    if (sha256) {
        ks_buf_addf(&sql, " AND sha256 = ");
        ks_sql_str(&sql, conn, sha256);
        ks_buf_addf(&sql, " UNION ALL SELECT png, 1 FROM item_layer_archive WHERE item_id = %d"
                    " AND layer_no = %d AND sha256 = ", item_id, layer_no);
        ks_sql_str(&sql, conn, sha256);
        ks_buf_addf(&sql, " LIMIT 1");
    }
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (!row) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOTFOUND, "layer %d/%d%s%s not found", item_id, layer_no,
                      sha256 ? " at sha256 " : "", sha256 ? sha256 : "");
    }
    if (archived)
        *archived = atoi(row[1]);
    lengths = mysql_fetch_lengths(res);
    *png = malloc(lengths[0] ? lengths[0] : 1);
    if (!*png) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for layer %d/%d", item_id, layer_no);
    }
    memcpy(*png, row[0], lengths[0]);
    *size = lengths[0];
    mysql_free_result(res);
    return KS_OK;
}

char *ks_store_public_url(struct soap *soap, const ks_image_server_t *server, const char *path)
{
    size_t base_len = strlen(server->public_url);
    char *url;

    while (base_len > 0 && server->public_url[base_len - 1] == '/')
        base_len--;
    url = soap_malloc(soap, base_len + strlen(path) + 2);
    if (url)
        sprintf(url, "%.*s/%s", (int)base_len, server->public_url, path);
    return url;
}

ks_rc ks_store_avatar(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                      const ks_image_server_t *server, struct ks__Avatar **avatar)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    struct ks__Avatar *a = soap_new_ks__Avatar(soap, -1);
    char path[256];

    unsigned version = member->version;
    ks_rc rc;

    *avatar = a;
    if (!a)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    /* The version read with the outfit wins: it is never older than member's. */
    if ((rc = read_version_and_outfit(soap, conn, member, &version, &a->wornItemId,
                                      &a->__sizewornItemId)) != KS_OK)
        return rc;
    a->userId = soap_strdup(soap, member->user_id);
    a->version = (int)version;
    a->imageServer = soap_strdup(soap, server->name);
    ks_avatar_path(member->user_id, version, path, sizeof path);
    a->url = ks_store_public_url(soap, server, path);
    ks_avatar_thumb_path(member->user_id, version, path, sizeof path);
    a->thumbUrl = ks_store_public_url(soap, server, path);
    if (!a->userId || !a->imageServer || !a->url || !a->thumbUrl)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    return KS_OK;
}

ks_rc ks_store_member_fresh(ks_api_ctx_t *ctx, MYSQL **conn, const char *user_id,
                            ks_member_t *out)
{
    ks_rc rc;

    if ((rc = ks_db_reader(ctx->db, conn, &ctx->err)) != KS_OK)
        return rc;
    rc = ks_store_member(ctx, *conn, user_id, 0, out);
    if (rc == KS_NOTFOUND && (rc = ks_db_master(ctx->db, conn, &ctx->err)) == KS_OK)
        rc = ks_store_member(ctx, *conn, user_id, 0, out);
    return rc;
}

ks_rc ks_store_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out, int *count)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *count = 0;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, IMAGE_SERVER_COLUMNS " ORDER BY id");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)) && *count < KS_IMAGE_SERVERS_MAX)
        image_server_from_row(row, &out[(*count)++]);
    mysql_free_result(res);
    return KS_OK;
}

const ks_image_server_t *ks_store_find_server(const ks_image_server_t *servers, int count, int id)
{
    for (int i = 0; i < count; i++)
        if (servers[i].id == id)
            return &servers[i];
    return NULL;
}
