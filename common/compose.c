/* compose.c: the avatar compositor, premultiplied "source over" in integers.
 *
 * Every channel, alpha included, becomes src + round(dst * (255 - src_a) / 255).
 * The division is exact (x / 255 is never a tie for an integer x), and with
 * valid premultiplied pixels (colour <= alpha) the sum never passes 255; it is
 * clamped anyway so that a malformed layer cannot wrap. Each layer visits only
 * its box clipped to the canvas, one row at a time through ks__compose_row(),
 * the single place a faster blend has to replace.
 */
#include "compose.h"

#include <stdint.h>
#include <string.h>

/* round(x / 255) for x in 0..65025, exactly. */
static inline unsigned ks__div255_round(unsigned x)
{
    x += 128;
    return (x + (x >> 8)) >> 8;
}

/* Blends pixel_count premultiplied pixels of src over dst. */
static void ks__compose_row(uint8_t *restrict dst, const uint8_t *restrict src,
                            size_t pixel_count)
{
    for (size_t i = 0; i < pixel_count; i++, dst += 4, src += 4) {
        unsigned keep = 255 - src[3];     /* the share of dst that shows through */
        for (int c = 0; c < 4; c++) {
            unsigned v = src[c] + ks__div255_round(dst[c] * keep);
            dst[c] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

ks_rc ks_compose(const ks_layer_ref_t *layers, size_t count, uint32_t width,
                 uint32_t height, ks_image_t *out, ks_err_t *err)
{
    memset(out, 0, sizeof(*out));
    if (layers == NULL && count != 0)
        return ks_err(err, KS_INVALID, "no layer list for %zu layers", count);
    for (size_t i = 0; i < count; i++) {
        const ks_image_t *img = layers[i].image;
        if (img == NULL || img->pixels == NULL || img->stride < (size_t)img->width * 4)
            return ks_err(err, KS_INVALID, "layer %zu has no image", i);
        if (!img->premultiplied)
            return ks_err(err, KS_INVALID, "layer %zu is not premultiplied", i);
    }

    ks_rc rc = ks_image_alloc(out, width, height, err);
    if (rc != KS_OK)
        return rc;
    out->premultiplied = 1;

    for (size_t i = 0; i < count; i++) {
        const ks_image_t *img = layers[i].image;
        /* The layer's box and the canvas, intersected, in canvas coordinates;
         * 64-bit so that no offset plus size can overflow. */
        int64_t x0 = layers[i].x, y0 = layers[i].y;
        int64_t x1 = x0 + img->width, y1 = y0 + img->height;
        if (x0 < 0)
            x0 = 0;
        if (y0 < 0)
            y0 = 0;
        if (x1 > width)
            x1 = width;
        if (y1 > height)
            y1 = height;
        if (x0 >= x1 || y0 >= y1)
            continue;

        size_t pixel_count = (size_t)(x1 - x0);
        size_t src_x = (size_t)(x0 - layers[i].x);
        for (int64_t y = y0; y < y1; y++) {
            size_t src_y = (size_t)(y - layers[i].y);
            ks__compose_row(out->pixels + (size_t)y * out->stride + (size_t)x0 * 4,
                            img->pixels + src_y * img->stride + src_x * 4, pixel_count);
        }
    }
    return KS_OK;
}
