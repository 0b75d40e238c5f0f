/* store_catalog.c: SQL of items and item_layers for the listing operations
 * (store_catalog.h). */
#include "store_catalog.h"
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The rows of "<select> IN (<the ids of items[0..count)>) <order>" into
 * the arena, mapped by cols. */
static ks_rc rows_of_items(struct soap *soap, MYSQL *conn, const char *select, const char *order,
                           const struct ks__Item *items, int count, const ks_col_t *cols,
                           int ncols, size_t elem, void **rows, int *row_count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "%s IN (", select);
    for (int i = 0; i < count; i++)
        ks_buf_addf(&sql, "%s%d", i ? ", " : "", items[i].id);
    ks_buf_addf(&sql, ") %s", order);
    return ks_store_rows_arena(soap, conn, &sql, cols, ncols, elem, rows, row_count);
}

ks_rc ks_store_item_add_layer(struct soap *soap, struct ks__Item *item, const ks_layer_row_t *row)
{
    struct ks__Layer *l = NULL;

    if (row->layer_no >= KS_FRAME_STEP) {          /* a frame: its layer's delays grow */
        for (int i = 0; i < item->__sizelayer && !l; i++)
            if (item->layer[i].layerNo == row->layer_no % KS_FRAME_STEP)
                l = &item->layer[i];
        if (l && l->delayMs && l->__sizedelayMs < KS_FRAMES_MAX) {
            l->delayMs[l->__sizedelayMs++] = row->delay_ms;
            *l->frameCount = l->__sizedelayMs;
        }
        return KS_OK;
    }
    if (item->__sizelayer >= KS_LAYERS_PER_ITEM_MAX)
        return KS_OK;
    l = &item->layer[item->__sizelayer++];
    l->layerNo = row->layer_no;
    l->zOrder = row->z_order;
    l->x = row->x;
    l->y = row->y;
    l->width = row->width;
    l->height = row->height;
    l->tintable = row->tintable ? true_ : false_;
    if (!(l->sha256 = soap_strdup(soap, row->sha256)) || !(l->role = soap_strdup(soap, row->role)))
        return ks_err(&ks_api_ctx(soap)->err, KS_NOMEM, "out of memory");
    if (row->delay_ms > 0) {                       /* animated: frame 0 */
        l->frameCount = soap_malloc(soap, sizeof *l->frameCount);
        l->delayMs = soap_malloc(soap, KS_FRAMES_MAX * sizeof *l->delayMs);
        if (!l->frameCount || !l->delayMs)
            return ks_err(&ks_api_ctx(soap)->err, KS_NOMEM, "out of memory");
        *l->frameCount = l->__sizedelayMs = 1;
        l->delayMs[0] = row->delay_ms;
    }
    return KS_OK;
}

ks_rc ks_store_items_layers(struct soap *soap, MYSQL *conn, struct ks__Item *items, int count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_layer_row_t *rows;
    int row_count;
    ks_rc rc;

    if (count == 0)
        return KS_OK;
    if ((rc = rows_of_items(soap, conn, KS_LAYER_SELECT " FROM item_layers l WHERE l.item_id",
                            "ORDER BY l.item_id, l.layer_no", items, count, KS_LAYER_COLS,
                            sizeof *rows, (void **)&rows, &row_count)) != KS_OK)
        return rc;
    for (int i = 0; i < count; i++)
        if (!(items[i].layer = soap_new_ks__Layer(soap, KS_LAYERS_PER_ITEM_MAX)))
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int r = 0; r < row_count; r++)
        for (int i = 0; i < count; i++)
            if (items[i].id == rows[r].item_id &&
                (rc = ks_store_item_add_layer(soap, &items[i], &rows[r])) != KS_OK)
                return rc;
    return ks_store_items_hides(soap, conn, items, count);
}

/* An item_hides row (hide rules). */
typedef struct {
    int item_id, category_id, has_role;
    char role[KS_LAYER_ROLE_MAX + 1];
} hide_row_t;

static const ks_col_t hide_cols[] = KS_COLUMNS(hide_row_t, item_id, category_id, has_role, role);

