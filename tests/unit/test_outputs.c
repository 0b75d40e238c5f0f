/* test_outputs.c: argument checks of the thumbnail scaler and the JPEG
 * encoder (their pixels are checked against Pillow in tests/cli). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "jpeg_codec.h"
#include "resize.h"

static void test_parse_colour(void **state)
{
    uint32_t rgb = 0;
    (void)state;
    assert_true(ks_parse_colour("#3366cC", &rgb));
    assert_int_equal(rgb, 0x3366cc);
    assert_true(ks_parse_colour("000000", &rgb));
    assert_int_equal(rgb, 0);
    assert_false(ks_parse_colour("#12345g", &rgb));
    assert_false(ks_parse_colour("#1234567", &rgb));
    assert_false(ks_parse_colour("#123", &rgb));
    assert_false(ks_parse_colour("", &rgb));
    assert_false(ks_parse_colour(NULL, &rgb));
}

static void test_resize_rejects(void **state)
{
    ks_image_t img, out;
    ks_err_t err;
    (void)state;
    assert_int_equal(ks_image_alloc(&img, 10, 8, &err), KS_OK);
    assert_int_equal(ks_image_resize(&img, 0, 0, 10, 8, 5, 4, &out, &err), KS_INVALID);
    img.premultiplied = 1;
    assert_int_equal(ks_image_resize(&img, 1, 0, 10, 8, 5, 4, &out, &err), KS_INVALID);
    assert_int_equal(ks_image_resize(&img, 0, 0, 0, 8, 5, 4, &out, &err), KS_INVALID);
    assert_int_equal(ks_image_resize(&img, 11, 0, 1, 8, 5, 4, &out, &err), KS_INVALID);
    assert_int_equal(ks_image_resize(&img, 0, 0, 10, 8, 0, 4, &out, &err), KS_INVALID);
    assert_int_equal(ks_image_resize(&img, 0, 0, 10, 8, KS_RESIZE_MAX + 1, 4, &out, &err),
                     KS_INVALID);
    assert_null(out.pixels);

    /* A flat colour stays that colour at any scale. */
    for (size_t i = 0; i < img.stride * img.height; i += 4)
        memcpy(img.pixels + i, "\x40\x20\x10\x80", 4);
    assert_int_equal(ks_image_resize(&img, 2, 1, 7, 6, 3, 11, &out, &err), KS_OK);
    for (size_t i = 0; i < out.stride * out.height; i += 4)
        assert_memory_equal(out.pixels + i, "\x40\x20\x10\x80", 4);
    ks_image_free(&out);
    ks_image_free(&img);
}

static void test_jpeg_rejects(void **state)
{
    ks_image_t img, empty = {0};
    unsigned char *jpeg = (unsigned char *)"x";
    size_t size = 1;
    ks_err_t err;
    (void)state;
    assert_int_equal(ks_image_alloc(&img, 4, 4, &err), KS_OK);
    assert_int_equal(ks_jpeg_encode(&img, 0, 0, &jpeg, &size, &err), KS_INVALID);
    assert_null(jpeg);
    assert_int_equal(size, 0);
    assert_int_equal(ks_jpeg_encode(&img, 0, 101, &jpeg, &size, &err), KS_INVALID);
    assert_int_equal(ks_jpeg_encode(&empty, 0, 80, &jpeg, &size, &err), KS_INVALID);
    assert_int_equal(ks_jpeg_encode(&img, 0xffffff, 80, &jpeg, &size, &err), KS_OK);
    assert_true(size > 100);
    assert_memory_equal(jpeg, "\xff\xd8\xff", 3);
    free(jpeg);
    ks_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_colour),
        cmocka_unit_test(test_resize_rejects),
        cmocka_unit_test(test_jpeg_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
