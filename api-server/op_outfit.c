/* op_outfit.c: what a member wears: ChangeOutfit and PreviewAvatar (try-on).
 *
 * Both compute the outfit after a change the same way (plan_outfit): the
 * items to wear must exist and be published (or already worn: a retired item
 * stays on until taken off), at most one per exclusive category; wearing an
 * item of an exclusive category takes off the one worn there; the last item
 * of a required category cannot be taken off. ChangeOutfit also requires
 * that the member owns what it puts on, writes the outfit, bumps the version
 * and composes it inside its transaction (a change that leaves the outfit as
 * it was does none of that, so it is safe to send again); PreviewAvatar
 * composes the result on the member's image server and returns the PNG,
 * saving nothing. A time-limited item is put on only inside its window
 * (Conflict); a preview may show it outside.
 *
 * Both take colours for worn items (tints): each names an item worn after
 * the change that has a tintable layer, with "#RRGGBB". A colour is kept
 * in the outfit row while the item stays on; a ChangeOutfit that only
 * changes a colour is a change, the same colour again none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "avatar_read.h"
#include "jpeg_codec.h"
#include "log.h"
#include "render.h"
#include "store_catalog.h"
#include "store_members.h"
#include "webhook.h"

typedef struct {
    ks_outfit_item_t items[KS_OUTFIT_MAX * 2];
    int count;
} outfit_t;

/* The change a call asks for (check_call fills it): the items to wear and
 * to take off, and the colours, checked. */
typedef struct {
    const int *wear, *remove;
    int wear_count, remove_count;
    ks_item_tint_t tints[KS_OUTFIT_MAX];
    int tint_count;
} outfit_ask_t;

static int outfit_find(const outfit_t *o, int item_id)
{
    for (int i = 0; i < o->count; i++)
        if (o->items[i].item_id == item_id)
            return i;
    return -1;
}

static int outfit_same(const outfit_t *a, const outfit_t *b)
{
    if (a->count != b->count)
        return 0;
    for (int i = 0; i < a->count; i++) {
        int at = outfit_find(b, a->items[i].item_id);
        if (at < 0 || strcmp(a->items[i].tint, b->items[at].tint) != 0)
            return 0;
    }
    return 1;
}

static void outfit_remove_at(outfit_t *o, int index)
{
    o->items[index] = o->items[--o->count];
}

/* Checks the items to put on (they exist, are published or already worn,
 * are owned when must_own, and name at most one item per exclusive category)
 * and fills wear_info. */
static ks_rc check_wear(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                        const outfit_t *before, const int *wear, int wear_count, int must_own,
                        ks_outfit_item_t *wear_info)
{
    ks_outfit_item_t rows[KS_OUTFIT_MAX];
    int found;
    ks_rc rc;

    if ((rc = ks_store_outfit_items(ctx, conn, member_id, wear, wear_count, rows,
                                    &found)) != KS_OK)
        return rc;
    for (int i = 0; i < wear_count; i++)
        wear_info[i].item_id = 0;
    for (int r = 0; r < found; r++) {
        int id = rows[r].item_id, worn = outfit_find(before, id) >= 0;
        for (int i = 0; i < wear_count; i++) {
            if (wear[i] != id)
                continue;
            wear_info[i] = rows[r];
            if (rc == KS_OK && !worn && strcmp(rows[r].status, "published") != 0)
                rc = ks_err(&ctx->err, KS_INVALID, "item %d is %s and cannot be worn", id,
                            rows[r].status);
            if (rc == KS_OK && must_own && !rows[r].owned)
                rc = ks_err(&ctx->err, KS_NOTOWNED, "the member does not own item %d", id);
            /* time-limited: put on only inside its window (a preview may) */
            if (rc == KS_OK && must_own && !worn)
                rc = ks_store_item_available(ctx, conn, id, "put on");
        }
    }
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
    ks_outfit_item_t rows[KS_OUTFIT_MAX];
    int found;
    ks_rc rc;

    if ((rc = ks_store_outfit_items(ctx, conn, 0, ids, count, rows, &found)) != KS_OK)
        return rc;
    for (int i = 0; i < count; i++) {
        int exists = 0;
        for (int r = 0; r < found && !exists; r++)
            exists = rows[r].item_id == ids[i];
        if (!exists)
            return ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", ids[i]);
    }
    return KS_OK;
}

/* Fails when the change takes off the last item of a required category.
 * (A member who wears nothing of a category made required later is left
 * alone: the rule guards what is worn, it does not force new items on.) */
