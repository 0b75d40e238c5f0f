/* op_avatar.c: the member operations: CreateAvatar, GetAvatar, GrantItem,
 * ChangeOutfit.
 *
 * A change to what a member wears runs in one master transaction that locks
 * the member's row, bumps its version and has the member's image server
 * compose the new version before it commits: when the image server fails,
 * the transaction rolls back and nothing changed. An image server that
 * misses a layer (a push that failed earlier) gets it from the database and
 * the compose is tried once more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "avatar_read.h"
#include "image_client.h"
#include "log.h"
#include "store.h"

/* Composes member's avatar at member->version on server from what the open
 * transaction says the member wears. */
static ks_rc render(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                    const ks_image_server_t *server)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    const ks_api_conf_t *conf = ctx->conf;
    ks_layer_row_t *layers;
    int count;
    ks_rc rc;

    if ((rc = ks_store_worn_layers(soap, conn, member->id, &layers, &count)) != KS_OK)
        return rc;
    rc = ks_image_compose(ctx, server, member->user_id, member->version, conf->canvas_width,
                          conf->canvas_height, layers, count);
    if (rc != KS_CONFLICT)
        return rc;
    ks_log_info("image server \"%s\" misses layers of member \"%s\": pushing them again",
                server->name, member->user_id);
    for (int i = 0; i < count; i++) {
        unsigned char *png;
        size_t size;
        if ((rc = ks_store_layer_png(ctx, conn, layers[i].item_id, layers[i].layer_no, &png,
                                     &size)) != KS_OK)
            return rc;
        rc = ks_image_put_layer(ctx, server, layers[i].item_id, layers[i].layer_no, png, size,
                                layers[i].sha256);
        free(png);
        if (rc != KS_OK)
            return rc;
    }
    rc = ks_image_compose(ctx, server, member->user_id, member->version, conf->canvas_width,
                          conf->canvas_height, layers, count);
    return rc == KS_CONFLICT ? ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" still "
                                      "misses layers after a repair: %s", server->name,
                                      ctx->err.msg)
                             : rc;
}

/* ---- CreateAvatar ---------------------------------------------------------------- */

