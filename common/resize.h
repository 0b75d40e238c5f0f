/* resize.h: high-quality scaling, for the bust-up thumbnail.
 *
 * Lanczos-3 in two separable passes (horizontal, then vertical) with 22-bit
 * fixed-point weights and 8-bit rounding between the passes, the algorithm
 * of Pillow's Image.resize(size, LANCZOS, box), so that an independent
 * Pillow run is a close oracle. The image is premultiplied, so colours at
 * transparent edges do not bleed. Deterministic: the same input always gives
 * the same pixels.
 */
#ifndef KS_RESIZE_H
#define KS_RESIZE_H

#include "image.h"

#define KS_RESIZE_MAX 4096      /* largest output side */

/* Scales the region at (x, y) of w x h pixels of src (premultiplied; the
 * region inside src) to out_w x out_h into out (a new premultiplied image).
 * Pixels around the region within the filter's reach take part, as in
 * Pillow. KS_INVALID for an empty or outside region or an output side of 0
 * or over KS_RESIZE_MAX; KS_NOMEM. */
ks_rc ks_image_resize(const ks_image_t *src, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                      uint32_t out_w, uint32_t out_h, ks_image_t *out, ks_err_t *err);

#endif
