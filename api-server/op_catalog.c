/* op_catalog.c: the catalog operations: RegisterCategory, RegisterItem,
 * ListCategories, ListItems, GetItem, UpdateItem, RetireItem.
 *
 * RegisterItem takes full-canvas PNGs, decodes them under limits, trims each
 * to its bounding box and stores that canonical PNG in item_layers, then
 * pushes the layers to every active image server. The frames of an animated
 * layer are stored and pushed the same way, each as a row of its own
 * (layer_no 1000 * frame + layer: sql/migrations/012_item_frames.sql). A push that fails is
 * recorded in item_replicas; an avatar composed on that server later repairs
 * it (see render.c).
 *
 * UpdateItem with new art archives the old layers (album photos refer to
 * them), stores and pushes the new ones and, in the same transaction, queues
 * every avatar wearing the item in render_queue, which the renderer threads
 * work off (render.c). RetireItem only changes the status: owners keep the
 * item and whoever wears it keeps it on (so no avatar changes under a
 * member's feet), but it cannot be granted, listed or put on again.
 *
 * Layers may be tintable and have a role, and items hide rules (README
 * "Tints", "Hide rules"): the recipe applies them (ks_store_worn_layers);
 * UpdateItem queues the wearers when an item's hide rules change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image_client.h"
#include "log.h"
#include "png_codec.h"
#include "sha256.h"
#include "store_catalog.h"
#include "store_render.h"
#include "store_servers.h"


/* ---- RegisterCategory ------------------------------------------------------ */

int ks__RegisterCategory(struct soap *soap, char *name, int zOrder, enum xsd__boolean exclusive,
                         enum xsd__boolean required, struct ks__RegisterCategoryResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_category_row_t row = {.z_order = zOrder, .exclusive = exclusive == true_,
                             .required = required == true_};
    struct ks__Category *c;
    MYSQL *conn;
    int id;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64))
        return soap->error;
    snprintf(row.name, sizeof row.name, "%s", name);   /* checked: at most 64 bytes */
    if (zOrder < -100000 || zOrder > 100000)
        return ks_fault(soap, "InvalidArgument", "zOrder must be -100000..100000");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_category_insert(ctx, conn, &row, &id)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);

    c = soap_new_ks__Category(soap, -1);
    if (!c)
        return soap->error = SOAP_EOM;
    c->id = id;
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
    ks_category_row_t *rows;
    MYSQL *conn;
    int count;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || (name && ks_check_text(soap, "name", name, 64)))
        return soap->error;
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_categories(soap, conn, name, &rows, &count)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(response->category = soap_new_ks__Category(soap, count + 1)))
        return soap->error = SOAP_EOM;
    for (int i = 0; i < count; i++) {
        struct ks__Category *c = &response->category[i];
        c->id = rows[i].id;
        c->name = rows[i].name;              /* in the arena, with rows */
        c->zOrder = rows[i].z_order;
        c->exclusive = rows[i].exclusive ? true_ : false_;
        c->required = rows[i].required ? true_ : false_;
        if (rows[i].default_item_id && (c->defaultItemId = soap_malloc(soap, sizeof(int))))
            *c->defaultItemId = rows[i].default_item_id;
    }
    response->__sizecategory = count;
    return SOAP_OK;
}

/* ---- RegisterItem ------------------------------------------------------------------ */

typedef struct {
    unsigned char *png;           /* canonical (trimmed) PNG, malloc'd */
    size_t png_size;
    const int *z_order;           /* the z-order asked, NULL: the category's */
    ks_layer_row_t row;           /* its number, place, sha256, delay (item, z: when stored) */
} prepared_layer_t;