static ks_rc check_required(struct soap *soap, MYSQL *conn, const outfit_t *before,
                            const outfit_t *after)
{
    ks_required_category_t *required;
    int count;
    ks_rc rc;

    if ((rc = ks_store_required_categories(soap, conn, &required, &count)) != KS_OK)
        return rc;
    for (int r = 0; r < count; r++) {
        int worn_before = 0, worn_after = 0;
        for (int i = 0; i < before->count; i++)
            worn_before |= before->items[i].category_id == required[r].id;
        for (int i = 0; i < after->count; i++)
            worn_after |= after->items[i].category_id == required[r].id;
        if (worn_before && !worn_after)
            return ks_err(&ks_api_ctx(soap)->err, KS_INVALID, "category \"%s\" is required: "
                          "wear another item of it instead of removing this one",
                          required[r].name);
    }
    return KS_OK;
}

/* The colours asked (tints[0..tint_count), checked by check_colours) on
 * after: each item must be worn and tintable. */
static ks_rc apply_colours(ks_api_ctx_t *ctx, const ks_item_tint_t *tints, int tint_count,
                           outfit_t *after)
{
    for (int t = 0; t < tint_count; t++) {
        int at = outfit_find(after, tints[t].item_id);
        if (at < 0)
            return ks_err(&ctx->err, KS_INVALID, "colour for item %d, which is not worn after "
                          "the change", tints[t].item_id);
        if (!after->items[at].tintable)
            return ks_err(&ctx->err, KS_INVALID, "item %d has no tintable layer and takes no "
                          "colour", tints[t].item_id);
        memcpy(after->items[at].tint, tints[t].tint, sizeof after->items[at].tint);
    }
    return KS_OK;
}

/* Fills before (what member wears) and after (with the change ask applied),
 * checking every rule of the file's comment. */
static ks_rc plan_outfit(struct soap *soap, MYSQL *conn, long long member_id,
                         const outfit_ask_t *ask, int must_own, outfit_t *before,
                         outfit_t *after)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    const int *wear = ask->wear, *remove = ask->remove;
    int wear_count = ask->wear_count, remove_count = ask->remove_count;
    ks_outfit_item_t wear_info[KS_OUTFIT_MAX];
    ks_rc rc;

    if ((rc = ks_store_outfit(ctx, conn, member_id, before->items, KS_OUTFIT_MAX * 2,
                              &before->count)) != KS_OK ||
        (rc = check_wear(ctx, conn, member_id, before, wear, wear_count, must_own,
                         wear_info)) != KS_OK ||
        (rc = check_items_exist(ctx, conn, remove, remove_count)) != KS_OK)
        return rc;
    *after = *before;
    for (int i = 0; i < remove_count; i++) {
        int at = outfit_find(after, remove[i]);
        if (at >= 0)
            outfit_remove_at(after, at);
    }
    for (int i = 0; i < wear_count; i++) {
        if (outfit_find(after, wear[i]) >= 0)
            continue;
        if (wear_info[i].exclusive)     /* it replaces what the category had on */
            for (int j = after->count - 1; j >= 0; j--)
                if (after->items[j].category_id == wear_info[i].category_id)
                    outfit_remove_at(after, j);
        if (after->count >= KS_OUTFIT_MAX)
            return ks_err(&ctx->err, KS_INVALID, "a member wears at most %d items", KS_OUTFIT_MAX);
        after->items[after->count++] = wear_info[i];
    }
    if ((rc = apply_colours(ctx, ask->tints, ask->tint_count, after)) != KS_OK)
        return rc;
    return check_required(soap, conn, before, after);
}

/* The checks of the wear and remove lists both operations share. */
static int check_lists(struct soap *soap, int wear_count, const int *wear, int remove_count,
                       const int *remove)
{
    if (wear_count < 0 || wear_count > KS_OUTFIT_MAX || remove_count < 0 ||
        remove_count > KS_OUTFIT_MAX)
        return ks_fault(soap, "InvalidArgument", "wear and remove take at most %d items each",
                        KS_OUTFIT_MAX);
    for (int i = 0; i < wear_count; i++)
        for (int j = 0; j < remove_count; j++)
            if (wear[i] == remove[j])
                return ks_fault(soap, "InvalidArgument", "item %d is both worn and removed",
                                wear[i]);
    return SOAP_OK;
}

