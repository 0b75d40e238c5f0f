/* test_item_store.c: unit tests of image-server/item_store.c.
 *
 * Each test gets a fresh store folder. Layers are small PNGs made with the
 * codec (this tests the store, not the codec). Premultiplied pixels are
 * checked against round(c * a / 255) worked out by hand. The cache tests use
 * a budget that holds exactly one or two layers to drive eviction, and hold a
 * layer across its eviction (AddressSanitizer catches a use after free); a
 * threaded test hammers acquire/release/put with a tiny cache.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "tmpdir.h"
#include "item_store.h"
#include "layer_file.h"
#include "png_codec.h"
#include "sha256.h"

typedef struct {
    char dir[64];
} fixture_t;

typedef struct {
    unsigned char *data;
    size_t size;
    char sha256[KS_SHA256_HEX_SIZE];
} png_t;


static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);

    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/ks-test-items-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    ks_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* A width x height PNG of one straight RGBA colour. */
static png_t make_png(uint32_t width, uint32_t height, uint8_t r, uint8_t g, uint8_t b,
                      uint8_t a)
{
    ks_image_t image;
    ks_err_t err = {{0}};
    png_t png = {0};

    assert_int_equal(ks_image_alloc(&image, width, height, &err), KS_OK);
    for (uint32_t y = 0; y < height; y++) {
        for (uint32_t x = 0; x < width; x++) {
            uint8_t *p = image.pixels + y * image.stride + x * 4;
            p[0] = r;
            p[1] = g;
            p[2] = b;
            p[3] = a;
        }
    }
    assert_int_equal(ks_png_encode(&image, 6, &png.data, &png.size, &err), KS_OK);
    ks_image_free(&image);
    ks_sha256_hex(png.data, png.size, png.sha256);
    return png;
}

static ks_item_store_t *open_store(const fixture_t *f, size_t cache_bytes)
{
    ks_item_store_options_t options = {0};
    ks_item_store_t *store;
    ks_err_t err = {{0}};

    ks_png_limits_default(&options.png_limits);
    options.png_limits.max_width = 64;
    options.png_limits.max_height = 64;
    options.max_layer_bytes = 4096;
    options.cache_bytes = cache_bytes;
    assert_int_equal(ks_item_store_new(f->dir, &options, &store, &err), KS_OK);
    return store;
}

static void layer_file(const fixture_t *f, int item_id, int layer_no, char *path, size_t size)
{
    snprintf(path, size, "%s/items/%d/%d.png", f->dir, item_id, layer_no);
}

static void test_put_stores_file(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 1 << 20);
    png_t png = make_png(3, 2, 10, 20, 30, 255);
    char path[256];
    unsigned char *data;
    size_t size;
    ks_item_store_stats_t stats;
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_put(store, 12, 0, png.data, png.size, png.sha256, &err),
                     KS_OK);
    layer_file(f, 12, 0, path, sizeof path);
    assert_int_equal(ks_file_read(path, 1 << 20, &data, &size, &err), KS_OK);
    assert_int_equal(size, png.size);
    assert_memory_equal(data, png.data, size);
    free(data);

    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.layers_stored, 1);
    /* Putting the same layer again replaces it and counts once. */
    assert_int_equal(ks_item_store_put(store, 12, 0, png.data, png.size, png.sha256, &err),
                     KS_OK);
    assert_int_equal(ks_item_store_put(store, 12, 1, png.data, png.size, png.sha256, &err),
                     KS_OK);
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.layers_stored, 2);
    ks_item_store_free(store);

    /* A new store counts what is on disk, not temp files. */
    snprintf(path, sizeof path, "%s/items/12/.tmp-0.png-1-1", f->dir);
    assert_int_equal(ks_file_write_atomic(path, "x", 1, &err), KS_OK);
    store = open_store(f, 1 << 20);
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.layers_stored, 2);
    ks_item_store_free(store);
    free(png.data);
}

