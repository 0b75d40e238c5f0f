/* op_import.c: ImportMembers, an existing site's members brought in in bulk.
 *
 * The call is checked whole before anything is written: the limits and the
 * shape of every member (its user id, no item twice, worn items owned, no
 * user id twice in the call), then against the catalog (every item exists
 * and is not a draft, at most one worn per exclusive category, something
 * worn in every required one). The first fault names member[i] and its
 * field. Then store_import.c records the members in one transaction, without
 * composing: each avatar is composed when its image is first requested (the
 * image server's rebuild path) or by the batch tool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "store_import.h"

static int by_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of id in sorted[0..n), or -1. */
static int find_int(const int *sorted, int n, int id)
{
    const int *hit = bsearch(&id, sorted, (size_t)n, sizeof *sorted, by_int);
    return hit ? (int)(hit - sorted) : -1;
}

/* Checks member i's own fields and fills *out (its owned list copied to the
 * arena, sorted). SOAP_OK or the fault. */
static int check_member(struct soap *soap, int i, const struct ks__ImportMember *in,
                        ks_import_member_t *out)
{
    char field[64];
    int *owned;

    snprintf(field, sizeof field, "member[%d].userId", i);
    if (ks_check_member_id(soap, field, in->userId))
        return soap->error;
    if (in->__sizeownedItemId > KS_IMPORT_OWNED_MAX)
        return ks_fault(soap, "TooLarge", "member[%d] (\"%s\").ownedItemId: %d items, more than %d",
                        i, in->userId, in->__sizeownedItemId, KS_IMPORT_OWNED_MAX);
    if (in->__sizewornItemId > KS_OUTFIT_MAX)
        return ks_fault(soap, "TooLarge", "member[%d] (\"%s\").wornItemId: %d items, more than %d",
                        i, in->userId, in->__sizewornItemId, KS_OUTFIT_MAX);
    if ((in->__sizeownedItemId > 0 && !in->ownedItemId) ||
        (in->__sizewornItemId > 0 && !in->wornItemId))
        return ks_fault(soap, "InvalidArgument", "member[%d]: a list without its items", i);
    owned = soap_malloc(soap, sizeof *owned * ((size_t)in->__sizeownedItemId + 1));
    if (!owned)
        return ks_fault_rc(soap, KS_NOMEM, &ks_api_ctx(soap)->err);
    if (in->__sizeownedItemId > 0)
        memcpy(owned, in->ownedItemId, sizeof *owned * (size_t)in->__sizeownedItemId);
    qsort(owned, (size_t)in->__sizeownedItemId, sizeof *owned, by_int);
    for (int k = 0; k < in->__sizeownedItemId; k++) {
        if (owned[k] < 1)
            return ks_fault(soap, "InvalidArgument",
                            "member[%d] (\"%s\").ownedItemId: %d is not an item id", i,
                            in->userId, owned[k]);
        if (k > 0 && owned[k] == owned[k - 1])
            return ks_fault(soap, "InvalidArgument",
                            "member[%d] (\"%s\").ownedItemId: item %d is listed twice", i,
                            in->userId, owned[k]);
    }
    for (int k = 0; k < in->__sizewornItemId; k++) {
        int id = in->wornItemId[k];
        for (int j = 0; j < k; j++)
            if (in->wornItemId[j] == id)
                return ks_fault(soap, "InvalidArgument",
                                "member[%d] (\"%s\").wornItemId: item %d is listed twice", i,
                                in->userId, id);
        if (find_int(owned, in->__sizeownedItemId, id) < 0)
            return ks_fault(soap, "InvalidArgument",
                            "member[%d] (\"%s\").wornItemId: item %d is not in its ownedItemId",
                            i, in->userId, id);
    }
    out->user_id = in->userId;
    out->owned = owned;
    out->owned_count = in->__sizeownedItemId;
    out->worn = in->wornItemId;
    out->worn_count = in->__sizewornItemId;
    return SOAP_OK;
}

/* The distinct items the call names (worn ones are owned), ascending, in
 * the arena. */
static int *call_items(struct soap *soap, const ks_import_member_t *members, int n, int *count)
{
    size_t total = 0, k = 0;
    int *ids;

    for (int i = 0; i < n; i++)
        total += (size_t)members[i].owned_count;
    if (!(ids = soap_malloc(soap, sizeof *ids * (total + 1))))
        return NULL;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < members[i].owned_count; j++)
            ids[k++] = members[i].owned[j];
    qsort(ids, total, sizeof *ids, by_int);
    *count = 0;
    for (size_t j = 0; j < total; j++)
        if (*count == 0 || ids[*count - 1] != ids[j])
            ids[(*count)++] = ids[j];
    return ids;
}

/* Items and categories are sorted by their first member, id. */
static const ks_import_item_t *find_item(const ks_import_item_t *items, int n, int id)
{
    ks_import_item_t key = { .id = id };
    return bsearch(&key, items, (size_t)n, sizeof *items, by_int);
}

