/* compose.c: the avatar compositor, premultiplied "source over" in integers.
 *
 * Every channel, alpha included, becomes src + round(dst * (255 - src_a) / 255).
 * The division is exact (x / 255 is never a tie for an integer x), and with
 * valid premultiplied pixels (colour <= alpha, as ks_image_premultiply makes
 * them) the sum never passes 255. A malformed layer gives wrong colours and
 * nothing worse: the arithmetic is unsigned and stays inside the pixel (the
 * SSE2 path even saturates). Each
 * layer visits only its box clipped to the canvas, one row at a time through
 * compose_row().
 */
#include "compose.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Blends one premultiplied pixel of src over dst, two channels at a time
 * in one 32-bit word: for each 16-bit lane holding x = dst * keep (at most
 * 65025), (x + 128 + ((x + 128) >> 8)) >> 8 is round(x / 255) exactly. */
static inline void compose_pixel(uint8_t *restrict dst, const uint8_t *restrict src)
{
    uint32_t s, d;
    unsigned alpha = src[3];

    if (alpha == 0)
        return;
    memcpy(&s, src, 4);
    if (alpha == 255) {
        memcpy(dst, &s, 4);
        return;
    }
    uint32_t keep = 255 - alpha;         /* the share of dst that shows through */
    memcpy(&d, dst, 4);
    uint32_t even = (d & 0x00ff00ffu) * keep + 0x00800080u;
    uint32_t odd = ((d >> 8) & 0x00ff00ffu) * keep + 0x00800080u;
    even = ((even + ((even >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    odd = (odd + ((odd >> 8) & 0x00ff00ffu)) & 0xff00ff00u;
    d = s + (even | odd);
    memcpy(dst, &d, 4);
}

/* Blends pixel_count premultiplied pixels of src over dst. Four pixels at a
 * time with SSE2 where the machine has it (every x86-64 does): four opaque
 * ones are copied, four transparent ones skipped (most of an avatar), and
 * the others blended in 16-bit lanes with the same exact rounding as
 * compose_pixel. */
static void compose_row(uint8_t *restrict dst, const uint8_t *restrict src,
                            size_t pixel_count)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i alpha_mask = _mm_set1_epi32((int)0xff000000u);
    const __m128i zero = _mm_setzero_si128();
    const __m128i all = _mm_set1_epi16(255);
    const __m128i half = _mm_set1_epi16(128);
    for (; i + 4 <= pixel_count; i += 4) {
        __m128i s = _mm_loadu_si128((const __m128i *)(src + i * 4));
        __m128i a = _mm_and_si128(s, alpha_mask);
        int opaque = _mm_movemask_epi8(_mm_cmpeq_epi32(a, alpha_mask));
        if (opaque == 0xffff) {
            _mm_storeu_si128((__m128i *)(dst + i * 4), s);
            continue;
        }
        if (_mm_movemask_epi8(_mm_cmpeq_epi32(a, zero)) == 0xffff)
            continue;
        __m128i d = _mm_loadu_si128((const __m128i *)(dst + i * 4));
        __m128i s_lo = _mm_unpacklo_epi8(s, zero), s_hi = _mm_unpackhi_epi8(s, zero);
        /* 255 - alpha in every lane of its pixel */
        __m128i k_lo = _mm_sub_epi16(all, _mm_shufflehi_epi16(_mm_shufflelo_epi16(s_lo, 0xff), 0xff));
        __m128i k_hi = _mm_sub_epi16(all, _mm_shufflehi_epi16(_mm_shufflelo_epi16(s_hi, 0xff), 0xff));
        __m128i x_lo = _mm_add_epi16(_mm_mullo_epi16(_mm_unpacklo_epi8(d, zero), k_lo), half);
        __m128i x_hi = _mm_add_epi16(_mm_mullo_epi16(_mm_unpackhi_epi8(d, zero), k_hi), half);
        x_lo = _mm_srli_epi16(_mm_add_epi16(x_lo, _mm_srli_epi16(x_lo, 8)), 8);
        x_hi = _mm_srli_epi16(_mm_add_epi16(x_hi, _mm_srli_epi16(x_hi, 8)), 8);
        __m128i blended = _mm_packus_epi16(_mm_add_epi16(x_lo, s_lo), _mm_add_epi16(x_hi, s_hi));
        _mm_storeu_si128((__m128i *)(dst + i * 4), blended);
    }
#endif
    for (; i < pixel_count; i++)
        compose_pixel(dst + i * 4, src + i * 4);
}

void ks_tint_row(uint8_t *restrict dst, const uint8_t *restrict src, size_t pixel_count,
                 uint32_t tint)
{
    const uint32_t t[3] = {(tint >> 16) & 0xff, (tint >> 8) & 0xff, tint & 0xff};

    for (size_t i = 0; i < pixel_count * 4; i += 4) {
        for (int c = 0; c < 3; c++) {
            uint32_t x = src[i + c] * t[c] + 128;   /* round(x / 255), exact */
            dst[i + c] = (uint8_t)((x + (x >> 8)) >> 8);
        }
        dst[i + 3] = src[i + 3];
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
    uint8_t *tinted = NULL;            /* one tinted row, for tinted layers */
    for (size_t i = 0; i < count && !tinted; i++)
        if (layers[i].tint != KS_TINT_NONE && !(tinted = malloc((size_t)width * 4))) {
            ks_image_free(out);
            return ks_err(err, KS_NOMEM, "out of memory for a tinted row of %u pixels", width);
        }

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
            const uint8_t *src = img->pixels + src_y * img->stride + src_x * 4;
            if (layers[i].tint != KS_TINT_NONE) {
                ks_tint_row(tinted, src, pixel_count, layers[i].tint);
                src = tinted;
            }
            compose_row(out->pixels + (size_t)y * out->stride + (size_t)x0 * 4, src,
                            pixel_count);
        }
    }
    free(tinted);
    return KS_OK;
}