static void test_put_rejects(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 1 << 20);
    png_t png = make_png(3, 2, 10, 20, 30, 255);
    png_t wide = make_png(65, 1, 1, 2, 3, 4);
    char path[256], bad_sha[KS_SHA256_HEX_SIZE];
    unsigned char big[5000] = {0};
    ks_item_store_stats_t stats;
    ks_err_t err = {{0}};

    /* Body and sha256 disagree. */
    ks_sha256_hex("other", 5, bad_sha);
    assert_int_equal(ks_item_store_put(store, 12, 0, png.data, png.size, bad_sha, &err),
                     KS_INVALID);
    assert_non_null(strstr(err.msg, "layer 12/0: body has sha256"));
    assert_int_equal(ks_item_store_put(store, 12, 0, png.data, png.size, "ABC", &err),
                     KS_INVALID);

    /* Truncated PNG (with its own, matching sha256). */
    char truncated_sha[KS_SHA256_HEX_SIZE];
    ks_sha256_hex(png.data, png.size - 20, truncated_sha);
    assert_int_equal(ks_item_store_put(store, 12, 0, png.data, png.size - 20, truncated_sha,
                                       &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "layer 12/0: "));

    /* Not a PNG at all. */
    char text_sha[KS_SHA256_HEX_SIZE];
    ks_sha256_hex("hello", 5, text_sha);
    assert_int_equal(ks_item_store_put(store, 3, 1, "hello", 5, text_sha, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "layer 3/1: "));

    /* Over the decoding limits (64 wide) and over max_layer_bytes. */
    assert_int_equal(ks_item_store_put(store, 4, 0, wide.data, wide.size, wide.sha256, &err),
                     KS_TOOLARGE);
    char big_sha[KS_SHA256_HEX_SIZE];
    ks_sha256_hex(big, sizeof big, big_sha);
    assert_int_equal(ks_item_store_put(store, 5, 0, big, sizeof big, big_sha, &err),
                     KS_TOOLARGE);
    assert_non_null(strstr(err.msg, "over the limit of 4096"));

    /* Nothing was written. */
    layer_file(f, 12, 0, path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
    layer_file(f, 3, 1, path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.layers_stored, 0);

    ks_item_store_free(store);
    free(png.data);
    free(wide.data);
}

static void test_acquire_premultiplied(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 1 << 20);
    png_t png = make_png(2, 2, 200, 100, 50, 128);
    ks_item_layer_t *layer, *again;
    const ks_image_t *image;
    ks_item_store_stats_t stats;
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_put(store, 7, 2, png.data, png.size, png.sha256, &err),
                     KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 7, 2, png.sha256, &layer, &err), KS_OK);
    image = ks_item_layer_image(layer);
    assert_int_equal(image->width, 2);
    assert_int_equal(image->height, 2);
    assert_true(image->premultiplied);
    /* round(200*128/255) = 100, round(100*128/255) = 50, round(50*128/255) = 25 */
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = image->pixels + (i / 2) * image->stride + (i % 2) * 4;
        assert_int_equal(p[0], 100);
        assert_int_equal(p[1], 50);
        assert_int_equal(p[2], 25);
        assert_int_equal(p[3], 128);
    }
    assert_int_equal(ks_item_store_acquire(store, 7, 2, png.sha256, &again, &err), KS_OK);
    assert_ptr_equal(again, layer);
    ks_item_store_release(store, again);
    ks_item_store_release(store, layer);

    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.cache_hits, 1);
    assert_int_equal(stats.cache_misses, 1);
    assert_int_equal(stats.cache_entries, 1);
    assert_true(stats.cache_bytes >= 16);
    ks_item_store_free(store);
    free(png.data);
}