ks_rc ks_store_items_hides(struct soap *soap, MYSQL *conn, struct ks__Item *items, int count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    hide_row_t *rows;
    int row_count;
    ks_rc rc;

    if (count == 0)
        return KS_OK;
    if ((rc = rows_of_items(soap, conn, "SELECT item_id, category_id, role IS NOT NULL, role"
                            " FROM item_hides WHERE item_id", "ORDER BY item_id, seq", items,
                            count, KS_COLS(hide_cols), sizeof *rows, (void **)&rows,
                            &row_count)) != KS_OK)
        return rc;
    for (int i = 0; i < count; i++) {
        items[i].__sizehide = 0;
        if (!(items[i].hide = soap_new_ks__HideRule(soap, KS_HIDES_PER_ITEM_MAX)))
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        for (int r = 0; r < row_count; r++) {
            struct ks__HideRule *h;
            if (rows[r].item_id != items[i].id || items[i].__sizehide >= KS_HIDES_PER_ITEM_MAX)
                continue;
            h = &items[i].hide[items[i].__sizehide++];
            h->categoryId = rows[r].category_id;
            h->role = rows[r].has_role ? rows[r].role : NULL;   /* in the arena, with rows */
        }
    }
    return KS_OK;
}

ks_rc ks_store_item_hides_set(ks_api_ctx_t *ctx, MYSQL *conn, int item_id,
                              const struct ks__HideRule *rules, int count)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM item_hides WHERE item_id = %d", item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK || count == 0)
        return rc;
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "INSERT INTO item_hides (item_id, seq, category_id, role) VALUES ");
    for (int i = 0; i < count; i++) {
        ks_buf_addf(&sql, "%s(%d, %d, %d, ", i ? ", " : "", item_id, i, rules[i].categoryId);
        if (rules[i].role)
            ks_sql_str(&sql, conn, rules[i].role);
        else
            ks_buf_addf(&sql, "NULL");
        ks_buf_addf(&sql, ")");
    }
    return ks_store_run(ctx, conn, &sql, NULL);
}

/* Appends the WHERE clause of search (without the page's id bound). */
static void where(ks_buf_t *sql, MYSQL *conn, const ks_item_search_t *search)
{
    ks_buf_addf(sql, " WHERE 1 = 1");
    if (search->item_id)
        ks_buf_addf(sql, " AND id = %d", search->item_id);
    if (search->category_id)
        ks_buf_addf(sql, " AND category_id = %d", search->category_id);
    if (search->status) {
        ks_buf_addf(sql, " AND status = ");
        ks_sql_str(sql, conn, search->status);
    }
    if (search->name_contains) {
        ks_buf_addf(sql, " AND name LIKE ");
        ks_sql_like(sql, conn, search->name_contains, 1);
    }
}

/* An items row (without its layers): SELECT ITEM_COLUMNS FROM items ... */
#define ITEM_COLUMNS "id, category_id, name, status, price, " WINDOW_COLUMNS
#define WINDOW_COLUMNS "IFNULL(UNIX_TIMESTAMP(available_from), -1)," \
    " IFNULL(UNIX_TIMESTAMP(available_until), -1)"
typedef struct {
    int id, category_id;
    char name[513];                /* VARCHAR(128) of utf8mb4 */
    char status[16];
    int price;
    long long available_from, available_until;    /* Unix time; -1: open */
} item_row_t;

static const ks_col_t item_cols[] = KS_COLUMNS(item_row_t, id, category_id, name, status, price,
    available_from, available_until);

ks_rc ks_store_search_items(struct soap *soap, MYSQL *conn, const ks_item_search_t *search,
                            struct ks__Item **items, int *count, int *more, long long *total)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    item_row_t *rows;
    ks_buf_t sql;
    int row_count;
    ks_rc rc;

    *total = 0;
    if (search->count_total) {
        ks_buf_init(&sql, 1024);
        ks_buf_addf(&sql, "SELECT COUNT(*) FROM items");
        where(&sql, conn, search);
        if ((rc = ks_store_int(ctx, conn, &sql, total)) != KS_OK)
            return rc;
    }
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT " ITEM_COLUMNS " FROM items");
    where(&sql, conn, search);
    /* one row beyond the page says whether another page follows */
    ks_buf_addf(&sql, " AND id > %d ORDER BY id LIMIT %d", search->after_id, search->limit + 1);
    if (search->offset)
        ks_buf_addf(&sql, " OFFSET %d", search->offset);
    if ((rc = ks_store_rows_arena(soap, conn, &sql, KS_COLS(item_cols), sizeof *rows,
                                  (void **)&rows, &row_count)) != KS_OK)
        return rc;
    *more = row_count > search->limit;
    *count = *more ? search->limit : row_count;
    if (!(*items = soap_new_ks__Item(soap, row_count + 1)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < *count; i++) {
        struct ks__Item *item = &(*items)[i];
        item->id = rows[i].id;
        item->categoryId = rows[i].category_id;
        item->name = rows[i].name;           /* in the arena, with rows */
        item->status = rows[i].status;
        item->price = rows[i].price;
        item->availableFrom = ks_cluster_time(soap, rows[i].available_from);
        item->availableUntil = ks_cluster_time(soap, rows[i].available_until);
    }
    return ks_store_items_layers(soap, conn, *items, *count);
}

