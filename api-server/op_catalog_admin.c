/* op_catalog_admin.c: the catalog operations made for the admin UI:
 * SearchItems (items of every status, filtered and paged by id) and
 * UpdateCategory. The SQL is in store_catalog.c. */
#include <stdio.h>
#include <string.h>

#include "log.h"

#include "store_catalog.h"

#define NAME_SEARCH_MAX 64

int ks__SearchItems(struct soap *soap, int *categoryId, char *status, char *nameContains,
                    int *afterId, int *limit, struct ks__SearchItemsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_item_search_t search = {0};
    long long total = 0;
    int more = 0;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if (categoryId && *categoryId < 1)
        return ks_fault(soap, "InvalidArgument", "categoryId must be 1 or more");
    if (status && strcmp(status, "draft") && strcmp(status, "published") &&
        strcmp(status, "retired"))
        return ks_fault(soap, "InvalidArgument", "status must be draft, published or retired");
    if (nameContains && ks_check_text(soap, "nameContains", nameContains, NAME_SEARCH_MAX))
        return soap->error;
    if (afterId && *afterId < 0)
        return ks_fault(soap, "InvalidArgument", "afterId must be 0 or more");
    if (limit && (*limit < 1 || *limit > KS_PAGE_LIMIT_MAX))
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_PAGE_LIMIT_MAX);
    search.category_id = categoryId ? *categoryId : 0;
    search.status = status;
    search.name_contains = nameContains;
    search.after_id = afterId ? *afterId : 0;
    search.limit = limit ? *limit : KS_PAGE_LIMIT_DEFAULT;
    search.count_total = 1;

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_search_items(soap, conn, &search, &response->item, &response->__sizeitem,
                                    &more, &total)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->total = (int)total;
    if (more) {
        response->nextAfterId = soap_malloc(soap, sizeof(int));
        if (!response->nextAfterId)
            return soap->error = SOAP_EOM;
        *response->nextAfterId = response->item[response->__sizeitem - 1].id;
    }
    return SOAP_OK;
}

/* ---- UpdateCategory ------------------------------------------------------------ */

typedef struct {
    const char *name;
    const int *z_order, *default_item_id;
    const enum xsd__boolean *exclusive, *required;
    int id;                       /* the category */
    ks_category_row_t *row;       /* what it is once changed */
} category_change_t;

/* The transaction of UpdateCategory (ks_store_txn). */
static ks_rc update_category(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const category_change_t *change = arg;
    ks_category_row_t *row = change->row;
    int id = change->id;
    ks_rc rc;

    if ((rc = ks_store_category(ctx, conn, id, 1, row)) != KS_OK)
        return rc;
    if (change->name)
        snprintf(row->name, sizeof row->name, "%s", change->name);
    if (change->z_order)
        row->z_order = *change->z_order;
    if (change->exclusive)
        row->exclusive = *change->exclusive == true_;
    if (change->required)
        row->required = *change->required == true_;
    if (change->default_item_id && *change->default_item_id) {
        int category_id;
        char status[16];
        if ((rc = ks_store_item_category(ctx, conn, *change->default_item_id, &category_id,
                                         status)) != KS_OK)
            return rc;
        if (category_id != id || strcmp(status, "published") != 0)
            return ks_err(&ctx->err, KS_INVALID, "defaultItemId %d must be a published item "
                          "of category %d (it is a %s item of category %d)",
                          *change->default_item_id, id, status, category_id);
    }
    if (change->default_item_id)
        row->default_item_id = *change->default_item_id;
    if (row->required && !row->default_item_id)
        return ks_err(&ctx->err, KS_CONFLICT, "category %d is required, so it needs a "
                      "default item", id);
    return ks_store_category_update(ctx, conn, row);
}

int ks__UpdateCategory(struct soap *soap, int categoryId, char *name, int *zOrder,
                       enum xsd__boolean *exclusive, enum xsd__boolean *required,
                       int *defaultItemId, struct ks__UpdateCategoryResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_category_row_t row;
    category_change_t change = {name, zOrder, defaultItemId, exclusive, required, categoryId,
                                &row};
    struct ks__Category *c;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || (name && ks_check_text(soap, "name", name, 64)))
        return soap->error;
    if (categoryId < 1)
        return ks_fault(soap, "InvalidArgument", "categoryId must be 1 or more");
    if (zOrder && (*zOrder < -100000 || *zOrder > 100000))
        return ks_fault(soap, "InvalidArgument", "zOrder must be -100000..100000");
    if (defaultItemId && *defaultItemId < 0)
        return ks_fault(soap, "InvalidArgument", "defaultItemId must be an item id, or 0");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if ((rc = ks_store_txn(ctx, conn, update_category, &change)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(c = soap_new_ks__Category(soap, -1)))
        return soap->error = SOAP_EOM;
    c->id = row.id;
    c->name = soap_strdup(soap, row.name);
    c->zOrder = row.z_order;
    c->exclusive = row.exclusive ? true_ : false_;
    c->required = row.required ? true_ : false_;
    if (row.default_item_id && (c->defaultItemId = soap_malloc(soap, sizeof(int))))
        *c->defaultItemId = row.default_item_id;
    response->category = c;
    ks_log_info("category %d \"%s\" changed", row.id, row.name);
    return SOAP_OK;
}
