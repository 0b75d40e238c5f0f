/* test_png_codec.c: unit tests of common/png_codec.c.
 *
 * Decoding is checked against PNGs written here with libpng directly, in every
 * colour type, bit depth and interlace method, with the expected RGBA8 worked
 * out from the samples by the PNG specification's formulas (not by the codec).
 * Encoding is checked by round trips, determinism and the un-premultiply. The
 * limits are checked one by one, and every file of tests/crashers/ must be
 * decoded quickly to the code its name starts with ("invalid-" KS_INVALID,
 * "toolarge-" KS_TOOLARGE, "ok-" KS_OK; see make_crashers.py there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "png_codec.h"

/* ---- a PNG writer independent of the codec --------------------------------- */

typedef struct {
    unsigned char *data;
    size_t size, capacity;
} buffer_t;

static void buffer_write(png_structp png, png_bytep bytes, size_t length)
{
    buffer_t *buf = png_get_io_ptr(png);
    if (buf->size + length > buf->capacity) {
        buf->capacity = (buf->size + length) * 2;
        buf->data = realloc(buf->data, buf->capacity);
        assert_non_null(buf->data);
    }
    memcpy(buf->data + buf->size, bytes, length);
    buf->size += length;
}

static void buffer_flush(png_structp png)
{
    (void)png;
}

/* A test image in PNG terms: samples per pixel as stored in the file (before
 * packing), an optional palette and tRNS, and optional tEXt chunks. */
typedef struct {
    int color_type, bit_depth, interlace;
    uint32_t width, height;
    uint16_t *samples;          /* width * height * channels */
    png_color palette[256];
    int palette_size;
    png_byte trns[256];         /* palette alpha; */
    int trns_count;             /* 0: no tRNS */
    png_color_16 trns_color;    /* grey / RGB tRNS */
    int text_count;
    size_t text_bytes;          /* length of each tEXt value */
} spec_t;

static int channels_of(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;   /* palette index */
    }
}

/* Packs the samples as libpng wants them for png_write_image(). */
static void pack_row(const spec_t *s, uint32_t y, png_bytep row)
{
    int channels = channels_of(s->color_type);
    size_t count = (size_t)s->width * channels;
    const uint16_t *v = s->samples + (size_t)y * count;
    if (s->bit_depth == 16) {
        for (size_t i = 0; i < count; i++) {
            row[2 * i] = (png_byte)(v[i] >> 8);
            row[2 * i + 1] = (png_byte)v[i];
        }
    } else if (s->bit_depth == 8) {
        for (size_t i = 0; i < count; i++)
            row[i] = (png_byte)v[i];
    } else {
        size_t bytes = (count * s->bit_depth + 7) / 8;
        memset(row, 0, bytes);
        for (size_t i = 0; i < count; i++) {
            size_t bit = i * s->bit_depth;
            row[bit / 8] |= (png_byte)(v[i] << (8 - s->bit_depth - bit % 8));
        }
    }
}

