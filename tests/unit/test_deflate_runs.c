/* test_deflate_runs.c: unit tests of common/deflate_runs.c. Every stream is
 * inflated by zlib, an independent decoder, and must give back the input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "deflate_runs.h"

/* Compresses in, inflates the result with zlib and checks it is in again. */
static size_t round_trip(const uint8_t *in, size_t len, size_t period, unsigned pixel)
{
    ks_deflate_runs_scratch_t *scratch = ks_deflate_runs_scratch_new();
    assert_non_null(scratch);
    uint8_t *packed = malloc(ks_deflate_runs_bound(len));
    uint8_t *back = malloc(len + 1);
    assert_non_null(packed);
    assert_non_null(back);

    size_t size = ks_deflate_runs(scratch, in, len, period, pixel, packed);
    assert_true(size > 0);
    assert_true(size <= ks_deflate_runs_bound(len));
    uLongf back_len = (uLongf)len + 1;
    assert_int_equal(uncompress(back, &back_len, packed, (uLong)size), Z_OK);
    assert_int_equal(back_len, len);
    if (len > 0)
        assert_memory_equal(back, in, len);

    /* The same input gives the same bytes, with a used scratch too. */
    uint8_t *again = malloc(ks_deflate_runs_bound(len));
    assert_non_null(again);
    assert_int_equal(ks_deflate_runs(scratch, in, len, period, pixel, again), size);
    assert_memory_equal(again, packed, size);

    free(again);
    free(back);
    free(packed);
    ks_deflate_runs_scratch_free(scratch);
    return size;
}

/* An RGBA raster like an avatar: transparent around flat shapes with soft
 * edges and some noise. */
static uint8_t *raster(uint32_t width, uint32_t height, size_t *len)
{
    size_t period = (size_t)width * 4 + 1;
    uint8_t *rows = calloc(period, height);
    assert_non_null(rows);
    for (uint32_t y = 0; y < height; y++) {
        uint8_t *p = rows + y * period + 1;
        for (uint32_t x = 0; x < width; x++, p += 4) {
            int dx = (int)x - (int)width / 2, dy = (int)y - (int)height / 2;
            int d = dx * dx + dy * dy, r = (int)(width * width / 9);
            if (d < r) {
                p[0] = (uint8_t)(200 + (y / 16) * 3);
                p[1] = 120;
                p[2] = (uint8_t)(x < width / 2 ? 40 : 60);
                p[3] = d > r - 3 * (int)width ? (uint8_t)(rand() % 255) : 255;
            }
        }
    }
    *len = period * height;
    return rows;
}

static void test_rasters(void **state)
{
    static const uint32_t sizes[][2] = {{1, 1}, {3, 2}, {240, 320}, {480, 640}, {8200, 2}};
    (void)state;
    srand(1);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len;
        uint8_t *rows = raster(sizes[i][0], sizes[i][1], &len);
        size_t size = round_trip(rows, len, (size_t)sizes[i][0] * 4 + 1, 4);
        if (len > 100000)
            assert_true(size < len / 10);   /* it does compress */
        free(rows);
    }
}

static void test_random_and_edge_inputs(void **state)
{
    (void)state;
    srand(2);
    uint8_t *noise = malloc(100000);
    assert_non_null(noise);
    for (size_t i = 0; i < 100000; i++)
        noise[i] = (uint8_t)rand();
    round_trip(noise, 100000, 401, 4);
    round_trip(noise, 100000, 0, 1);
    round_trip(noise, 1, 0, 4);
    round_trip(noise, 0, 0, 4);
    memset(noise, 7, 100000);
    round_trip(noise, 100000, 0, 3);       /* one long run */
    round_trip(noise, 259, 0, 8);
    free(noise);
}

/* Pixels of every size, rows whose length is or is not a whole number of
 * pixels, and pixels that differ from the one before in a single byte, so
 * that matches start inside pixels, at row starts and near the end. */
static void test_pixel_sizes_and_rows(void **state)
{
    (void)state;
    srand(4);
    uint8_t *in = malloc(20000);
    assert_non_null(in);
    for (unsigned pixel = 1; pixel <= 8; pixel++) {
        for (size_t i = 0; i < 20000; i++) {
            if (i < pixel || rand() % 8 == 0)
                in[i] = (uint8_t)(rand() % 4);
            else
                in[i] = in[i - pixel];   /* mostly the pixel before again */
        }
        static const size_t periods[] = {0, 9, 61, 64, 401, 4097};
        for (size_t p = 0; p < sizeof periods / sizeof periods[0]; p++)
            for (size_t len = 19990; len <= 20000; len += 3)
                round_trip(in, len, periods[p], pixel);
    }
    free(in);
}

/* Symbol counts that grow like Fibonacci numbers make Huffman's tree deeper
 * than deflate's 15 bits; the lengths must be limited and stay a valid code. */
static void test_deep_huffman_tree(void **state)
{
    (void)state;
    size_t counts[26], total = 0;
    counts[0] = counts[1] = 1;
    for (int k = 2; k < 26; k++)
        counts[k] = counts[k - 1] + counts[k - 2];
    for (int k = 0; k < 26; k++)
        total += counts[k];
    uint8_t *in = malloc(total);
    assert_non_null(in);
    size_t pos = 0;
    /* Interleaved so that no byte equals the one 1..8 before it often
     * enough to make matches: symbol k at a stride over the buffer. */
    for (int k = 0; k < 26; k++)
        for (size_t j = 0; j < counts[k]; j++)
            in[pos++] = (uint8_t)(k * 9);
    srand(3);
    for (size_t i = total - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        uint8_t t = in[i];
        in[i] = in[j];
        in[j] = t;
    }
    round_trip(in, total, 0, 1);
    free(in);
}

static void test_rejects_bad_pixel_size(void **state)
{
    uint8_t in[16] = {0}, out[1024];
    ks_deflate_runs_scratch_t *scratch = ks_deflate_runs_scratch_new();
    (void)state;
    assert_int_equal(ks_deflate_runs(scratch, in, sizeof in, 0, 0, out), 0);
    assert_int_equal(ks_deflate_runs(scratch, in, sizeof in, 0, 9, out), 0);
    ks_deflate_runs_scratch_free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rasters),
        cmocka_unit_test(test_random_and_edge_inputs),
        cmocka_unit_test(test_pixel_sizes_and_rows),
        cmocka_unit_test(test_deep_huffman_tree),
        cmocka_unit_test(test_rejects_bad_pixel_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
