/* rebuild.c: rebuilding a member's lost image on request (rebuild.h).
 *
 * What the API answers lives in the thread's client arena only until the
 * next call, so everything the decision needs is copied out (and the recipe
 * parsed) before layers are fetched. Two requests for the same lost file may
 * both rebuild it: each writes the same bytes atomically, so the loser only
 * costs the work.
 *
 * A rebuild must not write back the images of a member deleted (or moved)
 * while it composed: before it stores, it asks the API again whether the
 * image is still this server's at that version, and when a DELETE reached
 * this server between that question and the write
 * (ks_rebuilder_note_delete), it asks once more and removes what it wrote.
 */
#include "rebuild.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_request.h"
#include "fsutil.h"
#include "log.h"
#include "miss_cache.h"
#include "paths.h"
#include "output.h"

struct ks_rebuilder {
    const ks_image_conf_t *conf;
    ks_item_store_t *items;
    ks_item_store_t *scenes;
    atomic_int running;            /* rebuilds under way */
    atomic_ullong rebuilt;
    atomic_ullong deletes;         /* DELETEs this server took (ks_rebuilder_note_delete) */
    ks_miss_cache_t *misses;       /* recent 404 and 302 answers (miss_cache.h) */
};

/* What the decision keeps of GetImageRecipe's answer. */
typedef struct {
    char image_server[65];
    char location[1024];           /* the public URL of the image asked for, current version */
    int version;
    char path[256], thumb_path[256], anim_path[256];
} where_t;

ks_rc ks_rebuilder_new(const ks_image_conf_t *conf, ks_item_store_t *items,
                       ks_item_store_t *scenes, ks_rebuilder_t **out, ks_err_t *err)
{
    ks_rebuilder_t *rebuilder = calloc(1, sizeof *rebuilder);

    *out = NULL;
    if (!rebuilder)
        return ks_err(err, KS_NOMEM, "out of memory for the rebuilder");
    rebuilder->conf = conf;
    rebuilder->items = items;
    rebuilder->scenes = scenes;
    rebuilder->misses = ks_miss_cache_new((size_t)conf->miss_cache_entries, conf->miss_cache_ms);
    if (!rebuilder->misses) {
        free(rebuilder);
        return ks_err(err, KS_NOMEM, "out of memory for %d remembered misses",
                      conf->miss_cache_entries);
    }
    atomic_init(&rebuilder->running, 0);
    atomic_init(&rebuilder->rebuilt, 0);
    atomic_init(&rebuilder->deletes, 0);
    *out = rebuilder;
    return KS_OK;
}

void ks_rebuilder_free(ks_rebuilder_t *rebuilder)
{
    if (!rebuilder)
        return;
    ks_miss_cache_free(rebuilder->misses);
    free(rebuilder);
}

void ks_rebuilder_note_delete(ks_rebuilder_t *rebuilder)
{
    atomic_fetch_add(&rebuilder->deletes, 1);
}

unsigned long long ks_rebuilder_count(ks_rebuilder_t *rebuilder)
{
    return (unsigned long long)atomic_load(&rebuilder->rebuilt);
}

unsigned long long ks_rebuilder_miss_hits(ks_rebuilder_t *rebuilder)
{
    return ks_miss_cache_hits(rebuilder->misses);
}

