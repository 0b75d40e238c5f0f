/* compose.h: the avatar compositor.
 *
 * Layers are premultiplied RGBA8 images placed at an offset on the canvas and
 * blended bottom to top with "source over" in integer math with exact
 * rounding: out = src + round(dst * (255 - src_alpha) / 255). Only each
 * layer's box is visited, so transparent regions cost nothing.
 */
#ifndef KS_COMPOSE_H
#define KS_COMPOSE_H

#include "image.h"

typedef struct {
    const ks_image_t *image;   /* premultiplied; not owned */
    int x, y;                  /* top-left corner on the canvas; may be negative */
} ks_layer_ref_t;

/* Blends layers[0..count) bottom to top onto a new transparent canvas of
 * width x height, written to out (premultiplied, owned by the caller).
 * Parts of a layer outside the canvas are clipped. */
ks_rc ks_compose(const ks_layer_ref_t *layers, size_t count, uint32_t width,
                 uint32_t height, ks_image_t *out, ks_err_t *err);

#endif
