/* image_client.h: the API tier's calls to an image server (image-server/PROTOCOL.md).
 *
 * Every call returns KS_OK on a 200 answer; KS_CONFLICT on 409 (the server
 * misses or holds a stale layer or scene: the message, which quotes the
 * server's answer, says which), KS_TOOLARGE on 413, and KS_UNAVAILABLE when
 * the server cannot be reached or answers anything else. The message is in
 * ctx->err. */
#ifndef KS_API_IMAGE_CLIENT_H
#define KS_API_IMAGE_CLIENT_H

#include "sha256.h"
#include "store.h"

/* The secret of image server name (its cluster_secret option, sent in
 * X-Kisekae-Secret): HMAC-SHA256 of "kisekae image server <name>" under
 * the API's cluster_secret, in hex. `kisekae-api --image-secret NAME`
 * prints it. */
void ks_image_server_secret(const char *cluster_secret, const char *name,
                            char secret[KS_SHA256_HEX_SIZE]);

/* Stores one item layer on server: its current art, or (archived) old art
 * replaced since, kept beside it for the album photos drawn with it. */
ks_rc ks_image_put_layer(ks_api_ctx_t *ctx, const ks_image_server_t *server, int item_id,
                         int layer_no, const void *png, size_t size, const char *sha256,
                         int archived);

/* The most layer lines (layer and flayer: an animated layer counts once per
 * frame of the avatar) an image server draws in one request. */
#define KS_IMAGE_LAYERS_MAX 256

/* Composes and stores a member's avatar at version from layers (in drawing
 * order), with its bust-up thumbnail as the configuration says. */
ks_rc ks_image_compose(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *user_id,
                       unsigned version, const ks_layer_row_t *layers, int count);

/* The body of that compose request (image-server/PROTOCOL.md), in a buffer
 * bounded by what an image server takes: body->overflow when it would not
 * fit. Layers with frames (frame rows among layers, as ks_store_worn_layers
 * reads them) make it animated: frames and flayer lines. Previews and album
 * photos draw frame 0 only. Free with ks_buf_free. */
void ks_image_compose_body(const ks_api_conf_t *conf, const char *user_id, unsigned version,
                           const ks_layer_row_t *layers, int count, ks_buf_t *body);

/* Composes layers on the avatar canvas without storing anything; *png is
 * malloc'd (owned by the caller) on success. */
ks_rc ks_image_preview(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                       const ks_layer_row_t *layers, int count, unsigned char **png,
                       size_t *size);

/* Stores a scene's background PNG on server. */
ks_rc ks_image_put_scene(ks_api_ctx_t *ctx, const ks_image_server_t *server, int scene_id,
                         const void *png, size_t size, const char *sha256);

/* What an album photo is made of: the layers are in drawing order with
 * their place on the photo (z_order ascending). */
typedef struct {
    const char *user_id;
    unsigned photo_id;
    int width, height;           /* the scene's */
    int scene_id;
    const char *scene_sha256;
    int quality;                 /* JPEG quality */
    const ks_layer_row_t *layers;
    int layer_count;
} ks_album_request_t;

/* Composes and stores an album photo as JPEG. */
ks_rc ks_image_album(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                     const ks_album_request_t *album);

/* The body of that album request, as ks_image_compose_body. */
void ks_image_album_body(const ks_album_request_t *album, ks_buf_t *body);

/* Removes every stored image of a member (avatars and album photos). */
ks_rc ks_image_delete_member(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                             const char *user_id);

/* Removes one album photo (missing is not an error). */
ks_rc ks_image_delete_album(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                            const char *user_id, unsigned photo_id);

/* ---- batches (kisekae-batch: op_batch.c) ---- */

#define KS_IMAGE_BATCH_MAX (4 * 1024 * 1024)   /* bytes of a batch body we send (the image
                                                  server takes 8 MiB) */
#define KS_IMAGE_BATCH_RECIPES 500             /* recipes in one batch (the server takes 1000) */

/* Starts the body of a batch (POST /internal/batch) in body: checking only,
 * or writing what is missing or differs. Free with ks_buf_free. */
void ks_image_batch_begin(ks_buf_t *body, int check_only);

/* Appends recipe (the body of a compose or album request: route "compose"
 * or "album") to the batch body. 0, or -1 when the batch would pass
 * KS_IMAGE_BATCH_MAX or the recipe is over the image server's limit on one
 * (recipe->overflow): the body is then left as it was. */
int ks_image_batch_add(ks_buf_t *body, const char *route, const ks_buf_t *recipe);

/* What the image server did with one recipe of a batch: its images and how
 * many were written (or, checking, found missing or different), and the
 * first failure's message. */
typedef struct {
    int images, written, missing, differs, failed;
    char message[256];
} ks_image_recipe_result_t;

/* Sends the batch in body (freed) holding `recipes` recipes, and fills
 * results[0..recipes) (zeroed first) from the answer's image lines. Waits
 * for the answer up to KS_IMAGE_SLOW_TIMEOUT_S. */
ks_rc ks_image_batch(ks_api_ctx_t *ctx, const ks_image_server_t *server, ks_buf_t *body,
                     int recipes, ks_image_recipe_result_t *results);

/* What a sync of an image server's item store found (PROTOCOL.md, POST
 * /internal/sync). */
typedef struct {
    long long checked, missing, stale, extra, fetched, failed;
} ks_image_sync_t;

/* Has server sync its item store with the catalog now, and waits for the
 * counts up to KS_IMAGE_SLOW_TIMEOUT_S. */
ks_rc ks_image_sync(ks_api_ctx_t *ctx, const ks_image_server_t *server, ks_image_sync_t *out);

#define KS_IMAGE_SLOW_TIMEOUT_S 60              /* a batch or a sync (nginx's own limit) */

#endif
