/* scenario.c: the integration scenario through the gSOAP C client stubs.
 *
 * Against a running stack (settings from the KISEKAE_* environment that
 * `./kisekae up` writes to stack.env) it registers its own categories and
 * items with art it draws itself, creates a member, grants and wears the
 * items, reads the avatar back and downloads its PNG from the image server.
 * It then writes the full-canvas layers it uploaded, in drawing order, and
 * the downloaded avatar to OUT_DIR, where check_avatar.py composes the same
 * layers with Pillow as an independent oracle.
 *
 *   ks-scenario OUT_DIR
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "soapH.h"
#include "Kisekae.nsmap"
#include "fsutil.h"
#include "http_client.h"
#include "png_codec.h"

#define W 240
#define H 320

static const char *api_url;
static int failures;

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "ks-scenario: %s is not set (source the stack's stack.env)\n", name);
        exit(2);
    }
    return v;
}

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, ok ? "ok    " : "FAIL  ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (!ok)
        failures++;
}

/* The fault code in the detail of the last call, or "" */
static const char *fault_code(struct soap *soap)
{
    if (soap->fault && soap->fault->detail && soap->fault->detail->ks__KisekaeFault &&
        soap->fault->detail->ks__KisekaeFault->code)
        return soap->fault->detail->ks__KisekaeFault->code;
    return "";
}

static void as(struct soap *soap, const char *role)
{
    /* gSOAP clears the credentials after every call: set them each time. */
    soap->userid = env(!strcmp(role, "admin") ? "KISEKAE_ADMIN_USER" : "KISEKAE_SITE_USER");
    soap->passwd = env(!strcmp(role, "admin") ? "KISEKAE_ADMIN_PASSWORD" : "KISEKAE_SITE_PASSWORD");
}

static void die_on_fault(struct soap *soap, const char *what)
{
    if (soap->error) {
        fprintf(stderr, "FAIL  %s: ", what);
        soap_print_fault(soap, stderr);
        fprintf(stderr, "      code %s\n", fault_code(soap));
        exit(1);
    }
}

/* Draws a full-canvas RGBA layer: a filled ellipse of colour rgb with a soft,
 * semi-transparent rim, so the compositor's alpha handling is exercised. */
static ks_image_t draw_ellipse(int cx, int cy, int rx, int ry, unsigned rgb, int alpha)
{
    ks_image_t img;
    ks_err_t err;
    if (ks_image_alloc(&img, W, H, &err) != KS_OK) {
        fprintf(stderr, "ks-scenario: %s\n", err.msg);
        exit(1);
    }
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double dx = (x - cx) / (double)rx, dy = (y - cy) / (double)ry;
            double d = dx * dx + dy * dy;
            uint8_t *p = img.pixels + (size_t)y * img.stride + (size_t)x * 4;
            int a;
            if (d > 1.15)
                continue;
            a = d <= 1.0 ? alpha : (int)(alpha * (1.15 - d) / 0.15);
            p[0] = (uint8_t)(rgb >> 16);
            p[1] = (uint8_t)(rgb >> 8);
            p[2] = (uint8_t)rgb;
            p[3] = (uint8_t)a;
        }
    }
    return img;
}

static struct xsd__base64Binary to_png(struct soap *soap, const ks_image_t *img)
{
    struct xsd__base64Binary b = {0};
    unsigned char *png;
    size_t size;
    ks_err_t err;
    if (ks_png_encode(img, 6, &png, &size, &err) != KS_OK) {
        fprintf(stderr, "ks-scenario: %s\n", err.msg);
        exit(1);
    }
    b.__ptr = soap_malloc(soap, size);
    memcpy(b.__ptr, png, size);
    b.__size = (int)size;
    free(png);
    return b;
}

typedef struct {
    const char *label;
    int category;            /* index into the scenario's categories */
    int z[2];
    int layers;
    ks_image_t art[2];
    int id;
} scenario_item_t;