static void test_acquire_missing_and_stale(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 1 << 20);
    png_t first = make_png(2, 2, 1, 2, 3, 255);
    png_t second = make_png(2, 2, 9, 8, 7, 255);
    ks_item_layer_t *layer = NULL, *old_layer;
    char path[256];
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_acquire(store, 5, 0, first.sha256, &layer, &err),
                     KS_CONFLICT);
    assert_string_equal(err.msg, "layer 5/0 missing");
    assert_null(layer);

    assert_int_equal(ks_item_store_put(store, 5, 0, first.data, first.size, first.sha256, &err),
                     KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 5, 0, second.sha256, &layer, &err),
                     KS_CONFLICT);
    assert_string_equal(err.msg, "layer 5/0 stale");

    /* Hold the first version while the second replaces it. */
    assert_int_equal(ks_item_store_acquire(store, 5, 0, first.sha256, &old_layer, &err), KS_OK);
    assert_int_equal(ks_item_store_put(store, 5, 0, second.data, second.size, second.sha256,
                                       &err), KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 5, 0, first.sha256, &layer, &err),
                     KS_CONFLICT);
    assert_string_equal(err.msg, "layer 5/0 stale");
    assert_int_equal(ks_item_store_acquire(store, 5, 0, second.sha256, &layer, &err), KS_OK);
    assert_int_equal(ks_item_layer_image(layer)->pixels[0], 9);
    assert_int_equal(ks_item_layer_image(old_layer)->pixels[0], 1);   /* still valid */
    ks_item_store_release(store, old_layer);
    ks_item_store_release(store, layer);

    /* A file changed behind the store's back is stale, not served. */
    layer_file(f, 5, 0, path, sizeof path);
    assert_int_equal(ks_file_write_atomic(path, first.data, first.size, &err), KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 5, 0, first.sha256, &layer, &err), KS_OK);
    ks_item_store_release(store, layer);

    ks_item_store_release(store, NULL);   /* ignored */
    ks_item_store_free(store);
    free(first.data);
    free(second.data);
}

/* Old art put as archived is handed out for its sha256 beside the current
 * art, which stays current (and cached); a wrong body changes nothing. */
static void test_archived_art(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 1 << 20);
    png_t old_art = make_png(2, 2, 1, 2, 3, 255);
    png_t new_art = make_png(2, 2, 9, 8, 7, 255);
    ks_item_store_stats_t stats;
    ks_item_layer_t *layer = NULL, *current = NULL;
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_put(store, 5, 0, new_art.data, new_art.size, new_art.sha256,
                                       &err), KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 5, 0, old_art.sha256, &layer, &err),
                     KS_CONFLICT);
    assert_string_equal(err.msg, "layer 5/0 stale");
    assert_int_equal(ks_item_store_put_archived(store, 5, 0, old_art.data, old_art.size,
                                                new_art.sha256, &err), KS_INVALID);
    assert_int_equal(ks_item_store_put_archived(store, 5, 0, old_art.data, old_art.size,
                                                old_art.sha256, &err), KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 5, 0, old_art.sha256, &layer, &err), KS_OK);
    assert_int_equal(ks_item_layer_image(layer)->pixels[0], 1);
    assert_int_equal(ks_item_store_acquire(store, 5, 0, new_art.sha256, &current, &err), KS_OK);
    assert_int_equal(ks_item_layer_image(current)->pixels[0], 9);
    ks_item_store_release(store, layer);
    ks_item_store_release(store, current);
    /* Only the current art is cached and counted; the check sees it alone. */
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.cache_entries, 1);
    assert_int_equal(stats.layers_stored, 1);
    assert_int_equal(ks_item_store_check(store, 5, 0, new_art.sha256, &err), KS_OK);
    /* A layer never put has no archived art either. */
    assert_int_equal(ks_item_store_acquire(store, 6, 0, old_art.sha256, &layer, &err),
                     KS_CONFLICT);
    assert_string_equal(err.msg, "layer 6/0 missing");
    ks_item_store_free(store);
    free(old_art.data);
    free(new_art.data);
}

