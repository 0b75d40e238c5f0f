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

/* Pushes the background of scene_id from the database to server; sha256 is
 * what the photo expects, and a scene whose background changed since is
 * not pushed (the photo cannot be composed again). */
static ks_rc push_scene_from_db(ks_api_ctx_t *ctx, MYSQL *conn, const ks_image_server_t *server,
                                int scene_id, const char *sha256)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT png, sha256 FROM scenes WHERE id = %d", scene_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (!row)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "scene %d not found", scene_id);
    else if (strcmp(row[1], sha256) != 0)
        rc = ks_err(&ctx->err, KS_CONFLICT, "scene %d has another background now", scene_id);
    else
        rc = ks_image_put_scene(ctx, server, scene_id, row[0], mysql_fetch_lengths(res)[0],
                                sha256);
    mysql_free_result(res);
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
    ks_layer_row_t *layers;
    char *scene_sha256;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT image_server_id, scene_id, scene_sha256, width, height, quality"
                " FROM album_photos WHERE id = %u AND member_id = %lld", photo_id, member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (!row) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" has no album photo %u",
                      member->user_id, photo_id);
    }
    *image_server_id = atoi(row[0]);
    scene_sha256 = soap_strdup(soap, row[2]);
    *album = (ks_album_request_t){.user_id = member->user_id, .photo_id = photo_id,
                                  .width = atoi(row[3]), .height = atoi(row[4]),
                                  .scene_id = atoi(row[1]), .scene_sha256 = scene_sha256,
                                  .quality = atoi(row[5])};
    mysql_free_result(res);
    if (!scene_sha256)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT item_id, layer_no, z_order, x, y, sha256, tint FROM album_photo_layers"
                " WHERE photo_id = %u ORDER BY seq", photo_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    layers = soap_malloc(soap, (mysql_num_rows(res) + 1) * sizeof *layers);
    if (!layers) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    for (n = 0; (row = mysql_fetch_row(res)); n++) {
        memset(&layers[n], 0, sizeof layers[n]);
        layers[n].item_id = atoi(row[0]);
        layers[n].layer_no = atoi(row[1]);
        layers[n].z_order = atoi(row[2]);
        layers[n].x = atoi(row[3]);
        layers[n].y = atoi(row[4]);
        snprintf(layers[n].sha256, sizeof layers[n].sha256, "%s", row[5]);
        snprintf(layers[n].tint, sizeof layers[n].tint, "%s", row[6]);
    }
    mysql_free_result(res);
    album->layers = layers;
    album->layer_count = n;
    return KS_OK;
}