static const ks_import_category_t *find_category(const ks_import_category_t *categories, int n,
                                                 int id)
{
    ks_import_category_t key = { .id = id };
    return bsearch(&key, categories, (size_t)n, sizeof *categories, by_int);
}

/* Checks member i against the catalog: its items exist and are not drafts,
 * what it wears keeps the category rules. */
static int check_catalog(struct soap *soap, int i, const ks_import_member_t *m,
                         const ks_import_item_t *items, int item_count,
                         const ks_import_category_t *categories, int category_count)
{
    int worn_category[KS_OUTFIT_MAX];

    for (int k = 0; k < m->owned_count; k++) {
        const ks_import_item_t *item = find_item(items, item_count, m->owned[k]);
        if (!item)
            return ks_fault(soap, "NotFound", "member[%d] (\"%s\").ownedItemId: no item %d", i,
                            m->user_id, m->owned[k]);
        if (item->draft)
            return ks_fault(soap, "InvalidArgument",
                            "member[%d] (\"%s\").ownedItemId: item %d is a draft", i,
                            m->user_id, m->owned[k]);
    }
    for (int k = 0; k < m->worn_count; k++) {
        const ks_import_item_t *item = find_item(items, item_count, m->worn[k]);
        const ks_import_category_t *c;
        if (!item)     /* cannot happen: worn items are owned, and those exist */
            return ks_fault(soap, "NotFound", "member[%d] (\"%s\").wornItemId: no item %d", i,
                            m->user_id, m->worn[k]);
        worn_category[k] = item->category_id;
        c = find_category(categories, category_count, item->category_id);
        for (int j = 0; j < k && c && c->exclusive; j++)
            if (worn_category[j] == c->id)
                return ks_fault(soap, "InvalidArgument",
                                "member[%d] (\"%s\").wornItemId: items %d and %d are both of "
                                "exclusive category \"%s\"", i, m->user_id, m->worn[j],
                                m->worn[k], c->name);
    }
    for (int c = 0; c < category_count; c++) {
        int worn = 0;
        if (!categories[c].required)
            continue;
        for (int k = 0; k < m->worn_count && !worn; k++)
            worn = worn_category[k] == categories[c].id;
        if (!worn)
            return ks_fault(soap, "InvalidArgument",
                            "member[%d] (\"%s\").wornItemId: nothing worn of required "
                            "category \"%s\"", i, m->user_id, categories[c].name);
    }
    return SOAP_OK;
}

int ks__ImportMembers(struct soap *soap, int __sizemember, struct ks__ImportMember *member,
                      struct ks__ImportMembersResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_import_member_t *members;
    ks_import_item_t *items;
    ks_import_category_t *categories;
    ks_import_result_t result;
    int item_count, category_count, id_count;
    char **user_ids;
    int *ids;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if (__sizemember > KS_IMPORT_MEMBERS_MAX)
        return ks_fault(soap, "TooLarge", "member: %d members, more than %d per call",
                        __sizemember, KS_IMPORT_MEMBERS_MAX);
    if (__sizemember < 1 || !member)
        return ks_fault(soap, "InvalidArgument", "member: at least one member is required");
    members = soap_malloc(soap, sizeof *members * (size_t)__sizemember);
    user_ids = soap_malloc(soap, sizeof *user_ids * (size_t)__sizemember);
    if (!members || !user_ids)
        return ks_fault_rc(soap, ks_err(&ctx->err, KS_NOMEM, "out of memory"), &ctx->err);
    for (int i = 0; i < __sizemember; i++) {
        if (check_member(soap, i, &member[i], &members[i]))
            return soap->error;
        user_ids[i] = member[i].userId;
    }
    qsort(user_ids, (size_t)__sizemember, sizeof *user_ids, by_string);
    for (int i = 1; i < __sizemember; i++)
        if (strcmp(user_ids[i], user_ids[i - 1]) == 0)
            return ks_fault(soap, "InvalidArgument", "member: userId \"%s\" is given twice",
                            user_ids[i]);
    if (!(ids = call_items(soap, members, __sizemember, &id_count)))
        return ks_fault_rc(soap, ks_err(&ctx->err, KS_NOMEM, "out of memory"), &ctx->err);

    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_import_catalog(soap, conn, ids, id_count, &items, &item_count,
                                      &categories, &category_count)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    for (int i = 0; i < __sizemember; i++)
        if (check_catalog(soap, i, &members[i], items, item_count, categories, category_count))
            return soap->error;
    if ((rc = ks_store_import(soap, conn, members, __sizemember, &result)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("ImportMembers: %d imported, %d unchanged", result.imported, result.unchanged);
    response->imported = result.imported;
    response->unchanged = result.unchanged;
    return SOAP_OK;
}