static buffer_t write_png(const spec_t *s)
{
    buffer_t buf = { 0 };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    assert_non_null(png);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    size_t row_bytes = ((size_t)s->width * channels_of(s->color_type) * s->bit_depth + 7) / 8;
    png_bytep pixels = malloc(row_bytes * s->height);
    png_bytep *rows = malloc(sizeof(png_bytep) * s->height);
    char *value = calloc(1, s->text_bytes + 1);
    png_textp texts = calloc((size_t)s->text_count + 1, sizeof(png_text));
    assert_true(pixels && rows && value && texts);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing a test PNG");

    png_set_write_fn(png, &buf, buffer_write, buffer_flush);
    png_set_IHDR(png, info, s->width, s->height, s->bit_depth, s->color_type, s->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_PLTE(png, info, s->palette, s->palette_size);
    if (s->trns_count > 0)
        png_set_tRNS(png, info, s->trns, s->trns_count, (png_color_16p)&s->trns_color);
    memset(value, 'v', s->text_bytes);
    for (int i = 0; i < s->text_count; i++) {
        texts[i].compression = PNG_TEXT_COMPRESSION_NONE;
        texts[i].key = "Comment";
        texts[i].text = value;
    }
    if (s->text_count > 0)
        png_set_text(png, info, texts, s->text_count);
    png_write_info(png, info);
    if (s->interlace != PNG_INTERLACE_NONE)
        png_set_interlace_handling(png);
    for (uint32_t y = 0; y < s->height; y++) {
        rows[y] = pixels + y * row_bytes;
        pack_row(s, y, rows[y]);
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(texts);
    free(value);
    free(rows);
    free(pixels);
    return buf;
}

/* ---- the expected decode, from the PNG specification -------------------- */

/* A sample of `depth` bits as 8 bits: low depths by exact scaling (bit
 * replication), 16 bits rounded to nearest. */
static uint8_t to8(unsigned v, int depth)
{
    if (depth == 16)
        return (uint8_t)(v * 255.0 / 65535.0 + 0.5);
    return (uint8_t)(v * 255 / ((1u << depth) - 1));
}

static void expected_rgba(const spec_t *s, uint8_t *out)
{
    int channels = channels_of(s->color_type);
    int d = s->bit_depth;
    for (size_t i = 0; i < (size_t)s->width * s->height; i++, out += 4) {
        const uint16_t *v = s->samples + i * channels;
        switch (s->color_type) {
        case PNG_COLOR_TYPE_GRAY:
            out[0] = out[1] = out[2] = to8(v[0], d);
            out[3] = s->trns_count && v[0] == s->trns_color.gray ? 0 : 255;
            break;
        case PNG_COLOR_TYPE_GRAY_ALPHA:
            out[0] = out[1] = out[2] = to8(v[0], d);
            out[3] = to8(v[1], d);
            break;
        case PNG_COLOR_TYPE_RGB:
            for (int c = 0; c < 3; c++)
                out[c] = to8(v[c], d);
            out[3] = s->trns_count && v[0] == s->trns_color.red &&
                     v[1] == s->trns_color.green && v[2] == s->trns_color.blue ? 0 : 255;
            break;
        case PNG_COLOR_TYPE_RGB_ALPHA:
            for (int c = 0; c < 4; c++)
                out[c] = to8(v[c], d);
            break;
        case PNG_COLOR_TYPE_PALETTE:
            out[0] = s->palette[v[0]].red;
            out[1] = s->palette[v[0]].green;
            out[2] = s->palette[v[0]].blue;
            out[3] = v[0] < s->trns_count ? s->trns[v[0]] : 255;
            break;
        }
    }
}

/* Random samples for the format; with tRNS, a share of pixels hit the
 * transparent colour, which is taken from the last pixel. */
static void make_spec(spec_t *s, int color_type, int bit_depth, int interlace, int trns,
                      uint32_t width, uint32_t height)
{
    memset(s, 0, sizeof(*s));
    s->color_type = color_type;
    s->bit_depth = bit_depth;
    s->interlace = interlace;
    s->width = width;
    s->height = height;
    int channels = channels_of(color_type);
    unsigned levels = 1u << bit_depth;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        if (bit_depth > 1)
            levels--;                       /* a short palette: one index unused */
        s->palette_size = (int)levels;
        for (int i = 0; i < s->palette_size; i++) {
            s->palette[i].red = (png_byte)rand();
            s->palette[i].green = (png_byte)rand();
            s->palette[i].blue = (png_byte)rand();
        }
        if (trns) {
            s->trns_count = s->palette_size / 2 + 1;    /* a short tRNS too */
            for (int i = 0; i < s->trns_count; i++)
                s->trns[i] = (png_byte)rand();
        }
    }
    size_t count = (size_t)width * height * channels;
    s->samples = malloc(count * sizeof(uint16_t));
    assert_non_null(s->samples);
    for (size_t i = 0; i < count; i++)
        s->samples[i] = (uint16_t)(((unsigned)rand() << 8 ^ (unsigned)rand()) % levels);
    /* Extreme values appear in every image. */
    if (color_type != PNG_COLOR_TYPE_PALETTE && count >= 2 * (size_t)channels) {
        for (int c = 0; c < channels; c++) {
            s->samples[c] = 0;
            s->samples[channels + c] = (uint16_t)(levels - 1);
        }
    }
    if (trns && color_type != PNG_COLOR_TYPE_PALETTE) {
        const uint16_t *last = s->samples + count - channels;
        s->trns_count = 1;
        s->trns_color.gray = s->trns_color.red = last[0];
        if (channels == 3) {
            s->trns_color.green = last[1];
            s->trns_color.blue = last[2];
        }
        for (size_t p = 2; p < (size_t)width * height; p += 5)
            memcpy(s->samples + p * channels, last, channels * sizeof(uint16_t));
    }
}

static void check_decode(const spec_t *s)
{
    buffer_t png = write_png(s);
    ks_png_limits_t limits;
    ks_png_limits_default(&limits);
    ks_image_t img;
    ks_err_t err = { "" };
    ks_rc rc = ks_png_decode(png.data, png.size, &limits, &img, &err);
    if (rc != KS_OK)
        fail_msg("colour type %d depth %d interlace %d: %s", s->color_type, s->bit_depth,
                 s->interlace, err.msg);
    assert_int_equal(img.width, s->width);
    assert_int_equal(img.height, s->height);
    assert_false(img.premultiplied);

    uint8_t *expected = malloc((size_t)s->width * s->height * 4);
    assert_non_null(expected);
    expected_rgba(s, expected);
    for (uint32_t y = 0; y < s->height; y++) {
        const uint8_t *got = img.pixels + y * img.stride;
        const uint8_t *want = expected + (size_t)y * s->width * 4;
        for (uint32_t i = 0; i < s->width * 4; i++) {
            if (got[i] != want[i])
                fail_msg("colour type %d depth %d interlace %d: pixel %u,%u channel %u is %d, "
                         "expected %d", s->color_type, s->bit_depth, s->interlace, i / 4, y,
                         i % 4, got[i], want[i]);
        }
    }
    free(expected);
    ks_image_free(&img);
    free(png.data);
}

static void test_decode_every_format(void **state)
{
    (void)state;
    static const struct { int color_type, bit_depth, trns; } formats[] = {
        { PNG_COLOR_TYPE_GRAY, 1, 0 },  { PNG_COLOR_TYPE_GRAY, 2, 0 },
        { PNG_COLOR_TYPE_GRAY, 4, 0 },  { PNG_COLOR_TYPE_GRAY, 8, 0 },
        { PNG_COLOR_TYPE_GRAY, 16, 0 }, { PNG_COLOR_TYPE_GRAY, 1, 1 },
        { PNG_COLOR_TYPE_GRAY, 4, 1 },  { PNG_COLOR_TYPE_GRAY, 8, 1 },
        { PNG_COLOR_TYPE_GRAY, 16, 1 },
        { PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0 }, { PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0 },
        { PNG_COLOR_TYPE_RGB, 8, 0 },   { PNG_COLOR_TYPE_RGB, 16, 0 },
        { PNG_COLOR_TYPE_RGB, 8, 1 },   { PNG_COLOR_TYPE_RGB, 16, 1 },
        { PNG_COLOR_TYPE_RGB_ALPHA, 8, 0 }, { PNG_COLOR_TYPE_RGB_ALPHA, 16, 0 },
        { PNG_COLOR_TYPE_PALETTE, 1, 0 }, { PNG_COLOR_TYPE_PALETTE, 2, 0 },
        { PNG_COLOR_TYPE_PALETTE, 4, 0 }, { PNG_COLOR_TYPE_PALETTE, 8, 0 },
        { PNG_COLOR_TYPE_PALETTE, 1, 1 }, { PNG_COLOR_TYPE_PALETTE, 2, 1 },
        { PNG_COLOR_TYPE_PALETTE, 4, 1 }, { PNG_COLOR_TYPE_PALETTE, 8, 1 },
    };
    /* Odd sizes exercise partial bytes and the Adam7 passes' edges. */
    static const uint32_t sizes[][2] = { { 1, 1 }, { 3, 2 }, { 13, 7 }, { 33, 17 } };
    srand(1);
    for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
        for (int interlace = 0; interlace <= 1; interlace++) {
            for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
                spec_t s;
                make_spec(&s, formats[f].color_type, formats[f].bit_depth,
                          interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                          formats[f].trns, sizes[z][0], sizes[z][1]);
                check_decode(&s);
                free(s.samples);
            }
        }
    }
}

