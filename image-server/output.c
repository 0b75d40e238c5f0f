/* output.c: composing and storing what a compose or album request asks for
 * (output.h). The encoders are deterministic (same pixels, same level or
 * quality, same bytes), which is what lets a lost image be rebuilt to the
 * byte from its recipe.
 */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avatar_store.h"
#include "compose.h"
#include "jpeg_codec.h"
#include "paths.h"
#include "png_codec.h"
#include "resize.h"

ks_rc ks_output_render(ks_item_store_t *items, ks_item_store_t *scenes, const ks_compose_request_t *req,
                ks_image_t *canvas, ks_err_t *err)
{
    ks_item_layer_t *held[KS_COMPOSE_MAX_LAYERS + 1] = {0};
    ks_layer_ref_t refs[KS_COMPOSE_MAX_LAYERS + 1];
    size_t count = 0, i;
    ks_rc rc = KS_OK;

    if (req->kind == KS_REQUEST_ALBUM) {
        rc = ks_item_store_acquire(scenes, req->scene_id, 0, req->scene_sha256, &held[0], err);
        if (rc == KS_OK)
            refs[count++] = (ks_layer_ref_t){ks_item_layer_image(held[0]), 0, 0, KS_TINT_NONE};
    }
    for (i = 0; i < req->layer_count && rc == KS_OK; i++) {
        const ks_compose_layer_t *layer = &req->layers[i];
        rc = ks_item_store_acquire(items, layer->item_id, layer->layer_no, layer->sha256,
                                   &held[count], err);
        if (rc == KS_OK) {
            refs[count] = (ks_layer_ref_t){ks_item_layer_image(held[count]), layer->x,
                                           layer->y, layer->tint};
            count++;
        }
    }
    if (rc == KS_OK)
        rc = ks_compose(refs, count, req->width, req->height, canvas, err);
    for (i = 0; i < count; i++)
        ks_item_store_release(i == 0 && req->kind == KS_REQUEST_ALBUM ? scenes : items, held[i]);
    return rc;
}

ks_rc ks_output_encode(const ks_compose_request_t *req, const ks_image_t *canvas,
                       ks_output_t *out, ks_err_t *err)
{
    ks_rc rc;

    memset(out, 0, sizeof *out);
    if (req->kind == KS_REQUEST_ALBUM) {
        if (ks_album_path(req->user_id, req->photo, out->path, sizeof out->path) < 0)
            return ks_err(err, KS_INVALID, "album photo of \"%.64s\": invalid path",
                          req->user_id);
        return ks_jpeg_encode(canvas, req->background, req->quality, &out->image,
                              &out->image_size, err);
    }
    if (ks_avatar_path(req->user_id, req->version, out->path, sizeof out->path) < 0)
        return ks_err(err, KS_INVALID, "avatar of \"%.64s\": invalid path", req->user_id);
    if (req->has_thumb) {
        ks_image_t thumb;
        if (ks_avatar_thumb_path(req->user_id, req->version, out->thumb_path,
                                 sizeof out->thumb_path) < 0)
            return ks_err(err, KS_INVALID, "avatar of \"%.64s\": invalid path", req->user_id);
        rc = ks_image_resize(canvas, req->thumb_x, req->thumb_y, req->thumb_width,
                             req->thumb_height, req->thumb_out_width, req->thumb_out_height,
                             &thumb, err);
        if (rc == KS_OK) {
            rc = ks_png_encode(&thumb, KS_PNG_LEVEL_FAST, &out->thumb, &out->thumb_size, err);
            ks_image_free(&thumb);
        }
        if (rc != KS_OK)
            return rc;
    }
    return ks_png_encode(canvas, KS_PNG_LEVEL_FAST, &out->image, &out->image_size, err);
}

ks_rc ks_output_write(const char *store_dir, const ks_compose_request_t *req,
                      ks_output_t *out, int image, int thumb, ks_err_t *err)
{
    ks_rc rc = KS_OK;

    if (req->kind == KS_REQUEST_ALBUM)
        return image ? ks_album_store_write(store_dir, req->user_id, req->photo, out->image,
                                            out->image_size, out->path, sizeof out->path, err)
                     : KS_OK;
    if (thumb && out->thumb)
        rc = ks_avatar_store_write_thumb(store_dir, req->user_id, req->version, out->thumb,
                                         out->thumb_size, out->thumb_path,
                                         sizeof out->thumb_path, err);
    if (rc == KS_OK && image)
        rc = ks_avatar_store_write(store_dir, req->user_id, req->version, out->image,
                                   out->image_size, out->path, sizeof out->path, err);
    return rc;
}

ks_rc ks_output_store(const char *store_dir, const ks_compose_request_t *req,
                      const ks_image_t *canvas, ks_output_t *out, ks_err_t *err)
{
    ks_rc rc = ks_output_encode(req, canvas, out, err);

    return rc == KS_OK ? ks_output_write(store_dir, req, out, 1, 1, err) : rc;
}

void ks_output_free(ks_output_t *out)
{
    free(out->image);
    free(out->thumb);
    out->image = out->thumb = NULL;
    out->image_size = out->thumb_size = 0;
}
