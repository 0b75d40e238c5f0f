/* op_inventory.c: what a member owns: GrantItem, RevokeItem, ListMemberItems.
 *
 * Granting and revoking are idempotent (granting an owned item, or revoking
 * an item not owned, changes nothing and is not an error). Revoking a worn
 * item takes it off and composes the avatar again in the same transaction;
 * when it was the last item worn of a required category, the category's
 * default item is given and put on instead, so an avatar never loses its
 * body; revoking that default itself while it is worn is a Conflict.
 */
#include <string.h>
#include "op_common.h"
#include "avatar_read.h"
#include "log.h"
#include "render.h"
#include "webhook.h"
#include "store_catalog.h"
#include "store_members.h"

/* ---- GrantItem ---------------------------------------------------------------------- */

/* GrantItem's transaction (ks_store_txn): what it asks, and *granted, whether
 * the member did not own the item yet. */
typedef struct {
    const char *user_id;
    int item_id;
    int *granted;
} item_grant_t;

static ks_rc grant_item(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const item_grant_t *g = arg;
    ks_member_t member;
    char status[16];
    int category_id;
    ks_rc rc;

    if ((rc = ks_store_member(ctx, conn, g->user_id, 0, &member)) != KS_OK ||
        (rc = ks_store_item_category(ctx, conn, g->item_id, &category_id, status)) != KS_OK)
        return rc;
    if (strcmp(status, "published") != 0)
        return ks_err(&ctx->err, KS_INVALID, "item %d is %s, not published", g->item_id, status);
    if ((rc = ks_store_item_available(ctx, conn, g->item_id, "granted")) != KS_OK)
        return rc;      /* time-limited, outside its window */
    return ks_store_inventory_grant(ctx, conn, member.id, g->item_id, g->granted);
}

int ks__GrantItem(struct soap *soap, char *userId, int itemId,
                  struct ks__GrantItemResponse *response)
{
    int granted = 0;
    item_grant_t grant = {.user_id = userId, .item_id = itemId, .granted = &granted};

    if (ks_op_member_txn(soap, userId, grant_item, &grant, NULL))
        return soap->error;
    response->itemId = itemId;
    response->alreadyOwned = granted ? false_ : true_;
    return SOAP_OK;
}

/* ---- RevokeItem --------------------------------------------------------------------- */

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
    ks_item_rule_t rule;
    long long others;
    int granted;
    ks_rc rc;

    if ((rc = ks_store_member(ctx, conn, r->user_id, 1, member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, member->image_server_id, r->server)) != KS_OK ||
        (rc = ks_store_item_rule(ctx, conn, item_id, &rule)) != KS_OK ||
        (rc = ks_store_inventory_revoke(ctx, conn, member->id, item_id, r->was_owned,
                                        r->was_worn)) != KS_OK)
        return rc;
    if (!*r->was_worn)            /* the avatar does not change */
        return KS_OK;

    if (rule.required) {
        if ((rc = ks_store_outfit_count_others(ctx, conn, member->id, rule.category_id, item_id,
                                               &others)) != KS_OK)
            return rc;
        if (others == 0 && (rule.default_item_id == 0 || rule.default_item_id == item_id))
            return ks_err(&ctx->err, KS_CONFLICT, "item %d is the only item the member wears of "
                          "the required category \"%s\", which has no other default to put on; "
                          "have the member wear another item of it first", item_id, rule.category);
        if (others == 0 &&
            ((rc = ks_store_inventory_grant(ctx, conn, member->id, rule.default_item_id,
                                            &granted)) != KS_OK ||
             (rc = ks_store_outfit_write(ctx, conn, member->id, NULL, 0, &rule.default_item_id,
                                         1)) != KS_OK))
            return rc;
    }
    return ks_render_next_version(r->soap, conn, member, r->server, KS_EVENT_CHANGED);
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

    /* Retried on a deadlock or lock wait, as ChangeOutfit is. */
    if (ks_op_member_txn(soap, userId, revoke_item, &revoke, &conn))
        return soap->error;
    if ((rc = ks_store_avatar(soap, conn, &member, &server, &response->avatar)) != KS_OK)
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

int ks__ListMemberItems(struct soap *soap, char *userId, int *categoryId, int *offset, int *limit,
                        struct ks__ListMemberItemsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int page_offset, page_limit;
    ks_member_t member;
    long long total;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId) ||
        ks_check_page(soap, offset, limit, &page_offset, &page_limit))
        return soap->error;
    if ((rc = ks_store_member_fresh(ctx, &conn, userId, &member)) != KS_OK ||
        (rc = ks_store_member_items(soap, conn, member.id, categoryId, page_offset, page_limit,
                                    &response->item, &response->__sizeitem, &total)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->total = (int)total;
    return SOAP_OK;
}