/* ks_item_store_check judges by the PNG file itself, as the start-up sync
 * needs: missing, held, spoiled on disk (even with a layer file of the
 * right sha256 beside it), over the size limit. */
static void test_check(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 1 << 20);
    png_t png = make_png(2, 2, 1, 2, 3, 255);
    static unsigned char big[5000];
    char path[256];
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_check(store, 8, 1, png.sha256, &err), KS_NOTFOUND);
    assert_string_equal(err.msg, "layer 8/1 missing");
    assert_int_equal(ks_item_store_put(store, 8, 1, png.data, png.size, png.sha256, &err), KS_OK);
    assert_int_equal(ks_item_store_check(store, 8, 1, png.sha256, &err), KS_OK);

    layer_file(f, 8, 1, path, sizeof path);
    assert_int_equal(ks_file_write_atomic(path, "spoiled", 7, &err), KS_OK);
    assert_int_equal(ks_item_store_check(store, 8, 1, png.sha256, &err), KS_CONFLICT);
    assert_string_equal(err.msg, "layer 8/1 stale");

    assert_int_equal(ks_file_write_atomic(path, big, sizeof big, &err), KS_OK);
    assert_int_equal(ks_item_store_check(store, 8, 1, png.sha256, &err), KS_CONFLICT);
    assert_int_equal(ks_item_store_check(store, -1, 0, png.sha256, &err), KS_INVALID);

    ks_item_store_free(store);
    free(png.data);
}

/* Checks that (item, layer) acquires with the 2x2 colour of make_png(2, 2,
 * 200, 100, 50, 128), premultiplied. */
static void expect_layer(ks_item_store_t *store, int item_id, int layer_no, const png_t *png)
{
    ks_item_layer_t *layer;
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_acquire(store, item_id, layer_no, png->sha256, &layer, &err),
                     KS_OK);
    const ks_image_t *image = ks_item_layer_image(layer);
    assert_int_equal(image->width, 2);
    assert_int_equal(image->height, 2);
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = image->pixels + (i / 2) * image->stride + (i % 2) * 4;
        assert_int_equal(p[0], 100);
        assert_int_equal(p[3], 128);
    }
    ks_item_store_release(store, layer);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Put writes the premultiplied layer file beside the PNG; a miss maps it. A
 * damaged or foreign layer file is ignored and written again from the PNG. */
static void test_layer_files(void **state)
{
    fixture_t *f = *state;
    ks_item_store_t *store = open_store(f, 0);            /* every acquire loads */
    png_t png = make_png(2, 2, 200, 100, 50, 128);
    png_t other = make_png(2, 2, 1, 2, 3, 255);
    char kl[256], png_path[256];
    ks_layer_map_t map;
    ks_err_t err = {{0}};

    assert_int_equal(ks_item_store_put(store, 3, 1, png.data, png.size, png.sha256, &err),
                     KS_OK);
    snprintf(kl, sizeof kl, "%s/items/3/1.kl", f->dir);
    assert_int_equal(file_size(kl), KS_LAYER_FILE_HEADER + 2 * 2 * 4);
    expect_layer(store, 3, 1, &png);

    /* Mapped directly: the pixels, and every way a file is refused. */
    assert_int_equal(ks_layer_file_map(kl, png.sha256, 64, 64, &map, &err), KS_OK);
    assert_int_equal(map.image.pixels[0], 100);
    ks_layer_file_unmap(&map);
    assert_int_equal(ks_layer_file_map(kl, other.sha256, 64, 64, &map, &err), KS_CONFLICT);
    assert_int_equal(ks_layer_file_map(kl, png.sha256, 1, 64, &map, &err), KS_INVALID);
    assert_null(map.map);
    snprintf(png_path, sizeof png_path, "%s/items/3/9.kl", f->dir);
    assert_int_equal(ks_layer_file_map(png_path, png.sha256, 64, 64, &map, &err), KS_NOTFOUND);

    /* Truncated, then not a layer file at all: the PNG serves and the
     * layer file is whole again afterwards. */
    assert_int_equal(truncate(kl, KS_LAYER_FILE_HEADER + 5), 0);
    expect_layer(store, 3, 1, &png);
    assert_int_equal(file_size(kl), KS_LAYER_FILE_HEADER + 2 * 2 * 4);
    assert_int_equal(ks_file_write_atomic(kl, "KSLAYER0", 8, &err), KS_OK);
    expect_layer(store, 3, 1, &png);
    assert_int_equal(ks_layer_file_map(kl, png.sha256, 64, 64, &map, &err), KS_OK);
    ks_layer_file_unmap(&map);

    /* A layer file of another PNG (left by a put that failed half-way) is
     * not used: the PNG decides. */
    ks_image_t image;
    assert_int_equal(ks_image_alloc(&image, 2, 2, &err), KS_OK);
    image.premultiplied = 1;
    assert_int_equal(ks_layer_file_write(kl, &image, other.sha256, &err), KS_OK);
    ks_image_free(&image);
    expect_layer(store, 3, 1, &png);

    ks_item_store_free(store);
    free(png.data);
    free(other.data);
}

