/* op_catalog.c: the catalog operations: RegisterCategory, RegisterItem,
 * ListCategories, ListItems, GetItem, UpdateItem, RetireItem.
 *
 * RegisterItem takes full-canvas PNGs, decodes them under limits, trims each
 * to its bounding box and stores that canonical PNG in item_layers, then
 * pushes the layers to every active image server. A push that fails is
 * recorded in item_replicas; an avatar composed on that server later repairs
 * it (see render.c).
 *
 * UpdateItem with new art archives the old layers (album photos refer to
 * them), stores and pushes the new ones and, in the same transaction, queues
 * every avatar wearing the item in render_queue, which the renderer threads
 * work off (render.c). RetireItem only changes the status: owners keep the
 * item and whoever wears it keeps it on (so no avatar changes under a
 * member's feet), but it cannot be granted, listed or put on again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image_client.h"
#include "log.h"
#include "png_codec.h"
#include "sha256.h"
#include "store_catalog.h"


/* ---- RegisterCategory ------------------------------------------------------ */

int ks__RegisterCategory(struct soap *soap, char *name, int zOrder, enum xsd__boolean exclusive,
                         enum xsd__boolean required, struct ks__RegisterCategoryResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    struct ks__Category *c;
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64))
        return soap->error;
    if (zOrder < -100000 || zOrder > 100000)
        return ks_fault(soap, "InvalidArgument", "zOrder must be -100000..100000");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO categories (name, z_order, exclusive, required) VALUES (");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", %d, %d, %d)", zOrder, exclusive == true_, required == true_);
    rc = ks_store_run(ctx, conn, &sql, NULL);
    if (rc == KS_CONFLICT)
        return ks_fault(soap, "Conflict", "a category named \"%s\" already exists", name);
    if (rc != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);

    c = soap_new_ks__Category(soap, -1);
    if (!c)
        return soap->error = SOAP_EOM;
    c->id = (int)mysql_insert_id(conn);
    c->name = name;
    c->zOrder = zOrder;
    c->exclusive = exclusive == true_ ? true_ : false_;
    c->required = required == true_ ? true_ : false_;
    response->category = c;
    ks_log_info("category %d \"%s\" registered", c->id, name);
    return SOAP_OK;
}

/* ---- ListCategories ------------------------------------------------------------ */

int ks__ListCategories(struct soap *soap, char *name, struct ks__ListCategoriesResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0;

    if (ks_auth_require(soap, KS_ROLE_SITE) || (name && ks_check_text(soap, "name", name, 64)))
        return soap->error;
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, name, z_order, exclusive, required, default_item_id"
                     " FROM categories");
    if (name) {
        ks_buf_addf(&sql, " WHERE name = ");
        ks_sql_str(&sql, conn, name);
    }
    ks_buf_addf(&sql, " ORDER BY z_order, id");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->category = soap_new_ks__Category(soap, (int)mysql_num_rows(res) + 1);
    if (!response->category) {
        mysql_free_result(res);
        return soap->error = SOAP_EOM;
    }
    while ((row = mysql_fetch_row(res))) {
        struct ks__Category *c = &response->category[n++];
        c->id = atoi(row[0]);
        c->name = soap_strdup(soap, row[1]);
        c->zOrder = atoi(row[2]);
        c->exclusive = atoi(row[3]) ? true_ : false_;
        c->required = atoi(row[4]) ? true_ : false_;
        if (row[5]) {
            c->defaultItemId = soap_malloc(soap, sizeof(int));
            if (c->defaultItemId)
                *c->defaultItemId = atoi(row[5]);
        }
    }
    response->__sizecategory = n;
    mysql_free_result(res);
    return SOAP_OK;
}

/* ---- RegisterItem ------------------------------------------------------------------ */

typedef struct {
    unsigned char *png;           /* canonical (trimmed) PNG, malloc'd */
    size_t png_size;
    int x, y, width, height, z_order;
    char sha256[KS_SHA256_HEX_SIZE];
} prepared_layer_t;

