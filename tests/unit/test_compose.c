/* test_compose.c: unit tests of common/compose.c.
 *
 * The oracle is a brute-force compositor written here: for every canvas pixel
 * and every layer it asks whether the layer covers the pixel and applies
 * "source over" in floating point, rounded to nearest. It shares no clipping
 * or rounding code with compose.c. It is run on every (src, src alpha, dst)
 * combination and on random stacks of layers crossing every canvas edge,
 * some of them tinted (a multiply of each colour channel, in floating point
 * here).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"

static void reference_compose(const ks_layer_ref_t *layers, size_t count, uint32_t width,
                              uint32_t height, uint8_t *out)
{
    memset(out, 0, (size_t)width * height * 4);
    for (size_t i = 0; i < count; i++) {
        const ks_image_t *img = layers[i].image;
        for (uint32_t cy = 0; cy < height; cy++) {
            for (uint32_t cx = 0; cx < width; cx++) {
                long long lx = (long long)cx - layers[i].x, ly = (long long)cy - layers[i].y;
                if (lx < 0 || ly < 0 || lx >= img->width || ly >= img->height)
                    continue;
                const uint8_t *src = img->pixels + ly * img->stride + lx * 4;
                uint8_t *dst = out + ((size_t)cy * width + cx) * 4;
                uint8_t s[4];
                s[3] = src[3];
                for (int c = 0; c < 3; c++) {
                    unsigned t = (layers[i].tint >> (16 - 8 * c)) & 0xff;
                    s[c] = layers[i].tint == KS_TINT_NONE
                               ? src[c] : (uint8_t)(src[c] * t / 255.0 + 0.5);
                }
                for (int c = 0; c < 4; c++) {
                    int v = s[c] + (int)(dst[c] * (255 - s[3]) / 255.0 + 0.5);
                    dst[c] = (uint8_t)(v > 255 ? 255 : v);
                }
            }
        }
    }
}

/* A premultiplied layer of random pixels, with plenty of alpha 0 and 255. */
static void random_layer(ks_image_t *img, uint32_t width, uint32_t height)
{
    assert_int_equal(ks_image_alloc(img, width, height, NULL), KS_OK);
    for (size_t i = 0; i < (size_t)width * height; i++) {
        uint8_t *p = img->pixels + i * 4;
        int kind = rand() % 4;
        int a = kind == 0 ? 0 : kind == 1 ? 255 : rand() % 256;
        for (int c = 0; c < 3; c++)
            p[c] = (uint8_t)(rand() % (a + 1));
        p[3] = (uint8_t)a;
    }
    img->premultiplied = 1;
}

static void check_against_reference(const ks_layer_ref_t *layers, size_t count, uint32_t width,
                                    uint32_t height)
{
    ks_image_t out;
    ks_err_t err = { "" };
    if (ks_compose(layers, count, width, height, &out, &err) != KS_OK)
        fail_msg("ks_compose: %s", err.msg);
    assert_int_equal(out.width, width);
    assert_int_equal(out.height, height);
    assert_true(out.premultiplied);

    uint8_t *want = malloc((size_t)width * height * 4);
    assert_non_null(want);
    reference_compose(layers, count, width, height, want);
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *got = out.pixels + y * out.stride;
        for (uint32_t i = 0; i < width * 4; i++) {
            if (got[i] != want[(size_t)y * width * 4 + i])
                fail_msg("canvas %ux%u, %zu layers: pixel %u,%u channel %u is %d, expected %d",
                         width, height, count, i / 4, y, i % 4, got[i],
                         want[(size_t)y * width * 4 + i]);
        }
    }
    free(want);
    ks_image_free(&out);
}

/* Every src colour <= src alpha over every dst colour <= dst alpha: the dst
 * colour runs along x, the src colour down y, one compose per src alpha. */
static void test_blend_every_value(void **state)
{
    (void)state;
    ks_image_t bottom, top;
    assert_int_equal(ks_image_alloc(&bottom, 256, 256, NULL), KS_OK);
    assert_int_equal(ks_image_alloc(&top, 256, 256, NULL), KS_OK);
    bottom.premultiplied = top.premultiplied = 1;
    for (int s = 0; s < 256; s++) {
        uint8_t *p = bottom.pixels + s * bottom.stride;
        for (int d = 0; d < 256; d++, p += 4) {
            p[0] = (uint8_t)d;
            p[1] = (uint8_t)(d / 2);
            p[2] = 0;
            p[3] = (uint8_t)d;
        }
    }
    for (int sa = 0; sa < 256; sa++) {
        for (int s = 0; s < 256; s++) {
            uint8_t *p = top.pixels + s * top.stride;
            int colour = s < sa ? s : sa;
            for (int d = 0; d < 256; d++, p += 4) {
                p[0] = (uint8_t)colour;
                p[1] = (uint8_t)(colour / 3);
                p[2] = (uint8_t)sa;
                p[3] = (uint8_t)sa;
            }
        }
        ks_layer_ref_t layers[2] = { { &bottom, 0, 0, KS_TINT_NONE }, { &top, 0, 0, KS_TINT_NONE } };
        check_against_reference(layers, 2, 256, 256);
    }
    ks_image_free(&bottom);
    ks_image_free(&top);
}