static void answer_text(ks_rebuild_answer_t *answer, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void answer_text(ks_rebuild_answer_t *answer, int status, const char *fmt, ...)
{
    va_list args;

    answer->status = status;
    va_start(args, fmt);
    vsnprintf(answer->message, sizeof answer->message, fmt, args);
    va_end(args);
}

/* The file itself when it is in the store after all (another request
 * rebuilt it a moment ago): 1 and the answer filled, else 0. */
static int serve_stored(ks_rebuilder_t *rebuilder, const char *relative,
                            const ks_member_image_t *image, ks_rebuild_answer_t *answer)
{
    const ks_image_conf_t *conf = rebuilder->conf;
    char path[sizeof conf->store + 256];
    size_t limit = (size_t)conf->max_canvas_width * (size_t)conf->max_canvas_height * 5 + 65536;
    ks_err_t err = {{0}};

    snprintf(path, sizeof path, "%s/%s", conf->store, relative);
    if (ks_file_read(path, limit, &answer->image, &answer->image_size, &err) != KS_OK)
        return 0;
    answer->content_type = image->kind == KS_IMAGE_ALBUM ? "image/jpeg" : "image/png";
    answer_text(answer, 200, "%s: in the store", relative);
    return 1;
}

/* "<public_url>/<path>" for a path the API gave, which must be one of a
 * member's image paths (so it is safe in a header as it is). */
static ks_rc url(const char *public_url, const char *path, char *buf, size_t size,
                     ks_err_t *err)
{
    ks_member_image_t parsed;
    ks_err_t parse_err = {{0}};
    size_t base = strlen(public_url);
    int length;

    if (strncmp(public_url, "http://", 7) != 0 && strncmp(public_url, "https://", 8) != 0)
        return ks_err(err, KS_ERROR, "the API gave the public URL \"%.200s\"", public_url);
    for (const char *p = public_url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return ks_err(err, KS_ERROR, "the API gave the public URL \"%.200s\"", public_url);
    if (ks_member_image_parse(path, &parsed, &parse_err) != KS_OK)
        return ks_err(err, KS_ERROR, "the API gave the image path \"%.200s\": %s", path,
                      parse_err.msg);
    while (base > 0 && public_url[base - 1] == '/')
        base--;
    length = snprintf(buf, size, "%.*s/%s", (int)base, public_url, path);
    if (length < 0 || (size_t)length >= size)
        return ks_err(err, KS_ERROR, "the image's URL is too long");
    return KS_OK;
}

/* Fetches one layer (or a scene's background) from the API and stores it
 * when the store has no file for it (on_disk) or cannot hand it out as
 * sha256 (!on_disk); *fetched counts it. */
static ks_rc fetch_if_missing(ks_item_store_t *store, ks_node_api_client_t *client, int on_disk,
                                  int scene, int id, int layer_no, const char *sha256,
                                  int *fetched, ks_err_t *err)
{
    const char *noun = scene ? "scene" : "layer";
    ks_item_layer_t *held = NULL;
    ks_node_api_png_t png;
    ks_rc rc;

    if (on_disk) {
        if (ks_item_store_has(store, id, layer_no))
            return KS_OK;
    } else {
        rc = ks_item_store_acquire(store, id, layer_no, sha256, &held, err);
        if (rc == KS_OK) {
            ks_item_store_release(store, held);
            return KS_OK;
        }
        if (rc != KS_CONFLICT)
            return rc;
    }
    rc = scene ? ks_node_api_get_scene_background(client, id, &png, err)
               : ks_node_api_get_item_layer(client, id, layer_no, NULL, &png, err);
    if (rc == KS_NOTFOUND)
        return ks_err(err, KS_UNAVAILABLE, "%s %d/%d is no longer in the catalog (%s)", noun, id,
                      layer_no, err->msg);
    if (rc != KS_OK)
        return rc;
    /* Another sha256 than the recipe's: the catalog's art was replaced since
     * the image was drawn. (On the first pass its file is still worth
     * storing when there was none; the render, from the cache maybe, and the
     * second pass judge.) */
    if (strcmp(png.sha256, sha256) != 0 && !on_disk) {
        if (scene)
            return ks_err(err, KS_UNAVAILABLE, "scene %d was drawn with sha256 %s, the catalog "
                          "now has %s", id, sha256, png.sha256);
        /* The current art repairs the store; the old art is kept beside it. */
        rc = ks_item_store_put(store, id, layer_no, png.png, png.size, png.sha256, err);
        if (rc == KS_OK)
            rc = ks_node_api_get_item_layer(client, id, layer_no, sha256, &png, err);
        if (rc == KS_NOTFOUND)
            return ks_err(err, KS_UNAVAILABLE, "layer %d/%d: the API has no art of sha256 %s"
                          " (%s)", id, layer_no, sha256, err->msg);
        if (rc == KS_OK)
            rc = ks_item_store_put_archived(store, id, layer_no, png.png, png.size, sha256, err);
        if (rc != KS_OK)
            return rc;
        ks_log_info("rebuild: layer %d/%d: its old art (sha256 %s) fetched from the API", id,
                    layer_no, sha256);
        (*fetched)++;
        return KS_OK;
    }
    rc = ks_item_store_put(store, id, layer_no, png.png, png.size, png.sha256, err);
    if (rc != KS_OK)
        return rc;
    ks_log_info("rebuild: %s %d/%d fetched from the API", noun, id, layer_no);
    (*fetched)++;
    return KS_OK;
}

/* Fetches from the API what req draws and the store lacks: the files not
 * on disk (on_disk; the layer cache may still hold them, but the store is
 * repaired while we are at it), or those it cannot hand out with the sha256
 * req names (!on_disk): a layer whose art was replaced since is fetched at
 * the recipe's sha256 and kept as archived art. KS_UNAVAILABLE when the API
 * has no art of that sha256 (or a scene changed): the image would differ. */
static ks_rc fetch_missing(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client, int on_disk,
                               const ks_compose_request_t *req, int *fetched, ks_err_t *err)
{
    ks_rc rc = KS_OK;

    if (req->kind == KS_REQUEST_ALBUM)
        rc = fetch_if_missing(rebuilder->scenes, client, on_disk, 1, req->scene_id, 0,
                                  req->scene_sha256, fetched, err);
    for (size_t i = 0; i < req->layer_count && rc == KS_OK; i++)
        rc = fetch_if_missing(rebuilder->items, client, on_disk, 0, req->layers[i].item_id,
                                  req->layers[i].layer_no, req->layers[i].sha256, fetched, err);
    return rc;
}

ks_rc ks_rebuild_render(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                        const ks_compose_request_t *req, ks_image_t *canvas, int *fetched,
                        ks_err_t *err)
{
    ks_rc rc = client ? fetch_missing(rebuilder, client, 1, req, fetched, err) : KS_OK;

    if (rc == KS_OK)
        rc = ks_output_render(rebuilder->items, rebuilder->scenes, req, canvas, err);
    if (rc == KS_CONFLICT && client) {   /* stale: fetch, then try once more */
        rc = fetch_missing(rebuilder, client, 0, req, fetched, err);
        if (rc == KS_OK)
            rc = ks_output_render(rebuilder->items, rebuilder->scenes, req, canvas, err);
    }
    return rc;
}

ks_rc ks_rebuild_animate(ks_rebuilder_t *rebuilder, const ks_compose_request_t *req,
                         const ks_image_t *canvas, ks_output_t *out, ks_err_t *err)
{
    return ks_output_animate(rebuilder->items, rebuilder->scenes, req, canvas, out, err);
}

/* 1 when the API still says image is this server's at where's version;
 * else 0 with answer set (404 when it is gone, else 503). */
static int still_wanted(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                            const char *relative, const ks_member_image_t *image,
                            const where_t *where, ks_rebuild_answer_t *answer)
{
    int album = image->kind == KS_IMAGE_ALBUM;
    ks_node_api_recipe_t recipe;
    ks_err_t err = {{0}};
    ks_rc rc = ks_node_api_get_image_recipe(client, image->user_id, album ? (int)image->number : 0,
                                       0, &recipe, &err);      /* the master: a delete shows */

    if (rc == KS_NOTFOUND) {
        answer_text(answer, 404, "%s: deleted while it was rebuilt (%s)", relative, err.msg);
        return 0;
    }
    if (rc != KS_OK) {
        answer_text(answer, 503, "%s: not rebuilt: %s", relative, err.msg);
        return 0;
    }
    if (strcmp(recipe.image_server, rebuilder->conf->name) != 0 ||
        recipe.version != where->version) {
        answer->retry_after_s = 1;
        answer_text(answer, 503, "%s: changed while it was rebuilt; ask again", relative);
        return 0;
    }
    return 1;
}

/* Removes what a rebuild wrote (store-relative paths; "" is nothing). */
static void unstore(const char *store, const ks_output_t *output)
{
    const char *paths[] = {output->path, output->thumb_path, output->anim_path};

    for (size_t i = 0; i < 3; i++) {
        char path[4096];
        if (!paths[i][0])
            continue;
        snprintf(path, sizeof path, "%s/%s", store, paths[i]);
        if (unlink(path) != 0)
            ks_log_warn("rebuild: unlink() \"%s\" failed: %s", path, strerror(errno));
    }
}

/* Composes req (fetching what the store lacks and trying once more), stores
 * it unless the image was deleted or moved meanwhile, and hands the
 * requested file's bytes to answer. */
static void compose(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                        const ks_compose_request_t *req, const char *relative,
                        const ks_member_image_t *image, const where_t *where,
                        ks_rebuild_answer_t *answer)
{
    unsigned long long deletes;
    ks_image_t canvas = {0};
    ks_output_t output = {0};
    ks_err_t err = {{0}};
    int fetched = 0;
    ks_rc rc = ks_rebuild_render(rebuilder, client, req, &canvas, &fetched, &err);

    deletes = atomic_load(&rebuilder->deletes);
    if (rc == KS_OK && !still_wanted(rebuilder, client, relative, image, where, answer)) {
        ks_image_free(&canvas);
        return;
    }
    if (rc == KS_OK)
        rc = ks_output_store(rebuilder->conf->store, rebuilder->items, rebuilder->scenes, req,
                             &canvas, &output, &err);
    ks_image_free(&canvas);
    if (rc == KS_OK && atomic_load(&rebuilder->deletes) != deletes &&
        !still_wanted(rebuilder, client, relative, image, where, answer)) {
        unstore(rebuilder->conf->store, &output);
        ks_output_free(&output);
        return;
    }
    if (rc != KS_OK) {
        ks_output_free(&output);
        answer_text(answer, rc == KS_CONFLICT || rc == KS_UNAVAILABLE || rc == KS_NOMEM ? 503
                                                                                       : 500,
                   "%s: not rebuilt: %s", relative, err.msg);
        return;
    }
    atomic_fetch_add(&rebuilder->rebuilt, 1);
    if (image->kind == KS_IMAGE_THUMB) {
        answer->image = output.thumb;
        answer->image_size = output.thumb_size;
        output.thumb = NULL;
    } else if (image->kind == KS_IMAGE_ANIM) {
        if (!output.anim) {
            answer_text(answer, 404, "%s: the member's avatar is not animated", relative);
            ks_output_free(&output);
            return;
        }
        answer->image = output.anim;
        answer->image_size = output.anim_size;
        output.anim = NULL;
    } else {
        answer->image = output.image;
        answer->image_size = output.image_size;
        output.image = NULL;
    }
    answer->content_type = image->kind == KS_IMAGE_ALBUM ? "image/jpeg" : "image/png";
    answer_text(answer, 200, "%s: rebuilt from the API's recipe (wrote %s%s%s; layers or"
               " scenes fetched: %d)", relative, output.path, output.thumb_path[0] ? " and " : "",
               output.thumb_path, fetched);
    ks_log_info("rebuild: %s", answer->message);
    ks_output_free(&output);
}

/* Asks the API, then redirects, refuses or composes. */
static void rebuild(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                        const char *relative, const ks_member_image_t *image,
                        ks_rebuild_answer_t *answer)
{
    const ks_image_conf_t *conf = rebuilder->conf;
    int album = image->kind == KS_IMAGE_ALBUM;
    ks_compose_request_t *req;
    ks_node_api_recipe_t recipe;
    where_t where;
    ks_err_t err = {{0}};
    const char *wanted;
    ks_rc rc;

    /* A replica answers when it knows the version asked for (a photo: any). */
    rc = ks_node_api_get_image_recipe(client, image->user_id, album ? (int)image->number : 0,
                                      album ? 1 : (int)image->number, &recipe, &err);
    if (rc == KS_NOTFOUND) {
        answer_text(answer, 404, "%s: no such %s (%s)", relative,
                   album ? "album photo" : "member", err.msg);
        return;
    }
    if (rc != KS_OK) {
        answer_text(answer, 503, "%s: not rebuilt: %s", relative, err.msg);
        return;
    }
    if (strcmp(recipe.route, album ? "album" : "compose") != 0 || recipe.version < 1) {
        answer_text(answer, 500, "%s: the API's answer is for route \"%.32s\", version %d",
                   relative, recipe.route, recipe.version);
        return;
    }
    /* Copy out what decides: the next API call reuses the arena. */
    snprintf(where.image_server, sizeof where.image_server, "%s", recipe.image_server);
    where.version = recipe.version;
    snprintf(where.path, sizeof where.path, "%s", recipe.path);
    snprintf(where.thumb_path, sizeof where.thumb_path, "%s", recipe.thumb_path);
    if (image->kind == KS_IMAGE_ANIM &&
        ks_avatar_anim_path(image->user_id, (unsigned)where.version, where.anim_path,
                            sizeof where.anim_path) < 0)
        where.anim_path[0] = '\0';
    wanted = image->kind == KS_IMAGE_THUMB  ? where.thumb_path
             : image->kind == KS_IMAGE_ANIM ? where.anim_path
                                            : where.path;
    if (image->kind == KS_IMAGE_THUMB && !where.thumb_path[0]) {
        answer_text(answer, 404, "%s: the member's avatar has no thumbnail", relative);
        return;
    }
    if (url(recipe.public_url, wanted, where.location, sizeof where.location, &err)
        != KS_OK) {
        answer_text(answer, 500, "%s: %s", relative, err.msg);
        return;
    }
    if (!album && image->number > (unsigned)where.version) {
        answer_text(answer, 404, "%s: version %u is newer than the member's current version %d",
                   relative, image->number, where.version);
        return;
    }
    if (strcmp(where.image_server, conf->name) != 0 ||
        (!album && image->number < (unsigned)where.version)) {
        snprintf(answer->location, sizeof answer->location, "%s", where.location);
        answer_text(answer, 302, "%s: at %s", relative, where.location);
        return;
    }
    if (strcmp(wanted, relative) != 0) {
        answer_text(answer, 500, "%s: the API names this image \"%s\"", relative, wanted);
        return;
    }

    req = malloc(sizeof *req);
    if (!req) {
        answer_text(answer, 503, "%s: out of memory for a recipe", relative);
        return;
    }
    rc = ks_compose_request_parse(recipe.recipe, strlen(recipe.recipe),
                                  album ? KS_REQUEST_ALBUM : KS_REQUEST_COMPOSE,
                                  (uint32_t)conf->max_canvas_width,
                                  (uint32_t)conf->max_canvas_height, req, &err);
    if (rc == KS_OK && (strcmp(req->user_id, image->user_id) != 0 ||
                        (album ? req->photo : req->version) != image->number))
        rc = ks_err(&err, KS_ERROR, "it draws \"%s\" %s %u", req->user_id,
                    album ? "photo" : "version", album ? req->photo : req->version);
    if (rc != KS_OK)
        answer_text(answer, 500, "%s: the API's recipe is unusable: %s", relative, err.msg);
    else
        compose(rebuilder, client, req, relative, image, &where, answer);
    free(req);
}

void ks_rebuild(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client, const char *path,
                ks_rebuild_answer_t *answer)
{
    const ks_image_conf_t *conf = rebuilder->conf;
    const char *relative = path[0] == '/' ? path + 1 : path;
    ks_member_image_t image;
    ks_err_t err = {{0}};

    memset(answer, 0, sizeof *answer);
    if (path[0] != '/' || ks_member_image_parse(relative, &image, &err) != KS_OK) {
        answer_text(answer, 404, "%.300s: not found: %s", relative, err.msg);
        return;
    }
    if (serve_stored(rebuilder, relative, &image, answer))
        return;
    if (!client) {
        answer_text(answer, 404, "%s: not found (no api_url: this server cannot rebuild it)",
                   relative);
        return;
    }
    /* A miss answered a moment ago is answered the same, without the API. */
    if (ks_miss_cache_get(rebuilder->misses, relative, ks_miss_cache_now_ms(), &answer->status,
                          answer->location, sizeof answer->location)) {
        if (answer->status == 302)
            answer_text(answer, 302, "%s: at %s (remembered, miss_cache_ms)", relative,
                        answer->location);
        else
            answer_text(answer, 404, "%s: not found (remembered, miss_cache_ms)", relative);
        return;
    }
    if (atomic_fetch_add(&rebuilder->running, 1) >= conf->max_rebuilds) {
        atomic_fetch_sub(&rebuilder->running, 1);
        answer->retry_after_s = 1;
        answer_text(answer, 503, "%s: %d rebuilds under way (max_rebuilds); try again", relative,
                   conf->max_rebuilds);
        return;
    }
    rebuild(rebuilder, client, relative, &image, answer);
    atomic_fetch_sub(&rebuilder->running, 1);
    ks_miss_cache_put(rebuilder->misses, relative, answer->status, answer->location,
                      ks_miss_cache_now_ms());
}
