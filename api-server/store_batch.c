/* store_batch.c: the reads of store_batch.h. A batch of up to 100 members
 * costs two statements (avatars, then album photos), not two per member. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_batch.h"

ks_rc ks_store_server_members(struct soap *soap, MYSQL *conn, int server_id, const char *after,
                              int limit, ks_server_member_t **members, int *count, int *more,
                              int *member_count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    long long total;
    ks_rc rc;
    int n = 0;

    *count = *more = 0;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT member_count FROM image_servers WHERE id = %d", server_id);
    if ((rc = ks_store_int(ctx, conn, &sql, &total)) != KS_OK)
        return rc;
    *member_count = (int)total;
    /* One row more than the page says whether another page follows. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT m.user_id, m.version, (SELECT COUNT(*) FROM album_photos a"
                " FORCE INDEX (album_photos_member) WHERE a.member_id = m.id AND a.image_server_id = %d)"
                " FROM members m FORCE INDEX (members_server_user)"
                " WHERE m.image_server_id = %d", server_id, server_id);
    if (after && *after) {
        ks_buf_addf(&sql, " AND m.user_id > ");
        ks_sql_str(&sql, conn, after);
    }
    ks_buf_addf(&sql, " ORDER BY m.user_id LIMIT %d", limit + 1);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    *members = soap_malloc(soap, (size_t)(limit + 1) * sizeof **members);
    if (!*members) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for a page of %d members", limit);
    }
    while ((row = mysql_fetch_row(res))) {
        if (n == limit) {
            *more = 1;
            break;
        }
        snprintf((*members)[n].user_id, sizeof (*members)[n].user_id, "%s", row[0]);
        (*members)[n].version = (unsigned)strtoul(row[1], NULL, 10);
        (*members)[n].album_photos = atoi(row[2]);
        n++;
    }
    mysql_free_result(res);
    *count = n;
    return KS_OK;
}

static ks_batch_member_t *member_named(ks_batch_member_t *members, int count,
                                       const char *user_id)
{
    for (int i = 0; i < count; i++)
        if (strcmp(members[i].user_id, user_id) == 0)
            return &members[i];
    return NULL;
}

static ks_batch_member_t *member_of_id(ks_batch_member_t *members, int count, long long id)
{
    for (int i = 0; i < count; i++)
        if (members[i].id == id)
            return &members[i];
    return NULL;
}

/* A layer of columns row[first..first+6): item_id, layer_no, z_order, x, y,
 * sha256, tint. */
static void layer_from_row(MYSQL_ROW row, int first, ks_layer_row_t *layer)
{
    memset(layer, 0, sizeof *layer);
    layer->item_id = atoi(row[first]);
    layer->layer_no = atoi(row[first + 1]);
    layer->z_order = atoi(row[first + 2]);
    layer->x = atoi(row[first + 3]);
    layer->y = atoi(row[first + 4]);
    snprintf(layer->sha256, sizeof layer->sha256, "%s", row[first + 5]);
    snprintf(layer->tint, sizeof layer->tint, "%s", row[first + 6] ? row[first + 6] : "");
}

/* Each member's version and worn layers: rows are grouped by member, so
 * each member's layers are one run of *all. */