static void test_cache_eviction(void **state)
{
    fixture_t *f = *state;
    png_t a = make_png(8, 8, 255, 0, 0, 255);
    png_t b = make_png(8, 8, 0, 255, 0, 255);
    png_t c = make_png(8, 8, 0, 0, 255, 255);
    ks_item_store_t *store;
    ks_item_layer_t *la, *lb, *lc, *again;
    ks_item_store_stats_t stats;
    size_t one_layer;
    ks_err_t err = {{0}};

    /* Measure one entry, then size the cache for exactly two. */
    store = open_store(f, 1 << 20);
    assert_int_equal(ks_item_store_put(store, 1, 0, a.data, a.size, a.sha256, &err), KS_OK);
    assert_int_equal(ks_item_store_put(store, 2, 0, b.data, b.size, b.sha256, &err), KS_OK);
    assert_int_equal(ks_item_store_put(store, 3, 0, c.data, c.size, c.sha256, &err), KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 1, 0, a.sha256, &la, &err), KS_OK);
    ks_item_store_release(store, la);
    ks_item_store_stats(store, &stats);
    one_layer = stats.cache_bytes;
    ks_item_store_free(store);

    store = open_store(f, 2 * one_layer);
    assert_int_equal(ks_item_store_acquire(store, 1, 0, a.sha256, &la, &err), KS_OK);
    assert_int_equal(ks_item_store_acquire(store, 2, 0, b.sha256, &lb, &err), KS_OK);
    ks_item_store_release(store, lb);
    /* Touch a, so b is the least recently used. */
    assert_int_equal(ks_item_store_acquire(store, 1, 0, a.sha256, &again, &err), KS_OK);
    ks_item_store_release(store, again);
    /* c evicts b (least recently used), even though a is still held. */
    assert_int_equal(ks_item_store_acquire(store, 3, 0, c.sha256, &lc, &err), KS_OK);
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.cache_entries, 2);
    assert_int_equal(stats.cache_evictions, 1);
    assert_true(stats.cache_bytes <= stats.cache_capacity);
    assert_int_equal(ks_item_store_acquire(store, 1, 0, a.sha256, &again, &err), KS_OK);
    assert_ptr_equal(again, la);   /* a stayed */
    ks_item_store_release(store, again);
    ks_item_store_release(store, lc);

    /* LRU is now a, c: b evicts c, then c evicts a, which is still held and
     * must stay readable until released. */
    assert_int_equal(ks_item_store_acquire(store, 2, 0, b.sha256, &lb, &err), KS_OK);
    ks_item_store_release(store, lb);
    assert_int_equal(ks_item_store_acquire(store, 3, 0, c.sha256, &lc, &err), KS_OK);
    ks_item_store_release(store, lc);
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.cache_evictions, 3);
    assert_int_equal(stats.cache_entries, 2);
    const ks_image_t *image = ks_item_layer_image(la);
    assert_int_equal(image->pixels[0], 255);
    assert_int_equal(image->pixels[4 * 63 + 3], 255);
    ks_item_store_release(store, la);

    /* The released, evicted a is reloaded from disk. */
    assert_int_equal(ks_item_store_acquire(store, 1, 0, a.sha256, &la, &err), KS_OK);
    assert_int_equal(ks_item_layer_image(la)->pixels[0], 255);
    ks_item_store_release(store, la);
    ks_item_store_free(store);

    /* A cache smaller than one layer caches nothing but still serves. */
    store = open_store(f, 16);
    assert_int_equal(ks_item_store_acquire(store, 2, 0, b.sha256, &lb, &err), KS_OK);
    assert_int_equal(ks_item_layer_image(lb)->pixels[1], 255);
    ks_item_store_stats(store, &stats);
    assert_int_equal(stats.cache_entries, 0);
    assert_int_equal(stats.cache_bytes, 0);
    ks_item_store_release(store, lb);
    ks_item_store_free(store);

    free(a.data);
    free(b.data);
    free(c.data);
}

