/* catalog.c: the catalog pages' shared calls and images (catalog.h). */
#include "catalog.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "log.h"
#include "page.h"
#include "png_codec.h"

#define Z_MIN (-100000)
#define Z_MAX 100000

/* ---- calls ---- */

typedef struct {
    struct ks__ListCategoriesResponse response;
} categories_call_t;

static int attempt_categories(struct soap *soap, const char *url, void *p)
{
    return soap_call_ks__ListCategories(soap, url, NULL, NULL,
                                        &((categories_call_t *)p)->response);
}

ks_rc ks_catalog_categories(ks_admin_req_t *req, struct ks__ListCategoriesResponse **out)
{
    categories_call_t *call = calloc(1, sizeof *call);
    ks_rc rc;

    *out = NULL;
    if (!call)
        return KS_NOMEM;
    rc = ks_page_api(req, "ListCategories", 1, attempt_categories, call);
    if (rc == KS_OK) {
        /* kept in the call's arena, which lives until the request ends */
        *out = soap_malloc(req->calls[req->call_count - 1], sizeof **out);
        if (!*out)
            rc = KS_NOMEM;
        else
            **out = call->response;
    }
    free(call);
    return rc;
}

const struct ks__Category *ks_catalog_category(const struct ks__ListCategoriesResponse *list,
                                               int id)
{
    for (int i = 0; list && i < list->__sizecategory; i++)
        if (list->category[i].id == id)
            return &list->category[i];
    return NULL;
}

typedef struct {
    int id;
    struct ks__GetItemResponse response;
} item_call_t;

static int attempt_item(struct soap *soap, const char *url, void *p)
{
    item_call_t *call = p;
    return soap_call_ks__GetItem(soap, url, NULL, call->id, &call->response);
}

ks_rc ks_catalog_item(ks_admin_req_t *req, int id, struct ks__Item **out)
{
    item_call_t call = {.id = id};
    ks_rc rc = ks_page_api(req, "GetItem", 1, attempt_item, &call);

    *out = rc == KS_OK ? call.response.item : NULL;
    return rc == KS_OK && !*out ? KS_ERROR : rc;
}

/* ---- uploads ---- */

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static int is_png(const ks_form_field_t *file)
{
    return file->size >= sizeof png_signature &&
           memcmp(file->value, png_signature, sizeof png_signature) == 0;
}

/* The frames<n> files and delay<n> of slot n into u (has_layer: slot n
 * has its own PNG, the first frame). */
static ks_rc upload_frames(ks_admin_req_t *req, int n, int has_layer, ks_upload_t *u, char *why,
                           size_t why_size)
{
    char name[24];
    const char *delay;

    u->frame_count = 0;
    u->delay_ms = 0;
    snprintf(name, sizeof name, "frames%d", n);
    for (int i = 0; i < req->form.count; i++) {
        const ks_form_field_t *file = &req->form.fields[i];
        if (strcmp(file->name, name) != 0 || !file->filename)
            continue;
        if (!has_layer) {
            snprintf(why, why_size, "Layer %d has animation frames but no PNG of its own: "
                     "choose its first frame as the layer file.", n);
            return KS_INVALID;
        }
        if (u->frame_count == KS_CATALOG_FRAMES_MAX) {
            snprintf(why, why_size, "Layer %d has more than %d frames after its first.", n,
                     KS_CATALOG_FRAMES_MAX);
            return KS_INVALID;
        }
        if (!is_png(file)) {
            snprintf(why, why_size, "Frame \"%.80s\" of layer %d is not a PNG file.",
                     file->filename, n);
            return KS_INVALID;
        }
        u->frames[u->frame_count++] = file;
    }
    snprintf(name, sizeof name, "delay%d", n);
    delay = ks_page_field(req, name);
    if (u->frame_count && delay && *delay) {
        long long value;
        if (ks_page_parse_int(delay, KS_CATALOG_DELAY_MIN, KS_CATALOG_DELAY_MAX, &value) != 0) {
            snprintf(why, why_size, "The frame delay of layer %d is a whole number of "
                     "milliseconds from %d to %d.", n, KS_CATALOG_DELAY_MIN,
                     KS_CATALOG_DELAY_MAX);
            return KS_INVALID;
        }
        u->delay_ms = (int)value;
    }
    return KS_OK;
}

