/* test_image.c: unit tests of common/image.c.
 *
 * The alpha conversions are checked over every (colour, alpha) pair against
 * the formulas of image.h computed in floating point, an oracle independent of
 * the integer tricks in image.c; trim is checked on hand-placed pixels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "image.h"

static uint8_t *pixel(ks_image_t *img, uint32_t x, uint32_t y)
{
    return img->pixels + (size_t)y * img->stride + (size_t)x * 4;
}

static void set_pixel(ks_image_t *img, uint32_t x, uint32_t y, int r, int g, int b, int a)
{
    uint8_t *p = pixel(img, x, y);
    p[0] = (uint8_t)r;
    p[1] = (uint8_t)g;
    p[2] = (uint8_t)b;
    p[3] = (uint8_t)a;
}

static void test_alloc_is_transparent(void **state)
{
    (void)state;
    ks_image_t img;
    ks_err_t err = { "" };
    assert_int_equal(ks_image_alloc(&img, 7, 3, &err), KS_OK);
    assert_int_equal(img.width, 7);
    assert_int_equal(img.height, 3);
    assert_int_equal(img.stride, 28);
    assert_false(img.premultiplied);
    for (size_t i = 0; i < img.stride * img.height; i++)
        assert_int_equal(img.pixels[i], 0);
    ks_image_free(&img);
    assert_null(img.pixels);
    ks_image_free(&img);    /* freeing twice is harmless */
}

static void test_alloc_rejects_empty_and_impossible(void **state)
{
    (void)state;
    ks_image_t img;
    ks_err_t err = { "" };
    assert_int_equal(ks_image_alloc(&img, 0, 5, &err), KS_INVALID);
    assert_null(img.pixels);
    assert_int_equal(ks_image_alloc(&img, 5, 0, &err), KS_INVALID);
    assert_int_equal(ks_image_alloc(&img, UINT32_MAX, UINT32_MAX, &err), KS_NOMEM);
    assert_null(img.pixels);
    assert_non_null(strstr(err.msg, "4294967295x4294967295"));
}

/* Pixel (c, a) of a 256x256 image: colour c in three variants, alpha a. */
static void fill_all_pairs(ks_image_t *img)
{
    for (uint32_t a = 0; a < 256; a++)
        for (uint32_t c = 0; c < 256; c++)
            set_pixel(img, c, a, (int)c, (int)(255 - c), (int)(c ^ 0x5a), (int)a);
}

static int round_premultiply(int c, int a)
{
    return (int)(c * a / 255.0 + 0.5);        /* never a tie */
}

static int round_unpremultiply(int c, int a)
{
    if (a == 0)
        return 0;
    int v = (int)(c * 255.0 / a + 0.5);       /* ties up */
    return v > 255 ? 255 : v;
}

static void test_premultiply_exact(void **state)
{
    (void)state;
    ks_image_t img;
    assert_int_equal(ks_image_alloc(&img, 256, 256, NULL), KS_OK);
    fill_all_pairs(&img);
    ks_image_premultiply(&img);
    assert_true(img.premultiplied);
    for (int a = 0; a < 256; a++) {
        for (int c = 0; c < 256; c++) {
            const uint8_t *p = pixel(&img, (uint32_t)c, (uint32_t)a);
            assert_int_equal(p[0], round_premultiply(c, a));
            assert_int_equal(p[1], round_premultiply(255 - c, a));
            assert_int_equal(p[2], round_premultiply(c ^ 0x5a, a));
            assert_int_equal(p[3], a);
        }
    }
    /* Already premultiplied: a second call changes nothing. */
    uint8_t before[4];
    memcpy(before, pixel(&img, 200, 100), 4);
    ks_image_premultiply(&img);
    assert_memory_equal(pixel(&img, 200, 100), before, 4);
    ks_image_free(&img);
}

/* Every (c', a), including the invalid c' > a, which must clamp to 255. */
static void test_unpremultiply_exact(void **state)
{
    (void)state;
    ks_image_t img;
    assert_int_equal(ks_image_alloc(&img, 256, 256, NULL), KS_OK);
    fill_all_pairs(&img);
    img.premultiplied = 1;
    ks_image_unpremultiply(&img);
    assert_false(img.premultiplied);
    for (int a = 0; a < 256; a++) {
        for (int c = 0; c < 256; c++) {
            const uint8_t *p = pixel(&img, (uint32_t)c, (uint32_t)a);
            assert_int_equal(p[0], round_unpremultiply(c, a));
            assert_int_equal(p[1], round_unpremultiply(255 - c, a));
            assert_int_equal(p[2], round_unpremultiply(c ^ 0x5a, a));
            assert_int_equal(p[3], a);
        }
    }
    ks_image_unpremultiply(&img);       /* already straight: no change */
    assert_int_equal(pixel(&img, 10, 20)[0], round_unpremultiply(10, 20));
    ks_image_free(&img);
}

/* premultiply(unpremultiply(p)) == p for every valid premultiplied pixel, and
 * straight -> premultiplied -> straight is the identity for opaque pixels. */
