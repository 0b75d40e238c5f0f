/* render.h: composing a member's avatar on its image server, and putting back
 * on an image server the item layers it misses. The background renderer of
 * render_queue (started from main.c) is declared in api.h. */
#ifndef KS_API_RENDER_H
#define KS_API_RENDER_H

#include "image_client.h"

/* Composes member's avatar at member->version on server from what the open
 * transaction says the member wears. An image server that misses a layer (a
 * push that failed earlier) gets it from the database and the compose is
 * tried once more. KS_UNAVAILABLE when the server is marked down. */
ks_rc ks_render_avatar(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                       const ks_image_server_t *server);

/* Raises member's version by one, in the database (the open transaction)
 * and in *member, composes that version (ks_render_avatar) and records the
 * webhook event (webhook.h; NULL: none) in the same transaction. Every
 * change to what a member wears goes through here before its COMMIT.
 * Time-limited items whose window has ended come off first
 * (ks_store_outfit_drop_ended). */
ks_rc ks_render_next_version(struct soap *soap, MYSQL *conn, ks_member_t *member,
                             const ks_image_server_t *server, const char *event);

/* Pushes the art of each of layers, at its sha256, to server: the current
 * art as the layer, old art replaced since (an album photo's) as archived
 * art beside it. */
ks_rc ks_render_push_layers(ks_api_ctx_t *ctx, MYSQL *conn, const ks_image_server_t *server,
                            const ks_layer_row_t *layers, int count);

#endif