/* Decodes one uploaded layer, checks it against the canvas and trims it. */
static ks_rc prepare_layer(ks_api_ctx_t *ctx, int index, const struct ks__LayerInput *in,
                           prepared_layer_t *out)
{
    const ks_api_conf_t *conf = ctx->conf;
    ks_png_limits_t limits;
    ks_image_t image = {0}, trimmed = {0};
    ks_err_t why;
    ks_rc rc;

    if (!in->png.__ptr || in->png.__size <= 0)
        return ks_err(&ctx->err, KS_INVALID, "layer %d: png is required", index);
    if (in->zOrder && (*in->zOrder < -100000 || *in->zOrder > 100000))
        return ks_err(&ctx->err, KS_INVALID, "layer %d: zOrder must be -100000..100000", index);
    if ((size_t)in->png.__size > conf->max_layer_bytes)
        return ks_err(&ctx->err, KS_TOOLARGE, "layer %d: PNG is %d bytes, over the %zu-byte limit",
                      index, in->png.__size, conf->max_layer_bytes);
    ks_png_limits_default(&limits);
    limits.max_width = (uint32_t)conf->canvas_width;
    limits.max_height = (uint32_t)conf->canvas_height;
    rc = ks_png_decode(in->png.__ptr, (size_t)in->png.__size, &limits, &image, &why);
    if (rc == KS_TOOLARGE)   /* larger than the canvas: the caller's mistake, not a size limit */
        rc = KS_INVALID;
    if (rc != KS_OK)
        return ks_err(&ctx->err, rc, "layer %d: %s", index, why.msg);
    if (image.width != (uint32_t)conf->canvas_width || image.height != (uint32_t)conf->canvas_height) {
        rc = ks_err(&ctx->err, KS_INVALID, "layer %d: PNG is %ux%u; layers must be %dx%d (the canvas)",
                    index, image.width, image.height, conf->canvas_width, conf->canvas_height);
        goto done;
    }
    if ((rc = ks_image_trim(&image, &trimmed, &out->x, &out->y, &why)) != KS_OK) {
        ks_err(&ctx->err, rc, "layer %d: %s", index, why.msg);
        goto done;
    }
    out->width = (int)trimmed.width;
    out->height = (int)trimmed.height;
    if ((rc = ks_png_encode(&trimmed, 9, &out->png, &out->png_size, &why)) != KS_OK) {
        ks_err(&ctx->err, rc, "layer %d: %s", index, why.msg);
        goto done;
    }
    ks_sha256_hex(out->png, out->png_size, out->sha256);
done:
    ks_image_free(&image);
    ks_image_free(&trimmed);
    return rc;
}

