/* op_catalog_admin.c: the catalog operations made for the admin UI:
 * SearchItems (items of every status, filtered and paged by id). The SQL
 * is in store_catalog.c. */
#include <string.h>

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

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_search_items(soap, conn, &search, &response->item, &response->__sizeitem,
                                    &more, &total)) != KS_OK ||
        (rc = ks_store_items_layers(soap, conn, response->item, response->__sizeitem)) != KS_OK)
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