/* Checks the colours both operations take and copies them, "#RRGGBB" in
 * uppercase, into tints (room for KS_OUTFIT_MAX). */
static int check_colours(struct soap *soap, int count, const struct ks__ItemColour *colour,
                         ks_item_tint_t *tints)
{
    if (count < 0 || count > KS_OUTFIT_MAX || (count > 0 && !colour))
        return ks_fault(soap, "InvalidArgument", "colour takes at most %d items", KS_OUTFIT_MAX);
    for (int i = 0; i < count; i++) {
        const char *text = colour[i].colour;
        uint32_t rgb;
        if (!text || text[0] != '#' || strlen(text) != 7 || !ks_parse_colour(text, &rgb))
            return ks_fault(soap, "InvalidArgument", "colour of item %d must be #RRGGBB, not "
                            "\"%.16s\"", colour[i].itemId, text ? text : "");
        for (int j = 0; j < i; j++)
            if (colour[j].itemId == colour[i].itemId)
                return ks_fault(soap, "InvalidArgument", "item %d has two colours",
                                colour[i].itemId);
        tints[i].item_id = colour[i].itemId;
        snprintf(tints[i].tint, sizeof tints[i].tint, "#%06X", (unsigned)rgb);
    }
    return SOAP_OK;
}

/* The checks both operations make: a site's call (ks_auth_require) on a
 * valid user id, its lists (check_lists) and colours (check_colours); fills
 * ask with what passed. SOAP_OK, or the fault set and its error. */
static int check_call(struct soap *soap, const char *user_id, int wear_count, const int *wear,
                      int remove_count, const int *remove, int colour_count,
                      const struct ks__ItemColour *colour, outfit_ask_t *ask)
{
    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, user_id) ||
        check_lists(soap, wear_count, wear, remove_count, remove) ||
        check_colours(soap, colour_count, colour, ask->tints))
        return soap->error;
    ask->wear = wear;
    ask->wear_count = wear_count;
    ask->remove = remove;
    ask->remove_count = remove_count;
    ask->tint_count = colour_count;
    return SOAP_OK;
}

/* ---- ChangeOutfit -------------------------------------------------------------------- */