ks_rc ks_catalog_uploads(ks_admin_req_t *req, ks_upload_t *out, int *count, char *why,
                         size_t why_size)
{
    *count = 0;
    if (req->form.refused[0]) {
        snprintf(why, why_size, "Nothing was saved: %s.", req->form.refused);
        return KS_INVALID;
    }
    for (int i = 1; i <= KS_CATALOG_LAYERS_MAX; i++) {
        char name[16];
        const ks_form_field_t *file;
        const char *z;
        ks_upload_t *u;

        snprintf(name, sizeof name, "layer%d", i);
        file = ks_form_field(&req->form, name);
        if (!file || !file->filename) {
            ks_upload_t unused;
            if (upload_frames(req, i, 0, &unused, why, why_size) != KS_OK)
                return KS_INVALID;
            continue;
        }
        u = &out[(*count)++];
        u->index = i;
        u->png = (const unsigned char *)file->value;
        u->size = file->size;
        u->filename = file->filename;
        if (upload_frames(req, i, 1, u, why, why_size) != KS_OK)
            return KS_INVALID;
        if (!is_png(file)) {
            snprintf(why, why_size, "Layer %d (\"%.80s\") is not a PNG file.", i, file->filename);
            return KS_INVALID;
        }
        snprintf(name, sizeof name, "z%d", i);
        z = ks_page_field(req, name);
        u->has_z = z && *z;
        if (u->has_z) {
            long long value;
            if (ks_page_parse_int(z, Z_MIN, Z_MAX, &value) != 0) {
                snprintf(why, why_size, "The z-order of layer %d must be a whole number from "
                         "%d to %d.", i, Z_MIN, Z_MAX);
                return KS_INVALID;
            }
            u->z = (int)value;
        }
        snprintf(name, sizeof name, "tint%d", i);
        u->tintable = ks_page_field(req, name) != NULL;
        snprintf(name, sizeof name, "role%d", i);
        u->role = ks_page_field(req, name);
        if (u->role && !*u->role)
            u->role = NULL;
    }
    return KS_OK;
}

/* ---- drawing ---- */

/* Decodes png into a premultiplied image (limits: 2048 x 2048). */
static ks_rc decode(const unsigned char *png, size_t size, ks_image_t *out, ks_err_t *err)
{
    ks_png_limits_t limits;
    ks_rc rc;

    ks_png_limits_default(&limits);
    limits.max_width = limits.max_height = 2048;
    limits.max_decoded_bytes = 2048u * 2048u * 4u;
    if ((rc = ks_png_decode(png, size, &limits, out, err)) == KS_OK)
        ks_image_premultiply(out);
    return rc;
}

static ks_rc encode(const ks_image_t *image, unsigned char **png, size_t *size, char *why,
                    size_t why_size)
{
    ks_err_t err = {{0}};
    ks_rc rc = ks_png_encode(image, KS_PNG_LEVEL_FAST, png, size, &err);

    if (rc != KS_OK)
        snprintf(why, why_size, "The image could not be encoded: %s", err.msg);
    return rc;
}

typedef struct {
    int item_id, layer_no;
    const char *sha256;
    struct ks__GetItemLayerResponse response;
} layer_call_t;

static int attempt_layer(struct soap *soap, const char *url, void *p)
{
    layer_call_t *call = p;
    return soap_call_ks__GetItemLayer(soap, url, NULL, call->item_id, call->layer_no, NULL,
                                      &call->response);
}

/* A layer to draw: its image (premultiplied), its place and z-order, and
 * what to call it in messages. */
typedef struct {
    ks_image_t image;
    int x, y, z;
    char label[128];
} placed_t;

static void free_placed(placed_t *layers, int count)
{
    for (int i = 0; i < count; i++)
        ks_image_free(&layers[i].image);
}

