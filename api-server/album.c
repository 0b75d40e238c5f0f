/* album.c: composing an album photo on an image server (a service, below the
 * handlers): reading what a recorded photo is made of (ks_album_load), and
 * having a server compose and store it, pushing from the database what the
 * server misses (ks_album_compose). CreateAlbumPhoto (op_album.c), the
 * recipes of op_node.c and the moves of op_cluster.c call it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "album.h"
#include "log.h"
#include "render.h"
#include "store_albums.h"

/* Pushes the background of scene_id from the database to server; sha256 is
 * what the photo expects, and a scene whose background changed since is
 * not pushed (the photo cannot be composed again). */
static ks_rc push_scene_from_db(ks_api_ctx_t *ctx, MYSQL *conn, const ks_image_server_t *server,
                                int scene_id, const char *sha256)
{
    unsigned char *png;
    size_t size;
    ks_rc rc = ks_store_scene_png(ctx, conn, scene_id, sha256, &png, &size);

    if (rc != KS_OK)
        return rc;
    rc = ks_image_put_scene(ctx, server, scene_id, png, size, sha256);
    free(png);
    return rc;
}

ks_rc ks_album_compose(ks_api_ctx_t *ctx, MYSQL *conn, const ks_image_server_t *server,
                       const ks_album_request_t *album)
{
    int scene_pushed = 0, layers_pushed = 0;

    for (;;) {
        ks_rc rc = ks_image_album(ctx, server, album);
        int scene_missing;

        if (rc != KS_CONFLICT)
            return rc;
        scene_missing = strstr(ctx->err.msg, ": scene ") != NULL;
        if (scene_missing ? scene_pushed : layers_pushed)
            return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" still misses what "
                          "the photo needs after a repair: %s", server->name, ctx->err.msg);
        ks_log_info("image server \"%s\" misses what photo %u needs (%s): pushing it",
                    server->name, album->photo_id, ctx->err.msg);
        if (scene_missing) {
            scene_pushed = 1;
            rc = push_scene_from_db(ctx, conn, server, album->scene_id, album->scene_sha256);
        } else {
            layers_pushed = 1;
            rc = ks_render_push_layers(ctx, conn, server, album->layers, album->layer_count);
        }
        if (rc != KS_OK)
            return rc;
    }
}

ks_rc ks_album_load(struct soap *soap, MYSQL *conn, const ks_member_t *member, unsigned photo_id,
                    ks_album_request_t *album, int *image_server_id)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_album_photo_row_t photo;
    ks_layer_row_t *layers = NULL;
    char *scene_sha256;
    ks_rc rc;

    if ((rc = ks_store_album_photo(ctx, conn, member->id, photo_id, &photo)) != KS_OK)
        return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" has no album"
                                          " photo %u", member->user_id, photo_id)
                                 : rc;
    if (!(scene_sha256 = soap_strdup(soap, photo.scene_sha256)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    *image_server_id = photo.image_server_id;
    *album = (ks_album_request_t){.user_id = member->user_id, .photo_id = photo_id,
                                  .width = photo.width, .height = photo.height,
                                  .scene_id = photo.scene_id, .scene_sha256 = scene_sha256,
                                  .quality = photo.quality};
    rc = ks_store_album_photo_layers(soap, conn, photo_id, &layers, &album->layer_count);
    album->layers = layers;
    return rc;
}