/* Every 16-bit value maps to round(v * 255 / 65535), not to its high byte. */
static void test_decode_16_bit_rounding(void **state)
{
    (void)state;
    spec_t s;
    make_spec(&s, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, 0, 256, 256);
    for (unsigned v = 0; v < 65536; v++)
        s.samples[v] = (uint16_t)v;
    check_decode(&s);
    free(s.samples);
}

/* ---- encoding ---------------------------------------------------------------- */

static void random_image(ks_image_t *img, uint32_t width, uint32_t height, int premultiplied)
{
    assert_int_equal(ks_image_alloc(img, width, height, NULL), KS_OK);
    for (uint32_t y = 0; y < height; y++) {
        uint8_t *p = img->pixels + y * img->stride;
        for (uint32_t x = 0; x < width; x++, p += 4) {
            int a = rand() % 4 == 0 ? 255 : rand() % 5 == 0 ? 0 : rand() % 256;
            for (int c = 0; c < 3; c++)
                p[c] = (uint8_t)(premultiplied ? (a ? rand() % (a + 1) : 0) : rand() % 256);
            p[3] = (uint8_t)a;
        }
    }
    img->premultiplied = premultiplied;
}

static ks_image_t decode_default(const unsigned char *data, size_t size)
{
    ks_png_limits_t limits;
    ks_png_limits_default(&limits);
    ks_image_t img;
    ks_err_t err = { "" };
    if (ks_png_decode(data, size, &limits, &img, &err) != KS_OK)
        fail_msg("decode failed: %s", err.msg);
    return img;
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    srand(2);
    for (int level = 0; level <= KS_PNG_LEVEL_MAX; level++) {
        ks_image_t img;
        random_image(&img, 37, 23, 0);
        /* Smooth rows and repeated rows besides the noise, so that the
         * adaptive levels choose every filter somewhere. */
        for (uint32_t y = 0; y < 12; y++)
            for (uint32_t x = 0; x < 37 * 4; x++)
                img.pixels[y * img.stride + x] = (uint8_t)(y < 6 ? x * 3 + y : x);
        unsigned char *png;
        size_t size;
        ks_err_t err = { "" };
        assert_int_equal(ks_png_encode(&img, level, &png, &size, &err), KS_OK);
        ks_image_t back = decode_default(png, size);
        assert_int_equal(back.width, 37);
        assert_int_equal(back.height, 23);
        assert_memory_equal(back.pixels, img.pixels, img.stride * img.height);
        ks_image_free(&back);
        free(png);
        ks_image_free(&img);
    }
}

