/* page_scenes.c: the album scenes (backgrounds with the slots avatars
 * stand in).
 *
 *   GET  /scenes                    the list with each background
 *   GET  /scenes/new                register one: name, background PNG, 1..5 slots
 *   POST /scenes/new                RegisterScene
 *   POST /scenes/preview            the background with the mannequin in every
 *                                   slot (nothing saved; admin.js shows it)
 *   GET  /scenes/{id}/background.png  GetSceneBackground
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "compose.h"
#include "page.h"
#include "pages.h"

#define SLOTS_MAX 5
#define COORD_MAX 2048

typedef struct {
    struct ks__ListScenesResponse response;
} list_call_t;

static int attempt_list(struct soap *soap, const char *url, void *p)
{
    return soap_call_ks__ListScenes(soap, url, NULL, &((list_call_t *)p)->response);
}

void ks_page_scenes(ks_admin_req_t *req)
{
    list_call_t call;
    ks_buf_t rows;
    ks_tpl_t vars;

    memset(&call, 0, sizeof call);
    ks_tpl_init(&vars);
    ks_buf_init(&rows, 1 << 20);
    if (ks_page_api(req, "ListScenes", 1, attempt_list, &call) == KS_OK) {
        for (int i = 0; i < call.response.__sizescene; i++) {
            const struct ks__Scene *scene = &call.response.scene[i];
            ks_tpl_t row;
            ks_tpl_init(&row);
            ks_tpl_set_int(&row, "id", scene->id);
            ks_tpl_set(&row, "name", scene->name);
            ks_tpl_setf(&row, "size", "%dx%d", scene->width, scene->height);
            ks_tpl_set_int(&row, "slots", scene->__sizeslot);
            ks_tpl_setf(&row, "sha", "%.16s", scene->sha256 ? scene->sha256 : "");
            ks_page_render_part(req, &rows, "scene_tile.html", &row);
            ks_tpl_free(&row);
        }
        ks_tpl_set(&vars, "listed", "1");
        ks_tpl_set(&vars, "none", call.response.__sizescene ? "" : "1");
    }
    ks_tpl_set_html(&vars, "tiles", rows.data ? rows.data : "");
    ks_page_render(req, "Scenes", "scenes", "scenes.html", &vars);
    ks_buf_free(&rows);
    ks_tpl_free(&vars);
}

static void render_new(ks_admin_req_t *req, ks_tpl_t *vars)
{
    ks_buf_t rows;

    ks_buf_init(&rows, 1 << 16);
    for (int i = 0; i < SLOTS_MAX; i++) {
        char field[8];
        ks_tpl_t row;
        ks_tpl_init(&row);
        ks_tpl_set_int(&row, "n", i);
        ks_tpl_set(&row, "own", i == 0 ? "1" : "");
        snprintf(field, sizeof field, "x%d", i);
        ks_tpl_set(&row, "x", ks_page_field(req, field));
        snprintf(field, sizeof field, "y%d", i);
        ks_tpl_set(&row, "y", ks_page_field(req, field));
        ks_page_render_part(req, &rows, "scene_slot_row.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set_html(vars, "slot_rows", rows.data ? rows.data : "");
    ks_tpl_set(vars, "name", ks_page_field(req, "name"));
    ks_tpl_setf(vars, "max_upload", "%zu KiB", req->conf->max_upload_bytes / 1024);
    ks_page_render(req, "Register a scene", "scenes", "scene_new.html", vars);
    ks_buf_free(&rows);
}

void ks_page_scene_new(ks_admin_req_t *req)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    render_new(req, &vars);
    ks_tpl_free(&vars);
}

/* The form's slots (rows with both x and y) and background; the reason in
 * why. 0 when they are usable. */
static int read_scene(ks_admin_req_t *req, struct ks__SceneSlot *slots, int *slot_count,
                      const ks_form_field_t **background, char *why, size_t why_size)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    *slot_count = 0;
    if (req->form.refused[0]) {
        snprintf(why, why_size, "Nothing was saved: %s.", req->form.refused);
        return -1;
    }
    *background = ks_form_field(&req->form, "background");
    if (!*background || !(*background)->filename) {
        snprintf(why, why_size, "Choose the background: a PNG file.");
        return -1;
    }
    if ((*background)->size < 8 || memcmp((*background)->value, signature, 8) != 0) {
        snprintf(why, why_size, "The background (\"%.80s\") is not a PNG file.",
                 (*background)->filename);
        return -1;
    }
    for (int i = 0; i < SLOTS_MAX; i++) {
        char fx[8], fy[8];
        const char *x, *y;
        long long vx, vy;
        snprintf(fx, sizeof fx, "x%d", i);
        snprintf(fy, sizeof fy, "y%d", i);
        x = ks_page_field(req, fx);
        y = ks_page_field(req, fy);
        if ((!x || !*x) && (!y || !*y))
            continue;
        if (ks_page_parse_int(x, 0, COORD_MAX, &vx) || ks_page_parse_int(y, 0, COORD_MAX, &vy)) {
            snprintf(why, why_size, "Slot %d needs x and y, whole numbers from 0 to %d.", i,
                     COORD_MAX);
            return -1;
        }
        slots[*slot_count].x = (int)vx;
        slots[*slot_count].y = (int)vy;
        ++*slot_count;
    }
    if (*slot_count == 0) {
        snprintf(why, why_size, "Give at least slot 0: where the member stands.");
        return -1;
    }
    return 0;
}

typedef struct {
    const char *name;
    struct xsd__base64Binary png;
    struct ks__SceneSlot slots[SLOTS_MAX];
    int slot_count;
    struct ks__RegisterSceneResponse response;
} register_call_t;

