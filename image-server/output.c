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

/* The store entries of everything req draws: an album's scene (held[0])
 * from scenes, then every layer, in every frame, from items. */
typedef struct {
    ks_item_layer_t *held[KS_COMPOSE_MAX_LAYERS + 1];
    size_t count;
} acquired_t;

static void release_all(ks_item_store_t *items, ks_item_store_t *scenes,
                        const ks_compose_request_t *req, acquired_t *a)
{
    for (size_t i = 0; i < a->count; i++)
        ks_item_store_release(i == 0 && req->kind == KS_REQUEST_ALBUM ? scenes : items,
                              a->held[i]);
    a->count = 0;
}

static ks_rc acquire_all(ks_item_store_t *items, ks_item_store_t *scenes,
                         const ks_compose_request_t *req, acquired_t *a, ks_err_t *err)
{
    ks_rc rc = KS_OK;

    a->count = 0;
    if (req->kind == KS_REQUEST_ALBUM &&
        (rc = ks_item_store_acquire(scenes, req->scene_id, 0, req->scene_sha256, &a->held[0],
                                    err)) == KS_OK)
        a->count = 1;
    for (size_t i = 0; i < req->layer_count && rc == KS_OK; i++) {
        const ks_compose_layer_t *layer = &req->layers[i];
        if ((rc = ks_item_store_acquire(items, layer->item_id, layer->layer_no, layer->sha256,
                                        &a->held[a->count], err)) == KS_OK)
            a->count++;
    }
    if (rc != KS_OK)
        release_all(items, scenes, req, a);
    return rc;
}

/* Composes frame (0: the still image) of req from a onto *canvas. */
static ks_rc draw(const ks_compose_request_t *req, const acquired_t *a, int frame,
                  ks_image_t *canvas, ks_err_t *err)
{
    ks_layer_ref_t refs[KS_COMPOSE_MAX_LAYERS + 1];
    size_t count = 0, first = req->kind == KS_REQUEST_ALBUM;

    if (first)
        refs[count++] = (ks_layer_ref_t){ks_item_layer_image(a->held[0]), 0, 0, KS_TINT_NONE};
    for (size_t i = 0; i < req->layer_count; i++) {
        const ks_compose_layer_t *layer = &req->layers[i];
        if (layer->frame < 0 || layer->frame == frame)
            refs[count++] = (ks_layer_ref_t){ks_item_layer_image(a->held[first + i]), layer->x,
                                             layer->y, layer->tint};
    }
    return ks_compose(refs, count, req->width, req->height, canvas, err);
}

ks_rc ks_output_render(ks_item_store_t *items, ks_item_store_t *scenes,
                       const ks_compose_request_t *req, ks_image_t *canvas, ks_err_t *err)
{
    acquired_t a;
    ks_rc rc = acquire_all(items, scenes, req, &a, err);

    if (rc == KS_OK)
        rc = draw(req, &a, 0, canvas, err);
    release_all(items, scenes, req, &a);
    return rc;
}

ks_rc ks_output_animate(ks_item_store_t *items, ks_item_store_t *scenes,
                        const ks_compose_request_t *req, const ks_image_t *canvas,
                        ks_output_t *out, ks_err_t *err)
{
    ks_image_t frames[KS_COMPOSE_MAX_FRAMES] = {{0}};
    acquired_t a;
    int f;
    ks_rc rc;

    if (req->frame_count == 0)
        return KS_OK;
    if (ks_avatar_anim_path(req->user_id, req->version, out->anim_path,
                            sizeof out->anim_path) < 0)
        return ks_err(err, KS_INVALID, "avatar of \"%.64s\": invalid path", req->user_id);
    if ((rc = acquire_all(items, scenes, req, &a, err)) != KS_OK)
        return rc;
    frames[0] = *canvas;                 /* borrowed, not freed below */
    for (f = 1; f < req->frame_count && rc == KS_OK; f++)
        rc = draw(req, &a, f, &frames[f], err);
    release_all(items, scenes, req, &a);
    if (rc == KS_OK)
        rc = ks_apng_encode(frames, req->delays_ms, (size_t)req->frame_count, KS_PNG_LEVEL_FAST,
                            &out->anim, &out->anim_size, err);
    while (--f > 0)
        ks_image_free(&frames[f]);
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
    if (rc == KS_OK && image && out->anim)
        rc = ks_avatar_store_write_anim(store_dir, req->user_id, req->version, out->anim,
                                        out->anim_size, out->anim_path, sizeof out->anim_path,
                                        err);
    if (rc == KS_OK && image)
        rc = ks_avatar_store_write(store_dir, req->user_id, req->version, out->image,
                                   out->image_size, out->path, sizeof out->path, err);
    return rc;
}

ks_rc ks_output_store(const char *store_dir, ks_item_store_t *items, ks_item_store_t *scenes,
                      const ks_compose_request_t *req, const ks_image_t *canvas,
                      ks_output_t *out, ks_err_t *err)
{
    ks_rc rc = ks_output_encode(req, canvas, out, err);

    if (rc == KS_OK)
        rc = ks_output_animate(items, scenes, req, canvas, out, err);
    return rc == KS_OK ? ks_output_write(store_dir, req, out, 1, 1, err) : rc;
}

void ks_output_free(ks_output_t *out)
{
    free(out->image);
    free(out->thumb);
    free(out->anim);
    out->image = out->thumb = out->anim = NULL;
    out->image_size = out->thumb_size = out->anim_size = 0;
}