static ks_rc create_member(struct soap *soap, MYSQL *conn, const char *user_id,
                           const char *server_name, ks_member_t *member, ks_image_server_t *server)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_store_begin(ctx, conn)) != KS_OK)
        return rc;
    if ((rc = ks_store_pick_image_server(ctx, conn, server_name, server)) != KS_OK)
        goto fail;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO members (user_id, image_server_id, version) VALUES (");
    ks_sql_str(&sql, conn, user_id);
    ks_buf_addf(&sql, ", %d, 1)", server->id);
    rc = ks_store_run(ctx, conn, &sql, NULL);
    if (rc == KS_CONFLICT)
        ks_err(&ctx->err, KS_CONFLICT, "member \"%s\" already exists", user_id);
    if (rc != KS_OK)
        goto fail;
    member->id = (long long)mysql_insert_id(conn);
    snprintf(member->user_id, sizeof member->user_id, "%s", user_id);
    member->image_server_id = server->id;
    member->version = 1;

    /* New members own and wear the default item of each required category. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO inventory (member_id, item_id) SELECT %lld, default_item_id"
                     " FROM categories WHERE required = 1 AND default_item_id IS NOT NULL",
               member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        goto fail;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO outfit (member_id, item_id) SELECT member_id, item_id"
                     " FROM inventory WHERE member_id = %lld", member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        goto fail;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE image_servers SET member_count = member_count + 1 WHERE id = %d",
               server->id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        goto fail;
    if ((rc = render(soap, conn, member, server)) != KS_OK)
        goto fail;
    if ((rc = ks_store_commit(ctx, conn)) != KS_OK)
        goto fail;
    return KS_OK;
fail:
    ks_store_rollback(ctx, conn);
    return rc;
}

int ks__CreateAvatar(struct soap *soap, char *userId, char *imageServer,
                     struct ks__CreateAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if (imageServer && ks_check_text(soap, "imageServer", imageServer, 64))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = create_member(soap, conn, userId, imageServer, &member, &server)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("member \"%s\" created on image server \"%s\"", userId, server.name);
    response->avatar = ks_store_avatar(soap, conn, &member, &server);
    return response->avatar ? SOAP_OK : ks_fault_rc(soap, KS_ERROR, &ctx->err);
}

/* ---- GetAvatar -------------------------------------------------------------------- */

int ks__GetAvatar(struct soap *soap, char *userId, int *minVersion,
                  struct ks__GetAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_avatar_view_t view;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if (minVersion && *minVersion < 1)
        return ks_fault(soap, "InvalidArgument", "minVersion must be at least 1");
    /* One round trip (avatar_read.c): the hottest call of the API. */
    if ((rc = ks_avatar_read(ctx, userId, minVersion ? (unsigned)*minVersion : 0, &view)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->avatar = ks_avatar_soap(soap, &view);
    return response->avatar ? SOAP_OK : ks_fault_rc(soap, KS_NOMEM, &ctx->err);
}

/* ---- GrantItem ---------------------------------------------------------------------- */

int ks__GrantItem(struct soap *soap, char *userId, int itemId,
                  struct ks__GrantItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_member(ctx, conn, userId, 0, &member)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT status FROM items WHERE id = %d", itemId);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    row = mysql_fetch_row(res);
    if (!row)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", itemId);
    else if (strcmp(row[0], "published") != 0)
        rc = ks_err(&ctx->err, KS_INVALID, "item %d is %s, not published", itemId, row[0]);
    mysql_free_result(res);
    if (rc != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "INSERT IGNORE INTO inventory (member_id, item_id) VALUES (%lld, %d)",
               member.id, itemId);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->itemId = itemId;
    response->alreadyOwned = mysql_affected_rows(conn) == 0 ? true_ : false_;
    return SOAP_OK;
}

/* ---- ChangeOutfit -------------------------------------------------------------------- */

typedef struct {
    int item_id;
    int category_id;
    int exclusive;
} worn_t;

typedef struct {
    worn_t items[KS_OUTFIT_MAX * 2];
    int count;
} outfit_t;

static int outfit_find(const outfit_t *o, int item_id)
{
    for (int i = 0; i < o->count; i++)
        if (o->items[i].item_id == item_id)
            return i;
    return -1;
}

static void outfit_remove_at(outfit_t *o, int index)
{
    o->items[index] = o->items[--o->count];
}

/* Loads (item, category, exclusive) for the worn items, or for the listed ids
 * with their status and whether the member owns them. */
static ks_rc load_outfit(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, outfit_t *out)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT o.item_id, i.category_id, c.exclusive FROM outfit o"
                     " JOIN items i ON i.id = o.item_id JOIN categories c ON c.id = i.category_id"
                     " WHERE o.member_id = %lld", member_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    out->count = 0;
    while ((row = mysql_fetch_row(res)) && out->count < KS_OUTFIT_MAX * 2) {
        worn_t *w = &out->items[out->count++];
        w->item_id = atoi(row[0]);
        w->category_id = atoi(row[1]);
        w->exclusive = atoi(row[2]);
    }
    mysql_free_result(res);
    return KS_OK;
}

/* Checks the items to put on (they exist, are wearable and owned, and name
 * at most one item per exclusive category) and fills wear_info. */
static ks_rc check_wear(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, const int *wear,
                        int wear_count, worn_t *wear_info)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (wear_count == 0)
        return KS_OK;
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT i.id, i.category_id, c.exclusive, i.status, inv.item_id IS NOT NULL"
                     " FROM items i JOIN categories c ON c.id = i.category_id"
                     " LEFT JOIN inventory inv ON inv.item_id = i.id AND inv.member_id = %lld"
                     " WHERE i.id IN (", member_id);
    for (int i = 0; i < wear_count; i++)
        ks_buf_addf(&sql, "%s%d", i ? ", " : "", wear[i]);
    ks_buf_addf(&sql, ")");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    for (int i = 0; i < wear_count; i++)
        wear_info[i].item_id = 0;
    while ((row = mysql_fetch_row(res))) {
        int id = atoi(row[0]);
        for (int i = 0; i < wear_count; i++) {
            if (wear[i] != id)
                continue;
            wear_info[i].item_id = id;
            wear_info[i].category_id = atoi(row[1]);
            wear_info[i].exclusive = atoi(row[2]);
            if (rc == KS_OK && strcmp(row[3], "published") != 0)
                rc = ks_err(&ctx->err, KS_INVALID, "item %d is %s and cannot be worn", id, row[3]);
            if (rc == KS_OK && !atoi(row[4]))
                rc = ks_err(&ctx->err, KS_NOTOWNED, "the member does not own item %d", id);
        }
    }
    mysql_free_result(res);
    for (int i = 0; i < wear_count && rc == KS_OK; i++) {
        if (!wear_info[i].item_id)
            rc = ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", wear[i]);
        for (int j = 0; j < i && rc == KS_OK; j++)
            if (wear_info[j].exclusive && wear_info[j].category_id == wear_info[i].category_id &&
                wear[j] != wear[i])
                rc = ks_err(&ctx->err, KS_INVALID, "items %d and %d are of the same exclusive "
                            "category; wear one of them", wear[j], wear[i]);
    }
    return rc;
}