static void test_random_stacks(void **state)
{
    (void)state;
    srand(7);
    for (int round = 0; round < 400; round++) {
        uint32_t width = 1 + (uint32_t)(rand() % 60), height = 1 + (uint32_t)(rand() % 60);
        size_t count = (size_t)(rand() % 9);
        ks_image_t images[8];
        ks_layer_ref_t layers[8];
        for (size_t i = 0; i < count; i++) {
            uint32_t w = 1 + (uint32_t)(rand() % 80), h = 1 + (uint32_t)(rand() % 80);
            random_layer(&images[i], w, h);
            layers[i].image = &images[i];
            layers[i].x = rand() % ((int)width + (int)w + 20) - (int)w - 10;
            layers[i].y = rand() % ((int)height + (int)h + 20) - (int)h - 10;
            layers[i].tint = rand() % 3 ? KS_TINT_NONE
                                        : KS_TINT((uint32_t)rand() & 0xffffffu);
        }
        check_against_reference(layers, count, width, height);
        for (size_t i = 0; i < count; i++)
            ks_image_free(&images[i]);
    }
}

/* A 10x10 layer at every offset from fully off one side to fully off the
 * other, on both axes, over a random background. */
static void test_clipping_every_edge(void **state)
{
    (void)state;
    srand(8);
    ks_image_t background, layer;
    random_layer(&background, 20, 16);
    random_layer(&layer, 10, 10);
    for (int y = -11; y <= 17; y++) {
        for (int x = -11; x <= 21; x++) {
            ks_layer_ref_t layers[2] = { { &background, 0, 0, KS_TINT_NONE }, { &layer, x, y, KS_TINT_NONE } };
            check_against_reference(layers, 2, 20, 16);
        }
    }
    /* Larger than the canvas on every side. */
    ks_image_t big;
    random_layer(&big, 50, 40);
    ks_layer_ref_t over[2] = { { &background, 0, 0, KS_TINT_NONE }, { &big, -17, -13, KS_TINT_NONE } };
    check_against_reference(over, 2, 20, 16);
    ks_image_free(&big);
    ks_image_free(&layer);
    ks_image_free(&background);
}

/* Offsets at the ends of int neither overflow nor touch the canvas. */
static void test_extreme_offsets(void **state)
{
    (void)state;
    srand(9);
    ks_image_t layer;
    random_layer(&layer, 5, 5);
    layer.pixels[3] = 255;
    const int offsets[] = { INT_MIN, INT_MIN + 1, -6, -5, 8, INT_MAX - 4, INT_MAX };
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        for (size_t j = 0; j < sizeof(offsets) / sizeof(offsets[0]); j++) {
            ks_layer_ref_t ref = { &layer, offsets[i], offsets[j], KS_TINT_NONE };
            ks_image_t out;
            assert_int_equal(ks_compose(&ref, 1, 8, 8, &out, NULL), KS_OK);
            for (size_t k = 0; k < out.stride * out.height; k++)
                assert_int_equal(out.pixels[k], 0);
            ks_image_free(&out);
        }
    }
    ks_layer_ref_t corner = { &layer, -4, -4, KS_TINT_NONE };     /* one pixel left on the canvas */
    check_against_reference(&corner, 1, 8, 8);
    ks_image_free(&layer);
}

/* A layer whose rows are padded is read through its stride. */
static void test_layer_stride(void **state)
{
    (void)state;
    srand(10);
    ks_image_t packed;
    random_layer(&packed, 7, 6);
    size_t stride = packed.stride + 20;
    uint8_t *padded = malloc(stride * packed.height);
    assert_non_null(padded);
    memset(padded, 0xFF, stride * packed.height);
    for (uint32_t y = 0; y < packed.height; y++)
        memcpy(padded + y * stride, packed.pixels + y * packed.stride, packed.stride);
    ks_image_t view = packed;
    view.stride = stride;
    view.pixels = padded;

    ks_layer_ref_t a = { &packed, 2, -1, KS_TINT_NONE }, b = { &view, 2, -1, KS_TINT_NONE };
    ks_image_t out_a, out_b;
    assert_int_equal(ks_compose(&a, 1, 8, 8, &out_a, NULL), KS_OK);
    assert_int_equal(ks_compose(&b, 1, 8, 8, &out_b, NULL), KS_OK);
    assert_memory_equal(out_a.pixels, out_b.pixels, out_a.stride * out_a.height);
    ks_image_free(&out_a);
    ks_image_free(&out_b);
    free(padded);
    ks_image_free(&packed);
}

static void test_no_layers_is_transparent(void **state)
{
    (void)state;
    ks_image_t out;
    assert_int_equal(ks_compose(NULL, 0, 3, 2, &out, NULL), KS_OK);
    assert_true(out.premultiplied);
    for (size_t k = 0; k < out.stride * out.height; k++)
        assert_int_equal(out.pixels[k], 0);
    ks_image_free(&out);
}

static void test_rejects(void **state)
{
    (void)state;
    ks_image_t good, straight, out;
    ks_err_t err = { "" };
    random_layer(&good, 4, 4);
    random_layer(&straight, 4, 4);
    straight.premultiplied = 0;

    ks_layer_ref_t layers[2] = { { &good, 0, 0, KS_TINT_NONE }, { &straight, 1, 1, KS_TINT_NONE } };
    assert_int_equal(ks_compose(layers, 2, 8, 8, &out, &err), KS_INVALID);
    assert_string_equal(err.msg, "layer 1 is not premultiplied");
    assert_null(out.pixels);

    layers[1].image = NULL;
    assert_int_equal(ks_compose(layers, 2, 8, 8, &out, &err), KS_INVALID);
    assert_null(out.pixels);

    assert_int_equal(ks_compose(layers, 1, 0, 8, &out, &err), KS_INVALID);
    assert_null(out.pixels);
    ks_image_free(&straight);
    ks_image_free(&good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blend_every_value),
        cmocka_unit_test(test_random_stacks),
        cmocka_unit_test(test_clipping_every_edge),
        cmocka_unit_test(test_extreme_offsets),
        cmocka_unit_test(test_layer_stride),
        cmocka_unit_test(test_no_layers_is_transparent),
        cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