/* A premultiplied image is written straight, and the input is left alone. */
static void test_encode_premultiplied(void **state)
{
    (void)state;
    srand(3);
    ks_image_t img;
    random_image(&img, 50, 40, 1);
    size_t bytes = img.stride * img.height;
    uint8_t *before = malloc(bytes);
    assert_non_null(before);
    memcpy(before, img.pixels, bytes);

    unsigned char *png;
    size_t size;
    assert_int_equal(ks_png_encode(&img, 6, &png, &size, NULL), KS_OK);
    assert_memory_equal(img.pixels, before, bytes);
    assert_true(img.premultiplied);

    ks_image_t back = decode_default(png, size);
    for (size_t i = 0; i < bytes; i += 4) {
        int a = before[i + 3];
        for (int c = 0; c < 3; c++) {
            int want = a == 0 ? 0 : (int)(before[i + c] * 255.0 / a + 0.5);
            assert_int_equal(back.pixels[i + c], want > 255 ? 255 : want);
        }
        assert_int_equal(back.pixels[i + 3], a);
    }
    ks_image_free(&back);
    free(png);
    free(before);
    ks_image_free(&img);
}

/* Same input, same bytes; only IHDR, IDAT and IEND (no tIME). Rows with
 * padding in the stride are written without it. */