/* Fails with KS_NOTFOUND naming the first of ids that is no item. */
static ks_rc check_items_exist(ks_api_ctx_t *ctx, MYSQL *conn, const int *ids, int count)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int found[KS_OUTFIT_MAX] = {0};

    if (count == 0)
        return KS_OK;
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT id FROM items WHERE id IN (");
    for (int i = 0; i < count; i++)
        ks_buf_addf(&sql, "%s%d", i ? ", " : "", ids[i]);
    ks_buf_addf(&sql, ")");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)))
        for (int i = 0; i < count && i < KS_OUTFIT_MAX; i++)
            found[i] |= ids[i] == atoi(row[0]);
    mysql_free_result(res);
    for (int i = 0; i < count && i < KS_OUTFIT_MAX; i++)
        if (!found[i])
            return ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", ids[i]);
    return KS_OK;
}

/* Fails when the change takes off the last item of a required category.
 * (A member who wears nothing of a category made required later is left
 * alone: the rule guards what is worn, it does not force new items on.) */
static ks_rc check_required(ks_api_ctx_t *ctx, MYSQL *conn, const outfit_t *before,
                            const outfit_t *after)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, name FROM categories WHERE required = 1");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while (rc == KS_OK && (row = mysql_fetch_row(res))) {
        int category = atoi(row[0]), worn_before = 0, worn_after = 0;
        for (int i = 0; i < before->count; i++)
            worn_before |= before->items[i].category_id == category;
        for (int i = 0; i < after->count; i++)
            worn_after |= after->items[i].category_id == category;
        if (worn_before && !worn_after)
            rc = ks_err(&ctx->err, KS_INVALID, "category \"%s\" is required: wear another item "
                        "of it instead of removing this one", row[1]);
    }
    mysql_free_result(res);
    return rc;
}