static int attempt_register(struct soap *soap, const char *url, void *p)
{
    register_call_t *call = p;
    return soap_call_ks__RegisterScene(soap, url, NULL, (char *)call->name, call->png,
                                       call->slot_count, call->slots, &call->response);
}

void ks_page_scene_create(ks_admin_req_t *req)
{
    register_call_t call;
    const ks_form_field_t *background;
    char why[512] = "", target[64], after[256], flash[200];
    ks_tpl_t vars;
    int bad = 0;

    memset(&call, 0, sizeof call);
    ks_tpl_init(&vars);
    call.name = ks_page_field(req, "name");
    if (!call.name || !*call.name || strlen(call.name) > 64) {
        ks_tpl_set(&vars, "err_name", "A name of 1 to 64 bytes.");
        bad = 1;
    }
    if (read_scene(req, call.slots, &call.slot_count, &background, why, sizeof why) != 0) {
        ks_tpl_set(&vars, "err_scene", why);
        bad = 1;
    }
    if (!bad) {
        call.png.__ptr = (unsigned char *)background->value;
        call.png.__size = (int)background->size;
        if (ks_page_api(req, "RegisterScene", 0, attempt_register, &call) == KS_OK &&
            call.response.scene) {
            const struct ks__Scene *scene = call.response.scene;
            snprintf(target, sizeof target, "scene %d", scene->id);
            snprintf(after, sizeof after, "name \"%.64s\", %dx%d, %d slot(s), background %.12s",
                     scene->name, scene->width, scene->height, scene->__sizeslot,
                     scene->sha256 ? scene->sha256 : "");
            ks_page_audit(req, "scene.register", target, NULL, after);
            snprintf(flash, sizeof flash, "Scene %d \"%.64s\" registered.", scene->id,
                     scene->name);
            ks_page_redirect(req, "/scenes", flash);
            ks_tpl_free(&vars);
            return;
        }
        ks_tpl_setf(&vars, "err_scene", "%s: %s", ks_page_fault_code(req)
                    ? ks_page_fault_code(req) : "Not saved", ks_page_fault_message(req));
    }
    ks_tpl_set(&vars, "reselect", "1");
    req->status = 400;
    render_new(req, &vars);
    ks_tpl_free(&vars);
}

void ks_page_scene_preview(ks_admin_req_t *req)
{
    struct ks__SceneSlot slots[SLOTS_MAX];
    const ks_form_field_t *background;
    ks_image_t back = {0}, mannequin = {0}, canvas = {0};
    ks_layer_ref_t refs[SLOTS_MAX + 1];
    unsigned char *png = NULL;
    size_t size = 0;
    char why[512] = "";
    ks_err_t err = {{0}};
    int count, lowest_z, n = 0;
    ks_rc rc;

    if (read_scene(req, slots, &count, &background, why, sizeof why) != 0) {
        ks_page_send_text(req, 400, why);
        return;
    }
    if ((rc = ks_catalog_decode(background->value, background->size, &back, why,
                                sizeof why)) != KS_OK ||
        (rc = ks_catalog_mannequin(req, &mannequin, &lowest_z, why, sizeof why)) != KS_OK) {
        ks_image_free(&back);
        ks_page_send_text(req, req->api_down ? 503 : 400, why);
        return;
    }
    /* the background, then the avatars from the last slot to the first (the
     * member stands in front), as album photos are drawn */
    refs[n++] = (ks_layer_ref_t){&back, 0, 0, KS_TINT_NONE};
    for (int i = count - 1; i >= 0; i--) {
        if ((uint32_t)slots[i].x + mannequin.width > back.width ||
            (uint32_t)slots[i].y + mannequin.height > back.height) {
            snprintf(why, sizeof why, "Slot %d at %d,%d does not hold a whole avatar (%ux%u) "
                     "inside the %ux%u background.", i, slots[i].x, slots[i].y,
                     mannequin.width, mannequin.height, back.width, back.height);
            rc = KS_INVALID;
            break;
        }
        refs[n++] = (ks_layer_ref_t){&mannequin, slots[i].x, slots[i].y, KS_TINT_NONE};
    }
    if (rc == KS_OK && (rc = ks_compose(refs, (size_t)n, back.width, back.height, &canvas,
                                        &err)) != KS_OK)
        snprintf(why, sizeof why, "%s", err.msg);
    if (rc == KS_OK)
        rc = ks_catalog_encode(&canvas, &png, &size, why, sizeof why);
    if (rc == KS_OK)
        ks_page_send_data(req, "image/png", png, size, NULL);
    else
        ks_page_send_text(req, 400, why);
    free(png);
    ks_image_free(&back);
    ks_image_free(&mannequin);
    ks_image_free(&canvas);
}

typedef struct {
    int id;
    struct ks__GetSceneBackgroundResponse response;
} background_call_t;

static int attempt_background(struct soap *soap, const char *url, void *p)
{
    background_call_t *call = p;
    return soap_call_ks__GetSceneBackground(soap, url, NULL, call->id, &call->response);
}

void ks_page_scene_background(ks_admin_req_t *req)
{
    background_call_t call;
    long long id;

    memset(&call, 0, sizeof call);
    if (ks_page_parse_int(req->route_param, 1, 2147483647, &id) != 0 ||
        (call.id = (int)id, ks_page_api(req, "GetSceneBackground", 1, attempt_background,
                                        &call)) != KS_OK) {
        ks_page_send_text(req, 404, "no such scene");
        return;
    }
    ks_page_send_data(req, "image/png", call.response.png.__ptr,
                      (size_t)call.response.png.__size, "private, max-age=86400");
}