/* Inserts the item's layers (z-order: the given one, or the category's). */
static ks_rc insert_layers(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int category_z,
                           prepared_layer_t *layers, int count, const struct ks__LayerInput *in)
{
    for (int i = 0; i < count; i++) {
        prepared_layer_t *l = &layers[i];
        ks_buf_t sql;
        ks_rc rc;

        l->z_order = in[i].zOrder ? *in[i].zOrder : category_z;
        ks_buf_init(&sql, ctx->conf->max_layer_bytes * 2 + 4096);
        ks_buf_addf(&sql, "INSERT INTO item_layers (item_id, layer_no, z_order, x, y, width, height,"
                         " sha256, png) VALUES (%d, %d, %d, %d, %d, %d, %d, '%s', ",
                   item_id, i, l->z_order, l->x, l->y, l->width, l->height, l->sha256);
        ks_sql_blob(&sql, conn, l->png, l->png_size);
        ks_buf_addf(&sql, ")");
        if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

/* Stores the item and its layers in one transaction; fills *item_id. */
static ks_rc insert_item(ks_api_ctx_t *ctx, MYSQL *conn, int category_id, const char *name,
                         int price, const char *status, int make_default,
                         prepared_layer_t *layers, int count, struct ks__LayerInput *in,
                         int *item_id)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    int category_z;
    ks_rc rc;

    if ((rc = ks_store_begin(ctx, conn)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT z_order FROM categories WHERE id = %d FOR UPDATE", category_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        goto fail;
    row = mysql_fetch_row(res);
    category_z = row ? atoi(row[0]) : 0;
    mysql_free_result(res);
    if (!row) {
        rc = ks_err(&ctx->err, KS_NOTFOUND, "category %d not found", category_id);
        goto fail;
    }

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO items (category_id, name, status, price) VALUES (%d, ",
               category_id);
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", '%s', %d)", status, price);
    rc = ks_store_run(ctx, conn, &sql, NULL);
    if (rc == KS_CONFLICT)
        ks_err(&ctx->err, KS_CONFLICT, "an item named \"%s\" already exists", name);
    if (rc != KS_OK)
        goto fail;
    *item_id = (int)mysql_insert_id(conn);

    if ((rc = insert_layers(ctx, conn, *item_id, category_z, layers, count, in)) != KS_OK)
        goto fail;
    if (make_default) {
        ks_buf_init(&sql, 256);
        ks_buf_addf(&sql, "UPDATE categories SET default_item_id = %d WHERE id = %d", *item_id,
                   category_id);
        if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
            goto fail;
    }
    if ((rc = ks_store_commit(ctx, conn)) != KS_OK)
        goto fail;
    return KS_OK;
fail:
    ks_store_rollback(ctx, conn);
    return rc;
}

/* Pushes the layers to every active image server and records the outcome. */
static void push_layers(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, const prepared_layer_t *layers,
                        int count)
{
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count;

    if (ks_store_active_image_servers(ctx, conn, servers, KS_IMAGE_SERVERS_MAX, &server_count))
        return;
    for (int s = 0; s < server_count; s++) {
        for (int i = 0; i < count; i++) {
            ks_rc rc = ks_image_put_layer(ctx, &servers[s], item_id, i, layers[i].png,
                                          layers[i].png_size, layers[i].sha256, 0);
            ks_err_t ignored;
            ks_buf_t sql;

            ks_buf_init(&sql, 1024);
            ks_buf_addf(&sql, "INSERT INTO item_replicas (image_server_id, item_id, layer_no, sha256,"
                             " state, last_error) VALUES (%d, %d, %d, '%s', '%s', ",
                       servers[s].id, item_id, i, layers[i].sha256, rc == KS_OK ? "ok" : "failed");
            ks_sql_str(&sql, conn, rc == KS_OK ? NULL : ctx->err.msg);
            ks_buf_addf(&sql, ") ON DUPLICATE KEY UPDATE sha256 = VALUES(sha256), state = VALUES(state),"
                             " attempts = attempts + 1, last_error = VALUES(last_error)");
            ks_sql_run(&sql, ctx->db, conn, NULL, &ignored);
            ks_buf_free(&sql);
        }
    }
}

static struct ks__Item *item_response(struct soap *soap, int id, int category_id, const char *name,
                                      const char *status, int price,
                                      const prepared_layer_t *layers, int count)
{
    struct ks__Item *item = soap_new_ks__Item(soap, -1);
    if (!item)
        return NULL;
    item->id = id;
    item->categoryId = category_id;
    item->name = soap_strdup(soap, name);
    item->status = soap_strdup(soap, status);
    item->price = price;
    item->layer = soap_new_ks__Layer(soap, count);
    if (!item->layer)
        return NULL;
    item->__sizelayer = count;
    for (int i = 0; i < count; i++) {
        struct ks__Layer *l = &item->layer[i];
        l->layerNo = i;
        l->zOrder = layers[i].z_order;
        l->x = layers[i].x;
        l->y = layers[i].y;
        l->width = layers[i].width;
        l->height = layers[i].height;
        l->sha256 = soap_strdup(soap, layers[i].sha256);
    }
    return item;
}

int ks__RegisterItem(struct soap *soap, int categoryId, char *name, int price, char *status,
                     enum xsd__boolean *makeDefault, int __sizelayer,
                     struct ks__LayerInput *layer, struct ks__RegisterItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    prepared_layer_t layers[KS_LAYERS_PER_ITEM_MAX] = {{0}};
    int count = __sizelayer, item_id = 0;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 128))
        return soap->error;
    if (!status)
        status = "published";
    if (strcmp(status, "published") != 0 && strcmp(status, "draft") != 0)
        return ks_fault(soap, "InvalidArgument", "status must be draft or published");
    if (price < 0 || price > 1000000000)
        return ks_fault(soap, "InvalidArgument", "price must be 0..1000000000");
    if (count < 1 || count > ctx->conf->max_layers || count > KS_LAYERS_PER_ITEM_MAX)
        return ks_fault(soap, "InvalidArgument", "an item needs 1..%d layers, not %d",
                        ctx->conf->max_layers, count);

    for (int i = 0; i < count; i++)
        if ((rc = prepare_layer(ctx, i, &layer[i], &layers[i])) != KS_OK)
            goto done;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        goto done;
    rc = insert_item(ctx, conn, categoryId, name, price, status,
                     makeDefault && *makeDefault == true_, layers, count, layer, &item_id);
    if (rc != KS_OK)
        goto done;
    ks_log_info("item %d \"%s\" registered with %d layers", item_id, name, count);
    push_layers(ctx, conn, item_id, layers, count);
    response->item = item_response(soap, item_id, categoryId, name, status, price, layers, count);
    if (!response->item)
        rc = ks_err(&ctx->err, KS_NOMEM, "out of memory");
done:
    for (int i = 0; i < count && i < KS_LAYERS_PER_ITEM_MAX; i++)
        free(layers[i].png);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- ListItems ------------------------------------------------------------------------ */

int ks__ListItems(struct soap *soap, int *categoryId, int *offset, int *limit,
                  struct ks__ListItemsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_item_search_t search = {.status = "published", .count_total = 1};
    long long total = 0;
    MYSQL *conn;
    ks_rc rc;
    int more;

    if (ks_auth_require(soap, KS_ROLE_SITE) ||
        ks_check_page(soap, offset, limit, &search.offset, &search.limit))
        return soap->error;
    search.category_id = categoryId ? *categoryId : 0;
    if (categoryId && *categoryId < 1)
        search.item_id = -1;                 /* no category has such an id: no item */
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_search_items(soap, conn, &search, &response->item, &response->__sizeitem,
                                    &more, &total)) != KS_OK ||
        (rc = ks_store_items_layers(soap, conn, response->item, response->__sizeitem)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->total = (int)total;
    return SOAP_OK;
}

/* ---- GetItem ------------------------------------------------------------------------- */

/* Reads item id with its layers into *out (the arena). */
static ks_rc load_item(struct soap *soap, MYSQL *conn, int id, struct ks__Item **out)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_item_search_t search = {.item_id = id, .limit = 1};
    long long total;
    int count, more;
    ks_rc rc;

    if (id < 1)
        return ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", id);
    if ((rc = ks_store_search_items(soap, conn, &search, out, &count, &more, &total)) != KS_OK)
        return rc;
    if (count == 0)
        return ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", id);
    return ks_store_items_layers(soap, conn, *out, 1);
}

