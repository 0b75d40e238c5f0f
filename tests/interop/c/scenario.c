/* scenario.c: the interop scenario through a gSOAP C client (ks-interop-c).
 *
 * It calls the API with the project's client stubs (ks_soap_client, generated
 * from wsdl/kisekae.h like the server), and reads the WSDL the API serves
 * (KISEKAE_API_URL + "?wsdl") for the operations it offers. Runs the scenario
 * every language of tests/interop runs, printing one line per step ("ok",
 * "FAIL" or "skip") and exiting 1 on any mismatch. The steps and the
 * environment it reads are described in tests/interop/run.py.
 *
 *   KISEKAE_API_URL=... KISEKAE_SITE_USER=... (see run.py) ks-interop-c
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

#define LANG "c"
#define WSDL_MAX (1 << 20)
#define LAYER_MAX (4 << 20)
#define AVATAR_MAX (16 << 20)

static int failures;
static const char *current_step = "setup";   /* named in the message of an unexpected error */

static void ok(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check(int cond, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fatal(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ok   %s: ", step);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

static int check(int cond, const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %s: ", cond ? "ok  " : "FAIL", step);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!cond)
        failures++;
    return cond;
}

static void fatal(const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", step);
    vprintf(fmt, ap);
    printf("\n" LANG ": FAILED\n");
    va_end(ap);
    exit(1);
}

static void begin(const char *step)
{
    current_step = step;
}

static const char *env(const char *name, const char *fallback)
{
    const char *value = getenv(name);
    if (!value || !*value)
        value = fallback;
    if (!value) {
        fprintf(stderr, LANG ": %s is not set (see tests/interop/run.py)\n", name);
        exit(2);
    }
    return value;
}

/* gSOAP clears the credentials after every call: set them before each. */
static void as(struct soap *soap, const char *role)
{
    int admin = !strcmp(role, "admin");
    soap->userid = env(admin ? "KISEKAE_ADMIN_USER" : "KISEKAE_SITE_USER", NULL);
    soap->passwd = env(admin ? "KISEKAE_ADMIN_PASSWORD" : "KISEKAE_SITE_PASSWORD", NULL);
}

/* The stable code of the last call's KisekaeFault detail, or "". */
static const char *fault_code(struct soap *soap)
{
    if (soap->fault && soap->fault->detail && soap->fault->detail->ks__KisekaeFault &&
        soap->fault->detail->ks__KisekaeFault->code)
        return soap->fault->detail->ks__KisekaeFault->code;
    return "";
}

static void fatal_on_error(struct soap *soap, const char *operation)
{
    const char **code, **text;
    if (soap->error == SOAP_OK)
        return;
    code = soap_faultcode(soap);
    text = soap_faultstring(soap);
    fatal(current_step, "%s: error %d, faultcode %s, detail code %s: %s", operation, soap->error,
          code && *code ? *code : "-", fault_code(soap), text && *text ? *text : "-");
}

/* The avatar's worn items as a sorted, comma-separated list. */
static const char *ids(char *out, size_t size, const int *list, int count)
{
    int sorted[64], n = count < 64 ? count : 64;
    size_t at = 0;
    memcpy(sorted, list, sizeof(int) * (size_t)n);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            int t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    out[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(out + at, size - at, "%s%d", i ? ", " : "", sorted[i]);
    return out;
}

/* 1 when the set of list equals base plus extra. */
static int wears(const int *list, int count, const int *base, int base_count, const int *extra,
                 int extra_count)
{
    int want[64], n = 0;
    char a[512], b[512];
    for (int i = 0; i < base_count && n < 64; i++)
        want[n++] = base[i];
    for (int i = 0; i < extra_count && n < 64; i++)
        want[n++] = extra[i];
    return count == n && !strcmp(ids(a, sizeof a, list, count), ids(b, sizeof b, want, n));
}

static int ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && !strcmp(text + n - m, suffix);
}

/* What the steps after the first part of the scenario need. */
typedef struct {
    struct soap *soap;
    ks_http_t *http;
    const char *url, *tag, *layers_dir;
    char *user_id;
    int item_a, item_b, canvas_w, canvas_h;
    const int *base;
    int base_count;
} scenario_t;

/* width x height from a PNG's IHDR; 0 x 0 if data is no PNG. */
static void png_size(const unsigned char *png, size_t size, unsigned *width, unsigned *height)
{
    int is_png = size >= 24 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8) && !memcmp(png + 12, "IHDR", 4);
    *width = is_png ? (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19] : 0;
    *height = is_png ? (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23] : 0;
}

static struct xsd__base64Binary read_layer(struct soap *soap, const char *dir, const char *key);

/* ---- PreviewAvatar: the outfit without b, as a PNG; nothing saved */
static void preview_step(const scenario_t *sc)
{
    struct ks__PreviewAvatarResponse answer;
    struct ks__GetAvatarResponse got;
    int remove = sc->item_b, min_version = 3;
    unsigned width, height;
    char text[512];

    as(sc->soap, "site");
    soap_call_ks__PreviewAvatar(sc->soap, sc->url, NULL, sc->user_id, 0, NULL, 1, &remove, &answer);
    fatal_on_error(sc->soap, "PreviewAvatar");
    png_size(answer.png.__ptr, answer.png.__ptr ? (size_t)answer.png.__size : 0, &width, &height);
    as(sc->soap, "site");
    soap_call_ks__GetAvatar(sc->soap, sc->url, NULL, sc->user_id, &min_version, &got);
    fatal_on_error(sc->soap, "GetAvatar");
    check(width == (unsigned)sc->canvas_w && height == (unsigned)sc->canvas_h &&
              wears(answer.wornItemId, answer.__sizewornItemId, sc->base, sc->base_count,
                    &sc->item_a, 1) && got.avatar->version == 3,
          "PreviewAvatar", "PNG %ux%u, wearing [%s], the avatar still at version %d", width,
          height, ids(text, sizeof text, answer.wornItemId, answer.__sizewornItemId),
          got.avatar->version);
}

/* ---- CreateAlbumPhoto: on a scene of ours (layer a as its background, one
 * slot), then the JPEG from its URL */
static void album_photo_step(const scenario_t *sc)
{
    struct ks__ListScenesResponse scenes;
    struct ks__CreateAlbumPhotoResponse taken;
    char scene_name[128], caption[] = "interop " LANG;
    ks_http_response_t resp;
    ks_err_t err;
    int scene_id = 0;

    snprintf(scene_name, sizeof scene_name, "interop-" LANG "-%s", sc->tag);
    as(sc->soap, "site");
    soap_call_ks__ListScenes(sc->soap, sc->url, NULL, &scenes);
    fatal_on_error(sc->soap, "ListScenes");
    for (int i = 0; i < scenes.__sizescene; i++)
        if (!strcmp(scenes.scene[i].name, scene_name))
            scene_id = scenes.scene[i].id;
    if (!scene_id) {
        struct ks__RegisterSceneResponse registered;
        struct ks__SceneSlot slot = {0, 0};
        as(sc->soap, "admin");
        soap_call_ks__RegisterScene(sc->soap, sc->url, NULL, scene_name,
                                    read_layer(sc->soap, sc->layers_dir, "a"), 1, &slot,
                                    &registered);
        fatal_on_error(sc->soap, "RegisterScene");
        scene_id = registered.scene->id;
    }
    as(sc->soap, "site");
    soap_call_ks__CreateAlbumPhoto(sc->soap, sc->url, NULL, sc->user_id, scene_id, 0, NULL,
                                   caption, &taken);
    fatal_on_error(sc->soap, "CreateAlbumPhoto");
    if (ks_http_request(sc->http, "GET", taken.photo->url, NULL, NULL, 0, AVATAR_MAX, &resp,
                        &err) != KS_OK)
        fatal(current_step, "%s: %s", taken.photo->url, err.msg);
    char suffix[32];
    snprintf(suffix, sizeof suffix, "/%d.jpg", taken.photo->id);
    check(ends_with(taken.photo->url, suffix) && taken.photo->__sizemember == 1 &&
              !strcmp(taken.photo->member[0].userId, sc->user_id) && resp.status == 200 &&
              resp.body_size >= 3 && !memcmp(resp.body, "\xff\xd8\xff", 3),
          "CreateAlbumPhoto", "scene %d, photo %d: HTTP %ld, %zu bytes of JPEG", scene_id,
          taken.photo->id, resp.status, resp.body_size);
    ks_http_response_free(&resp);
}

typedef struct {
    const char *name;
    /* NULL until the step is written: then a WSDL that has the operation
     * fails the run instead of skipping it. */
    void (*step)(const scenario_t *sc);
} optional_step_t;

static const optional_step_t optional_steps[] = {
    {"PreviewAvatar", preview_step},
    {"CreateAlbumPhoto", album_photo_step},
};

/* 1 when the WSDL's portType has operation name. */
static int wsdl_has(const char *wsdl, const char *name)
{
    char needle[128];
    const char *port_type = strstr(wsdl, "<portType"), *end;
    if (!port_type || !(end = strstr(port_type, "</portType>")))
        return 0;
    snprintf(needle, sizeof needle, "<operation name=\"%s\"", name);
    const char *at = strstr(port_type, needle);
    return at && at < end;
}

static int wsdl_operation_count(const char *wsdl)
{
    const char *at = strstr(wsdl, "<portType"), *end;
    int n = 0;
    if (!at || !(end = strstr(at, "</portType>")))
        return 0;
    while ((at = strstr(at + 1, "<operation name=\"")) && at < end)
        n++;
    return n;
}

/* A layer file as base64Binary in the soap context's memory. */
static struct xsd__base64Binary read_layer(struct soap *soap, const char *dir, const char *key)
{
    struct xsd__base64Binary png = {0};
    char path[1024];
    unsigned char *data;
    size_t size;
    ks_err_t err;

    snprintf(path, sizeof path, "%s/layer-%s.png", dir, key);
    if (ks_file_read(path, LAYER_MAX, &data, &size, &err) != KS_OK)
        fatal(current_step, "%s", err.msg);
    png.__ptr = soap_malloc(soap, size);
    memcpy(png.__ptr, data, size);
    png.__size = (int)size;
    free(data);
    return png;
}

int main(int argc, char **argv)
{
    const char *url, *tag, *layers_dir;
    char run[32], wsdl_url[1100], category_name[128], name[192], user_id[128], text[512];
    int canvas_w = 0, canvas_h = 0, item_ids[2] = {0, 0}, base[64], base_count;
    struct soap *soap;
    ks_http_t *http;
    ks_http_response_t resp;
    ks_err_t err;
    char *wsdl;

    if (argc > 1) {
        fprintf(stderr, "usage: ks-interop-c   (with the variables tests/interop/run.py describes)\n");
        return strcmp(argv[1], "--help") ? 2 : 0;
    }
    url = env("KISEKAE_API_URL", NULL);
    tag = env("KISEKAE_INTEROP_TAG", "manual");
    layers_dir = env("KISEKAE_INTEROP_LAYERS", NULL);
    if (sscanf(env("KISEKAE_CANVAS", "240x320"), "%dx%d", &canvas_w, &canvas_h) != 2)
        fatal("setup", "KISEKAE_CANVAS is not WIDTHxHEIGHT");
    snprintf(run, sizeof run, "%s", getenv("KISEKAE_INTEROP_RUN") ? getenv("KISEKAE_INTEROP_RUN") : "");
    if (!run[0])
        snprintf(run, sizeof run, "%ld%d", (long)time(NULL), (int)(getpid() % 1000));
    snprintf(wsdl_url, sizeof wsdl_url, "%s?wsdl", url);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    http = ks_http_new(30000);
    /* Keep-alive: the server closes the connection after a fault and the
     * client reconnects; XML_STRICT: an answer that does not match the
     * schema is an error, not silently missing data. */
    soap = soap_new1(SOAP_IO_KEEPALIVE | SOAP_XML_STRICT);
    soap_set_namespaces(soap, namespaces);
    soap->connect_timeout = 10;
    soap->send_timeout = soap->recv_timeout = 30;

    /* ---- wsdl: the operations the server offers */
    begin("wsdl");
    if (ks_http_request(http, "GET", wsdl_url, NULL, NULL, 0, WSDL_MAX, &resp, &err) != KS_OK)
        fatal(current_step, "%s: %s", wsdl_url, err.msg);
    if (resp.status != 200)
        fatal(current_step, "%s: HTTP %ld", wsdl_url, resp.status);
    wsdl = resp.body;
    resp.body = NULL;
    ks_http_response_free(&resp);
    if (wsdl_operation_count(wsdl) == 0)
        fatal(current_step, "%s: no operations in its portType", wsdl_url);
    ok("wsdl", "%s: %d operations", wsdl_url, wsdl_operation_count(wsdl));

    /* ---- catalog: a category of ours and two items in it, made once per
     * language and transport (a run against a reused stack finds them) */
    begin("catalog");
    struct ks__ListCategoriesResponse listed;
    int category_id;
    snprintf(category_name, sizeof category_name, "interop-" LANG "-%s", tag);
    as(soap, "site");
    soap_call_ks__ListCategories(soap, url, NULL, category_name, &listed);
    fatal_on_error(soap, "ListCategories");
    if (listed.__sizecategory > 0) {
        struct ks__ListItemsResponse items;
        category_id = listed.category[0].id;
        as(soap, "site");
        soap_call_ks__ListItems(soap, url, NULL, &category_id, NULL, NULL, &items);
        fatal_on_error(soap, "ListItems");
        for (int i = 0; i < items.__sizeitem; i++)
            for (int k = 0; k < 2; k++) {
                snprintf(name, sizeof name, "%s item %c", category_name, 'a' + k);
                if (!strcmp(items.item[i].name, name))
                    item_ids[k] = items.item[i].id;
            }
    } else {
        struct ks__RegisterCategoryResponse registered;
        as(soap, "admin");
        soap_call_ks__RegisterCategory(soap, url, NULL, category_name, 650, false_, false_,
                                       &registered);
        fatal_on_error(soap, "RegisterCategory");
        category_id = registered.category->id;
    }
    for (int k = 0; k < 2; k++) {
        struct ks__LayerInput layer = {0};
        struct ks__RegisterItemResponse registered;
        char key[2] = {(char)('a' + k), '\0'};
        if (item_ids[k])
            continue;
        snprintf(name, sizeof name, "%s item %s", category_name, key);
        layer.png = read_layer(soap, layers_dir, key);
        as(soap, "admin");
        soap_call_ks__RegisterItem(soap, url, NULL, category_id, name, 0, NULL, NULL, 1, &layer,
                                   &registered);
        fatal_on_error(soap, "RegisterItem");
        item_ids[k] = registered.item->id;
    }
    int item_a = item_ids[0], item_b = item_ids[1];
    ok("catalog", "category %s (id %d), items %d and %d", category_name, category_id, item_a,
       item_b);

    /* ---- CreateAvatar: a member of this language and run */
    begin("CreateAvatar");
    struct ks__CreateAvatarResponse created;
    snprintf(user_id, sizeof user_id, "interop-" LANG "-%s-%s", tag, run);
    as(soap, "site");
    soap_call_ks__CreateAvatar(soap, url, NULL, user_id, NULL, &created);
    fatal_on_error(soap, "CreateAvatar");
    /* the default items of required categories */
    base_count = created.avatar->__sizewornItemId < 64 ? created.avatar->__sizewornItemId : 64;
    memcpy(base, created.avatar->wornItemId, sizeof(int) * (size_t)base_count);
    check(created.avatar->version == 1, "CreateAvatar", "%s version %d on %s, wearing [%s]",
          user_id, created.avatar->version, created.avatar->imageServer,
          ids(text, sizeof text, base, base_count));

    /* ---- fault: wearing an item not owned yet */
    begin("fault");
    struct ks__ChangeOutfitResponse changed;
    int wear[2] = {item_a, item_b};
    as(soap, "site");
    if (soap_call_ks__ChangeOutfit(soap, url, NULL, user_id, 1, wear, 0, NULL, &changed) ==
        SOAP_OK) {
        check(0, "fault", "ChangeOutfit wearing an item not owned succeeded");
    } else {
        const char **code = soap_faultcode(soap), **message = soap_faultstring(soap);
        check(!strcmp(fault_code(soap), "NotOwned") && code && *code && ends_with(*code, ":Client"),
              "fault", "ChangeOutfit wearing item %d not owned: faultcode %s, detail code %s (%s)",
              item_a, code && *code ? *code : "-", fault_code(soap),
              message && *message ? *message : "-");
    }

    /* ---- GrantItem */
    begin("GrantItem");
    for (int k = 0; k < 2; k++) {
        struct ks__GrantItemResponse granted;
        as(soap, "site");
        soap_call_ks__GrantItem(soap, url, NULL, user_id, item_ids[k], &granted);
        fatal_on_error(soap, "GrantItem");
        check(granted.itemId == item_ids[k] && granted.alreadyOwned == false_, "GrantItem",
              "item %d, alreadyOwned %s", granted.itemId,
              granted.alreadyOwned == true_ ? "true" : "false");
    }

    /* ---- ChangeOutfit: one item, then two */
    begin("ChangeOutfit");
    as(soap, "site");
    soap_call_ks__ChangeOutfit(soap, url, NULL, user_id, 1, wear, 0, NULL, &changed);
    fatal_on_error(soap, "ChangeOutfit");
    check(changed.avatar->version == 2 &&
              wears(changed.avatar->wornItemId, changed.avatar->__sizewornItemId, base, base_count,
                    wear, 1),
          "ChangeOutfit [a]", "version %d, wearing [%s]", changed.avatar->version,
          ids(text, sizeof text, changed.avatar->wornItemId, changed.avatar->__sizewornItemId));
    as(soap, "site");
    soap_call_ks__ChangeOutfit(soap, url, NULL, user_id, 2, wear, 0, NULL, &changed);
    fatal_on_error(soap, "ChangeOutfit");
    check(changed.avatar->version == 3 &&
              wears(changed.avatar->wornItemId, changed.avatar->__sizewornItemId, base, base_count,
                    wear, 2),
          "ChangeOutfit [a,b]", "version %d, wearing [%s]", changed.avatar->version,
          ids(text, sizeof text, changed.avatar->wornItemId, changed.avatar->__sizewornItemId));
    const char *changed_url = changed.avatar->url;

    /* ---- GetAvatar: the version the last change returned (the fault changed nothing) */
    begin("GetAvatar");
    struct ks__GetAvatarResponse got;
    int min_version = 3;
    as(soap, "site");
    soap_call_ks__GetAvatar(soap, url, NULL, user_id, &min_version, &got);
    fatal_on_error(soap, "GetAvatar");
    check(got.avatar->version == 3 && !strcmp(got.avatar->url, changed_url) &&
              ends_with(got.avatar->url, "/3.png"),
          "GetAvatar", "version %d, %s", got.avatar->version, got.avatar->url);

    /* ---- download: the avatar PNG from its URL */
    begin("download");
    if (ks_http_request(http, "GET", got.avatar->url, NULL, NULL, 0, AVATAR_MAX, &resp, &err) !=
        KS_OK)
        fatal(current_step, "%s: %s", got.avatar->url, err.msg);
    unsigned width, height;
    png_size((const unsigned char *)resp.body, resp.body_size, &width, &height);
    check(resp.status == 200 && width == (unsigned)canvas_w &&
              height == (unsigned)canvas_h,
          "download", "HTTP %ld, %zu bytes, PNG %ux%u (canvas %dx%d)", resp.status,
          resp.body_size, width, height, canvas_w, canvas_h);
    ks_http_response_free(&resp);

    /* ---- operations added lately: each runs when the WSDL has it */
    scenario_t sc = {soap, http, url, tag, layers_dir, user_id, item_a, item_b, canvas_w,
                     canvas_h, base, base_count};
    for (size_t i = 0; i < sizeof optional_steps / sizeof optional_steps[0]; i++) {
        const optional_step_t *s = &optional_steps[i];
        begin(s->name);
        if (!wsdl_has(wsdl, s->name))
            printf("skip: %s not in WSDL\n", s->name);
        else if (!s->step)
            check(0, s->name, "the WSDL has it but this client has no step for it yet");
        else
            s->step(&sc);
    }

    free(wsdl);
    ks_http_free(http);
    soap_destroy(soap);
    soap_end(soap);
    soap_free(soap);
    curl_global_cleanup();
    if (failures) {
        printf(LANG ": FAILED (%d)\n", failures);
        return 1;
    }
    printf(LANG ": passed\n");
    return 0;
}
