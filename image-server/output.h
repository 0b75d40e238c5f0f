/* output.h: what a compose or album request (compose_request.h) draws, and
 * the files it stores. POST /internal/compose and /internal/album
 * (fcgi_server.c) and the rebuild of a lost image (rebuild.c) both go
 * through here, so a rebuilt file is the same bytes as the original.
 */
#ifndef KS_IMAGE_OUTPUT_H
#define KS_IMAGE_OUTPUT_H

#include <stddef.h>
#include "compose_request.h"
#include "image.h"
#include "item_store.h"
#include "ks.h"

/* The files ks_output_store wrote, and their bytes. */
typedef struct {
    char path[256];                /* store-relative: "avatars/ab/cd/alice/3.png", an album's .jpg */
    char thumb_path[256];          /* the thumbnail's, or "" */
    unsigned char *image;          /* the avatar PNG or the album JPEG (malloc'd) */
    size_t image_size;
    unsigned char *thumb;          /* the thumbnail PNG, or NULL (malloc'd) */
    size_t thumb_size;
    char anim_path[256];           /* the animation's ("avatars/.../3-anim.png"), or "" */
    unsigned char *anim;           /* the APNG of an animated avatar, or NULL (malloc'd) */
    size_t anim_size;
} ks_output_t;

/* Acquires what req draws (an album's scene from scenes first, at 0,0, then
 * the layers from items in z order; an animation's layers of every frame) and
 * composes the still image (frame 0's layers) onto *canvas (freed by the
 * caller with ks_image_free). KS_CONFLICT "layer 12/0 missing" (or stale, or
 * "scene 3/0 ...") when the store lacks one. */
ks_rc ks_output_render(ks_item_store_t *items, ks_item_store_t *scenes,
                       const ks_compose_request_t *req, ks_image_t *canvas, ks_err_t *err);

/* For a request with frames: composes frames 1.. (canvas being frame 0)
 * and encodes the APNG into out (after ks_output_encode); nothing without
 * frames. */
ks_rc ks_output_animate(ks_item_store_t *items, ks_item_store_t *scenes,
                        const ks_compose_request_t *req, const ks_image_t *canvas,
                        ks_output_t *out, ks_err_t *err);

/* Encodes canvas as req asks (album: JPEG on its background colour; avatar:
 * PNG, and the thumbnail when asked) without writing anything: *out holds
 * the store-relative paths and the bytes; free it with
 * ks_output_free, also after a failure. */
ks_rc ks_output_encode(const ks_compose_request_t *req, const ks_image_t *canvas,
                       ks_output_t *out, ks_err_t *err);

/* Writes files of out (from ks_output_encode of req) atomically under
 * store_dir (avatar_store.h): the thumbnail when thumb (and there is one),
 * then, when image, the animation (if any) and the image. Writing an avatar
 * prunes its old versions. */
ks_rc ks_output_write(const char *store_dir, const ks_compose_request_t *req,
                      ks_output_t *out, int image, int thumb, ks_err_t *err);

/* ks_output_encode and ks_output_animate, then ks_output_write of every
 * file: what a compose or album request stores. */
ks_rc ks_output_store(const char *store_dir, ks_item_store_t *items, ks_item_store_t *scenes,
                      const ks_compose_request_t *req, const ks_image_t *canvas,
                      ks_output_t *out, ks_err_t *err);

void ks_output_free(ks_output_t *out);

#endif