int ks__GetItem(struct soap *soap, int itemId, struct ks__GetItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE))
        return soap->error;
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    rc = load_item(soap, conn, itemId, &response->item);
    /* just registered: the replica may not have it yet */
    if (rc == KS_NOTFOUND && (rc = ks_db_master(ctx->db, &conn, &ctx->err)) == KS_OK)
        rc = load_item(soap, conn, itemId, &response->item);
    /* drafts are the staff's business */
    if (rc == KS_OK && strcmp(response->item->status, "draft") == 0 &&
        !(ctx->roles & KS_ROLE_ADMIN))
        rc = ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", itemId);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- UpdateItem ---------------------------------------------------------------------- */

/* 1 when layers are exactly the item's stored ones (same hashes, places and
 * z-orders), so new art is no change. */
static ks_rc same_art(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, const prepared_layer_t *layers,
                      int count, const struct ks__LayerInput *in, int category_z, int *same)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0;

    *same = 1;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT layer_no, z_order, x, y, sha256 FROM item_layers WHERE item_id = %d"
                " ORDER BY layer_no", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res))) {
        int z = n < count && in[n].zOrder ? *in[n].zOrder : category_z;
        if (n >= count || atoi(row[0]) != n || atoi(row[1]) != z || atoi(row[2]) != layers[n].x ||
            atoi(row[3]) != layers[n].y || strcmp(row[4], layers[n].sha256) != 0)
            *same = 0;
        n++;
    }
    mysql_free_result(res);
    if (n != count)
        *same = 0;
    return KS_OK;
}