static void test_encode_deterministic(void **state)
{
    (void)state;
    srand(4);
    ks_image_t img;
    random_image(&img, 64, 64, 0);
    unsigned char *a, *b;
    size_t a_size, b_size;
    assert_int_equal(ks_png_encode(&img, 9, &a, &a_size, NULL), KS_OK);
    assert_int_equal(ks_png_encode(&img, 9, &b, &b_size, NULL), KS_OK);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    for (size_t pos = 8; pos + 8 <= a_size;) {
        uint32_t length = (uint32_t)a[pos] << 24 | a[pos + 1] << 16 | a[pos + 2] << 8 | a[pos + 3];
        const char *type = (const char *)a + pos + 4;
        assert_true(memcmp(type, "IHDR", 4) == 0 || memcmp(type, "IDAT", 4) == 0 ||
                    memcmp(type, "IEND", 4) == 0);
        pos += 12 + length;
    }

    /* The same pixels through a padded stride encode to the same file. */
    free(b);
    size_t stride = img.stride + 12;
    uint8_t *padded = malloc(stride * img.height);
    assert_non_null(padded);
    memset(padded, 0x77, stride * img.height);
    for (uint32_t y = 0; y < img.height; y++)
        memcpy(padded + y * stride, img.pixels + y * img.stride, img.stride);
    ks_image_t view = img;
    view.stride = stride;
    view.pixels = padded;
    assert_int_equal(ks_png_encode(&view, 9, &b, &b_size, NULL), KS_OK);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    free(padded);
    free(a);
    free(b);
    ks_image_free(&img);
}

static void test_encode_rejects(void **state)
{
    (void)state;
    ks_image_t img;
    random_image(&img, 4, 4, 0);
    unsigned char *png = (unsigned char *)"x";
    size_t size = 1;
    ks_err_t err = { "" };
    assert_int_equal(ks_png_encode(&img, KS_PNG_LEVEL_MAX + 1, &png, &size, &err), KS_INVALID);
    assert_null(png);
    assert_int_equal(size, 0);
    assert_int_equal(ks_png_encode(&img, -1, &png, &size, &err), KS_INVALID);
    ks_image_t empty = { 0 };
    assert_int_equal(ks_png_encode(&empty, 6, &png, &size, &err), KS_INVALID);
    ks_image_free(&img);
}

/* ---- limits ------------------------------------------------------------------ */

static buffer_t grey_png(uint32_t width, uint32_t height, int text_count, size_t text_bytes)
{
    spec_t s;
    make_spec(&s, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 0, width, height);
    s.text_count = text_count;
    s.text_bytes = text_bytes;
    buffer_t png = write_png(&s);
    free(s.samples);
    return png;
}

static ks_rc decode_with(const buffer_t *png, const ks_png_limits_t *limits, ks_err_t *err)
{
    ks_image_t img;
    ks_rc rc = ks_png_decode(png->data, png->size, limits, &img, err);
    if (rc == KS_OK)
        ks_image_free(&img);
    else
        assert_null(img.pixels);
    return rc;
}

static void test_limit_dimensions(void **state)
{
    (void)state;
    buffer_t png = grey_png(100, 50, 0, 0);
    ks_png_limits_t limits;
    ks_err_t err = { "" };

    ks_png_limits_default(&limits);
    limits.max_width = 99;
    assert_int_equal(decode_with(&png, &limits, &err), KS_TOOLARGE);
    assert_string_equal(err.msg, "PNG is 100x50, larger than the 99x4096 limit");

    ks_png_limits_default(&limits);
    limits.max_height = 49;
    assert_int_equal(decode_with(&png, &limits, &err), KS_TOOLARGE);

    limits.max_width = 100;
    limits.max_height = 50;
    assert_int_equal(decode_with(&png, &limits, &err), KS_OK);
    free(png.data);
}

