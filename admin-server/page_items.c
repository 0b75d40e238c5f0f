/* page_items.c: the items of the catalog.
 *
 *   GET  /items                 the grid: thumbnails, search by name, filters by
 *                               category and status, pages by id (SearchItems)
 *   GET  /items/new             register an item: name, category, price, 1..8
 *                               PNG layers (file inputs or drag and drop) with
 *                               their z-order, tint, role and animation frames,
 *                               hide rules, an optional window (time-limited
 *                               items), a live preview, draft or publish
 *   POST /items/new             RegisterItem
 *   POST /items/preview         the preview PNG of the form's layers on the
 *                               mannequin (nothing saved; admin.js shows it)
 *   GET  /items/{id}            the item, its art and its change form
 *   POST /items/{id}            UpdateItem (new art re-renders its wearers)
 *   POST /items/{id}/publish    UpdateItem status=published
 *   POST /items/{id}/retire     RetireItem
 *   GET  /items/{id}/thumb.png  the item's layers drawn (catalog.c)
 *   GET  /items/{id}/preview.png  the item on the mannequin
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "log.h"
#include "page.h"
#include "pages.h"
#include "store_audit.h"

#define PAGE_SIZE 24
#define NAME_MAX_BYTES 128
#define PRICE_MAX 100000000
#define HISTORY_ROWS 20

/* ---- the grid ---- */

typedef struct {
    int *category_id, *after_id, limit;
    char *status, *name;
    struct ks__SearchItemsResponse response;
} search_call_t;

static int attempt_search(struct soap *soap, const char *url, void *p)
{
    search_call_t *call = p;
    return soap_call_ks__SearchItems(soap, url, NULL, call->category_id, call->status,
                                     call->name, call->after_id, &call->limit, &call->response);
}

/* <option>s of the categories, selected marking one; placeholder first. */
static void category_options(ks_admin_req_t *req, const struct ks__ListCategoriesResponse *list,
                             int selected, const char *placeholder, ks_buf_t *out)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "value", "");
    ks_tpl_set(&vars, "label", placeholder);
    ks_tpl_set(&vars, "selected", selected ? "" : "1");
    ks_page_render_part(req, out, "option.html", &vars);
    for (int i = 0; list && i < list->__sizecategory; i++) {
        ks_tpl_set_int(&vars, "value", list->category[i].id);
        ks_tpl_setf(&vars, "label", "%s (z %d)", list->category[i].name,
                    list->category[i].zOrder);
        ks_tpl_set(&vars, "selected", list->category[i].id == selected ? "1" : "");
        ks_page_render_part(req, out, "option.html", &vars);
    }
    ks_tpl_free(&vars);
}

/* ---- tints and hide rules ---- */

#define HIDE_ROWS 4                /* hide rules the forms offer */

/* The hide rules fieldset of a form (vars' hide_fieldset; its err_hides set
 * before): rows from the form's fields after a refusal, else from item's
 * rules (item NULL: empty rows). */
