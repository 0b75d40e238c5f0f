/* op_inventory.c: what a member owns: GrantItem, RevokeItem, ListMemberItems.
 *
 * Granting and revoking are idempotent (granting an owned item, or revoking
 * an item not owned, changes nothing and is not an error). Revoking a worn
 * item takes it off and composes the avatar again in the same transaction;
 * when it was the last item worn of a required category, the category's
 * default item is given and put on instead, so an avatar never loses its
 * body; revoking that default itself while it is worn is a Conflict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "avatar_read.h"
#include "log.h"
#include "render.h"

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

/* ---- RevokeItem --------------------------------------------------------------------- */

typedef struct {
    int category_id;
    int required;
    int default_item_id;          /* 0: none */
    char category[64];
} item_rule_t;

static ks_rc load_rule(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, item_rule_t *rule)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT i.category_id, c.required, c.default_item_id, c.name FROM items i"
                " JOIN categories c ON c.id = i.category_id WHERE i.id = %d", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (row) {
        rule->category_id = atoi(row[0]);
        rule->required = atoi(row[1]);
        rule->default_item_id = row[2] ? atoi(row[2]) : 0;
        snprintf(rule->category, sizeof rule->category, "%s", row[3]);
    }
    mysql_free_result(res);
    return row ? KS_OK : ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", item_id);
}

/* How many items of category the member wears besides item_id. */
static ks_rc count_others_worn(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                               int category_id, int item_id, int *count)
{
    ks_buf_t sql;
    ks_rc rc;
    long long number;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM outfit o JOIN items i ON i.id = o.item_id"
                " WHERE o.member_id = %lld AND i.category_id = %d AND o.item_id <> %d",
                member_id, category_id, item_id);
    if ((rc = ks_store_int(ctx, conn, &sql, &number)) != KS_OK)
        return rc;
    *count = (int)number;
    return KS_OK;
}

/* What RevokeItem asks, and what it read and did: the transaction of
 * ks_store_txn. */
typedef struct {
    struct soap *soap;
    const char *user_id;
    int item_id;
    ks_member_t *member;
    ks_image_server_t *server;
    int *was_owned, *was_worn;
} item_revoke_t;

static ks_rc revoke_item(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const item_revoke_t *r = arg;
    ks_member_t *member = r->member;
    int item_id = r->item_id;
    item_rule_t rule;
    ks_buf_t sql;
    int others;
    ks_rc rc;

    if ((rc = ks_store_member(ctx, conn, r->user_id, 1, member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, member->image_server_id, r->server)) != KS_OK ||
        (rc = load_rule(ctx, conn, item_id, &rule)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM inventory WHERE member_id = %lld AND item_id = %d", member->id,
                item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *r->was_owned = mysql_affected_rows(conn) > 0;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM outfit WHERE member_id = %lld AND item_id = %d", member->id,
                item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *r->was_worn = mysql_affected_rows(conn) > 0;
    if (!*r->was_worn)            /* the avatar does not change */
        return KS_OK;

    if (rule.required) {
        if ((rc = count_others_worn(ctx, conn, member->id, rule.category_id, item_id,
                                    &others)) != KS_OK)
            return rc;
        if (others == 0 && (rule.default_item_id == 0 || rule.default_item_id == item_id))
            return ks_err(&ctx->err, KS_CONFLICT, "item %d is the only item the member wears of "
                          "the required category \"%s\", which has no other default to put on; "
                          "have the member wear another item of it first", item_id, rule.category);
        if (others == 0) {
            ks_buf_init(&sql, 256);
            ks_buf_addf(&sql, "INSERT IGNORE INTO inventory (member_id, item_id) VALUES (%lld, %d)",
                        member->id, rule.default_item_id);
            if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
                return rc;
            ks_buf_init(&sql, 256);
            ks_buf_addf(&sql, "INSERT INTO outfit (member_id, item_id) VALUES (%lld, %d)",
                        member->id, rule.default_item_id);
            if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
                return rc;
        }
    }
    return ks_render_next_version(r->soap, conn, member, r->server);
}

int ks__RevokeItem(struct soap *soap, char *userId, int itemId,
                   struct ks__RevokeItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    int was_owned = 0, was_worn = 0;
    MYSQL *conn;
    ks_rc rc;
    item_revoke_t revoke = {.soap = soap, .user_id = userId, .item_id = itemId,
                            .member = &member, .server = &server, .was_owned = &was_owned,
                            .was_worn = &was_worn};

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    /* Retried on a deadlock or lock wait, as ChangeOutfit is. */
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, revoke_item, &revoke)) != KS_OK ||
        (rc = ks_store_avatar(soap, conn, &member, &server, &response->avatar)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (was_owned || was_worn)
        ks_log_info("item %d revoked from member \"%s\"%s", itemId, userId,
                    was_worn ? " (it was worn)" : "");
    response->itemId = itemId;
    response->wasOwned = was_owned ? true_ : false_;
    response->wasWorn = was_worn ? true_ : false_;
    if (was_worn)
        ks_avatar_forget(userId);         /* GetAvatar here sees the change at once */
    return SOAP_OK;
}

/* ---- ListMemberItems ---------------------------------------------------------------- */

static ks_rc list_member_items(struct soap *soap, const char *user_id, const int *category_id,
                               int offset, int limit, struct ks__ListMemberItemsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    char where[128];
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    long long number;

    if ((rc = ks_store_member_fresh(ctx, &conn, user_id, &member)) != KS_OK)
        return rc;
    snprintf(where, sizeof where, "inv.member_id = %lld", member.id);
    if (category_id)
        snprintf(where + strlen(where), sizeof where - strlen(where), " AND i.category_id = %d",
                 *category_id);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM inventory inv JOIN items i ON i.id = inv.item_id"
                " WHERE %s", where);
    if ((rc = ks_store_int(ctx, conn, &sql, &number)) != KS_OK)
        return rc;
    response->total = (int)number;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT i.id, i.category_id, i.name, i.status, o.item_id IS NOT NULL,"
                " UNIX_TIMESTAMP(inv.granted_at) FROM inventory inv"
                " JOIN items i ON i.id = inv.item_id"
                " LEFT JOIN outfit o ON o.member_id = inv.member_id AND o.item_id = inv.item_id"
                " WHERE %s ORDER BY inv.granted_at DESC, i.id DESC LIMIT %d OFFSET %d",
                where, limit, offset);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    response->item = soap_new_ks__MemberItem(soap, (int)mysql_num_rows(res) + 1);
    if (!response->item) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res))) {
        struct ks__MemberItem *item = &response->item[response->__sizeitem++];
        item->itemId = atoi(row[0]);
        item->categoryId = atoi(row[1]);
        item->name = soap_strdup(soap, row[2]);
        item->status = soap_strdup(soap, row[3]);
        item->worn = atoi(row[4]) ? true_ : false_;
        item->grantedAt = (time_t)atoll(row[5]);
    }
    mysql_free_result(res);
    return KS_OK;
}

int ks__ListMemberItems(struct soap *soap, char *userId, int *categoryId, int *offset, int *limit,
                        struct ks__ListMemberItemsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int page_offset, page_limit;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId) ||
        ks_check_page(soap, offset, limit, &page_offset, &page_limit))
        return soap->error;
    rc = list_member_items(soap, userId, categoryId, page_offset, page_limit, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}
