/* store_catalog.h: SQL of the catalog tables (items, item_layers) for the
 * operations that list items. Functions write their error into ctx->err and
 * return a ks_rc; results are allocated in the request's arena. */
#ifndef KS_API_STORE_CATALOG_H
#define KS_API_STORE_CATALOG_H

#include "store.h"

/* Adds row, the next of item's layer rows by layer_no, to item->layer
 * (allocated for KS_LAYERS_PER_ITEM_MAX): a layer, or a frame of one
 * (frameCount, delayMs). */
ks_rc ks_store_item_add_layer(struct soap *soap, struct ks__Item *item, const ks_layer_row_t *row);

/* Reads the layers of items[0..count) into each item's layer array, and
 * their hide rules (ks_store_items_hides). */
ks_rc ks_store_items_layers(struct soap *soap, MYSQL *conn, struct ks__Item *items, int count);

/* Reads the hide rules of items[0..count) into each item's hide array. */
ks_rc ks_store_items_hides(struct soap *soap, MYSQL *conn, struct ks__Item *items, int count);

/* Replaces item item_id's hide rules by rules[0..count) (checked by the
 * caller; their categories must exist). */
ks_rc ks_store_item_hides_set(ks_api_ctx_t *ctx, MYSQL *conn, int item_id,
                              const struct ks__HideRule *rules, int count);

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

/* The items matching search (at most search->limit, by id, with their
 * layers: ks_store_items_layers) into *items / *count; *more says whether more follow, *total
 * (with count_total) how many match on every page. */
ks_rc ks_store_search_items(struct soap *soap, MYSQL *conn, const ks_item_search_t *search,
                            struct ks__Item **items, int *count, int *more, long long *total);

/* A category row. */
typedef struct {
    int id;
    char name[257];                /* VARCHAR(64) of utf8mb4 */
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
/* Every category by z-order, or the one called name (else NULL), into
 * *rows (the arena, never NULL on KS_OK). */
ks_rc ks_store_categories(struct soap *soap, MYSQL *conn, const char *name,
                          ks_category_row_t **rows, int *count);

/* Inserts the category of row (its id and default item are not read) and
 * sets *id. KS_CONFLICT when the name is taken. */
ks_rc ks_store_category_insert(ks_api_ctx_t *ctx, MYSQL *conn, const ks_category_row_t *row,
                               int *id);

/* Inserts an item (status: draft | published, checked by the caller) and
 * sets *id. KS_CONFLICT when the name is taken. */
ks_rc ks_store_item_insert(ks_api_ctx_t *ctx, MYSQL *conn, int category_id, const char *name,
                           const char *status, int price, int *id);

/* Changes item id's name (NULL: kept), price (NULL: kept) and status (NULL:
 * kept; draft | published | retired, checked by the caller). KS_CONFLICT
 * when the name is another item's. */
ks_rc ks_store_item_update(ks_api_ctx_t *ctx, MYSQL *conn, int id, const char *name,
                           const int *price, const char *status);

/* What an item's change must know, read with the item's row locked
 * (ks_store_item_lock). */
typedef struct {
    int category_z;                /* its category's z-order (with_category) */
    char default_of[257];          /* the category it is the default of, or "" */
} ks_item_lock_t;

/* Locks item id's row until the transaction ends, with_category its
 * category's too, and fills *out. KS_NOTFOUND when there is no such item. */
ks_rc ks_store_item_lock(ks_api_ctx_t *ctx, MYSQL *conn, int id, int with_category,
                         ks_item_lock_t *out);

/* How many members wear item id. */
ks_rc ks_store_item_worn_by(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long *count);

/* Inserts a layer or a frame of one (layer->item_id, layer_no, z_order,
 * place, tintable, role, sha256, delay_ms) with its canonical PNG. */
ks_rc ks_store_layer_insert(ks_api_ctx_t *ctx, MYSQL *conn, const ks_layer_row_t *layer,
                            const unsigned char *png, size_t size);

/* The layers of item id by layer number, at most max, into layers. */
ks_rc ks_store_layers_of_item(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_layer_row_t *layers,
                              int max, int *count);

/* Moves item id's layers to item_layer_archive (album photos drawn with
 * them keep them) and deletes them from item_layers. */
ks_rc ks_store_layers_archive(ks_api_ctx_t *ctx, MYSQL *conn, int id);

/* ---- Time-limited items ------------------------------------------------------------- */

/* An item's window: Unix times, -1 where it is open; open says whether the
 * database's now is inside it. */
typedef struct {
    long long from, until;
    int open;
} ks_item_window_t;

/* Item id's window (KS_NOTFOUND when there is no such item). */
ks_rc ks_store_item_window(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_item_window_t *out);

/* KS_OK when item id is inside its window now; else KS_CONFLICT, the
 * message naming the window and what (as "granted", "put on") it cannot be. */
ks_rc ks_store_item_available(ks_api_ctx_t *ctx, MYSQL *conn, int id, const char *what);

/* Sets item id's window (-1: open on that side). */
ks_rc ks_store_item_window_set(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long from,
                               long long until);

#endif