int main(int argc, char **argv)
{
    struct soap *soap;
    char suffix[32], name[128], path[512];
    const char *out_dir;
    int category_ids[3], required_category = -1;
    unsigned version;
    char *avatar_url;

    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: ks-scenario OUT_DIR   (with the KISEKAE_* variables of stack.env)\n");
        return argc == 2 ? 0 : 2;
    }
    out_dir = argv[1];
    api_url = env("KISEKAE_API_URL");
    snprintf(suffix, sizeof suffix, "%ld%d", (long)time(NULL) % 100000, (int)getpid() % 1000);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    soap = soap_new1(SOAP_XML_STRICT);
    soap_set_namespaces(soap, namespaces);

    /* A required category the stack already has (the sample catalog's body)
     * gets an item of ours, so the member ends up wearing only our art. */
    struct ks__ListCategoriesResponse cats;
    as(soap, "site");
    soap_call_ks__ListCategories(soap, api_url, NULL, NULL, &cats);
    die_on_fault(soap, "ListCategories");
    for (int i = 0; i < cats.__sizecategory; i++)
        if (cats.category[i].required == true_ && required_category < 0)
            required_category = cats.category[i].id;

    static const struct { const char *name; int z; int exclusive, required; } cat_defs[3] = {
        {"body", 100, 1, 1}, {"hair", 300, 1, 0}, {"accessory", 500, 0, 0}};
    for (int i = 0; i < 3; i++) {
        struct ks__RegisterCategoryResponse r;
        if (i == 0 && required_category >= 0) {
            category_ids[0] = required_category;
            continue;
        }
        snprintf(name, sizeof name, "it-%s-%s", cat_defs[i].name, suffix);
        as(soap, "admin");
        soap_call_ks__RegisterCategory(soap, api_url, NULL, name, cat_defs[i].z,
                                       cat_defs[i].exclusive ? true_ : false_,
                                       cat_defs[i].required ? true_ : false_, &r);
        die_on_fault(soap, "RegisterCategory");
        category_ids[i] = r.category->id;
        check(r.category->zOrder == cat_defs[i].z, "RegisterCategory %s -> id %d", name,
              r.category->id);
    }

    scenario_item_t items[] = {
        {"body", 0, {100, 0}, 1, {draw_ellipse(120, 170, 55, 120, 0xf2c9a0, 255)}, 0},
        {"hair", 1, {50, 400}, 2,
         {draw_ellipse(120, 80, 70, 75, 0x5a3214, 255), draw_ellipse(120, 55, 50, 30, 0x6b3d1a, 230)}, 0},
        {"ribbon", 2, {500, 0}, 1, {draw_ellipse(160, 40, 22, 14, 0xe0306a, 200)}, 0},
        {"glow", 2, {450, 0}, 1, {draw_ellipse(100, 200, 60, 40, 0x40a0ff, 96)}, 0},
    };
    const int item_count = (int)(sizeof items / sizeof items[0]);

    for (int i = 0; i < item_count; i++) {
        struct ks__LayerInput layers[2];
        struct ks__RegisterItemResponse r;
        memset(layers, 0, sizeof layers);
        for (int l = 0; l < items[i].layers; l++) {
            layers[l].png = to_png(soap, &items[i].art[l]);
            layers[l].zOrder = &items[i].z[l];
        }
        snprintf(name, sizeof name, "it-%s-%s", items[i].label, suffix);
        as(soap, "admin");
        soap_call_ks__RegisterItem(soap, api_url, NULL, category_ids[items[i].category], name, 10,
                                   NULL, NULL, items[i].layers, layers, NULL, NULL, 0, NULL,
                                   &r);
        die_on_fault(soap, "RegisterItem");
        items[i].id = r.item->id;
        check(r.item->__sizelayer == items[i].layers, "RegisterItem %s -> id %d, %d layers", name,
              r.item->id, r.item->__sizelayer);
        for (int l = 0; l < r.item->__sizelayer; l++)
            check(r.item->layer[l].width > 0 && r.item->layer[l].width < W &&
                      r.item->layer[l].x > 0, "layer %d trimmed to %dx%d at %d,%d", l,
                  r.item->layer[l].width, r.item->layer[l].height, r.item->layer[l].x,
                  r.item->layer[l].y);
    }

    /* A member: created, given the items, dressed. */
    char user_id[64];
    snprintf(user_id, sizeof user_id, "it-member-%s", suffix);
    struct ks__CreateAvatarResponse created;
    as(soap, "site");
    soap_call_ks__CreateAvatar(soap, api_url, NULL, user_id, NULL, &created);
    die_on_fault(soap, "CreateAvatar");
    check(created.avatar->version == 1, "CreateAvatar %s -> version %d on %s", user_id,
          created.avatar->version, created.avatar->imageServer);

    struct ks__ChangeOutfitResponse changed;
    int wear[8], wear_count = 0;
    as(soap, "site");
    wear[0] = items[2].id;
    soap_call_ks__ChangeOutfit(soap, api_url, NULL, user_id, 1, wear, 0, NULL, 0, NULL, &changed);
    check(soap->error && !strcmp(fault_code(soap), "NotOwned"),
          "wearing an item not owned is a NotOwned fault (%s)", fault_code(soap));

    for (int i = 0; i < item_count; i++) {
        struct ks__GrantItemResponse g;
        as(soap, "site");
        soap_call_ks__GrantItem(soap, api_url, NULL, user_id, items[i].id, &g);
        die_on_fault(soap, "GrantItem");
        check(g.alreadyOwned == false_, "GrantItem %d", items[i].id);
        wear[wear_count++] = items[i].id;
    }
    as(soap, "site");
    soap_call_ks__ChangeOutfit(soap, api_url, NULL, user_id, wear_count, wear, 0, NULL, 0, NULL,
                               &changed);
    die_on_fault(soap, "ChangeOutfit");
    version = (unsigned)changed.avatar->version;
    check(version == 2, "ChangeOutfit -> version %u, %d items worn", version,
          changed.avatar->__sizewornItemId);
    check(changed.avatar->__sizewornItemId == item_count, "every item is worn");

    struct ks__GetAvatarResponse got;
    int min_version = (int)version;
    as(soap, "site");
    soap_call_ks__GetAvatar(soap, api_url, NULL, user_id, &min_version, &got);
    die_on_fault(soap, "GetAvatar");
    check(got.avatar->version == (int)version && !strcmp(got.avatar->url, changed.avatar->url),
          "GetAvatar -> %s", got.avatar->url);
    avatar_url = got.avatar->url;
    check(strstr(avatar_url, "/2.png") != NULL, "the URL carries the version");

    /* Wrong credentials: HTTP 401 (whose body is an Unauthorized fault; the
     * gSOAP client reports the status and does not parse that body). */
    soap->userid = env("KISEKAE_SITE_USER");
    soap->passwd = "wrong-password";
    soap_call_ks__GetAvatar(soap, api_url, NULL, user_id, NULL, &got);
    check(soap->error == 401 || !strcmp(fault_code(soap), "Unauthorized"),
          "wrong credentials are refused with HTTP 401 (error %d)", soap->error);

    /* The image, and the layers for the oracle, in the server's drawing order
     * (z, then item id, then layer). */
    ks_http_t *http = ks_http_new(10000);
    ks_http_response_t resp;
    ks_err_t err;
    if (ks_http_request(http, "GET", avatar_url, NULL, NULL, 0, 16 << 20, &resp, &err) != KS_OK ||
        resp.status != 200) {
        check(0, "GET %s: %s (status %ld)", avatar_url, err.msg, resp.status);
        return 1;
    }
    snprintf(path, sizeof path, "%s/avatar.png", out_dir);
    if (ks_file_write_atomic(path, resp.body, resp.body_size, &err) != KS_OK) {
        fprintf(stderr, "ks-scenario: %s\n", err.msg);
        return 1;
    }
    check(resp.body_size > 8 && !memcmp(resp.body, "\x89PNG", 4), "downloaded %zu bytes of PNG",
          resp.body_size);
    ks_http_response_free(&resp);
    ks_http_free(http);

    snprintf(path, sizeof path, "%s/layers.txt", out_dir);
    FILE *manifest = fopen(path, "w");
    if (!manifest) {
        perror(path);
        return 1;
    }
    for (int i = 0; i < item_count; i++) {
        for (int l = 0; l < items[i].layers; l++) {
            struct xsd__base64Binary png = to_png(soap, &items[i].art[l]);
            char file[64];
            snprintf(file, sizeof file, "layer-%d-%d.png", items[i].id, l);
            snprintf(path, sizeof path, "%s/%s", out_dir, file);
            if (ks_file_write_atomic(path, png.__ptr, (size_t)png.__size, &err) != KS_OK) {
                fprintf(stderr, "ks-scenario: %s\n", err.msg);
                return 1;
            }
            fprintf(manifest, "%d %d %d %s\n", items[i].z[l], items[i].id, l, file);
            ks_image_free(&items[i].art[l]);
        }
    }
    fclose(manifest);

    soap_destroy(soap);
    soap_end(soap);
    soap_free(soap);
    curl_global_cleanup();
    fprintf(stderr, "%s: %d failures\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