static ks_rc read_avatars(struct soap *soap, MYSQL *conn, ks_batch_member_t *members, int count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_batch_member_t *member = NULL;
    ks_layer_row_t *all;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0;

    ks_buf_init(&sql, 32768);        /* 100 quoted ids of up to 64 characters */
    ks_buf_addf(&sql, "SELECT m.user_id, m.id, m.image_server_id, m.version, l.item_id,"
                " l.layer_no, l.z_order, l.x, l.y, l.sha256, " KS_LAYER_TINT " FROM members m"
                " LEFT JOIN outfit o ON o.member_id = m.id"
                " LEFT JOIN item_layers l ON l.item_id = o.item_id AND");
    ks_store_add_layer_shown(&sql, "SELECT ho.item_id FROM outfit ho WHERE ho.member_id = m.id");
    ks_buf_addf(&sql, " WHERE m.user_id IN (");
    for (int i = 0; i < count; i++) {
        ks_buf_addf(&sql, i ? ", " : "");
        ks_sql_str(&sql, conn, members[i].user_id);
    }
    ks_buf_addf(&sql, ") ORDER BY m.id, l.z_order, l.item_id, l.layer_no");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    all = soap_malloc(soap, (mysql_num_rows(res) + 1) * sizeof *all);
    if (!all) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for a batch's layers");
    }
    while ((row = mysql_fetch_row(res))) {
        if (!member || strcmp(member->user_id, row[0]) != 0) {
            if (!(member = member_named(members, count, row[0])))
                continue;
            member->id = atoll(row[1]);
            member->image_server_id = atoi(row[2]);
            member->version = (unsigned)strtoul(row[3], NULL, 10);
            member->layers = &all[n];
        }
        if (!row[4])                     /* nothing worn, or an item without layers */
            continue;
        layer_from_row(row, 4, &all[n++]);
        member->layer_count++;
    }
    mysql_free_result(res);
    return KS_OK;
}

/* The album photos on server_id of the members found there; rows are
 * grouped by member, then photo. */
static ks_rc read_photos(struct soap *soap, MYSQL *conn, int server_id,
                         ks_batch_member_t *members, int count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_batch_member_t *member = NULL;
    ks_album_request_t *photo = NULL, *photos;
    ks_layer_row_t *layers;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int any = 0, n = 0, p = 0;

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT a.member_id, a.id, a.scene_id, a.scene_sha256, a.width, a.height,"
                " a.quality, p.item_id, p.layer_no, p.z_order, p.x, p.y, p.sha256, p.tint"
                " FROM album_photos a LEFT JOIN album_photo_layers p ON p.photo_id = a.id"
                " WHERE a.image_server_id = %d AND a.member_id IN (0", server_id);
    for (int i = 0; i < count; i++)
        if (members[i].id && members[i].image_server_id == server_id) {
            ks_buf_addf(&sql, ", %lld", members[i].id);
            any = 1;
        }
    ks_buf_addf(&sql, ") ORDER BY a.member_id, a.id, p.seq");
    if (!any) {
        ks_buf_free(&sql);
        return KS_OK;
    }
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    layers = soap_malloc(soap, (mysql_num_rows(res) + 1) * sizeof *layers);
    photos = soap_malloc(soap, (mysql_num_rows(res) + 1) * sizeof *photos);
    if (!layers || !photos) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for a batch's album photos");
    }
    while ((row = mysql_fetch_row(res))) {
        long long member_id = atoll(row[0]);
        unsigned photo_id = (unsigned)strtoul(row[1], NULL, 10);

        if (!member || member->id != member_id) {
            if (!(member = member_of_id(members, count, member_id)))
                continue;
            member->photos = &photos[p];
            photo = NULL;
        }
        if (!photo || photo->photo_id != photo_id) {
            photo = &photos[p++];
            *photo = (ks_album_request_t){.user_id = member->user_id, .photo_id = photo_id,
                                          .scene_id = atoi(row[2]),
                                          .scene_sha256 = soap_strdup(soap, row[3]),
                                          .width = atoi(row[4]), .height = atoi(row[5]),
                                          .quality = atoi(row[6]), .layers = &layers[n]};
            if (!photo->scene_sha256) {
                mysql_free_result(res);
                return ks_err(&ctx->err, KS_NOMEM, "out of memory");
            }
            member->photo_count++;
        }
        if (!row[7])                     /* a photo of the scene alone */
            continue;
        layer_from_row(row, 7, &layers[n++]);
        photo->layer_count++;
    }
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_batch_recipes(struct soap *soap, MYSQL *conn, int server_id,
                             ks_batch_member_t *members, int count)
{
    ks_rc rc = read_avatars(soap, conn, members, count);

    return rc == KS_OK ? read_photos(soap, conn, server_id, members, count) : rc;
}