typedef struct {
    ks_item_store_t *store;
    png_t *pngs;
    int count;
    int seed;
    int failures;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    unsigned seed = (unsigned)w->seed;

    for (int round = 0; round < 400; round++) {
        ks_item_layer_t *held[3] = {0};
        ks_err_t err = {{0}};
        for (int i = 0; i < 3; i++) {
            int k = (int)(rand_r(&seed) % (unsigned)w->count);
            if (ks_item_store_acquire(w->store, k + 1, 0, w->pngs[k].sha256, &held[i], &err)
                != KS_OK) {
                w->failures++;
                continue;
            }
            const ks_image_t *image = ks_item_layer_image(held[i]);
            if (image->pixels[0] != (uint8_t)(k * 10) || image->pixels[3] != 255)
                w->failures++;
        }
        if (round % 50 == 0) {
            int k = (int)(rand_r(&seed) % (unsigned)w->count);
            if (ks_item_store_put(w->store, k + 1, 0, w->pngs[k].data, w->pngs[k].size,
                                  w->pngs[k].sha256, &err) != KS_OK)
                w->failures++;
        }
        for (int i = 0; i < 3; i++)
            ks_item_store_release(w->store, held[i]);
    }
    return NULL;
}

static void test_threads(void **state)
{
    fixture_t *f = *state;
    enum { LAYERS = 10, THREADS = 8 };
    png_t pngs[LAYERS];
    worker_t workers[THREADS];
    pthread_t threads[THREADS];
    ks_item_store_t *store;
    ks_item_store_stats_t stats;
    ks_err_t err = {{0}};

    store = open_store(f, 3 * (16 * 16 * 4 + 256));   /* about three layers */
    for (int k = 0; k < LAYERS; k++) {
        pngs[k] = make_png(16, 16, (uint8_t)(k * 10), 1, 2, 255);
        assert_int_equal(ks_item_store_put(store, k + 1, 0, pngs[k].data, pngs[k].size,
                                           pngs[k].sha256, &err), KS_OK);
    }
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker_t){store, pngs, LAYERS, t + 1, 0};
        assert_int_equal(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(workers[t].failures, 0);
    }
    ks_item_store_stats(store, &stats);
    assert_true(stats.cache_bytes <= stats.cache_capacity);
    assert_true(stats.cache_evictions > 0);
    assert_int_equal(stats.cache_hits + stats.cache_misses, THREADS * 400 * 3);
    ks_item_store_free(store);
    for (int k = 0; k < LAYERS; k++)
        free(pngs[k].data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_stores_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archived_art, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acquire_premultiplied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acquire_missing_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
