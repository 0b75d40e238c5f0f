/* image.c: the RGBA8 image shared by the PNG codec and the compositor.
 *
 * Allocation, the straight <-> premultiplied alpha conversions and the trim of
 * a layer to its visible box. The conversions are exact: premultiplying gives
 * round(c * a / 255) (never a tie, so no rounding direction to choose) and
 * un-premultiplying gives round(c' * 255 / a) with ties up, clamped to 255; a
 * pixel with alpha 0 becomes 0,0,0,0. Both keep the `premultiplied` flag true
 * to the pixels and do nothing when the image is already in the asked form.
 */
#include "image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ks_rc ks_image_alloc(ks_image_t *img, uint32_t width, uint32_t height, ks_err_t *err)
{
    memset(img, 0, sizeof(*img));
    if (width == 0 || height == 0)
        return ks_err(err, KS_INVALID, "image size %ux%u is empty", width, height);
    if ((size_t)width > SIZE_MAX / 4 / height)
        return ks_err(err, KS_NOMEM, "image size %ux%u is too large to allocate", width, height);

    size_t stride = (size_t)width * 4;
    uint8_t *pixels = calloc(height, stride);
    if (pixels == NULL)
        return ks_err(err, KS_NOMEM, "calloc() of a %ux%u image failed", width, height);

    img->width = width;
    img->height = height;
    img->stride = stride;
    img->pixels = pixels;
    img->premultiplied = 0;
    return KS_OK;
}

void ks_image_free(ks_image_t *img)
{
    if (img == NULL)
        return;
    free(img->pixels);
    memset(img, 0, sizeof(*img));
}

/* round(c * a / 255) for c, a in 0..255, exactly. */
static inline uint8_t mul_div255(unsigned c, unsigned a)
{
    unsigned t = c * a + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

void ks_image_premultiply(ks_image_t *img)
{
    if (img->premultiplied)
        return;
    for (uint32_t y = 0; y < img->height; y++) {
        uint8_t *p = img->pixels + (size_t)y * img->stride;
        for (uint32_t x = 0; x < img->width; x++, p += 4) {
            unsigned a = p[3];
            p[0] = mul_div255(p[0], a);
            p[1] = mul_div255(p[1], a);
            p[2] = mul_div255(p[2], a);
        }
    }
    img->premultiplied = 1;
}

/* round(c * 255 / a), ties up, clamped to 255 (c > a is not a valid
 * premultiplied pixel, but must not wrap); a > 0. */
static inline uint8_t div_alpha(unsigned c, unsigned a)
{
    unsigned v = (c * 255 + a / 2) / a;
    return (uint8_t)(v > 255 ? 255 : v);
}

void ks_image_unpremultiply(ks_image_t *img)
{
    if (!img->premultiplied)
        return;
    for (uint32_t y = 0; y < img->height; y++) {
        uint8_t *p = img->pixels + (size_t)y * img->stride;
        for (uint32_t x = 0; x < img->width; x++, p += 4) {
            unsigned a = p[3];
            if (a == 255)
                continue;
            if (a == 0) {
                p[0] = p[1] = p[2] = 0;
                continue;
            }
            p[0] = div_alpha(p[0], a);
            p[1] = div_alpha(p[1], a);
            p[2] = div_alpha(p[2], a);
        }
    }
    img->premultiplied = 0;
}

ks_rc ks_image_trim(const ks_image_t *img, ks_image_t *out, int *x, int *y, ks_err_t *err)
{
    /* The box [x0, x1) x [y0, y1) of pixels with alpha > 0; x0 > x1 while empty. */
    uint32_t x0 = UINT32_MAX, x1 = 0, y0 = UINT32_MAX, y1 = 0;

    for (uint32_t row = 0; row < img->height; row++) {
        const uint8_t *p = img->pixels + (size_t)row * img->stride;
        uint32_t first = UINT32_MAX, last = 0;
        for (uint32_t col = 0; col < img->width; col++) {
            if (p[(size_t)col * 4 + 3] != 0) {
                if (first == UINT32_MAX)
                    first = col;
                last = col;
            }
        }
        if (first == UINT32_MAX)
            continue;
        if (y0 == UINT32_MAX)
            y0 = row;
        y1 = row + 1;
        if (first < x0)
            x0 = first;
        if (last + 1 > x1)
            x1 = last + 1;
    }
    if (y0 == UINT32_MAX) {
        memset(out, 0, sizeof(*out));
        return ks_err(err, KS_INVALID, "layer is fully transparent");
    }
    if (x0 > INT32_MAX || y0 > INT32_MAX) {
        memset(out, 0, sizeof(*out));
        return ks_err(err, KS_TOOLARGE, "layer offset %u,%u does not fit an int", x0, y0);
    }

    ks_rc rc = ks_image_alloc(out, x1 - x0, y1 - y0, err);
    if (rc != KS_OK)
        return rc;
    for (uint32_t row = y0; row < y1; row++)
        memcpy(out->pixels + (size_t)(row - y0) * out->stride,
               img->pixels + (size_t)row * img->stride + (size_t)x0 * 4, out->stride);
    out->premultiplied = img->premultiplied;
    *x = (int)x0;
    *y = (int)y0;
    return KS_OK;
}