/* categories rows as ks_category_row_t: CATEGORY_SELECT " WHERE ..." */
#define CATEGORY_SELECT "SELECT id, name, z_order, exclusive, required, default_item_id" \
                        " FROM categories"
static const ks_col_t category_cols[] = KS_COLUMNS(ks_category_row_t, id, name, z_order, exclusive,
    required, default_item_id);

ks_rc ks_store_category(ks_api_ctx_t *ctx, MYSQL *conn, int id, int for_update,
                        ks_category_row_t *out)
{
    ks_rc rc = ks_store_onef(ctx, conn, KS_COLS(category_cols), out,
                             for_update ? CATEGORY_SELECT " WHERE id = %d FOR UPDATE"
                                        : CATEGORY_SELECT " WHERE id = %d", id);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "category %d not found", id) : rc;
}

ks_rc ks_store_item_category(ks_api_ctx_t *ctx, MYSQL *conn, int id, int *category_id,
                             char *status)
{
    item_row_t row;
    ks_rc rc;

    if ((rc = ks_store_onef(ctx, conn, KS_COLS(item_cols), &row,
                            "SELECT " ITEM_COLUMNS " FROM items WHERE id = %d", id)) != KS_OK)
        return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", id) : rc;
    *category_id = row.category_id;
    snprintf(status, 16, "%s", row.status);
    return KS_OK;
}

/* rc of a write of categories, saying a name taken (KS_CONFLICT) is name's. */
static ks_rc category_named(ks_api_ctx_t *ctx, ks_rc rc, const char *name)
{
    if (rc == KS_CONFLICT)
        return ks_err(&ctx->err, KS_CONFLICT, "a category named \"%s\" already exists", name);
    return rc;
}

ks_rc ks_store_category_update(ks_api_ctx_t *ctx, MYSQL *conn, const ks_category_row_t *row)
{
    ks_rc rc = ks_store_execf(ctx, conn, "UPDATE categories SET name = %s, z_order = %d,"
                              " exclusive = %d, required = %d, default_item_id = NULLIF(%d, 0)"
                              " WHERE id = %d", row->name, row->z_order, row->exclusive,
                              row->required, row->default_item_id, row->id);

    return category_named(ctx, rc, row->name);
}

ks_rc ks_store_layer_manifest(struct soap *soap, MYSQL *conn, int offset, int limit,
                              ks_layer_row_t **layers, int *count, long long *total)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 128);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM item_layers");
    if ((rc = ks_store_int(ks_api_ctx(soap), conn, &sql, total)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, KS_LAYER_SELECT " FROM item_layers l ORDER BY l.item_id, l.layer_no"
                " LIMIT %d OFFSET %d", limit, offset);
    return ks_store_rows_arena(soap, conn, &sql, KS_LAYER_COLS, sizeof **layers,
                               (void **)layers, count);
}

/* A row of (sha256, png) into the arena: ks_store_each's callback. */
typedef struct {
    struct soap *soap;
    char **sha256;
    struct xsd__base64Binary *png;
    int found;
} art_t;

static ks_rc art_row(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    art_t *a = arg;
    ks_api_ctx_t *ctx = ks_api_ctx(a->soap);

    a->found = 1;
    *a->sha256 = soap_strdup(a->soap, row[0]);
    a->png->__ptr = soap_malloc(a->soap, lengths[1] ? lengths[1] : 1);
    if (!*a->sha256 || !a->png->__ptr)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for a %lu-byte PNG", lengths[1]);
    memcpy(a->png->__ptr, row[1], lengths[1]);
    a->png->__size = (int)lengths[1];
    return KS_OK;
}

