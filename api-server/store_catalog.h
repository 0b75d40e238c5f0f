/* store_catalog.h: SQL of the catalog tables (items, item_layers) for the
 * operations that list items. Functions write their error into ctx->err and
 * return a ks_rc; results are allocated in the request's arena. */
#ifndef KS_API_STORE_CATALOG_H
#define KS_API_STORE_CATALOG_H

#include "store.h"

/* Reads the layers of items[0..count) into each item's layer array. */
ks_rc ks_store_items_layers(struct soap *soap, MYSQL *conn, struct ks__Item *items, int count);

/* Which items to read (GetItem, ListItems, SearchItems); a NULL or 0 field
 * filters nothing. */
typedef struct {
    int item_id;                   /* this item alone */
    int category_id;
    const char *status;            /* draft | published | retired (checked by the caller) */
    const char *name_contains;
    int after_id;                  /* a page by key: the ids above */
    int offset;                    /* ListItems' pages by offset (its published contract) */
    int limit;
    int count_total;               /* fill *total (a COUNT over every page) */
} ks_item_search_t;

/* The items matching search (at most search->limit, by id, without their
 * layers) into *items / *count; *more says whether more follow, *total
 * (with count_total) how many match on every page. */
ks_rc ks_store_search_items(struct soap *soap, MYSQL *conn, const ks_item_search_t *search,
                            struct ks__Item **items, int *count, int *more, long long *total);

/* A category row. */
typedef struct {
    int id;
    char name[65];
    int z_order, exclusive, required;
    int default_item_id;           /* 0: none */
} ks_category_row_t;

/* Category id (KS_NOTFOUND when there is none); for_update locks the row. */
ks_rc ks_store_category(ks_api_ctx_t *ctx, MYSQL *conn, int id, int for_update,
                        ks_category_row_t *out);

/* The category and status ("draft"...) of item id (KS_NOTFOUND when there is
 * none); status has room for 16 bytes. */
ks_rc ks_store_item_category(ks_api_ctx_t *ctx, MYSQL *conn, int id, int *category_id,
                             char *status);

/* Writes row's name, z-order, flags and default item (0: NULL) to its
 * category. KS_CONFLICT when the name is another category's. */
ks_rc ks_store_category_update(ks_api_ctx_t *ctx, MYSQL *conn, const ks_category_row_t *row);



/* One page of every item layer (by item, layer; limit rows after offset)
 * into *layers (the arena), and *total, how many there are in all. */
ks_rc ks_store_layer_manifest(struct soap *soap, MYSQL *conn, int offset, int limit,
                              ks_layer_row_t **layers, int *count, long long *total);

/* The art of layer item_id/layer_no: the current one, or with sha256 (else
 * NULL) the art of that sha256, current or replaced since (from
 * item_layer_archive). *sha256_out and png are in the arena. KS_NOTFOUND,
 * without a message, when there is none. */
ks_rc ks_store_layer_art(struct soap *soap, MYSQL *conn, int item_id, int layer_no,
                         const char *sha256, char **sha256_out, struct xsd__base64Binary *png);

/* The background of scene scene_id, as ks_store_layer_art. */
ks_rc ks_store_scene_art(struct soap *soap, MYSQL *conn, int scene_id, char **sha256_out,
                         struct xsd__base64Binary *png);
#endif