/* Sorts layers[0..count) by z-order, keeping the order of ties (stable). */
static void sort_by_z(placed_t *layers, int count)
{
    for (int i = 1; i < count; i++) {
        placed_t moving = layers[i];
        int at = i;
        while (at > 0 && layers[at - 1].z > moving.z) {
            layers[at] = layers[at - 1];
            at--;
        }
        layers[at] = moving;
    }
}

/* item's layers (GetItemLayer) into out, in drawing order: z, then layer
 * number, as the image servers draw them. */
static ks_rc fetch_item_layers(ks_admin_req_t *req, const struct ks__Item *item, placed_t *out,
                               int *count, char *why, size_t why_size)
{
    int n = item->__sizelayer < KS_CATALOG_LAYERS_MAX ? item->__sizelayer
                                                      : KS_CATALOG_LAYERS_MAX;
    ks_err_t err = {{0}};

    *count = 0;
    if (n == 0) {
        snprintf(why, why_size, "item %d has no layers", item->id);
        return KS_INVALID;
    }
    for (int no = 0, done = 0; done < n; no++) {      /* by layer number first */
        for (int i = 0; i < n; i++) {
            const struct ks__Layer *l = &item->layer[i];
            layer_call_t call = {.item_id = item->id, .layer_no = l->layerNo};
            placed_t *p = &out[*count];
            if (l->layerNo != no)
                continue;
            done++;
            if (ks_page_api(req, "GetItemLayer", 1, attempt_layer, &call) != KS_OK) {
                snprintf(why, why_size, "GetItemLayer %d/%d failed", item->id, l->layerNo);
                free_placed(out, *count);
                return KS_UNAVAILABLE;
            }
            if (decode(call.response.png.__ptr, (size_t)call.response.png.__size, &p->image,
                       &err) != KS_OK) {
                snprintf(why, why_size, "layer %d of item %d: %s", l->layerNo, item->id,
                         err.msg);
                free_placed(out, *count);
                return KS_INVALID;
            }
            p->x = l->x;
            p->y = l->y;
            p->z = l->zOrder;
            snprintf(p->label, sizeof p->label, "layer %d of item %d", l->layerNo, item->id);
            ++*count;
        }
        if (no > 1000)
            break;
    }
    sort_by_z(out, *count);
    return KS_OK;
}

ks_rc ks_catalog_item_png(ks_admin_req_t *req, const struct ks__Item *item, unsigned char **png,
                          size_t *size, char *why, size_t why_size)
{
    placed_t layers[KS_CATALOG_LAYERS_MAX];
    ks_layer_ref_t refs[KS_CATALOG_LAYERS_MAX];
    ks_image_t canvas = {0};
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -(1 << 30), y1 = -(1 << 30), count;
    ks_err_t err = {{0}};
    ks_rc rc;

    if ((rc = fetch_item_layers(req, item, layers, &count, why, why_size)) != KS_OK)
        return rc;
    /* cropped to the box of its layers */
    for (int i = 0; i < count; i++) {
        const placed_t *l = &layers[i];
        x0 = l->x < x0 ? l->x : x0;
        y0 = l->y < y0 ? l->y : y0;
        x1 = l->x + (int)l->image.width > x1 ? l->x + (int)l->image.width : x1;
        y1 = l->y + (int)l->image.height > y1 ? l->y + (int)l->image.height : y1;
    }
    for (int i = 0; i < count; i++)
        refs[i] = (ks_layer_ref_t){&layers[i].image, layers[i].x - x0, layers[i].y - y0,
                                  KS_TINT_NONE};
    if ((rc = ks_compose(refs, (size_t)count, (uint32_t)(x1 - x0), (uint32_t)(y1 - y0), &canvas,
                         &err)) != KS_OK)
        snprintf(why, why_size, "%s", err.msg);
    if (rc == KS_OK)
        rc = encode(&canvas, png, size, why, why_size);
    free_placed(layers, count);
    ks_image_free(&canvas);
    return rc;
}

/* ---- the preview ---- */

typedef struct {
    const char *user_id;
    struct ks__GetAvatarResponse response;
} avatar_call_t;