static void test_limit_decoded_bytes(void **state)
{
    (void)state;
    buffer_t png = grey_png(100, 50, 0, 0);
    ks_png_limits_t limits;
    ks_err_t err = { "" };
    ks_png_limits_default(&limits);
    limits.max_decoded_bytes = 100 * 50 * 4 - 1;
    assert_int_equal(decode_with(&png, &limits, &err), KS_TOOLARGE);
    assert_string_equal(err.msg, "PNG is 100x50, 20000 bytes decoded, over the 19999-byte limit");
    limits.max_decoded_bytes = 100 * 50 * 4;
    assert_int_equal(decode_with(&png, &limits, &err), KS_OK);
    free(png.data);
}

static void test_limit_chunk_count(void **state)
{
    (void)state;
    buffer_t png = grey_png(8, 8, 10, 3);
    ks_png_limits_t limits;
    ks_err_t err = { "" };
    ks_png_limits_default(&limits);
    limits.max_chunks = 9;
    assert_int_equal(decode_with(&png, &limits, &err), KS_TOOLARGE);
    assert_string_equal(err.msg, "PNG has more than 9 ancillary chunks");
    limits.max_chunks = 10;
    assert_int_equal(decode_with(&png, &limits, &err), KS_OK);
    free(png.data);
}

static void test_limit_chunk_bytes(void **state)
{
    (void)state;
    buffer_t png = grey_png(8, 8, 1, 5000);
    ks_png_limits_t limits;
    ks_err_t err = { "" };
    ks_png_limits_default(&limits);
    limits.max_chunk_bytes = 4000;
    assert_int_equal(decode_with(&png, &limits, &err), KS_TOOLARGE);
    assert_non_null(strstr(err.msg, "tEXt"));
    limits.max_chunk_bytes = 8000;
    assert_int_equal(decode_with(&png, &limits, &err), KS_OK);
    free(png.data);
}

/* ---- hostile input ----------------------------------------------------------- */

static void test_short_inputs(void **state)
{
    (void)state;
    ks_png_limits_t limits;
    ks_png_limits_default(&limits);
    ks_image_t img;
    ks_err_t err = { "" };
    assert_int_equal(ks_png_decode(NULL, 0, &limits, &img, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "not a PNG file"));
    assert_int_equal(ks_png_decode("\x89PNG", 4, &limits, &img, &err), KS_INVALID);
    assert_string_equal(err.msg, "not a PNG file");

    /* A good PNG cut at every length up to its end is never accepted. */
    buffer_t png = grey_png(16, 16, 2, 10);
    for (size_t size = 0; size < png.size - 12; size++) {    /* IEND is optional */
        ks_rc rc = ks_png_decode(png.data, size, &limits, &img, &err);
        if (rc != KS_INVALID)
            fail_msg("cut at %zu of %zu: %s (%s)", size, png.size, ks_rc_name(rc), err.msg);
        assert_null(img.pixels);
    }
    free(png.data);
}