/* Replaces the item's layers: archives the old ones, forgets where they were
 * pushed and queues every avatar wearing the item. */
static ks_rc replace_art(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int category_z,
                         prepared_layer_t *layers, int count, const struct ks__LayerInput *in,
                         int *queued)
{
    ks_buf_t sql;
    ks_rc rc;
    long long number;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT IGNORE INTO item_layer_archive (item_id, layer_no, sha256, z_order,"
                " x, y, width, height, png) SELECT item_id, layer_no, sha256, z_order, x, y,"
                " width, height, png FROM item_layers WHERE item_id = %d", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM item_layers WHERE item_id = %d", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK ||
        (rc = insert_layers(ctx, conn, item_id, category_z, layers, count, in)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM item_replicas WHERE item_id = %d", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO render_queue (member_id, reason) SELECT member_id,"
                " 'new art of item %d' FROM outfit WHERE item_id = %d ON DUPLICATE KEY UPDATE"
                " reason = VALUES(reason), not_before = LEAST(not_before, NOW(3)), attempts = 0",
                item_id, item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM outfit WHERE item_id = %d", item_id);
    if ((rc = ks_store_int(ctx, conn, &sql, &number)) != KS_OK)
        return rc;
    *queued = (int)number;
    return KS_OK;
}

typedef struct {
    const char *name;             /* NULL: unchanged */
    const int *price;
    const char *status;
    prepared_layer_t *layers;     /* count 0: unchanged */
    int count;
    const struct ks__LayerInput *in;
} item_change_t;

static ks_rc update_item(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, const item_change_t *change,
                         int *queued, int *art_changed)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    int category_z = 0, same = 1;
    ks_rc rc;

    *queued = 0;
    *art_changed = 0;
    if ((rc = ks_store_begin(ctx, conn)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT c.z_order, d.name FROM items i JOIN categories c ON c.id = i.category_id"
                " LEFT JOIN categories d ON d.default_item_id = i.id WHERE i.id = %d FOR UPDATE",
                item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        goto fail;
    row = mysql_fetch_row(res);
    if (!row)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", item_id);
    else if (row[1] && change->status && strcmp(change->status, "published") != 0)
        rc = ks_err(&ctx->err, KS_CONFLICT, "item %d is the default item of category \"%s\" and "
                    "must stay published", item_id, row[1]);
    else
        category_z = atoi(row[0]);
    mysql_free_result(res);
    if (rc != KS_OK)
        goto fail;
    if (change->name || change->price || change->status) {
        ks_buf_init(&sql, 1024);
        ks_buf_addf(&sql, "UPDATE items SET id = id");
        if (change->name) {
            ks_buf_addf(&sql, ", name = ");
            ks_sql_str(&sql, conn, change->name);
        }
        if (change->price)
            ks_buf_addf(&sql, ", price = %d", *change->price);
        if (change->status)
            ks_buf_addf(&sql, ", status = '%s'", change->status);   /* checked: draft | published */
        ks_buf_addf(&sql, " WHERE id = %d", item_id);
        rc = ks_store_run(ctx, conn, &sql, NULL);
        if (rc == KS_CONFLICT)
            ks_err(&ctx->err, KS_CONFLICT, "an item named \"%s\" already exists", change->name);
        if (rc != KS_OK)
            goto fail;
    }
    if (change->count > 0) {
        if ((rc = same_art(ctx, conn, item_id, change->layers, change->count, change->in,
                           category_z, &same)) != KS_OK)
            goto fail;
        if (!same && (rc = replace_art(ctx, conn, item_id, category_z, change->layers,
                                       change->count, change->in, queued)) != KS_OK)
            goto fail;
        *art_changed = !same;
    }
    if ((rc = ks_store_commit(ctx, conn)) != KS_OK)
        goto fail;
    return KS_OK;
fail:
    ks_store_rollback(ctx, conn);
    return rc;
}

int ks__UpdateItem(struct soap *soap, int itemId, char *name, int *price, char *status,
                   int __sizelayer, struct ks__LayerInput *layer,
                   struct ks__UpdateItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    prepared_layer_t layers[KS_LAYERS_PER_ITEM_MAX] = {{0}};
    item_change_t change = {name, price, status, layers, __sizelayer, layer};
    int count = __sizelayer, queued = 0, art_changed = 0;
    MYSQL *conn;
    ks_rc rc = KS_OK;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || (name && ks_check_text(soap, "name", name, 128)))
        return soap->error;
    if (status && strcmp(status, "published") != 0 && strcmp(status, "draft") != 0)
        return ks_fault(soap, "InvalidArgument", "status must be draft or published "
                        "(RetireItem retires an item)");
    if (price && (*price < 0 || *price > 1000000000))
        return ks_fault(soap, "InvalidArgument", "price must be 0..1000000000");
    if (count < 0 || count > ctx->conf->max_layers || count > KS_LAYERS_PER_ITEM_MAX)
        return ks_fault(soap, "InvalidArgument", "new art needs 1..%d layers, not %d",
                        ctx->conf->max_layers, count);
    if (!name && !price && !status && count == 0)
        return ks_fault(soap, "InvalidArgument", "nothing to change: give a name, price, status "
                        "or layers");

    for (int i = 0; i < count; i++)
        if ((rc = prepare_layer(ctx, i, &layer[i], &layers[i])) != KS_OK)
            goto done;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = update_item(ctx, conn, itemId, &change, &queued, &art_changed)) != KS_OK)
        goto done;
    if (art_changed) {
        ks_log_info("item %d has new art (%d layers); %d avatars queued to be composed again",
                    itemId, count, queued);
        push_layers(ctx, conn, itemId, layers, count);
        ks_renderer_wake();
    } else {
        ks_log_info("item %d updated", itemId);
    }
    response->avatarsQueued = queued;
    rc = load_item(soap, conn, itemId, &response->item);
done:
    for (int i = 0; i < count && i < KS_LAYERS_PER_ITEM_MAX; i++)
        free(layers[i].png);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- RetireItem ---------------------------------------------------------------------- */

/* RetireItem's transaction (ks_store_txn): retires item_id and counts the
 * avatars that keep wearing it. */
typedef struct {
    int item_id;
    int *worn_by;
} item_retire_t;

static ks_rc retire_item(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const item_retire_t *r = arg;
    int item_id = r->item_id;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    long long number;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT i.id, c.name FROM items i LEFT JOIN categories c"
                " ON c.default_item_id = i.id WHERE i.id = %d FOR UPDATE", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (!row)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", item_id);
    else if (row[1])
        rc = ks_err(&ctx->err, KS_CONFLICT, "item %d is the default item of category \"%s\": "
                    "make another item the default first", item_id, row[1]);
    mysql_free_result(res);
    if (rc != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE items SET status = 'retired' WHERE id = %d", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM outfit WHERE item_id = %d", item_id);
    if ((rc = ks_store_int(ctx, conn, &sql, &number)) != KS_OK)
        return rc;
    *r->worn_by = (int)number;
    return KS_OK;
}

int ks__RetireItem(struct soap *soap, int itemId, struct ks__RetireItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    int worn_by = 0;
    item_retire_t retire = {.item_id = itemId, .worn_by = &worn_by};
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, retire_item, &retire)) != KS_OK ||
        (rc = load_item(soap, conn, itemId, &response->item)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("item %d retired; %d avatars keep wearing it", itemId, worn_by);
    response->wornBy = worn_by;
    return SOAP_OK;
}