/* Runs sql, which selects (sha256, png) of at most one row, into the arena. */
static ks_rc read_art(struct soap *soap, MYSQL *conn, ks_buf_t *sql, char **sha256,
                      struct xsd__base64Binary *png)
{
    art_t art = {soap, sha256, png, 0};
    ks_rc rc = ks_store_each(ks_api_ctx(soap), conn, sql, art_row, &art);

    return rc == KS_OK && !art.found ? KS_NOTFOUND : rc;
}

ks_rc ks_store_layer_art(struct soap *soap, MYSQL *conn, int item_id, int layer_no,
                         const char *sha256, char **sha256_out, struct xsd__base64Binary *png)
{
    ks_buf_t sql;

    /* the current art, else the old art of that sha256 */
    ks_store_layer_art_sql(&sql, conn, item_id, layer_no, sha256, "sha256, png", "sha256, png");
    return read_art(soap, conn, &sql, sha256_out, png);
}

ks_rc ks_store_scene_art(struct soap *soap, MYSQL *conn, int scene_id, char **sha256_out,
                         struct xsd__base64Binary *png)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT sha256, png FROM scenes WHERE id = %d", scene_id);
    return read_art(soap, conn, &sql, sha256_out, png);
}

ks_rc ks_store_categories(struct soap *soap, MYSQL *conn, const char *name,
                          ks_category_row_t **rows, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, CATEGORY_SELECT);
    if (name) {
        ks_buf_addf(&sql, " WHERE name = ");
        ks_sql_str(&sql, conn, name);
    }
    ks_buf_addf(&sql, " ORDER BY z_order, id");
    return ks_store_rows_arena(soap, conn, &sql, KS_COLS(category_cols), sizeof **rows,
                               (void **)rows, count);
}

ks_rc ks_store_category_insert(ks_api_ctx_t *ctx, MYSQL *conn, const ks_category_row_t *row,
                               int *id)
{
    ks_rc rc = ks_store_execf(ctx, conn, "INSERT INTO categories (name, z_order, exclusive,"
                              " required) VALUES (%s, %d, %d, %d)", row->name, row->z_order,
                              row->exclusive, row->required);

    if (rc == KS_OK)
        *id = (int)mysql_insert_id(conn);
    return category_named(ctx, rc, row->name);
}

/* Runs sql, an INSERT or UPDATE of items, saying a name taken is name's. */
static ks_rc write_item(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const char *name)
{
    ks_rc rc = ks_store_run(ctx, conn, sql, NULL);

    if (rc == KS_CONFLICT)
        return ks_err(&ctx->err, KS_CONFLICT, "an item named \"%s\" already exists", name);
    return rc;
}

ks_rc ks_store_item_insert(ks_api_ctx_t *ctx, MYSQL *conn, int category_id, const char *name,
                           const char *status, int price, int *id)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, KS_STORE_SQL_MAX);
    ks_store_sqlf(&sql, conn, "INSERT INTO items (category_id, name, status, price)"
                  " VALUES (%d, %s, %s, %d)", category_id, name, status, price);
    if ((rc = write_item(ctx, conn, &sql, name)) != KS_OK)
        return rc;
    *id = (int)mysql_insert_id(conn);
    return KS_OK;
}

ks_rc ks_store_item_update(ks_api_ctx_t *ctx, MYSQL *conn, int id, const char *name,
                           const int *price, const char *status)
{
    ks_buf_t sql;

    /* what is NULL stays as it is */
    ks_buf_init(&sql, KS_STORE_SQL_MAX);
    ks_store_sqlf(&sql, conn, "UPDATE items SET name = COALESCE(%s, name),"
                  " price = IF(%d, %d, price), status = COALESCE(%s, status) WHERE id = %d",
                  name, price != NULL, price ? *price : 0, status, id);
    return write_item(ctx, conn, &sql, name);
}

/* The end of ks_store_item_lock's SELECT. */
#define LOCK_ITEM " LEFT JOIN categories d ON d.default_item_id = i.id WHERE i.id = %d FOR UPDATE"

static const ks_col_t item_lock_cols[] = KS_COLUMNS(ks_item_lock_t, category_z, default_of);