/* 1 when role is 0..KS_LAYER_ROLE_MAX of [a-z0-9_-] (empty when allow_empty). */
static int role_valid(const char *role, int allow_empty)
{
    size_t len = strlen(role);

    if (len > KS_LAYER_ROLE_MAX || (len == 0 && !allow_empty))
        return 0;
    return strspn(role, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* Checks hide rules (hide[0..count)): their categories are checked in the
 * transaction (check_hide_categories). */
static int check_hides(struct soap *soap, int count, const struct ks__HideRule *hide)
{
    if (count < 0 || count > KS_HIDES_PER_ITEM_MAX || (count > 0 && !hide))
        return ks_fault(soap, "InvalidArgument", "an item has at most %d hide rules",
                        KS_HIDES_PER_ITEM_MAX);
    for (int i = 0; i < count; i++) {
        if (hide[i].categoryId < 1)
            return ks_fault(soap, "InvalidArgument", "hide[%d]: categoryId must be positive", i);
        if (hide[i].role && !role_valid(hide[i].role, 0))
            return ks_fault(soap, "InvalidArgument", "hide[%d]: role must be 1..%d of "
                            "[a-z0-9_-], or absent for every layer", i, KS_LAYER_ROLE_MAX);
        for (int j = 0; j < i; j++)
            if (hide[j].categoryId == hide[i].categoryId &&
                (hide[j].role ? hide[i].role && strcmp(hide[j].role, hide[i].role) == 0
                              : !hide[i].role))
                return ks_fault(soap, "InvalidArgument", "hide[%d] repeats hide[%d]", i, j);
    }
    return SOAP_OK;
}

/* KS_NOTFOUND when a hide rule names no category. */
static ks_rc check_hide_categories(ks_api_ctx_t *ctx, MYSQL *conn, const struct ks__HideRule *hide,
                                   int count)
{
    for (int i = 0; i < count; i++) {
        ks_category_row_t category;
        ks_rc rc = ks_store_category(ctx, conn, hide[i].categoryId, 0, &category);
        if (rc != KS_OK)
            return rc;
    }
    return KS_OK;
}

/* An item's art as uploaded, its rows in item_layers order: the layers,
 * then frame 1 of each animated layer, then frame 2... (layer_no ascending,
 * sql/migrations/012_item_frames.sql). */
typedef struct {
    prepared_layer_t rows[KS_ITEM_ROWS_MAX];
    int count;
} prepared_art_t;

static void art_free(prepared_art_t *art)
{
    for (int i = 0; i < art->count; i++)
        free(art->rows[i].png);
    art->count = 0;
}

/* Decodes one uploaded layer or frame (what names it in messages), checks it
 * against the canvas and trims it. */
static ks_rc prepare_layer(ks_api_ctx_t *ctx, const char *what,
                           const struct xsd__base64Binary *png, prepared_layer_t *out)
{
    const ks_api_conf_t *conf = ctx->conf;
    ks_png_limits_t limits;
    ks_image_t image = {0}, trimmed = {0};
    ks_err_t why;
    ks_rc rc;

    if (!png->__ptr || png->__size <= 0)
        return ks_err(&ctx->err, KS_INVALID, "%s: png is required", what);
    if ((size_t)png->__size > conf->max_layer_bytes)
        return ks_err(&ctx->err, KS_TOOLARGE, "%s: PNG is %d bytes, over the %zu-byte limit",
                      what, png->__size, conf->max_layer_bytes);
    ks_png_limits_default(&limits);
    limits.max_width = (uint32_t)conf->canvas.width;
    limits.max_height = (uint32_t)conf->canvas.height;
    rc = ks_png_decode(png->__ptr, (size_t)png->__size, &limits, &image, &why);
    if (rc == KS_TOOLARGE)   /* larger than the canvas: the caller's mistake, not a size limit */
        rc = KS_INVALID;
    if (rc != KS_OK)
        return ks_err(&ctx->err, rc, "%s: %s", what, why.msg);
    if (image.width != (uint32_t)conf->canvas.width || image.height != (uint32_t)conf->canvas.height) {
        rc = ks_err(&ctx->err, KS_INVALID, "%s: PNG is %ux%u; layers must be %dx%d (the canvas)",
                    what, image.width, image.height, conf->canvas.width, conf->canvas.height);
        goto done;
    }
    if ((rc = ks_image_trim(&image, &trimmed, &out->row.x, &out->row.y, &why)) != KS_OK) {
        ks_err(&ctx->err, rc, "%s: %s", what, why.msg);
        goto done;
    }
    out->row.width = (int)trimmed.width;
    out->row.height = (int)trimmed.height;
    if ((rc = ks_png_encode(&trimmed, 9, &out->png, &out->png_size, &why)) != KS_OK) {
        ks_err(&ctx->err, rc, "%s: %s", what, why.msg);
        goto done;
    }
    ks_sha256_hex(out->png, out->png_size, out->row.sha256);
done:
    ks_image_free(&image);
    ks_image_free(&trimmed);
    return rc;
}

/* A delay asked (NULL: the default) checked into *out. */
static ks_rc frame_delay(ks_api_ctx_t *ctx, const char *what, const int *delay, int *out)
{
    *out = delay ? *delay : KS_FRAME_DELAY_DEFAULT;
    if (*out < KS_FRAME_DELAY_MIN || *out > KS_FRAME_DELAY_MAX)
        return ks_err(&ctx->err, KS_INVALID, "%s: delayMs must be %d..%d", what,
                      KS_FRAME_DELAY_MIN, KS_FRAME_DELAY_MAX);
    return KS_OK;
}

/* Checks the shape of the uploaded layers in[0..count): z-orders, frame
 * counts and delays (before any PNG is decoded). */
static ks_rc check_art(ks_api_ctx_t *ctx, const struct ks__LayerInput *in, int count)
{
    long long canvas = (long long)ctx->conf->canvas.width * ctx->conf->canvas.height;
    int extra = 0, most = 1, animated = 0, delay;
    char what[48];
    ks_rc rc;

    for (int i = 0; i < count; i++) {
        int frames = 1 + in[i].__sizeframe;
        snprintf(what, sizeof what, "layer %d", i);
        if (in[i].zOrder && (*in[i].zOrder < -100000 || *in[i].zOrder > 100000))
            return ks_err(&ctx->err, KS_INVALID, "%s: zOrder must be -100000..100000", what);
        if (in[i].role && !role_valid(in[i].role, 1))
            return ks_err(&ctx->err, KS_INVALID, "%s: role must be 0..%d of [a-z0-9_-]", what,
                          KS_LAYER_ROLE_MAX);
        if (in[i].__sizeframe < 0 || frames > KS_FRAMES_MAX)
            return ks_err(&ctx->err, KS_TOOLARGE, "%s has %d frames; a layer has at most %d",
                          what, frames, KS_FRAMES_MAX);
        if (frames * canvas > KS_ANIM_PIXELS_MAX)
            return ks_err(&ctx->err, KS_TOOLARGE, "%s: %d frames of %dx%d are over %u pixels",
                          what, frames, ctx->conf->canvas.width, ctx->conf->canvas.height,
                          KS_ANIM_PIXELS_MAX);
        if (frames == 1 && in[i].delayMs)
            return ks_err(&ctx->err, KS_INVALID, "%s: delayMs is for a layer with frames", what);
        if (frames > 1 && (rc = frame_delay(ctx, what, in[i].delayMs, &delay)) != KS_OK)
            return rc;
        for (int f = 1; f < frames; f++) {
            snprintf(what, sizeof what, "layer %d frame %d", i, f);
            if ((rc = frame_delay(ctx, what, in[i].frame[f - 1].delayMs, &delay)) != KS_OK)
                return rc;
        }
        extra += frames - 1;
        animated += frames > 1;
        most = frames > most ? frames : most;
    }
    if (extra > KS_ITEM_FRAMES_MAX)
        return ks_err(&ctx->err, KS_TOOLARGE, "the layers have %d frames after their first; an "
                      "item has at most %d", extra, KS_ITEM_FRAMES_MAX);
    /* worn alone, each animated layer is drawn in every frame of the longest */
    if (animated * most + (count - animated) > KS_IMAGE_LAYERS_MAX)
        return ks_err(&ctx->err, KS_TOOLARGE, "%d animated layers drawn in each of %d frames "
                      "are over the %d layers an image server draws", animated, most,
                      KS_IMAGE_LAYERS_MAX);
    return KS_OK;
}

/* Checks, decodes and trims the uploaded layers in[0..count) and their
 * frames into art (art_free frees it, also after a failure). */
static ks_rc prepare_art(ks_api_ctx_t *ctx, const struct ks__LayerInput *in, int count,
                         prepared_art_t *art)
{
    int most = 1;
    char what[48];
    ks_rc rc;

    art->count = 0;
    if ((rc = check_art(ctx, in, count)) != KS_OK)
        return rc;
    for (int i = 0; i < count; i++)
        most = 1 + in[i].__sizeframe > most ? 1 + in[i].__sizeframe : most;
    for (int f = 0; f < most; f++) {
        for (int i = 0; i < count; i++) {
            prepared_layer_t *p = &art->rows[art->count];
            const int *delay = f ? in[i].frame[f - 1].delayMs : in[i].delayMs;

            if (f > in[i].__sizeframe)
                continue;
            snprintf(what, sizeof what, f ? "layer %d frame %d" : "layer %d", i, f);
            memset(p, 0, sizeof *p);
            art->count++;
            if ((rc = prepare_layer(ctx, what, f ? &in[i].frame[f - 1].png : &in[i].png, p))
                != KS_OK)
                return rc;
            p->z_order = in[i].zOrder;
            p->row.layer_no = KS_FRAME_LAYER_NO(f, i);
            /* a frame is tinted and hidden as its layer is */
            p->row.tintable = in[i].tintable && *in[i].tintable == true_;
            snprintf(p->row.role, sizeof p->row.role, "%s", in[i].role ? in[i].role : "");
            if (in[i].__sizeframe > 0)
                p->row.delay_ms = delay ? *delay : KS_FRAME_DELAY_DEFAULT;   /* checked */
        }
    }
    return KS_OK;
}

/* Inserts the item's layers and frames (z-order: the given one, or the
 * category's). */
static ks_rc insert_layers(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int category_z,
                           prepared_art_t *art)
{
    for (int i = 0; i < art->count; i++) {
        prepared_layer_t *p = &art->rows[i];
        ks_rc rc;

        p->row.item_id = item_id;
        p->row.z_order = p->z_order ? *p->z_order : category_z;
        if ((rc = ks_store_layer_insert(ctx, conn, &p->row, p->png, p->png_size)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

/* RegisterItem's transaction (ks_store_txn): what it stores, and the id. */
typedef struct {
    int category_id;
    const char *name, *status;
    int price, make_default;
    prepared_art_t *art;
    int item_id;
    long long from, until;         /* the window; -1: open */
    const struct ks__HideRule *hide;
    int hide_count;
} item_insert_t;

static ks_rc insert_item(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    item_insert_t *r = arg;
    ks_category_row_t category;
    ks_rc rc;

    r->item_id = 0;
    if ((rc = ks_store_category(ctx, conn, r->category_id, 1, &category)) != KS_OK ||
        (rc = ks_store_item_insert(ctx, conn, r->category_id, r->name, r->status, r->price,
                                   &r->item_id)) != KS_OK ||
        (rc = insert_layers(ctx, conn, r->item_id, category.z_order, r->art)) != KS_OK ||
        ((r->from >= 0 || r->until >= 0) &&
         (rc = ks_store_item_window_set(ctx, conn, r->item_id, r->from, r->until)) != KS_OK) ||
        (rc = check_hide_categories(ctx, conn, r->hide, r->hide_count)) != KS_OK ||
        (rc = ks_store_item_hides_set(ctx, conn, r->item_id, r->hide, r->hide_count)) != KS_OK)
        return rc;
    if (!r->make_default)
        return KS_OK;
    category.default_item_id = r->item_id;
    return ks_store_category_update(ctx, conn, &category);
}

/* Pushes the layers and frames to every active image server and records the
 * outcome. */
static void push_layers(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, const prepared_art_t *art)
{
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count;

    if (ks_store_active_image_servers(ctx, conn, servers, KS_IMAGE_SERVERS_MAX, &server_count))
        return;
    for (int s = 0; s < server_count; s++) {
        for (int i = 0; i < art->count; i++) {
            const prepared_layer_t *p = &art->rows[i];
            ks_rc rc = ks_image_put_layer(ctx, &servers[s], item_id, p->row.layer_no, p->png,
                                          p->png_size, p->row.sha256, 0);

            /* a record that fails only costs a repair later (replicate.c) */
            ks_store_replica_record(ctx, conn, servers[s].id, item_id, p->row.layer_no,
                                    p->row.sha256, rc == KS_OK ? NULL : ctx->err.msg);
        }
    }
}

static struct ks__Item *item_response(struct soap *soap, int id, int category_id, const char *name,
                                      const char *status, int price, const prepared_art_t *art)
{
    struct ks__Item *item = soap_new_ks__Item(soap, -1);
    if (!item)
        return NULL;
    item->id = id;
    item->categoryId = category_id;
    item->name = soap_strdup(soap, name);
    item->status = soap_strdup(soap, status);
    item->price = price;
    item->layer = soap_new_ks__Layer(soap, KS_LAYERS_PER_ITEM_MAX);
    if (!item->layer)
        return NULL;
    for (int i = 0; i < art->count; i++)
        if (ks_store_item_add_layer(soap, item, &art->rows[i].row) != KS_OK)
            return NULL;
    return item;
}

/* Checks the sides of a window a call gives (NULL: not given): instants of
 * years 1970..9999, until after from when both are given. Sets *from and
 * *until to the sides given (left as they are otherwise). Returns SOAP_OK
 * or the fault. */
#define KS_INSTANT_MAX 253402300799LL          /* 9999-12-31T23:59:59Z */
static int check_window(struct soap *soap, const time_t *from_in, const time_t *until_in,
                        long long *from, long long *until)
{
    if (from_in)
        *from = (long long)*from_in;
    if (until_in)
        *until = (long long)*until_in;
    if ((from_in && (*from < 0 || *from > KS_INSTANT_MAX)) ||
        (until_in && (*until < 0 || *until > KS_INSTANT_MAX)))
        return ks_fault(soap, "InvalidArgument", "availableFrom and availableUntil must be "
                        "instants between 1970 and 9999");
    if (*from >= 0 && *until >= 0 && *until <= *from)
        return ks_fault(soap, "InvalidArgument", "availableUntil must be after availableFrom");
    return SOAP_OK;
}

int ks__RegisterItem(struct soap *soap, int categoryId, char *name, int price, char *status,
                     enum xsd__boolean *makeDefault, int __sizelayer,
                     struct ks__LayerInput *layer, time_t *availableFrom, time_t *availableUntil,
                     int __sizehide, struct ks__HideRule *hide,
                     struct ks__RegisterItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    prepared_art_t art = {.count = 0};
    item_insert_t insert = {categoryId, name, status, price, makeDefault && *makeDefault == true_,
                            &art, 0, -1, -1, hide, __sizehide};
    int count = __sizelayer, item_id;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 128) ||
        check_window(soap, availableFrom, availableUntil, &insert.from, &insert.until) ||
        check_hides(soap, __sizehide, hide))
        return soap->error;
    if (!status)
        insert.status = status = "published";
    if (strcmp(status, "published") != 0 && strcmp(status, "draft") != 0)
        return ks_fault(soap, "InvalidArgument", "status must be draft or published");
    if (price < 0 || price > 1000000000)
        return ks_fault(soap, "InvalidArgument", "price must be 0..1000000000");
    if (count < 1 || count > ctx->conf->max_layers || count > KS_LAYERS_PER_ITEM_MAX)
        return ks_fault(soap, "InvalidArgument", "an item needs 1..%d layers, not %d",
                        ctx->conf->max_layers, count);

    if ((rc = prepare_art(ctx, layer, count, &art)) != KS_OK ||
        (rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, insert_item, &insert)) != KS_OK)
        goto done;
    item_id = insert.item_id;
    ks_log_info("item %d \"%s\" registered with %d layers (%d with their frames)", item_id,
                name, count, art.count);
    push_layers(ctx, conn, item_id, &art);
    response->item = item_response(soap, item_id, categoryId, name, status, price, &art);
    if (!response->item)
        rc = ks_err(&ctx->err, KS_NOMEM, "out of memory");
    else {
        response->item->availableFrom = availableFrom;     /* the arena's, as is the call */
        response->item->availableUntil = availableUntil;
        rc = ks_store_items_hides(soap, conn, response->item, 1);
    }
done:
    art_free(&art);
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
                                    &more, &total)) != KS_OK)
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
    return count ? KS_OK : ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", id);
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

/* 1 when art is exactly the item's stored layers and frames (same hashes,
 * places, z-orders and delays), so new art is no change. */
static ks_rc same_art(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, const prepared_art_t *art,
                      int category_z, int *same)
{
    ks_layer_row_t stored[KS_ITEM_ROWS_MAX + 1];
    int stored_count;
    ks_rc rc;

    if ((rc = ks_store_layers_of_item(ctx, conn, item_id, stored, KS_ITEM_ROWS_MAX + 1,
                                      &stored_count)) != KS_OK)
        return rc;
    *same = stored_count == art->count;
    for (int n = 0; n < stored_count && n < art->count && *same; n++) {
        const prepared_layer_t *p = &art->rows[n];
        int z = p->z_order ? *p->z_order : category_z;
        *same = stored[n].layer_no == p->row.layer_no && stored[n].z_order == z &&
                stored[n].x == p->row.x && stored[n].y == p->row.y &&
                stored[n].delay_ms == p->row.delay_ms &&
                strcmp(stored[n].sha256, p->row.sha256) == 0 &&
                !stored[n].tintable == !p->row.tintable &&
                strcmp(stored[n].role, p->row.role) == 0;
    }
    return KS_OK;
}

/* Replaces the item's layers: archives the old ones, forgets where they were
 * pushed and queues every avatar wearing the item. The queue is written
 * last, once the new layers hold their locks (see ks_store_render_queue_item):
 * a member putting the item on meanwhile is either queued or composed with
 * the new art. */
static ks_rc replace_art(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int category_z,
                         prepared_art_t *art, int *queued)
{
    ks_rc rc;

    if ((rc = ks_store_layers_archive(ctx, conn, item_id)) != KS_OK ||
        (rc = insert_layers(ctx, conn, item_id, category_z, art)) != KS_OK ||
        (rc = ks_store_replicas_forget(ctx, conn, item_id)) != KS_OK)
        return rc;
    return ks_store_render_queue_item(ctx, conn, item_id, queued);
}

/* UpdateItem's transaction (ks_store_txn): the change asked (NULL fields and
 * count 0 unchanged), and what it did. */
typedef struct {
    int item_id;
    const char *name;
    const int *price;
    const char *status;
    prepared_art_t *art;
    int count;                    /* layers asked */
    int queued, art_changed;
    const time_t *from, *until;    /* a side of the window given, else NULL */
    int clear_window;              /* both sides open first */
    const struct ks__HideRule *hide;   /* with set_hides: the new rules */
    int hide_count, set_hides;
    int hides_requeued;                /* the wearers were queued for the rules alone */
} item_change_t;

/* Writes the window UpdateItem asks for: the stored one, cleared when asked,
 * with the sides given replacing its own, checked as a whole. */
static ks_rc update_window(ks_api_ctx_t *ctx, MYSQL *conn, const item_change_t *change)
{
    ks_item_window_t window;
    ks_rc rc;

    if ((rc = ks_store_item_window(ctx, conn, change->item_id, &window)) != KS_OK)
        return rc;
    if (change->clear_window)
        window.from = window.until = -1;
    if (change->from)
        window.from = (long long)*change->from;
    if (change->until)
        window.until = (long long)*change->until;
    if (window.from >= 0 && window.until >= 0 && window.until <= window.from)
        return ks_err(&ctx->err, KS_INVALID, "availableUntil must be after availableFrom (the "
                      "item's window keeps the side not given)");
    return ks_store_item_window_set(ctx, conn, change->item_id, window.from, window.until);
}

static ks_rc update_item(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    item_change_t *change = arg;
    int item_id = change->item_id, same = 1;
    ks_item_lock_t item;
    ks_rc rc;

    change->queued = 0;
    change->art_changed = 0;
    change->hides_requeued = 0;
    if ((rc = ks_store_item_lock(ctx, conn, item_id, 1, &item)) != KS_OK)
        return rc;
    if (item.default_of[0] && change->status && strcmp(change->status, "published") != 0)
        return ks_err(&ctx->err, KS_CONFLICT, "item %d is the default item of category \"%s\" "
                      "and must stay published", item_id, item.default_of);
    if ((change->name || change->price || change->status) &&
        (rc = ks_store_item_update(ctx, conn, item_id, change->name, change->price,
                                   change->status)) != KS_OK)
        return rc;
    if ((change->from || change->until || change->clear_window) &&
        (rc = update_window(ctx, conn, change)) != KS_OK)
        return rc;
    if (change->count > 0) {
        if ((rc = same_art(ctx, conn, item_id, change->art, item.category_z, &same)) != KS_OK)
            return rc;
        if (!same && (rc = replace_art(ctx, conn, item_id, item.category_z, change->art,
                                       &change->queued)) != KS_OK)
            return rc;
        change->art_changed = !same;
    }
    if (change->set_hides) {
        if ((rc = check_hide_categories(ctx, conn, change->hide, change->hide_count)) != KS_OK ||
            (rc = ks_store_item_hides_set(ctx, conn, item_id, change->hide,
                                          change->hide_count)) != KS_OK)
            return rc;
        /* the wearers' avatars hide other layers now (queued once, whatever changed) */
        if (!change->art_changed) {
            if ((rc = ks_store_render_queue_item(ctx, conn, item_id, &change->queued)) != KS_OK)
                return rc;
            change->hides_requeued = 1;
        }
    }
    return KS_OK;
}

int ks__UpdateItem(struct soap *soap, int itemId, char *name, int *price, char *status,
                   int __sizelayer, struct ks__LayerInput *layer, time_t *availableFrom,
                   time_t *availableUntil, enum xsd__boolean *clearWindow, int __sizehide,
                   struct ks__HideRule *hide, enum xsd__boolean *clearHides,
                   struct ks__UpdateItemResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    prepared_art_t art = {.count = 0};
    int clear = clearHides && *clearHides == true_;
    item_change_t change = {itemId, name, price, status, &art, __sizelayer, 0, 0,
                            availableFrom, availableUntil, clearWindow && *clearWindow == true_,
                            hide, __sizehide, __sizehide > 0 || clear, 0};
    long long from = -1, until = -1;
    int count = __sizelayer;
    MYSQL *conn;
    ks_rc rc = KS_OK;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || (name && ks_check_text(soap, "name", name, 128)) ||
        check_window(soap, availableFrom, availableUntil, &from, &until) ||
        check_hides(soap, __sizehide, hide))
        return soap->error;
    if (clear && __sizehide > 0)
        return ks_fault(soap, "InvalidArgument", "clearHides removes every hide rule: give it "
                        "or hide, not both");
    if (status && strcmp(status, "published") != 0 && strcmp(status, "draft") != 0)
        return ks_fault(soap, "InvalidArgument", "status must be draft or published "
                        "(RetireItem retires an item)");
    if (price && (*price < 0 || *price > 1000000000))
        return ks_fault(soap, "InvalidArgument", "price must be 0..1000000000");
    if (count < 0 || count > ctx->conf->max_layers || count > KS_LAYERS_PER_ITEM_MAX)
        return ks_fault(soap, "InvalidArgument", "new art needs 1..%d layers, not %d",
                        ctx->conf->max_layers, count);
    if (!name && !price && !status && count == 0 && !availableFrom && !availableUntil &&
        !change.clear_window && !change.set_hides)
        return ks_fault(soap, "InvalidArgument", "nothing to change: give a name, price, status, "
                        "layers, a window or hide rules");

    if ((rc = prepare_art(ctx, layer, count, &art)) != KS_OK ||
        (rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, update_item, &change)) != KS_OK)
        goto done;
    if (change.hides_requeued) {
        ks_log_info("item %d has new hide rules; %d avatars queued to be composed again",
                    itemId, change.queued);
        ks_renderer_wake();
    } else if (change.art_changed) {
        ks_log_info("item %d has new art (%d layers); %d avatars queued to be composed again",
                    itemId, count, change.queued);
        push_layers(ctx, conn, itemId, &art);
        ks_renderer_wake();
    } else {
        ks_log_info("item %d updated", itemId);
    }
    response->avatarsQueued = change.queued;
    rc = load_item(soap, conn, itemId, &response->item);
done:
    art_free(&art);
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
    ks_item_lock_t item;
    long long number;
    ks_rc rc;

    if ((rc = ks_store_item_lock(ctx, conn, r->item_id, 0, &item)) != KS_OK)
        return rc;
    if (item.default_of[0])
        return ks_err(&ctx->err, KS_CONFLICT, "item %d is the default item of category \"%s\": "
                      "make another item the default first", r->item_id, item.default_of);
    if ((rc = ks_store_item_update(ctx, conn, r->item_id, NULL, NULL, "retired")) != KS_OK ||
        (rc = ks_store_item_worn_by(ctx, conn, r->item_id, &number)) != KS_OK)
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