static void test_round_trips(void **state)
{
    (void)state;
    ks_image_t img;
    assert_int_equal(ks_image_alloc(&img, 256, 256, NULL), KS_OK);
    fill_all_pairs(&img);
    ks_image_premultiply(&img);
    ks_image_t copy;
    assert_int_equal(ks_image_alloc(&copy, 256, 256, NULL), KS_OK);
    memcpy(copy.pixels, img.pixels, img.stride * img.height);
    ks_image_unpremultiply(&img);
    ks_image_premultiply(&img);
    assert_memory_equal(img.pixels, copy.pixels, img.stride * img.height);

    ks_image_unpremultiply(&img);
    for (int c = 0; c < 256; c++) {
        const uint8_t *p = pixel(&img, (uint32_t)c, 255);
        assert_int_equal(p[0], c);
        assert_int_equal(p[1], 255 - c);
        assert_int_equal(p[2], c ^ 0x5a);
    }
    ks_image_free(&copy);
    ks_image_free(&img);
}

/* Rows with padding: the padding bytes are never touched. */
static void test_stride_padding_untouched(void **state)
{
    (void)state;
    enum { W = 3, H = 4, STRIDE = W * 4 + 5 };
    uint8_t buf[STRIDE * H];
    memset(buf, 0xEE, sizeof(buf));
    ks_image_t img = { .width = W, .height = H, .stride = STRIDE, .pixels = buf };
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            set_pixel(&img, x, y, 200, 100, 50, 128);
    ks_image_premultiply(&img);
    ks_image_unpremultiply(&img);
    for (uint32_t y = 0; y < H; y++)
        for (size_t i = W * 4; i < STRIDE; i++)
            assert_int_equal(buf[y * STRIDE + i], 0xEE);
    assert_int_equal(pixel(&img, 2, 3)[0], round_unpremultiply(round_premultiply(200, 128), 128));
}

static void test_trim_box_and_offsets(void **state)
{
    (void)state;
    ks_image_t img, out;
    int x = -1, y = -1;
    ks_err_t err = { "" };
    assert_int_equal(ks_image_alloc(&img, 40, 30, NULL), KS_OK);
    img.premultiplied = 1;
    set_pixel(&img, 5, 9, 1, 2, 3, 4);
    set_pixel(&img, 17, 3, 9, 9, 9, 255);
    set_pixel(&img, 11, 21, 7, 7, 7, 1);
    set_pixel(&img, 30, 25, 50, 60, 70, 0);     /* colour without alpha: not kept */

    assert_int_equal(ks_image_trim(&img, &out, &x, &y, &err), KS_OK);
    assert_int_equal(x, 5);
    assert_int_equal(y, 3);
    assert_int_equal(out.width, 13);
    assert_int_equal(out.height, 19);
    assert_true(out.premultiplied);
    for (uint32_t row = 0; row < out.height; row++)
        assert_memory_equal(pixel(&out, 0, row), pixel(&img, 5, row + 3), out.width * 4);
    ks_image_free(&out);

    /* A single pixel in each corner box is found. */
    uint32_t corners[4][2] = { { 0, 0 }, { 39, 0 }, { 0, 29 }, { 39, 29 } };
    for (int i = 0; i < 4; i++) {
        memset(img.pixels, 0, img.stride * img.height);
        set_pixel(&img, corners[i][0], corners[i][1], 1, 1, 1, 1);
        assert_int_equal(ks_image_trim(&img, &out, &x, &y, &err), KS_OK);
        assert_int_equal(x, (int)corners[i][0]);
        assert_int_equal(y, (int)corners[i][1]);
        assert_int_equal(out.width, 1);
        assert_int_equal(out.height, 1);
        assert_int_equal(out.pixels[3], 1);
        ks_image_free(&out);
    }
    ks_image_free(&img);
}

static void test_trim_full_image_is_a_copy(void **state)
{
    (void)state;
    ks_image_t img, out;
    int x, y;
    assert_int_equal(ks_image_alloc(&img, 4, 4, NULL), KS_OK);
    for (size_t i = 0; i < img.stride * img.height; i++)
        img.pixels[i] = (uint8_t)(i * 7 + 1);
    for (uint32_t yy = 0; yy < 4; yy++)
        for (uint32_t xx = 0; xx < 4; xx++)
            pixel(&img, xx, yy)[3] = 255;
    assert_int_equal(ks_image_trim(&img, &out, &x, &y, NULL), KS_OK);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_int_equal(out.width, 4);
    assert_int_equal(out.height, 4);
    assert_false(out.premultiplied);
    assert_memory_equal(out.pixels, img.pixels, img.stride * img.height);
    ks_image_free(&out);
    ks_image_free(&img);
}

static void test_trim_fully_transparent(void **state)
{
    (void)state;
    ks_image_t img, out;
    int x = 0, y = 0;
    ks_err_t err = { "" };
    assert_int_equal(ks_image_alloc(&img, 8, 8, NULL), KS_OK);
    set_pixel(&img, 3, 3, 255, 255, 255, 0);
    assert_int_equal(ks_image_trim(&img, &out, &x, &y, &err), KS_INVALID);
    assert_string_equal(err.msg, "layer is fully transparent");
    assert_null(out.pixels);
    ks_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_is_transparent),
        cmocka_unit_test(test_alloc_rejects_empty_and_impossible),
        cmocka_unit_test(test_premultiply_exact),
        cmocka_unit_test(test_unpremultiply_exact),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_stride_padding_untouched),
        cmocka_unit_test(test_trim_box_and_offsets),
        cmocka_unit_test(test_trim_full_image_is_a_copy),
        cmocka_unit_test(test_trim_fully_transparent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
