/* image_client.h: the API tier's calls to an image server (image-server/PROTOCOL.md). */
#ifndef KS_API_IMAGE_CLIENT_H
#define KS_API_IMAGE_CLIENT_H

#include "store.h"

/* Stores one item layer on server. KS_UNAVAILABLE when it cannot be reached
 * or refuses (the message says why). */
ks_rc ks_image_put_layer(ks_api_ctx_t *ctx, const ks_image_server_t *server, int item_id,
                         int layer_no, const void *png, size_t size, const char *sha256);

/* Composes and stores a member's avatar at version from layers (in drawing
 * order). KS_CONFLICT when the server misses a layer or holds a stale one. */
ks_rc ks_image_compose(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *user_id,
                       unsigned version, int canvas_width, int canvas_height,
                       const ks_layer_row_t *layers, int count);

#endif