static int attempt_avatar(struct soap *soap, const char *url, void *p)
{
    avatar_call_t *call = p;
    return soap_call_ks__GetAvatar(soap, url, NULL, (char *)call->user_id, NULL, &call->response);
}

typedef struct {
    const char *user_id;
    struct ks__CreateAvatarResponse response;
} create_call_t;

static int attempt_create(struct soap *soap, const char *url, void *p)
{
    create_call_t *call = p;
    return soap_call_ks__CreateAvatar(soap, url, NULL, (char *)call->user_id, NULL,
                                      &call->response);
}

typedef struct {
    const char *user_id;
    int *wear;
    int wear_count;
    struct ks__PreviewAvatarResponse response;
} preview_call_t;

static int attempt_preview(struct soap *soap, const char *url, void *p)
{
    preview_call_t *call = p;
    return soap_call_ks__PreviewAvatar(soap, url, NULL, (char *)call->user_id, call->wear_count,
                                       call->wear, 0, NULL, 0, NULL, &call->response);
}

/* The mannequin exists once one request saw it; checked again after a restart. */
static atomic_int mannequin_seen;

static ks_rc ensure_mannequin(ks_admin_req_t *req)
{
    avatar_call_t get = {.user_id = req->conf->mannequin_user};
    create_call_t create = {.user_id = req->conf->mannequin_user};
    char target[100];
    ks_rc rc;

    if (atomic_load(&mannequin_seen))
        return KS_OK;
    rc = ks_page_api_lookup(req, "GetAvatar", attempt_avatar, &get);
    if (rc == KS_NOTFOUND) {
        rc = ks_page_api(req, "CreateAvatar", 0, attempt_create, &create);
        if (rc == KS_OK) {
            snprintf(target, sizeof target, "member %s", req->conf->mannequin_user);
            ks_page_audit(req, "mannequin.create", target, NULL, "created for previews");
        }
    }
    if (rc == KS_OK)
        atomic_store(&mannequin_seen, 1);
    return rc;
}

/* The lowest z-order of the items the preview wore. */
static ks_rc worn_lowest_z(ks_admin_req_t *req, const struct ks__PreviewAvatarResponse *preview,
                           int *z)
{
    *z = Z_MAX;
    for (int i = 0; i < preview->__sizewornItemId; i++) {
        struct ks__Item *item;
        ks_rc rc = ks_catalog_item(req, preview->wornItemId[i], &item);
        if (rc != KS_OK)
            return rc;
        for (int j = 0; j < item->__sizelayer; j++)
            if (item->layer[j].zOrder < *z)
                *z = item->layer[j].zOrder;
    }
    return KS_OK;
}

ks_rc ks_catalog_mannequin(ks_admin_req_t *req, ks_image_t *image, int *lowest_z, char *why,
                           size_t why_size)
{
    preview_call_t call = {.user_id = req->conf->mannequin_user,
                           .wear = (int *)req->conf->preview_outfit,
                           .wear_count = req->conf->preview_outfit_count};
    ks_err_t err = {{0}};
    ks_rc rc;

    rc = ensure_mannequin(req);
    if (rc == KS_OK &&
        (rc = ks_page_api_lookup(req, "PreviewAvatar", attempt_preview, &call)) == KS_NOTFOUND) {
        /* deleted since it was seen (say, from the members page): made again */
        atomic_store(&mannequin_seen, 0);
        if ((rc = ensure_mannequin(req)) == KS_OK)
            rc = ks_page_api(req, "PreviewAvatar", 1, attempt_preview, &call);
    }
    if (rc != KS_OK || (rc = worn_lowest_z(req, &call.response, lowest_z)) != KS_OK) {
        snprintf(why, why_size, "The mannequin could not be drawn: %s",
                 ks_page_fault_message(req)[0] ? ks_page_fault_message(req)
                                               : "the API did not answer");
        return rc;
    }
    if ((rc = decode(call.response.png.__ptr, (size_t)call.response.png.__size, image, &err)))
        snprintf(why, why_size, "The mannequin's image is unreadable: %s", err.msg);
    return rc;
}

