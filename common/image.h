/* image.h: the in-memory RGBA8 image every codec and the compositor share. */
#ifndef KS_IMAGE_H
#define KS_IMAGE_H

#include <stdint.h>
#include <stddef.h>
#include "ks.h"

typedef struct {
    uint32_t width, height;
    size_t stride;          /* bytes per row, at least width * 4 */
    uint8_t *pixels;        /* RGBA8 rows; owned by the image, freed by ks_image_free */
    int premultiplied;      /* 1: colour channels are multiplied by alpha */
} ks_image_t;

/* Allocates a zeroed (fully transparent) width x height image. KS_INVALID
 * for a zero dimension, KS_NOMEM when the size overflows or memory is out. */
ks_rc ks_image_alloc(ks_image_t *img, uint32_t width, uint32_t height, ks_err_t *err);
void ks_image_free(ks_image_t *img);

/* Converts in place between straight and premultiplied alpha with exact
 * rounding: c' = round(c * a / 255) and back c = round(c' * 255 / a).
 * Each does nothing when the image already is in the form asked for. */
void ks_image_premultiply(ks_image_t *img);
void ks_image_unpremultiply(ks_image_t *img);

/* Crops img to the bounding box of its pixels with alpha > 0 into out (a new
 * image) and stores the box's top-left corner in *x, *y. A fully transparent
 * image is KS_INVALID ("layer is fully transparent"). */
ks_rc ks_image_trim(const ks_image_t *img, ks_image_t *out, int *x, int *y, ks_err_t *err);

#endif