/* Writes the difference between before and after to the outfit table. */
static ks_rc write_outfit(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                          const outfit_t *before, const outfit_t *after)
{
    ks_buf_t sql;
    ks_rc rc;
    int removed = 0, added = 0;

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "DELETE FROM outfit WHERE member_id = %lld AND item_id IN (", member_id);
    for (int i = 0; i < before->count; i++)
        if (outfit_find(after, before->items[i].item_id) < 0)
            ks_buf_addf(&sql, "%s%d", removed++ ? ", " : "", before->items[i].item_id);
    ks_buf_addf(&sql, ")");
    if (removed && (rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_free(&sql);

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "INSERT INTO outfit (member_id, item_id) VALUES ");
    for (int i = 0; i < after->count; i++)
        if (outfit_find(before, after->items[i].item_id) < 0)
            ks_buf_addf(&sql, "%s(%lld, %d)", added++ ? ", " : "", member_id,
                       after->items[i].item_id);
    if (added && (rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_free(&sql);
    return KS_OK;
}

static ks_rc change_outfit(struct soap *soap, MYSQL *conn, const char *user_id, const int *wear,
                           int wear_count, const int *remove, int remove_count,
                           ks_member_t *member, ks_image_server_t *server)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    worn_t wear_info[KS_OUTFIT_MAX];
    outfit_t before, after;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_store_begin(ctx, conn)) != KS_OK)
        return rc;
    if ((rc = ks_store_member(ctx, conn, user_id, 1, member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, member->image_server_id, server)) != KS_OK ||
        (rc = load_outfit(ctx, conn, member->id, &before)) != KS_OK ||
        (rc = check_wear(ctx, conn, member->id, wear, wear_count, wear_info)) != KS_OK)
        goto fail;
    if ((rc = check_items_exist(ctx, conn, remove, remove_count)) != KS_OK)
        goto fail;

    after = before;
    for (int i = 0; i < remove_count; i++) {
        int at = outfit_find(&after, remove[i]);
        if (at >= 0)
            outfit_remove_at(&after, at);
    }
    for (int i = 0; i < wear_count; i++) {
        if (outfit_find(&after, wear[i]) >= 0)
            continue;
        if (wear_info[i].exclusive)     /* it replaces what the category had on */
            for (int j = after.count - 1; j >= 0; j--)
                if (after.items[j].category_id == wear_info[i].category_id)
                    outfit_remove_at(&after, j);
        if (after.count >= KS_OUTFIT_MAX) {
            rc = ks_err(&ctx->err, KS_INVALID, "a member wears at most %d items", KS_OUTFIT_MAX);
            goto fail;
        }
        after.items[after.count++] = wear_info[i];
    }
    if ((rc = check_required(ctx, conn, &before, &after)) != KS_OK)
        goto fail;

    if ((rc = write_outfit(ctx, conn, member->id, &before, &after)) != KS_OK)
        goto fail;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE members SET version = version + 1 WHERE id = %lld", member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        goto fail;
    member->version++;
    if ((rc = render(soap, conn, member, server)) != KS_OK ||
        (rc = ks_store_commit(ctx, conn)) != KS_OK)
        goto fail;
    return KS_OK;
fail:
    ks_store_rollback(ctx, conn);
    return rc;
}

int ks__ChangeOutfit(struct soap *soap, char *userId, int __sizewear, int *wear,
                     int __sizeremove, int *remove, struct ks__ChangeOutfitResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if (__sizewear < 0 || __sizewear > KS_OUTFIT_MAX || __sizeremove < 0 ||
        __sizeremove > KS_OUTFIT_MAX)
        return ks_fault(soap, "InvalidArgument", "wear and remove take at most %d items each",
                        KS_OUTFIT_MAX);
    if (__sizewear == 0 && __sizeremove == 0)
        return ks_fault(soap, "InvalidArgument", "nothing to wear or remove");
    for (int i = 0; i < __sizewear; i++)
        for (int j = 0; j < __sizeremove; j++)
            if (wear[i] == remove[j])
                return ks_fault(soap, "InvalidArgument", "item %d is both worn and removed",
                                wear[i]);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = change_outfit(soap, conn, userId, wear, __sizewear, remove, __sizeremove, &member,
                            &server)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_avatar_forget(userId);
    response->avatar = ks_store_avatar(soap, conn, &member, &server);
    return response->avatar ? SOAP_OK : ks_fault_rc(soap, KS_ERROR, &ctx->err);
}
