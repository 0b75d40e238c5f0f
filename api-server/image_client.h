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

/* Composes and stores a member's avatar at version from layers (in drawing
 * order), with its bust-up thumbnail as the configuration says. */
ks_rc ks_image_compose(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *user_id,
                       unsigned version, const ks_layer_row_t *layers, int count);

/* The body of that compose request (image-server/PROTOCOL.md), in a buffer
 * bounded by what an image server takes: body->overflow when it would not
 * fit. Free with ks_buf_free. */
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

#endif
