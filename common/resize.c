/* resize.c: Lanczos-3 scaling in two separable fixed-point passes (resize.h).
 *
 * For each output column (then row) the weights of the input pixels within
 * the filter's support are worked out in double, normalised to sum 1, and
 * turned into integers of 22 fractional bits; each pass sums in int32 with
 * a rounding half and clamps to 0..255. The horizontal pass covers only the
 * input rows the vertical pass will read.
 */
#include "resize.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION 22            /* fractional bits of a weight: 32 - 8 - 2 */
#define SUPPORT 3.0             /* Lanczos-3 */

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double lanczos(double x)
{
    return -SUPPORT <= x && x < SUPPORT ? sinc(x) * sinc(x / SUPPORT) : 0.0;
}

/* The weights of one pass. For output index i, the inputs bounds[2i] ..
 * bounds[2i] + bounds[2i+1] - 1 take part with weights[i * ksize ...]. */
typedef struct {
    int ksize;
    int *bounds;
    int32_t *weights;
} pass_t;

static void pass_free(pass_t *pass)
{
    free(pass->bounds);
    free(pass->weights);
}

/* Weights for scaling input [in0, in1) of an axis of in_size pixels to
 * out_size pixels. Returns 0 when out of memory. */
static int pass_init(pass_t *pass, int in_size, double in0, double in1, int out_size)
{
    double scale = (in1 - in0) / out_size;
    double filter_scale = scale < 1.0 ? 1.0 : scale;
    double support = SUPPORT * filter_scale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *k = malloc((size_t)out_size * (size_t)ksize * sizeof *k);

    pass->ksize = ksize;
    pass->bounds = malloc((size_t)out_size * 2 * sizeof *pass->bounds);
    pass->weights = malloc((size_t)out_size * (size_t)ksize * sizeof *pass->weights);
    if (k == NULL || pass->bounds == NULL || pass->weights == NULL) {
        free(k);
        pass_free(pass);
        return 0;
    }
    for (int o = 0; o < out_size; o++) {
        double center = in0 + (o + 0.5) * scale;
        double sum = 0.0, inv = 1.0 / filter_scale;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        int count = hi - lo;
        double *row = k + (size_t)o * (size_t)ksize;
        for (int i = 0; i < count; i++) {
            row[i] = lanczos((i + lo - center + 0.5) * inv);
            sum += row[i];
        }
        for (int i = 0; i < ksize; i++) {
            double w = i < count && sum != 0.0 ? row[i] / sum : 0.0;
            pass->weights[(size_t)o * (size_t)ksize + (size_t)i] =
                (int32_t)(w < 0 ? -0.5 + w * (1 << PRECISION)
                                : 0.5 + w * (1 << PRECISION));
        }
        pass->bounds[2 * o] = lo;
        pass->bounds[2 * o + 1] = count;
    }
    free(k);
    return 1;
}

static inline uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (uint8_t)(v >> PRECISION);
}

/* Sums count pixels, step bytes apart from p, with weights w, into out. */
static inline void convolve(uint8_t *out, const uint8_t *p, size_t step,
                                const int32_t *w, int count)
{
    int32_t s0 = 1 << (PRECISION - 1), s1 = s0, s2 = s0, s3 = s0;

    for (int i = 0; i < count; i++, p += step) {
        s0 += p[0] * w[i];
        s1 += p[1] * w[i];
        s2 += p[2] * w[i];
        s3 += p[3] * w[i];
    }
    out[0] = clip8(s0);
    out[1] = clip8(s1);
    out[2] = clip8(s2);
    out[3] = clip8(s3);
}

ks_rc ks_image_resize(const ks_image_t *src, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                      uint32_t out_w, uint32_t out_h, ks_image_t *out, ks_err_t *err)
{
    pass_t across = {0}, down = {0};
    ks_image_t temp = {0};
    ks_rc rc;

    memset(out, 0, sizeof *out);
    if (src->pixels == NULL || !src->premultiplied)
        return ks_err(err, KS_INVALID, "resize: the source is not a premultiplied image");
    if (w == 0 || h == 0 || x > src->width || y > src->height || w > src->width - x ||
        h > src->height - y)
        return ks_err(err, KS_INVALID, "resize: region %u,%u %ux%u is not inside %ux%u", x, y,
                      w, h, src->width, src->height);
    if (out_w == 0 || out_h == 0 || out_w > KS_RESIZE_MAX || out_h > KS_RESIZE_MAX)
        return ks_err(err, KS_INVALID, "resize: output %ux%u is not within 1x1..%dx%d", out_w,
                      out_h, KS_RESIZE_MAX, KS_RESIZE_MAX);

    if (!pass_init(&across, (int)src->width, x, (double)x + w, (int)out_w) ||
        !pass_init(&down, (int)src->height, y, (double)y + h, (int)out_h)) {
        pass_free(&across);
        return ks_err(err, KS_NOMEM, "resize: out of memory");
    }

    /* Horizontal pass over the rows the vertical pass reads. */
    int first = down.bounds[0];
    int last = down.bounds[2 * (out_h - 1)] + down.bounds[2 * (out_h - 1) + 1];
    rc = ks_image_alloc(&temp, out_w, (uint32_t)(last - first), err);
    if (rc == KS_OK)
        rc = ks_image_alloc(out, out_w, out_h, err);
    if (rc != KS_OK) {
        ks_image_free(&temp);
        pass_free(&across);
        pass_free(&down);
        return rc;
    }
    for (int row = first; row < last; row++) {
        const uint8_t *in = src->pixels + (size_t)row * src->stride;
        uint8_t *o = temp.pixels + (size_t)(row - first) * temp.stride;
        for (uint32_t c = 0; c < out_w; c++)
            convolve(o + (size_t)c * 4, in + (size_t)across.bounds[2 * c] * 4, 4,
                         across.weights + (size_t)c * (size_t)across.ksize,
                         across.bounds[2 * c + 1]);
    }
    for (uint32_t r = 0; r < out_h; r++) {
        const uint8_t *in = temp.pixels + (size_t)(down.bounds[2 * r] - first) * temp.stride;
        uint8_t *o = out->pixels + (size_t)r * out->stride;
        for (uint32_t c = 0; c < out_w; c++)
            convolve(o + (size_t)c * 4, in + (size_t)c * 4, temp.stride,
                         down.weights + (size_t)r * (size_t)down.ksize, down.bounds[2 * r + 1]);
    }
    out->premultiplied = 1;
    ks_image_free(&temp);
    pass_free(&across);
    pass_free(&down);
    return KS_OK;
}