/* Writes the difference between before and after to the outfit table. */
static ks_rc write_outfit(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                          const outfit_t *before, const outfit_t *after)
{
    int off[KS_OUTFIT_MAX * 2], on[KS_OUTFIT_MAX * 2], off_count = 0, on_count = 0;
    ks_rc rc;

    for (int i = 0; i < before->count; i++)
        if (outfit_find(after, before->items[i].item_id) < 0)
            off[off_count++] = before->items[i].item_id;
    for (int i = 0; i < after->count; i++)
        if (outfit_find(before, after->items[i].item_id) < 0)
            on[on_count++] = after->items[i].item_id;
    if ((rc = ks_store_outfit_write(ctx, conn, member_id, off, off_count, on, on_count)) != KS_OK)
        return rc;
    for (int i = 0; i < after->count; i++) {        /* tints: the colours that changed */
        int at = outfit_find(before, after->items[i].item_id);
        const char *was = at < 0 ? "" : before->items[at].tint;
        if (strcmp(was, after->items[i].tint) != 0 &&
            (rc = ks_store_outfit_tint(ctx, conn, member_id, after->items[i].item_id,
                                       after->items[i].tint)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

/* What ChangeOutfit asks, and what it read (member, server): the
 * transaction of ks_store_txn. */
typedef struct {
    struct soap *soap;
    const char *user_id;
    const outfit_ask_t *ask;
    ks_member_t *member;
    ks_image_server_t *server;
} outfit_change_t;

static ks_rc change_outfit(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const outfit_change_t *c = arg;
    outfit_t before, after;
    ks_rc rc;

    if ((rc = ks_store_member(ctx, conn, c->user_id, 1, c->member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, c->member->image_server_id, c->server)) != KS_OK ||
        (rc = plan_outfit(c->soap, conn, c->member->id, c->ask, 1, &before, &after)) != KS_OK)
        return rc;
    /* A change that changes nothing keeps the version: sending the same
     * call twice (a client's or a balancer's retry) ends as sending it once
     * (the transaction commits having written nothing). */
    if (outfit_same(&before, &after))
        return KS_OK;
    if ((rc = write_outfit(ctx, conn, c->member->id, &before, &after)) != KS_OK)
        return rc;
    return ks_render_next_version(c->soap, conn, c->member, c->server, KS_EVENT_CHANGED);
}

int ks__ChangeOutfit(struct soap *soap, char *userId, int __sizewear, int *wear,
                     int __sizeremove, int *remove, int __sizecolour,
                     struct ks__ItemColour *colour, struct ks__ChangeOutfitResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    outfit_ask_t ask;
    outfit_change_t change = {.soap = soap, .user_id = userId, .ask = &ask, .member = &member,
                              .server = &server};
    MYSQL *conn;
    ks_rc rc;

    if (check_call(soap, userId, __sizewear, wear, __sizeremove, remove, __sizecolour, colour,
                   &ask))
        return soap->error;
    if (__sizewear == 0 && __sizeremove == 0 && __sizecolour == 0)
        return ks_fault(soap, "InvalidArgument", "nothing to wear, remove or colour");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if ((rc = ks_store_txn(ctx, conn, change_outfit, &change)) != KS_OK ||
        (rc = ks_store_avatar(soap, conn, &member, &server, &response->avatar)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_avatar_forget(userId);             /* GetAvatar here sees the change at once */
    return SOAP_OK;
}

/* ---- PreviewAvatar ------------------------------------------------------------------- */

static ks_rc preview(struct soap *soap, const char *user_id, const outfit_ask_t *ask,
                     struct ks__PreviewAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    outfit_t before, after;
    ks_layer_row_t *layers;
    int ids[KS_OUTFIT_MAX * 2], layer_count, tint_count = 0;
    ks_item_tint_t tints[KS_OUTFIT_MAX * 2];
    unsigned char *png = NULL;
    size_t size = 0;
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_store_member_fresh(ctx, &conn, user_id, &member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, member.image_server_id, &server)) != KS_OK ||
        (rc = ks_store_server_usable(ctx, &server)) != KS_OK ||
        (rc = plan_outfit(soap, conn, member.id, ask, 0, &before, &after)) != KS_OK)
        return rc;
    for (int i = 0; i < after.count; i++) {
        ids[i] = after.items[i].item_id;
        if (after.items[i].tint[0]) {
            tints[tint_count].item_id = ids[i];
            memcpy(tints[tint_count++].tint, after.items[i].tint, sizeof tints[0].tint);
        }
    }
    if ((rc = ks_store_item_layers(soap, conn, ids, after.count, tints, tint_count, &layers,
                                   &layer_count)) != KS_OK)
        return rc;
    if (layer_count == 0)
        return ks_err(&ctx->err, KS_INVALID, "the preview would wear nothing");
    rc = ks_image_preview(ctx, &server, layers, layer_count, &png, &size);
    if (rc == KS_CONFLICT) {
        ks_log_info("image server \"%s\" misses layers for a preview of \"%s\": pushing them",
                    server.name, user_id);
        if ((rc = ks_render_push_layers(ctx, conn, &server, layers, layer_count)) != KS_OK)
            return rc;
        rc = ks_image_preview(ctx, &server, layers, layer_count, &png, &size);
        if (rc == KS_CONFLICT)
            rc = ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" still misses layers "
                        "after a repair: %s", server.name, ctx->err.msg);
    }
    if (rc != KS_OK)
        return rc;
    response->png.__ptr = soap_malloc(soap, size);
    if (!response->png.__ptr) {
        free(png);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for a %zu-byte preview", size);
    }
    memcpy(response->png.__ptr, png, size);
    response->png.__size = (int)size;
    free(png);
    response->wornItemId = soap_malloc(soap, (size_t)(after.count + 1) * sizeof(int));
    if (!response->wornItemId)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    /* ascending, as GetAvatar lists them */
    for (int i = 0; i < after.count; i++) {
        int at = response->__sizewornItemId++;
        while (at > 0 && response->wornItemId[at - 1] > ids[i]) {
            response->wornItemId[at] = response->wornItemId[at - 1];
            at--;
        }
        response->wornItemId[at] = ids[i];
    }
    return ks_store_soap_colours(soap, tints, tint_count, &response->wornColour,
                                 &response->__sizewornColour);
}

int ks__PreviewAvatar(struct soap *soap, char *userId, int __sizewear, int *wear,
                      int __sizeremove, int *remove, int __sizecolour,
                      struct ks__ItemColour *colour, struct ks__PreviewAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    outfit_ask_t ask;
    ks_rc rc;

    if (check_call(soap, userId, __sizewear, wear, __sizeremove, remove, __sizecolour, colour,
                   &ask))
        return soap->error;
    rc = preview(soap, userId, &ask, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}