/* Draws layers (sorted by z) on the mannequin: those below its lowest
 * layer behind it, the others in front. With full_canvas, each layer must
 * be the canvas's size. */
static ks_rc on_mannequin(ks_admin_req_t *req, placed_t *layers, int count, int full_canvas,
                          unsigned char **png, size_t *size, char *why, size_t why_size)
{
    ks_image_t base = {0}, canvas = {0};
    ks_layer_ref_t refs[KS_CATALOG_LAYERS_MAX + 1];
    int base_z, n = 0, i = 0;
    ks_err_t err = {{0}};
    ks_rc rc;

    if ((rc = ks_catalog_mannequin(req, &base, &base_z, why, why_size)) != KS_OK)
        return rc;
    for (int k = 0; k < count && full_canvas; k++) {
        if (layers[k].image.width != base.width || layers[k].image.height != base.height) {
            snprintf(why, why_size, "%s is %ux%u; layers are full-canvas PNGs of %ux%u.",
                     layers[k].label, layers[k].image.width, layers[k].image.height,
                     base.width, base.height);
            ks_image_free(&base);
            return KS_INVALID;
        }
    }
    sort_by_z(layers, count);
    for (; i < count && layers[i].z < base_z; i++)
        refs[n++] = (ks_layer_ref_t){&layers[i].image, layers[i].x, layers[i].y, KS_TINT_NONE};
    refs[n++] = (ks_layer_ref_t){&base, 0, 0, KS_TINT_NONE};
    for (; i < count; i++)
        refs[n++] = (ks_layer_ref_t){&layers[i].image, layers[i].x, layers[i].y, KS_TINT_NONE};
    if ((rc = ks_compose(refs, (size_t)n, base.width, base.height, &canvas, &err)) != KS_OK)
        snprintf(why, why_size, "%s", err.msg);
    if (rc == KS_OK)
        rc = encode(&canvas, png, size, why, why_size);
    ks_image_free(&base);
    ks_image_free(&canvas);
    return rc;
}

ks_rc ks_catalog_preview(ks_admin_req_t *req, const ks_upload_t *uploads, int count,
                         int default_z, unsigned char **png, size_t *size, char *why,
                         size_t why_size)
{
    placed_t layers[KS_CATALOG_LAYERS_MAX];
    ks_err_t err = {{0}};
    ks_rc rc = KS_OK;
    int n = 0;

    for (; n < count; n++) {
        placed_t *p = &layers[n];
        snprintf(p->label, sizeof p->label, "Layer %d (\"%.80s\")", uploads[n].index,
                 uploads[n].filename);
        if ((rc = decode(uploads[n].png, uploads[n].size, &p->image, &err)) != KS_OK) {
            snprintf(why, why_size, "%s: %s", p->label, err.msg);
            break;
        }
        p->x = p->y = 0;
        p->z = uploads[n].has_z ? uploads[n].z : default_z;
    }
    if (rc == KS_OK)
        rc = on_mannequin(req, layers, count, 1, png, size, why, why_size);
    free_placed(layers, n);
    return rc;
}

ks_rc ks_catalog_item_preview(ks_admin_req_t *req, const struct ks__Item *item,
                              unsigned char **png, size_t *size, char *why, size_t why_size)
{
    placed_t layers[KS_CATALOG_LAYERS_MAX];
    int count;
    ks_rc rc = fetch_item_layers(req, item, layers, &count, why, why_size);

    if (rc != KS_OK)
        return rc;
    rc = on_mannequin(req, layers, count, 0, png, size, why, why_size);
    free_placed(layers, count);
    return rc;
}

ks_rc ks_catalog_decode(const void *png, size_t size, ks_image_t *out, char *why,
                        size_t why_size)
{
    ks_err_t err = {{0}};
    ks_rc rc = decode(png, size, out, &err);

    if (rc != KS_OK)
        snprintf(why, why_size, "%s", err.msg);
    return rc;
}

ks_rc ks_catalog_encode(const ks_image_t *image, unsigned char **png, size_t *size, char *why,
                        size_t why_size)
{
    return encode(image, png, size, why, why_size);
}
