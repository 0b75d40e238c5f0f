/* compose.h: the avatar compositor.
 *
 * Layers are premultiplied RGBA8 images placed at an offset on the canvas and
 * blended bottom to top with "source over" in integer math with exact
 * rounding: out = src + round(dst * (255 - src_alpha) / 255). Only each
 * layer's box is visited, so transparent regions cost nothing.
 *
 * Tint: a layer may be recoloured as it is drawn, by a multiply with a
 * colour T in premultiplied integers: each colour channel c becomes
 * round(c * T / 255); alpha is never touched. Tintable art is drawn in
 * greys: white takes exactly the chosen colour, black stays black, and every
 * grey between keeps its share of light, so the art's shading and its
 * anti-aliased edges survive any colour (a hue shift would need a colour
 * space round trip per pixel and could not keep dark outlines dark). A
 * premultiplied pixel stays valid (c * T / 255 <= c <= alpha).
 */
#ifndef KS_COMPOSE_H
#define KS_COMPOSE_H

#include "image.h"

#define KS_TINT_NONE 0u
#define KS_TINT(rgb) (0x01000000u | ((rgb) & 0xffffffu))   /* rgb: 0xRRGGBB */

typedef struct {
    const ks_image_t *image;   /* premultiplied; not owned */
    int x, y;                  /* top-left corner on the canvas; may be negative */
    uint32_t tint;             /* KS_TINT_NONE, or KS_TINT(0xRRGGBB) */
} ks_layer_ref_t;

/* Tints pixel_count premultiplied pixels of src into dst (see above). */
void ks_tint_row(uint8_t *restrict dst, const uint8_t *restrict src, size_t pixel_count,
                 uint32_t tint);

/* Blends layers[0..count) bottom to top onto a new transparent canvas of
 * width x height, written to out (premultiplied, owned by the caller).
 * Parts of a layer outside the canvas are clipped. */
ks_rc ks_compose(const ks_layer_ref_t *layers, size_t count, uint32_t width,
                 uint32_t height, ks_image_t *out, ks_err_t *err);

#endif
