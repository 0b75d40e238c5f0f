/* rebuild.h: a member's image that nginx did not find in the store.
 *
 * The public server block of an image server's nginx serves avatars/ and
 * albums/ from the store and, for a file that is not there, falls back to
 * the FastCGI app (`try_files $uri @rebuild`), which calls ks_rebuild:
 *
 * - the path is parsed strictly (ks_member_image_parse): anything else is 404;
 * - the API says how the image is made and where it lives (GetImageRecipe);
 *   an unknown member or photo is 404;
 * - an image another server holds, or an old avatar version, is a 302 to the
 *   right server's URL of the current image; a version newer than the
 *   current one is 404;
 * - otherwise the image is composed again from the recipe (the body of POST
 *   /internal/compose or /internal/album as the API sends it) through the
 *   same parser, compositor and encoders (output.h), stored as a compose
 *   stores it, and answered: the same bytes as the lost file. Layers or a
 *   scene missing here are fetched from the API first (GetItemLayer,
 *   GetSceneBackground); one whose art the API now has with another sha256
 *   cannot be drawn as it was, which is a 503.
 *
 * A 404 or 302 is remembered for miss_cache_ms (miss_cache.h) and answered
 * again without the API. At most max_rebuilds run at once (503 with
 * Retry-After: 1 beyond; main.c makes them leave threads to /internal/); a
 * server without api_url answers 404.
 */
#ifndef KS_REBUILD_H
#define KS_REBUILD_H

#include <stddef.h>
#include "node_api.h"
#include "compose_request.h"
#include "image.h"
#include "image_conf.h"
#include "item_store.h"
#include "output.h"
#include "ks.h"

typedef struct ks_rebuilder ks_rebuilder_t;

/* The HTTP answer to a rebuild request. */
typedef struct {
    int status;                    /* 200, 302, 404, 500 or 503 */
    char message[KS_ERR_MAX + 256];/* one line: what was done, or why not */
    char location[1024];           /* 302: the image's URL */
    int retry_after_s;             /* 503 when busy: 1 */
    unsigned char *image;          /* 200: the file's bytes (malloc'd; the caller frees) */
    size_t image_size;
    const char *content_type;      /* 200: "image/png" or "image/jpeg" */
} ks_rebuild_answer_t;

/* conf, items and scenes must outlive the rebuilder. */
ks_rc ks_rebuilder_new(const ks_image_conf_t *conf, ks_item_store_t *items,
                       ks_item_store_t *scenes, ks_rebuilder_t **out, ks_err_t *err);

/* NULL is ignored. No rebuild may be running. */
void ks_rebuilder_free(ks_rebuilder_t *rebuilder);

/* Answers a GET of path ("/avatars/ab/cd/alice/3.png"), asking the API
 * through client (this thread's; NULL when the server has no api_url).
 * answer is filled whatever happens. */
void ks_rebuild(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client, const char *path,
                ks_rebuild_answer_t *answer);

/* Composes req onto *canvas (freed by the caller with ks_image_free) as a
 * rebuild does: the layers (and an album's scene) missing from the store's
 * disk are fetched from the API through client first and, when one is
 * stale, fetched (old art as archived art) and the compose tried once more.
 * *fetched counts what was fetched. Without client (no api_url) it composes
 * from the store as it is. Errors as ks_output_render, and KS_UNAVAILABLE when the
 * API cannot give what is missing. Used by the batch route (batch.h). */
ks_rc ks_rebuild_render(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                        const ks_compose_request_t *req, ks_image_t *canvas, int *fetched,
                        ks_err_t *err);

/* ks_output_animate with the rebuilder's stores (after ks_rebuild_render,
 * which fetched every frame's layers). */
ks_rc ks_rebuild_animate(ks_rebuilder_t *rebuilder, const ks_compose_request_t *req,
                         const ks_image_t *canvas, ks_output_t *out, ks_err_t *err);

/* Images rebuilt since the start (for /health). */
unsigned long long ks_rebuilder_count(ks_rebuilder_t *rebuilder);

/* Misses answered from memory since the start (for /metrics). */
unsigned long long ks_rebuilder_miss_hits(ks_rebuilder_t *rebuilder);

/* The server deleted a member's images (a DELETE of /internal/avatars or
 * /internal/albums): a rebuild under way checks with the API again before
 * it keeps what it wrote. */
void ks_rebuilder_note_delete(ks_rebuilder_t *rebuilder);

#endif