static void hide_rows(ks_admin_req_t *req, const struct ks__ListCategoriesResponse *categories,
                      const struct ks__Item *item, ks_tpl_t *vars)
{
    int refused = ks_form_field(&req->form, "hide_category1") != NULL;
    ks_buf_t rows, options;

    ks_buf_init(&rows, 1 << 16);
    ks_buf_init(&options, 1 << 16);
    for (int i = 1; i <= HIDE_ROWS; i++) {
        char field[32];
        long long category = 0;
        const char *role = NULL;
        ks_tpl_t row;

        if (refused) {
            snprintf(field, sizeof field, "hide_category%d", i);
            ks_page_parse_int(ks_page_field(req, field), 1, 2147483647, &category);
            snprintf(field, sizeof field, "hide_role%d", i);
            role = ks_page_field(req, field);
        } else if (item && i <= item->__sizehide) {
            category = item->hide[i - 1].categoryId;
            role = item->hide[i - 1].role;
        }
        ks_buf_reset(&options);
        category_options(req, categories, (int)category, "—", &options);
        ks_tpl_init(&row);
        ks_tpl_set_int(&row, "n", i);
        ks_tpl_set_html(&row, "options", options.data ? options.data : "");
        ks_tpl_set(&row, "role", role ? role : "");
        ks_page_render_part(req, &rows, "item_hide_row.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set_html(vars, "hide_rows", rows.data ? rows.data : "");
    ks_buf_reset(&rows);
    ks_page_render_part(req, &rows, "item_hides.html", vars);
    ks_tpl_set_html(vars, "hide_fieldset", rows.data ? rows.data : "");
    ks_buf_free(&rows);
    ks_buf_free(&options);
}

/* The hide rules of the form (rows without a category are empty) into out
 * (room for HIDE_ROWS); 1 with vars' err_hides set when one is malformed.
 * The API checks the rest (roles, categories). */
static int read_hides(ks_admin_req_t *req, ks_tpl_t *vars, struct ks__HideRule *out, int *count)
{
    *count = 0;
    for (int i = 1; i <= HIDE_ROWS; i++) {
        char field[32];
        const char *category, *role;
        long long id;

        snprintf(field, sizeof field, "hide_category%d", i);
        category = ks_page_field(req, field);
        snprintf(field, sizeof field, "hide_role%d", i);
        role = ks_page_field(req, field);
        if (!category || !*category)
            continue;
        if (ks_page_parse_int(category, 1, 2147483647, &id) != 0) {
            ks_tpl_setf(vars, "err_hides", "Hide rule %d: choose a category.", i);
            return 1;
        }
        out[*count].categoryId = (int)id;
        out[(*count)++].role = role && *role ? (char *)role : NULL;
    }
    return 0;
}

/* 1 when the rules a[0..n) are item's, in order. */
static int same_hides(const struct ks__Item *item, const struct ks__HideRule *a, int n)
{
    if (item->__sizehide != n)
        return 0;
    for (int i = 0; i < n; i++) {
        const char *r = item->hide[i].role;
        if (item->hide[i].categoryId != a[i].categoryId || !r != !a[i].role ||
            (r && strcmp(r, a[i].role) != 0))
            return 0;
    }
    return 1;
}

/* "category 3 front, category 5" (or "nothing") into out. */
static void hide_facts(const struct ks__Item *item, char *out, size_t size)
{
    size_t len = 0;

    snprintf(out, size, "nothing");
    for (int i = 0; i < item->__sizehide && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%scategory %d%s%s", i ? ", " : "",
                                item->hide[i].categoryId, item->hide[i].role ? " " : "",
                                item->hide[i].role ? item->hide[i].role : "");
}

/* ---- time-limited items ---- */

/* A window as the form gives it. */
typedef struct {
    time_t from, until;
    int has_from, has_until;
} window_t;

/* One side of the form's window (field: a datetime-local value read as
 * UTC; empty: that side open) into *at and *given; 1 with vars' err_window
 * set when it is not a date and time. */
static int read_window_side(ks_admin_req_t *req, ks_tpl_t *vars, const char *field,
                            const char *label, time_t *at, int *given)
{
    const char *text = ks_page_field(req, field);
    long long value;

    *given = text && *text;
    if (!*given)
        return 0;
    if (ks_parse_datetime_local(text, &value) != 0) {
        ks_tpl_setf(vars, "err_window", "\"Available %s\" is a date and time "
                    "(YYYY-MM-DD HH:MM, UTC), or empty.", label);
        return 1;
    }
    *at = (time_t)value;
    return 0;
}

/* The form's window (available_from, available_until) into w; 1 with
 * vars' err_window set when a side is malformed. Whether until comes
 * after from is the API's to say. */
static int read_window(ks_admin_req_t *req, ks_tpl_t *vars, window_t *w)
{
    memset(w, 0, sizeof *w);
    return read_window_side(req, vars, "available_from", "from", &w->from, &w->has_from) ||
           read_window_side(req, vars, "available_until", "until", &w->until, &w->has_until);
}

/* 1 when w is item's window. */
static int same_window(const struct ks__Item *item, const window_t *w)
{
    return w->has_from == (item->availableFrom != NULL) &&
           w->has_until == (item->availableUntil != NULL) &&
           (!w->has_from || w->from == *item->availableFrom) &&
           (!w->has_until || w->until == *item->availableUntil);
}

/* "from 2026-12-24 00:00 until 2026-12-26 00:00 UTC", or "" for an item
 * without a window, into out. */
static void window_text(const struct ks__Item *item, char *out, size_t size)
{
    char from[32] = "", until[32] = "";

    if (item->availableFrom)
        ks_format_utc(from, sizeof from, (long long)*item->availableFrom, 16);
    if (item->availableUntil)
        ks_format_utc(until, sizeof until, (long long)*item->availableUntil, 16);
    snprintf(out, size, "%s%s%s%s%s%s", from[0] ? "from " : "", from,
             from[0] && until[0] ? " " : "", until[0] ? "until " : "", until,
             from[0] || until[0] ? " UTC" : "");
}

/* Where now is in item's window: "upcoming", "available", "ended", or ""
 * without a window. */
static const char *window_state(const struct ks__Item *item)
{
    time_t now = time(NULL);

    if (item->availableFrom && now < *item->availableFrom)
        return "upcoming";
    if (item->availableUntil && now >= *item->availableUntil)
        return "ended";
    return item->availableFrom || item->availableUntil ? "available" : "";
}

/* The window fieldset of a form (vars' window_fieldset; its err_window
 * set before): its values the request's after a refusal, else item's
 * (NULL: empty). */
static void window_fields(ks_admin_req_t *req, const struct ks__Item *item, ks_tpl_t *vars)
{
    char at[32];
    ks_buf_t html;

    if (ks_form_field(&req->form, "available_from") || !item) {
        ks_tpl_set(vars, "available_from", ks_page_field(req, "available_from"));
        ks_tpl_set(vars, "available_until", ks_page_field(req, "available_until"));
    } else {
        if (item->availableFrom) {
            ks_format_datetime_local(at, sizeof at, (long long)*item->availableFrom);
            ks_tpl_set(vars, "available_from", at);
        }
        if (item->availableUntil) {
            ks_format_datetime_local(at, sizeof at, (long long)*item->availableUntil);
            ks_tpl_set(vars, "available_until", at);
        }
    }
    ks_buf_init(&html, 1 << 14);
    ks_page_render_part(req, &html, "item_window.html", vars);
    ks_tpl_set_html(vars, "window_fieldset", html.data ? html.data : "");
    ks_buf_free(&html);
}

/* A refused RegisterItem or UpdateItem: its fault next to the field it is
 * about (vars' err_window for the window, else err_layers). */
static void fault_to_field(ks_admin_req_t *req, ks_tpl_t *vars)
{
    const char *message = ks_page_fault_message(req);

    ks_tpl_setf(vars, strstr(message, "available") ? "err_window" : "err_layers", "%s: %s",
                ks_page_fault_code(req) ? ks_page_fault_code(req) : "Not saved", message);
}

/* The URL of an image of item (kind: thumb or preview); it changes with
 * the art (its first layer's hash), so browsers may keep it. */
static void image_url(const struct ks__Item *item, const char *kind, char *out, size_t size)
{
    snprintf(out, size, "/items/%d/%s.png?v=%.16s", item->id, kind,
             item->__sizelayer > 0 && item->layer[0].sha256 ? item->layer[0].sha256 : "none");
}

void ks_page_items(ks_admin_req_t *req)
{
    const char *q = ks_page_query(req, "q"), *status = ks_page_query(req, "status");
    const char *category = ks_page_query(req, "category"), *after = ks_page_query(req, "after");
    struct ks__ListCategoriesResponse *categories = NULL;
    search_call_t call = {.limit = PAGE_SIZE};
    int category_id = 0, after_id = 0;
    long long number;
    ks_buf_t tiles, options;
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_buf_init(&tiles, 1 << 20);
    ks_buf_init(&options, 1 << 16);
    if (category && ks_page_parse_int(category, 1, 2147483647, &number) == 0)
        category_id = (int)number;
    if (after && ks_page_parse_int(after, 0, 2147483647, &number) == 0)
        after_id = (int)number;
    if (status && strcmp(status, "draft") && strcmp(status, "published") &&
        strcmp(status, "retired"))
        status = NULL;
    if (q && (!*q || strlen(q) > 64))
        q = NULL;
    call.category_id = category_id ? &category_id : NULL;
    call.after_id = after_id ? &after_id : NULL;
    call.status = (char *)status;
    call.name = (char *)q;

    ks_catalog_categories(req, &categories);
    category_options(req, categories, category_id, "Every category", &options);
    ks_tpl_set(&vars, "q", q);
    ks_tpl_set_html(&vars, "category_options", options.data ? options.data : "");
    ks_tpl_set(&vars, status ? (strcmp(status, "draft") == 0 ? "status_draft"
                                : strcmp(status, "published") == 0 ? "status_published"
                                                                   : "status_retired")
                             : "status_any", "1");
    if (ks_page_api(req, "SearchItems", 1, attempt_search, &call) == KS_OK) {
        const struct ks__SearchItemsResponse *r = &call.response;
        for (int i = 0; i < r->__sizeitem; i++) {
            const struct ks__Item *item = &r->item[i];
            const struct ks__Category *c = ks_catalog_category(categories, item->categoryId);
            char url[128], window[96];
            ks_tpl_t tile;
            ks_tpl_init(&tile);
            ks_tpl_set_int(&tile, "id", item->id);
            ks_tpl_set(&tile, "name", item->name);
            ks_tpl_set(&tile, "status", item->status);
            ks_tpl_set_int(&tile, "price", item->price);
            ks_tpl_set(&tile, "category", c ? c->name : "?");
            window_text(item, window, sizeof window);
            ks_tpl_set(&tile, "window", window);
            ks_tpl_set(&tile, "window_state", window_state(item));
            image_url(item, "thumb", url, sizeof url);
            ks_tpl_set(&tile, "thumb", url);
            ks_page_render_part(req, &tiles, "item_tile.html", &tile);
            ks_tpl_free(&tile);
        }
        ks_tpl_set(&vars, "searched", "1");
        ks_tpl_set_int(&vars, "total", r->total);
        ks_tpl_set_int(&vars, "shown", r->__sizeitem);
        ks_tpl_set(&vars, "none", r->__sizeitem == 0 ? "1" : "");
        ks_tpl_set(&vars, "not_first", after_id ? "1" : "");
        if (r->nextAfterId) {
            /* the next page keeps the filters */
            char next[512];
            snprintf(next, sizeof next, "after=%d", *r->nextAfterId);
            ks_tpl_set(&vars, "next", next);
            ks_tpl_set_int(&vars, "next_after", *r->nextAfterId);
        }
        ks_tpl_set_int(&vars, "filter_category", category_id);
        ks_tpl_set(&vars, "filter_status", status);
    }
    ks_tpl_set_html(&vars, "tiles", tiles.data ? tiles.data : "");
    ks_page_render(req, "Items", "items", "items.html", &vars);
    ks_buf_free(&tiles);
    ks_buf_free(&options);
    ks_tpl_free(&vars);
}

/* "name \"x\", category 2, price 10, published, 2 layer(s), art 0123abcd,
 * 3 frame(s) after the first, hides category 3 front, available from
 * 2026-12-24 00:00 UTC": what the audit log records of item. */
static void describe(const struct ks__Item *item, char *out, size_t size)
{
    char hides[256], window[96];
    int frames = 0;

    for (int i = 0; i < item->__sizelayer; i++)
        frames += item->layer[i].frameCount ? *item->layer[i].frameCount - 1 : 0;
    hide_facts(item, hides, sizeof hides);
    window_text(item, window, sizeof window);
    snprintf(out, size, "name \"%.128s\", category %d, price %d, %s, %d layer(s)%s%.12s, "
             "%d frame(s) after the first, hides %.200s, available %.60s", item->name,
             item->categoryId, item->price, item->status, item->__sizelayer,
             item->__sizelayer ? ", art " : "",
             item->__sizelayer && item->layer[0].sha256 ? item->layer[0].sha256 : "", frames,
             hides, window[0] ? window : "always");
}

/* ---- the registration form ---- */

/* The limits the forms state: files per form, frame delays. */
static void upload_limits(ks_admin_req_t *req, ks_tpl_t *vars)
{
    ks_tpl_set_int(vars, "max_files", req->conf->max_upload_files);
    ks_tpl_set_int(vars, "delay_min", KS_CATALOG_DELAY_MIN);
    ks_tpl_set_int(vars, "delay_max", KS_CATALOG_DELAY_MAX);
}

/* The layer inputs of a RegisterItem or UpdateItem call (pointing into the
 * form's uploads). */
typedef struct {
    struct ks__LayerInput layers[KS_CATALOG_LAYERS_MAX];
    int z[KS_CATALOG_LAYERS_MAX], delay[KS_CATALOG_LAYERS_MAX];
    struct ks__FrameInput frames[KS_CATALOG_LAYERS_MAX][KS_CATALOG_FRAMES_MAX];
} layer_inputs_t;

/* The layer inputs of the uploads into in. An animated layer's frames all
 * take its delay (none given: the API's default). */
static void layer_inputs(const ks_upload_t *uploads, int count, layer_inputs_t *in)
{
    static enum xsd__boolean tintable = true_;      /* only read */

    for (int i = 0; i < count; i++) {
        const ks_upload_t *u = &uploads[i];
        struct ks__LayerInput *l = &in->layers[i];
        l->png.__ptr = (unsigned char *)u->png;
        l->png.__size = (int)u->size;
        in->z[i] = u->z;
        l->zOrder = u->has_z ? &in->z[i] : NULL;
        l->tintable = u->tintable ? &tintable : NULL;
        l->role = (char *)u->role;
        in->delay[i] = u->delay_ms;
        l->delayMs = u->frame_count && u->delay_ms ? &in->delay[i] : NULL;
        l->__sizeframe = u->frame_count;
        l->frame = u->frame_count ? in->frames[i] : NULL;
        for (int f = 0; f < u->frame_count; f++) {
            in->frames[i][f].png.__ptr = (unsigned char *)u->frames[f]->value;
            in->frames[i][f].png.__size = (int)u->frames[f]->size;
            in->frames[i][f].delayMs = l->delayMs;
        }
    }
}

/* Fills the form's variables from the request (after a refusal) or defaults. */
static void form_vars(ks_admin_req_t *req, ks_tpl_t *vars,
                      const struct ks__ListCategoriesResponse *categories)
{
    const char *category = ks_page_field(req, "category");
    long long category_id = 0;
    ks_buf_t options, rows;

    ks_buf_init(&options, 1 << 16);
    ks_buf_init(&rows, 1 << 16);
    if (category)
        ks_page_parse_int(category, 1, 2147483647, &category_id);
    category_options(req, categories, (int)category_id, "Choose a category…", &options);
    ks_tpl_set_html(vars, "category_options", options.data ? options.data : "");
    ks_tpl_set(vars, "name", ks_page_field(req, "name"));
    ks_tpl_set(vars, "price", ks_page_field(req, "price") ? ks_page_field(req, "price") : "0");
    for (int i = 1; i <= KS_CATALOG_LAYERS_MAX; i++) {
        char field[8];
        ks_tpl_t row;
        ks_tpl_init(&row);
        ks_tpl_set_int(&row, "n", i);
        snprintf(field, sizeof field, "z%d", i);
        ks_tpl_set(&row, "z", ks_page_field(req, field));
        snprintf(field, sizeof field, "tint%d", i);
        ks_tpl_set(&row, "tint", ks_page_field(req, field) ? "1" : "");
        snprintf(field, sizeof field, "role%d", i);
        ks_tpl_set(&row, "role", ks_page_field(req, field));
        snprintf(field, sizeof field, "delay%d", i);
        ks_tpl_set(&row, "delay", ks_page_field(req, field));
        ks_page_render_part(req, &rows, "item_layer_row.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set_html(vars, "layer_rows", rows.data ? rows.data : "");
    ks_tpl_setf(vars, "max_upload", "%zu KiB", req->conf->max_upload_bytes / 1024);
    upload_limits(req, vars);
    window_fields(req, NULL, vars);
    hide_rows(req, categories, NULL, vars);
    ks_buf_free(&options);
    ks_buf_free(&rows);
}

static void render_new(ks_admin_req_t *req, ks_tpl_t *vars)
{
    struct ks__ListCategoriesResponse *categories = NULL;

    ks_catalog_categories(req, &categories);
    form_vars(req, vars, categories);
    ks_page_render(req, "Register an item", "items", "item_new.html", vars);
}

void ks_page_item_new(ks_admin_req_t *req)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    render_new(req, &vars);
    ks_tpl_free(&vars);
}

typedef struct {
    int category_id, price;
    const char *name, *status;
    ks_upload_t uploads[KS_CATALOG_LAYERS_MAX];
    int count;
    layer_inputs_t in;
    window_t window;
    struct ks__HideRule hides[HIDE_ROWS];
    int hide_count;
    struct ks__RegisterItemResponse response;
} register_call_t;

static int attempt_register(struct soap *soap, const char *url, void *p)
{
    register_call_t *call = p;
    return soap_call_ks__RegisterItem(soap, url, NULL, call->category_id, (char *)call->name,
                                      call->price, (char *)call->status, NULL, call->count,
                                      call->in.layers,
                                      call->window.has_from ? &call->window.from : NULL,
                                      call->window.has_until ? &call->window.until : NULL,
                                      call->hide_count, call->hides, &call->response);
}

/* Checks name and price into vars' err_* (the message next to the field). */
static int check_fields(ks_admin_req_t *req, ks_tpl_t *vars, const char **name, int *price,
                        int name_required)
{
    const char *price_text = ks_page_field(req, "price");
    long long number;
    int bad = 0;

    *name = ks_page_field(req, "name");
    if (*name && !**name && !name_required)
        *name = NULL;
    if (name_required && (!*name || !**name)) {
        ks_tpl_set(vars, "err_name", "Give the item a name.");
        bad = 1;
    } else if (*name && strlen(*name) > NAME_MAX_BYTES) {
        ks_tpl_setf(vars, "err_name", "A name has at most %d bytes.", NAME_MAX_BYTES);
        bad = 1;
    }
    if (ks_page_parse_int(price_text, 0, PRICE_MAX, &number) != 0) {
        ks_tpl_setf(vars, "err_price", "The price is a whole number from 0 to %d.", PRICE_MAX);
        bad = 1;
    } else {
        *price = (int)number;
    }
    return bad;
}

void ks_page_item_create(ks_admin_req_t *req)
{
    register_call_t *call = calloc(1, sizeof *call);
    const char *action = ks_page_field(req, "action"), *category = ks_page_field(req, "category");
    char why[512] = "", location[64], after[768], target[64];
    long long number;
    ks_tpl_t vars;
    int bad;

    ks_tpl_init(&vars);
    if (!call) {
        ks_page_error(req, 503, "Out of memory", "The item was not saved; try again.");
        return;
    }
    call->status = action && strcmp(action, "publish") == 0 ? "published" : "draft";
    bad = check_fields(req, &vars, &call->name, &call->price, 1);
    if (ks_page_parse_int(category, 1, 2147483647, &number) != 0) {
        ks_tpl_set(&vars, "err_category", "Choose the item's category.");
        bad = 1;
    } else {
        call->category_id = (int)number;
    }
    bad |= read_hides(req, &vars, call->hides, &call->hide_count);
    bad |= read_window(req, &vars, &call->window);
    if (ks_catalog_uploads(req, call->uploads, &call->count, why, sizeof why) != KS_OK) {
        ks_tpl_set(&vars, "err_layers", why);
        bad = 1;
    } else if (call->count == 0) {
        ks_tpl_set(&vars, "err_layers", "Add at least one layer: a full-canvas PNG.");
        bad = 1;
    }
    if (!bad) {
        layer_inputs(call->uploads, call->count, &call->in);
        if (ks_page_api(req, "RegisterItem", 0, attempt_register, call) == KS_OK &&
            call->response.item) {
            const struct ks__Item *item = call->response.item;
            snprintf(target, sizeof target, "item %d", item->id);
            describe(item, after, sizeof after);
            ks_page_audit(req, "item.register", target, NULL, after);
            snprintf(location, sizeof location, "/items/%d", item->id);
            snprintf(why, sizeof why, "Item %d \"%.128s\" registered as %s.", item->id,
                     item->name, strcmp(item->status, "published") == 0 ? "published" : "a draft");
            ks_page_redirect(req, location, why);
            free(call);
            ks_tpl_free(&vars);
            return;
        }
        fault_to_field(req, &vars);
    }
    ks_tpl_set(&vars, "reselect", "1");
    req->status = 400;
    render_new(req, &vars);
    free(call);
    ks_tpl_free(&vars);
}

/* The answer of a preview that failed: text the page shows as it is. */
void ks_page_item_preview(ks_admin_req_t *req)
{
    ks_upload_t uploads[KS_CATALOG_LAYERS_MAX];
    struct ks__ListCategoriesResponse *categories = NULL;
    const struct ks__Category *category = NULL;
    const char *category_text = ks_page_field(req, "category");
    unsigned char *png = NULL;
    size_t size = 0;
    char why[512] = "";
    long long category_id = 0;
    int count = 0;

    if (ks_catalog_uploads(req, uploads, &count, why, sizeof why) != KS_OK) {
        ks_page_send_text(req, 400, why);
        return;
    }
    if (count == 0) {
        ks_page_send_text(req, 400, "Add at least one layer file to preview.");
        return;
    }
    if (category_text && *category_text &&
        ks_page_parse_int(category_text, 1, 2147483647, &category_id) == 0 &&
        ks_catalog_categories(req, &categories) == KS_OK)
        category = ks_catalog_category(categories, (int)category_id);
    if (ks_catalog_preview(req, uploads, count, category ? category->zOrder : 0, &png, &size,
                           why, sizeof why) != KS_OK) {
        ks_page_send_text(req, req->api_down ? 503 : 400, why);
        return;
    }
    ks_page_send_data(req, "image/png", png, size, NULL);
    free(png);
}

/* ---- one item ---- */

/* The item named by the route ({id}), or NULL with the error page drawn. */
static struct ks__Item *route_item(ks_admin_req_t *req)
{
    struct ks__Item *item = NULL;
    long long id;
    ks_rc rc;

    if (ks_page_parse_int(req->route_param, 1, 2147483647, &id) != 0) {
        ks_page_error(req, 404, "Page not found", "There is no item \"%s\".", req->route_param);
        return NULL;
    }
    rc = ks_catalog_item(req, (int)id, &item);
    if (rc == KS_NOTFOUND)
        ks_page_error(req, 404, "Item not found", "There is no item %lld.", id);
    else if (rc != KS_OK)
        ks_page_error(req, 503, "The item could not be read", "See the message above.");
    return rc == KS_OK ? item : NULL;
}

/* The item's history: the audit log's rows about it, newest first (for
 * those whose role reads the audit log). */
static void history(ks_admin_req_t *req, const struct ks__Item *item, ks_tpl_t *vars)
{
    ks_audit_row_t rows[HISTORY_ROWS];
    char target[64];
    ks_audit_filter_t filter = {.target = target, .limit = HISTORY_ROWS};
    ks_err_t err = {{0}};
    ks_buf_t html;
    int count, more;

    if (!ks_page_can(req, KS_ACT_AUDIT_VIEW))
        return;
    snprintf(target, sizeof target, "item %d", item->id);
    if (ks_admin_store_audit_list(req->db, &filter, rows, &count, &more, &err) != KS_OK) {
        ks_page_message(req, "error", "The item's history could not be read: %s", err.msg);
        return;
    }
    ks_buf_init(&html, 1 << 20);
    for (int i = 0; i < count; i++) {
        char when[32];
        ks_tpl_t row;
        ks_tpl_init(&row);
        ks_admin_audit_time(rows[i].at, when);
        ks_tpl_set(&row, "when", when);
        ks_tpl_set(&row, "staff", rows[i].staff_name);
        ks_tpl_set(&row, "action", rows[i].action);
        ks_tpl_set(&row, "before", rows[i].before);
        ks_tpl_set(&row, "after", rows[i].after);
        ks_page_render_part(req, &html, "item_history_row.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set(vars, "show_history", "1");
    ks_tpl_set(vars, "history_empty", count ? "" : "1");
    ks_tpl_set(vars, "history_more", more ? "1" : "");
    ks_tpl_set(vars, "history_target", target);
    ks_tpl_set_html(vars, "history_rows", html.data ? html.data : "");
    ks_admin_store_audit_free(rows, count);
    ks_buf_free(&html);
}

/* An animated layer's frames in row's "frames" ("3 frames") and
 * "delays" ("300 80 100 ms"); a still layer has "still" and no delays. */
static void layer_frames(const struct ks__Layer *layer, ks_tpl_t *row)
{
    char text[512] = "";
    int n = 0;

    if (!layer->frameCount || *layer->frameCount < 2) {
        ks_tpl_set(row, "frames", "still");
        return;
    }
    ks_tpl_setf(row, "frames", "%d frames", *layer->frameCount);
    for (int f = 0; f < layer->__sizedelayMs && n >= 0 && n < (int)sizeof text - 16; f++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s%d", f ? " " : "", layer->delayMs[f]);
    if (n > 0)
        ks_tpl_setf(row, "delays", "%s ms", text);
    ks_tpl_set(row, "animated", "1");
}

static void render_item(ks_admin_req_t *req, const struct ks__Item *item, ks_tpl_t *vars)
{
    struct ks__ListCategoriesResponse *categories = NULL;
    const struct ks__Category *category;
    char url[128], title[200], hides[256], window[96];
    ks_buf_t rows;

    ks_buf_init(&rows, 1 << 16);
    ks_catalog_categories(req, &categories);
    category = ks_catalog_category(categories, item->categoryId);
    ks_tpl_set_int(vars, "id", item->id);
    if (!ks_form_field(&req->form, "name"))
        ks_tpl_set(vars, "name", item->name);
    else
        ks_tpl_set(vars, "name", ks_page_field(req, "name"));
    ks_tpl_set(vars, "current_name", item->name);
    ks_tpl_set(vars, "status", item->status);
    ks_tpl_set(vars, strcmp(item->status, "published") == 0 ? "is_published"
                     : strcmp(item->status, "draft") == 0 ? "is_draft" : "is_retired", "1");
    ks_tpl_set_int(vars, "price", item->price);
    if (ks_form_field(&req->form, "price"))
        ks_tpl_set(vars, "price", ks_page_field(req, "price"));
    ks_tpl_set_int(vars, "category_id", item->categoryId);
    ks_tpl_set(vars, "category", category ? category->name : "?");
    ks_tpl_set_int(vars, "layer_count", item->__sizelayer);
    image_url(item, "thumb", url, sizeof url);
    ks_tpl_set(vars, "thumb", url);
    image_url(item, "preview", url, sizeof url);
    ks_tpl_set(vars, "on_mannequin", url);
    for (int i = 0; i < item->__sizelayer; i++) {
        ks_tpl_t row;
        ks_tpl_init(&row);
        ks_tpl_set_int(&row, "no", item->layer[i].layerNo);
        ks_tpl_set_int(&row, "z", item->layer[i].zOrder);
        ks_tpl_setf(&row, "box", "%d,%d %dx%d", item->layer[i].x, item->layer[i].y,
                    item->layer[i].width, item->layer[i].height);
        ks_tpl_setf(&row, "sha", "%.12s", item->layer[i].sha256 ? item->layer[i].sha256 : "");
        ks_tpl_set(&row, "tint", item->layer[i].tintable == true_ ? "1" : "");
        ks_tpl_set(&row, "role", item->layer[i].role ? item->layer[i].role : "");
        layer_frames(&item->layer[i], &row);
        ks_page_render_part(req, &rows, "item_layer_fact.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set_html(vars, "layer_facts", rows.data ? rows.data : "");
    hide_facts(item, hides, sizeof hides);
    ks_tpl_set(vars, "hide_facts", hides);
    window_text(item, window, sizeof window);
    ks_tpl_set(vars, "window", window);
    ks_tpl_set(vars, "window_state", window_state(item));
    window_fields(req, item, vars);
    hide_rows(req, categories, item, vars);
    ks_buf_reset(&rows);
    for (int i = 1; i <= KS_CATALOG_LAYERS_MAX; i++) {
        ks_tpl_t row;
        ks_tpl_init(&row);
        ks_tpl_set_int(&row, "n", i);
        ks_page_render_part(req, &rows, "item_layer_row.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set_html(vars, "layer_rows", rows.data ? rows.data : "");
    ks_tpl_setf(vars, "max_upload", "%zu KiB", req->conf->max_upload_bytes / 1024);
    upload_limits(req, vars);
    history(req, item, vars);
    snprintf(title, sizeof title, "Item %d: %.150s", item->id, item->name);
    ks_page_render(req, title, "items", "item_edit.html", vars);
    ks_buf_free(&rows);
}

void ks_page_item_edit(ks_admin_req_t *req)
{
    struct ks__Item *item = route_item(req);
    ks_tpl_t vars;

    if (!item)
        return;
    ks_tpl_init(&vars);
    render_item(req, item, &vars);
    ks_tpl_free(&vars);
}

typedef struct {
    int id;
    char *name, *status;
    int *price;
    int count;
    layer_inputs_t in;
    time_t *from, *until;
    enum xsd__boolean *clear_window;
    struct ks__HideRule hides[HIDE_ROWS];
    int hide_count;
    enum xsd__boolean *clear_hides;
    struct ks__UpdateItemResponse response;
} update_call_t;

static int attempt_update(struct soap *soap, const char *url, void *p)
{
    update_call_t *call = p;
    return soap_call_ks__UpdateItem(soap, url, NULL, call->id, call->name, call->price,
                                    call->status, call->count,
                                    call->count ? call->in.layers : NULL, call->from, call->until,
                                    call->clear_window, call->hide_count,
                                    call->hide_count ? call->hides : NULL, call->clear_hides,
                                    &call->response);
}


/* Runs an UpdateItem (or RetireItem: retire) for item and records it. */
static void change_item(ks_admin_req_t *req, const struct ks__Item *item, update_call_t *call,
                        const char *action)
{
    char before[768], after[768], target[64], location[64], flash[512];

    describe(item, before, sizeof before);
    call->id = item->id;
    if (ks_page_api(req, "UpdateItem", 0, attempt_update, call) != KS_OK ||
        !call->response.item) {
        ks_tpl_t vars;
        ks_tpl_init(&vars);
        ks_tpl_set(&vars, "reselect", call->count ? "1" : "");
        if (!req->api_down)
            fault_to_field(req, &vars);
        req->status = 400;
        render_item(req, item, &vars);
        ks_tpl_free(&vars);
        return;
    }
    describe(call->response.item, after, sizeof after);
    snprintf(target, sizeof target, "item %d", item->id);
    ks_page_audit(req, action, target, before, after);
    snprintf(location, sizeof location, "/items/%d", item->id);
    if (call->count)
        snprintf(flash, sizeof flash, "Item %d saved with new art: %d avatar(s) wearing it "
                 "are being drawn again.", item->id, call->response.avatarsQueued);
    else
        snprintf(flash, sizeof flash, "Item %d saved (%s).", item->id,
                 call->response.item->status);
    ks_page_redirect(req, location, flash);
}

void ks_page_item_update(ks_admin_req_t *req)
{
    struct ks__Item *item = route_item(req);
    update_call_t *call;
    ks_upload_t uploads[KS_CATALOG_LAYERS_MAX];
    const char *name;
    char why[512] = "";
    int price = 0, bad;
    enum xsd__boolean clear = true_;
    window_t window;
    ks_tpl_t vars;

    if (!item)
        return;
    if (!(call = calloc(1, sizeof *call))) {
        ks_page_error(req, 503, "Out of memory", "Nothing was changed; try again.");
        return;
    }
    ks_tpl_init(&vars);
    bad = check_fields(req, &vars, &name, &price, 1);
    bad |= read_hides(req, &vars, call->hides, &call->hide_count);
    bad |= read_window(req, &vars, &window);
    if (ks_catalog_uploads(req, uploads, &call->count, why, sizeof why) != KS_OK) {
        ks_tpl_set(&vars, "err_layers", why);
        bad = 1;
    }
    if (bad) {
        ks_tpl_set(&vars, "reselect", call->count ? "1" : "");
        req->status = 400;
        render_item(req, item, &vars);
    } else {
        call->name = (char *)name;
        call->price = &price;
        layer_inputs(uploads, call->count, &call->in);
        if (!same_window(item, &window)) {
            /* both sides set anew: a side left empty is opened */
            call->clear_window = &clear;
            call->from = window.has_from ? &window.from : NULL;
            call->until = window.has_until ? &window.until : NULL;
        }
        if (same_hides(item, call->hides, call->hide_count))
            call->hide_count = 0;               /* unchanged: not sent (no re-render) */
        else if (call->hide_count == 0)
            call->clear_hides = &clear;
        change_item(req, item, call, call->count ? "item.update_art" : "item.update");
    }
    ks_tpl_free(&vars);
    free(call);
}

void ks_page_item_publish(ks_admin_req_t *req)
{
    struct ks__Item *item = route_item(req);
    update_call_t *call;

    if (!item)
        return;
    if (!(call = calloc(1, sizeof *call))) {
        ks_page_error(req, 503, "Out of memory", "Nothing was changed; try again.");
        return;
    }
    call->status = "published";
    change_item(req, item, call, "item.publish");
    free(call);
}

typedef struct {
    int id;
    struct ks__RetireItemResponse response;
} retire_call_t;

static int attempt_retire(struct soap *soap, const char *url, void *p)
{
    retire_call_t *call = p;
    return soap_call_ks__RetireItem(soap, url, NULL, call->id, &call->response);
}

void ks_page_item_retire(ks_admin_req_t *req)
{
    struct ks__Item *item = route_item(req);
    retire_call_t call = {0};
    char before[768], after[768], target[64], location[64], flash[256];

    if (!item)
        return;
    describe(item, before, sizeof before);
    call.id = item->id;
    if (ks_page_api(req, "RetireItem", 0, attempt_retire, &call) != KS_OK ||
        !call.response.item) {
        ks_tpl_t vars;
        ks_tpl_init(&vars);
        req->status = 400;
        render_item(req, item, &vars);
        ks_tpl_free(&vars);
        return;
    }
    describe(call.response.item, after, sizeof after);
    snprintf(target, sizeof target, "item %d", item->id);
    ks_page_audit(req, "item.retire", target, before, after);
    snprintf(location, sizeof location, "/items/%d", item->id);
    snprintf(flash, sizeof flash, "Item %d retired: no longer listed or granted; %d member(s) "
             "still wear it.", item->id, call.response.wornBy);
    ks_page_redirect(req, location, flash);
}

/* An image of the route's item: its layers alone (thumb) or on the mannequin. */
static void item_image(ks_admin_req_t *req, int on_mannequin)
{
    struct ks__Item *item;
    unsigned char *png = NULL;
    size_t size = 0;
    char why[512] = "";
    long long id;
    ks_rc rc;

    if (ks_page_parse_int(req->route_param, 1, 2147483647, &id) != 0 ||
        ks_catalog_item(req, (int)id, &item) != KS_OK) {
        ks_page_send_text(req, 404, "no such item");
        return;
    }
    rc = on_mannequin ? ks_catalog_item_preview(req, item, &png, &size, why, sizeof why)
                      : ks_catalog_item_png(req, item, &png, &size, why, sizeof why);
    if (rc != KS_OK) {
        ks_log_warn("image of item %lld: %s", id, why);
        ks_page_send_text(req, 503, why);
        return;
    }
    /* the URL carries the art's hash (?v=), so the browser may keep it */
    ks_page_send_data(req, "image/png", png, size, "private, max-age=86400");
    free(png);
}

void ks_page_item_thumb(ks_admin_req_t *req)
{
    item_image(req, 0);
}

void ks_page_item_on_mannequin(ks_admin_req_t *req)
{
    item_image(req, 1);
}