/* tests/crashers/, found from this file's path unless KS_CRASHERS_DIR says. */
static void crashers_dir(char *dir, size_t size)
{
    const char *env = getenv("KS_CRASHERS_DIR");
    if (env != NULL) {
        snprintf(dir, size, "%s", env);
        return;
    }
    snprintf(dir, size, "%s", __FILE__);        /* .../tests/unit/test_png_codec.c */
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(dir, '/');
        assert_non_null(slash);
        *slash = '\0';
    }
    strncat(dir, "/crashers", size - strlen(dir) - 1);
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *data = malloc(1 << 20);
    assert_non_null(data);
    *size = fread(data, 1, 1 << 20, f);
    assert_true(feof(f));
    fclose(f);
    return data;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_crashers(void **state)
{
    (void)state;
    /* The cases the codec must cover, and what the message must say. */
    static const struct { const char *name, *message; } required[] = {
        { "invalid-empty.png", "not a PNG file" },
        { "invalid-not-a-png.png", "not a PNG file" },
        { "invalid-truncated-idat.png", "PNG is truncated" },
        { "invalid-bad-crc-idat.png", "IDAT: CRC error" },
        { "toolarge-ihdr-100000x100000.png",
          "PNG is 100000x100000, larger than the 4096x4096 limit" },
        { "toolarge-bomb-10000x10000.png", "PNG is 10000x10000, larger than" },
        { "toolarge-many-text.png", "PNG has more than 256 ancillary chunks" },
    };
    int seen[sizeof(required) / sizeof(required[0])] = { 0 };
    char dir[4096];
    crashers_dir(dir, sizeof(dir));
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("cannot open the crashers folder %s", dir);

    ks_png_limits_t limits;
    ks_png_limits_default(&limits);
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        size_t length = strlen(name);
        if (length < 4 || strcmp(name + length - 4, ".png") != 0)
            continue;
        ks_rc want = KS_OK;
        if (strncmp(name, "invalid-", 8) == 0)
            want = KS_INVALID;
        else if (strncmp(name, "toolarge-", 9) == 0)
            want = KS_TOOLARGE;
        else if (strncmp(name, "ok-", 3) != 0)
            fail_msg("crasher %s: the name must start with invalid-, toolarge- or ok-", name);

        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        size_t size;
        unsigned char *data = read_file(path, &size);
        ks_image_t img;
        ks_err_t err = { "" };
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        ks_rc rc = ks_png_decode(data, size, &limits, &img, &err);
        double elapsed = seconds_since(&start);
        print_message("crasher %-34s %-11s %.4fs  %s\n", name, ks_rc_name(rc), elapsed, err.msg);
        if (rc != want)
            fail_msg("crasher %s: %s, expected %s (%s)", name, ks_rc_name(rc), ks_rc_name(want),
                     err.msg);
        if (rc == KS_OK) {
            ks_image_free(&img);
        } else {
            assert_null(img.pixels);
            assert_true(err.msg[0] != '\0');
        }
        if (elapsed > 1.0)
            fail_msg("crasher %s took %.2f s", name, elapsed);
        for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
            if (strcmp(name, required[i].name) != 0)
                continue;
            seen[i] = 1;
            if (strstr(err.msg, required[i].message) == NULL)
                fail_msg("crasher %s: message \"%s\" lacks \"%s\"", name, err.msg,
                         required[i].message);
        }
        free(data);
        files++;
    }
    closedir(d);
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!seen[i])
            fail_msg("crasher %s is missing from %s", required[i].name, dir);
    assert_true(files >= 7);
}

/* The bomb also falls to max_decoded_bytes alone, before any pixel is read:
 * 400 MB of RGBA8 against the 64 MiB default. */
static void test_bomb_decoded_bytes(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    crashers_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/toolarge-bomb-10000x10000.png", dir);
    size_t size;
    unsigned char *data = read_file(path, &size);
    assert_true(size < (1 << 20));

    ks_png_limits_t limits;
    ks_png_limits_default(&limits);
    limits.max_width = limits.max_height = 20000;
    ks_image_t img;
    ks_err_t err = { "" };
    assert_int_equal(ks_png_decode(data, size, &limits, &img, &err), KS_TOOLARGE);
    assert_string_equal(err.msg,
                        "PNG is 10000x10000, 400000000 bytes decoded, over the 67108864-byte limit");
    assert_null(img.pixels);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_every_format),
        cmocka_unit_test(test_decode_16_bit_rounding),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_encode_premultiplied),
        cmocka_unit_test(test_encode_deterministic),
        cmocka_unit_test(test_encode_rejects),
        cmocka_unit_test(test_limit_dimensions),
        cmocka_unit_test(test_limit_decoded_bytes),
        cmocka_unit_test(test_limit_chunk_count),
        cmocka_unit_test(test_limit_chunk_bytes),
        cmocka_unit_test(test_short_inputs),
        cmocka_unit_test(test_crashers),
        cmocka_unit_test(test_bomb_decoded_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