ks_rc ks_store_item_lock(ks_api_ctx_t *ctx, MYSQL *conn, int id, int with_category,
                         ks_item_lock_t *out)
{
    ks_rc rc = ks_store_onef(ctx, conn, KS_COLS(item_lock_cols), out,
                             with_category ? "SELECT c.z_order, d.name FROM items i"
                                             " JOIN categories c ON c.id = i.category_id" LOCK_ITEM
                                           : "SELECT 0, d.name FROM items i" LOCK_ITEM, id);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", id) : rc;
}

ks_rc ks_store_item_worn_by(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long *count)
{
    return ks_store_intf(ctx, conn, count, "SELECT COUNT(*) FROM outfit WHERE item_id = %d", id);
}

ks_rc ks_store_layer_insert(ks_api_ctx_t *ctx, MYSQL *conn, const ks_layer_row_t *layer,
                            const unsigned char *png, size_t size)
{
    ks_buf_t sql;

    ks_buf_init(&sql, size * 2 + 4096);
    ks_buf_addf(&sql, "INSERT INTO item_layers (item_id, layer_no, z_order, x, y, width, height,"
                " tintable, role, sha256, delay_ms, png) VALUES (%d, %d, %d, %d, %d, %d, %d, %d, ",
                layer->item_id, layer->layer_no, layer->z_order, layer->x, layer->y,
                layer->width, layer->height, layer->tintable ? 1 : 0);
    ks_sql_str(&sql, conn, layer->role);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, layer->sha256);
    if (layer->delay_ms > 0)
        ks_buf_addf(&sql, ", %d, ", layer->delay_ms);
    else
        ks_buf_addf(&sql, ", NULL, ");
    ks_sql_blob(&sql, conn, png, size);
    ks_buf_addf(&sql, ")");
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_layers_of_item(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_layer_row_t *layers,
                              int max, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, KS_LAYER_SELECT " FROM item_layers l WHERE l.item_id = %d"
                " ORDER BY l.layer_no", id);
    return ks_store_rows(ctx, conn, &sql, KS_LAYER_COLS, layers, sizeof *layers, max, count);
}

ks_rc ks_store_layers_archive(ks_api_ctx_t *ctx, MYSQL *conn, int id)
{
    ks_rc rc = ks_store_execf(ctx, conn, "INSERT IGNORE INTO item_layer_archive (item_id,"
                              " layer_no, sha256, z_order, x, y, width, height, png)"
                              " SELECT item_id, layer_no, sha256, z_order, x, y, width, height,"
                              " png FROM item_layers WHERE item_id = %d", id);

    if (rc != KS_OK)
        return rc;
    return ks_store_execf(ctx, conn, "DELETE FROM item_layers WHERE item_id = %d", id);
}

/* ---- Time-limited items ------------------------------------------------------------- */

static const ks_col_t window_cols[] = KS_COLUMNS(ks_item_window_t, from, until, open);

ks_rc ks_store_item_window(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_item_window_t *out)
{
    ks_rc rc = ks_store_onef(ctx, conn, KS_COLS(window_cols), out, "SELECT " WINDOW_COLUMNS
                             ", (available_from IS NULL OR available_from <= NOW())"
                             " AND (available_until IS NULL OR available_until > NOW())"
                             " FROM items WHERE id = %d", id);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", id) : rc;
}

/* Appends t as "YYYY-MM-DDTHH:MM:SSZ", or "(open)" when t < 0. */
static void add_instant(char *out, size_t size, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t < 0 || !gmtime_r(&tt, &tm))
        snprintf(out, size, "(open)");
    else
        strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

ks_rc ks_store_item_available(ks_api_ctx_t *ctx, MYSQL *conn, int id, const char *what)
{
    ks_item_window_t window;
    char from[32], until[32];
    ks_rc rc;

    if ((rc = ks_store_item_window(ctx, conn, id, &window)) != KS_OK || window.open)
        return rc;
    add_instant(from, sizeof from, window.from);
    add_instant(until, sizeof until, window.until);
    return ks_err(&ctx->err, KS_CONFLICT, "item %d cannot be %s now: it is available only from %s"
                  " until %s", id, what, from, until);
}

ks_rc ks_store_item_window_set(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long from,
                               long long until)
{
    /* -1 (open) is NULL */
    return ks_store_execf(ctx, conn, "UPDATE items SET"
                          " available_from = IF(%lld < 0, NULL, FROM_UNIXTIME(%lld)),"
                          " available_until = IF(%lld < 0, NULL, FROM_UNIXTIME(%lld))"
                          " WHERE id = %d", from, from, until, until, id);
}
