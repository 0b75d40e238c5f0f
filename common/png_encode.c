/* png_encode.c: PNG output, written by hand around libdeflate.
 *
 * A composite is encoded far more often than anything else the image servers
 * do, and zlib's deflate was most of its cost. This writer emits the PNG
 * stream itself (signature, IHDR, one IDAT, IEND; CRCs from libdeflate) and
 * compresses all rows in one call, of its own raster encoder or of
 * libdeflate, both several times faster than zlib for a similar result.
 * Reading untrusted PNGs stays with libpng (png_codec.c).
 *
 * Filtering: none. Avatar art (flat colour, antialiased edges, transparent
 * around the figure) compresses smaller unfiltered than with Up, Paeth or
 * the usual per-row adaptive choice, at every libdeflate level: measured on
 * the sample outfits, adaptive filtering made the file 5-10% larger and the
 * encode two to three times slower. So each row is only un-premultiplied
 * (when needed) straight into the stream to compress. Level 1 compresses
 * with ks_deflate_runs (deflate_runs.h), which looks for matches one pixel
 * back, one row up and at earlier copies of a pixel (a small hash table);
 * every other level is libdeflate's. Nothing in the output depends on time
 * or memory state: the same image and level always give the same bytes.
 *
 * Each thread keeps its working memory between encodes (the row and output
 * buffers up to 8 MiB each, and a libdeflate compressor per level it has
 * used: a level-12 one is about 1 MiB), freed when the thread exits: an
 * encode of an avatar allocates only its result.
 */
#include "png_codec.h"

#include "deflate_runs.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-thread working memory -------------------------------------------- */

/* Buffers up to this size are kept for the next encode; larger ones (a
 * canvas over about 1500x1500) are freed after use. */
#define SCRATCH_KEEP ((size_t)8 << 20)

typedef struct {
    struct libdeflate_compressor *compressors[KS_PNG_LEVEL_MAX + 1];
    ks_deflate_runs_scratch_t *runs;
    uint8_t *rows;            /* the filtered rows */
    size_t rows_size;
    uint8_t *packed;          /* the compressed rows */
    size_t packed_size;
} scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *value)
{
    scratch_t *scratch = value;

    for (int level = 0; level <= KS_PNG_LEVEL_MAX; level++)
        if (scratch->compressors[level] != NULL)
            libdeflate_free_compressor(scratch->compressors[level]);
    ks_deflate_runs_scratch_free(scratch->runs);
    free(scratch->rows);
    free(scratch->packed);
    free(scratch);
}

static void scratch_key_init(void)
{
    /* Failure leaves the key unusable; thread_scratch() then returns NULL and
     * the encode reports it as out of memory. */
    (void)pthread_key_create(&scratch_key, scratch_free);
}

static scratch_t *thread_scratch(void)
{
    scratch_t *scratch;

    if (pthread_once(&scratch_once, scratch_key_init) != 0)
        return NULL;
    scratch = pthread_getspecific(scratch_key);
    if (scratch == NULL) {
        scratch = calloc(1, sizeof *scratch);
        if (scratch == NULL || pthread_setspecific(scratch_key, scratch) != 0) {
            free(scratch);
            return NULL;
        }
    }
    return scratch;
}

/* Makes *buf hold at least size bytes (its old content is not kept). */
static int reserve(uint8_t **buf, size_t *have, size_t size)
{
    if (size <= *have)
        return 1;
    free(*buf);
    *buf = malloc(size);
    *have = *buf != NULL ? size : 0;
    return *buf != NULL;
}

/* Frees what is over the size kept between encodes. */
static void scratch_trim(scratch_t *scratch)
{
    if (scratch->rows_size > SCRATCH_KEEP) {
        free(scratch->rows);
        scratch->rows = NULL;
        scratch->rows_size = 0;
    }
    if (scratch->packed_size > SCRATCH_KEEP) {
        free(scratch->packed);
        scratch->packed = NULL;
        scratch->packed_size = 0;
    }
}

/* ---- filtering ---------------------------------------------------------- */

/* round(c * 255 / a), clamped (a malformed pixel with c > a must not wrap),
 * for every alpha and colour: a table filled once, because the divisions
 * were a sixth of an encode of a detailed avatar. Alpha 0 gives 0 (a
 * transparent pixel has no colour), 255 the colour itself. */
static uint8_t straight[256][256];
static pthread_once_t straight_once = PTHREAD_ONCE_INIT;

static void straight_init(void)
{
    memset(straight[0], 0, sizeof straight[0]);
    for (unsigned a = 1; a < 256; a++)
        for (unsigned c = 0; c < 256; c++) {
            unsigned v = (c * 255 + a / 2) / a;
            straight[a][c] = (uint8_t)(v > 255 ? 255 : v);
        }
}

/* Copies width straight RGBA pixels of row into out, un-premultiplying. */
static void straight_row(uint8_t *restrict out, const uint8_t *restrict row,
                             uint32_t width, int premultiplied)
{
    if (!premultiplied) {
        memcpy(out, row, (size_t)width * 4);
        return;
    }
    /* The alpha bytes of two pixels in a 64-bit word, whatever the byte order. */
    static const uint8_t alpha_bytes[8] = {0, 0, 0, 0xff, 0, 0, 0, 0xff};
    uint64_t alpha_mask;
    memcpy(&alpha_mask, alpha_bytes, 8);

    for (uint32_t x = 0; x < width; x += 8) {
        uint32_t n = width - x < 8 ? width - x : 8;
        /* Runs of opaque or transparent pixels (nearly all of an avatar)
         * are copied or zeroed eight at a time, in 64-bit words. */
        if (n == 8) {
            uint64_t w[4], opaque = alpha_mask, seen = 0;
            memcpy(w, row, 32);
            for (int k = 0; k < 4; k++) {
                opaque &= w[k];
                seen |= w[k];
            }
            if (opaque == alpha_mask) {
                memcpy(out, w, 32);
                out += 32;
                row += 32;
                continue;
            }
            if ((seen & alpha_mask) == 0) {
                memset(out, 0, 32);
                out += 32;
                row += 32;
                continue;
            }
        }
        /* Pixel by pixel through the table, without a branch: at the
         * edges opaque, transparent and partly transparent pixels mix, and
         * a test of alpha was guessed wrong often. Alpha 255 maps every
         * colour to itself and alpha 0 to 0. */
        for (uint32_t k = 0; k < n; k++, out += 4, row += 4) {
            unsigned a = row[3];
            out[0] = straight[a][row[0]];
            out[1] = straight[a][row[1]];
            out[2] = straight[a][row[2]];
            out[3] = (uint8_t)a;
        }
    }
}

/* ---- the PNG stream ----------------------------------------------------- */

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Completes the chunk whose length field starts at chunk (type and data
 * already written, data_len bytes): fills in the length and appends the CRC
 * of type and data. Returns the end of the chunk. */
static uint8_t *end_chunk(uint8_t *chunk, uint32_t data_len)
{
    put32(chunk, data_len);
    uint32_t crc = libdeflate_crc32(0, chunk + 4, (size_t)data_len + 4);
    return put32(chunk + 8 + data_len, crc);
}

/* The region x, y, w x h of img, its rows each after a filter byte (0,
 * none), compressed at level into scratch->packed; *packed is its size. */
static ks_rc compress(const ks_image_t *img, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                          int level, scratch_t *scratch, size_t *packed, ks_err_t *err)
{
    size_t n = (size_t)w * 4;                          /* bytes of a row's pixels */
    if (w > 0x7fffffffu || h > 0x7fffffffu || n + 1 > ((size_t)1 << 31) / h)
        return ks_err(err, KS_INVALID, "image %ux%u is too large to encode", w, h);
    size_t raw = (n + 1) * h;                          /* the filtered stream */

    /* Level 1 is ks_deflate_runs; every other level is libdeflate's. */
    size_t bound;
    if (level == KS_PNG_LEVEL_FAST) {
        if (scratch->runs == NULL && (scratch->runs = ks_deflate_runs_scratch_new()) == NULL)
            return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", w, h);
        bound = ks_deflate_runs_bound(raw);
    } else {
        if (scratch->compressors[level] == NULL &&
            (scratch->compressors[level] = libdeflate_alloc_compressor(level)) == NULL)
            return ks_err(err, KS_NOMEM, "libdeflate compressor for level %d: out of memory",
                          level);
        bound = libdeflate_zlib_compress_bound(scratch->compressors[level], raw);
    }
    if (!reserve(&scratch->rows, &scratch->rows_size, raw) ||
        !reserve(&scratch->packed, &scratch->packed_size, bound))
        return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", w, h);

    if (img->premultiplied && pthread_once(&straight_once, straight_init) != 0)
        return ks_err(err, KS_ERROR, "pthread_once() failed");
    for (uint32_t row_y = 0; row_y < h; row_y++) {
        uint8_t *row = scratch->rows + (size_t)row_y * (n + 1);
        row[0] = 0;
        straight_row(row + 1, img->pixels + (size_t)(y + row_y) * img->stride + (size_t)x * 4,
                         w, img->premultiplied);
    }
    *packed = level == KS_PNG_LEVEL_FAST
                  ? ks_deflate_runs(scratch->runs, scratch->rows, raw, n + 1, 4, scratch->packed)
                  : libdeflate_zlib_compress(scratch->compressors[level], scratch->rows, raw,
                                             scratch->packed, bound);
    if (*packed == 0 || *packed > 0x7fffffffu)
        return ks_err(err, KS_ERROR, "could not compress a %ux%u PNG", w, h);
    return KS_OK;
}

/* Checks level and img; and the scratch memory of this thread. */
static ks_rc encode_start(const ks_image_t *img, int level, scratch_t **scratch,
                              ks_err_t *err)
{
    if (level < 0 || level > KS_PNG_LEVEL_MAX)
        return ks_err(err, KS_INVALID, "PNG level %d is not in 0..%d", level, KS_PNG_LEVEL_MAX);
    if (img->pixels == NULL || img->width == 0 || img->height == 0 ||
        img->stride < (size_t)img->width * 4)
        return ks_err(err, KS_INVALID, "cannot encode an empty or malformed %ux%u image",
                      img->width, img->height);
    if ((*scratch = thread_scratch()) == NULL)
        return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", img->width,
                      img->height);
    return KS_OK;
}

/* Appends a chunk of type with data (and its length and CRC) to out,
 * which has room. Returns the end. */
static uint8_t *chunk(uint8_t *out, const char *type, const void *data, size_t size)
{
    memcpy(out + 4, type, 4);
    if (size > 0)
        memcpy(out + 8, data, size);
    return end_chunk(out, (uint32_t)size);
}

/* The signature and IHDR of an RGBA8 image of width x height. */
static uint8_t *header(uint8_t *p, uint32_t width, uint32_t height)
{
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];

    memcpy(p, signature, sizeof signature);
    put32(ihdr, width);
    put32(ihdr + 4, height);
    ihdr[8] = 8;                                       /* bit depth */
    ihdr[9] = 6;                                       /* RGBA */
    ihdr[10] = 0;                                      /* deflate */
    ihdr[11] = 0;                                      /* adaptive filtering */
    ihdr[12] = 0;                                      /* not interlaced */
    return chunk(p + sizeof signature, "IHDR", ihdr, sizeof ihdr);
}

#define HEADER_SIZE (8 + 12 + 13)
#define CHUNK_SIZE(data) (12 + (size_t)(data))

ks_rc ks_png_encode(const ks_image_t *img, int level, unsigned char **out,
                    size_t *out_size, ks_err_t *err)
{
    scratch_t *scratch;
    size_t packed;
    ks_rc rc;

    *out = NULL;
    *out_size = 0;
    if ((rc = encode_start(img, level, &scratch, err)) != KS_OK)
        return rc;
    if ((rc = compress(img, 0, 0, img->width, img->height, level, scratch, &packed, err))
        != KS_OK) {
        scratch_trim(scratch);
        return rc;
    }
    uint8_t *png = malloc(HEADER_SIZE + CHUNK_SIZE(packed) + CHUNK_SIZE(0));
    if (png == NULL) {
        scratch_trim(scratch);
        return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", img->width,
                      img->height);
    }
    uint8_t *p = header(png, img->width, img->height);
    p = chunk(p, "IDAT", scratch->packed, packed);  /* one for all rows */
    scratch_trim(scratch);
    p = chunk(p, "IEND", NULL, 0);
    *out = png;
    *out_size = (size_t)(p - png);
    return KS_OK;
}

/* ---- APNG ---------------------------------------------------------------- */

/* The smallest box (x, y, w, h) holding every pixel where frame differs
 * from prev; 1x1 at 0,0 when they are the same (APNG has no empty frame). */
static void changed_box(const ks_image_t *prev, const ks_image_t *frame, uint32_t box[4])
{
    uint32_t x0 = frame->width, y0 = frame->height, x1 = 0, y1 = 0;
    size_t n = (size_t)frame->width * 4;

    for (uint32_t y = 0; y < frame->height; y++) {
        const uint8_t *a = prev->pixels + (size_t)y * prev->stride;
        const uint8_t *b = frame->pixels + (size_t)y * frame->stride;
        if (memcmp(a, b, n) == 0)
            continue;
        uint32_t first = 0, last = frame->width - 1;
        while (memcmp(a + (size_t)first * 4, b + (size_t)first * 4, 4) == 0)
            first++;
        while (memcmp(a + (size_t)last * 4, b + (size_t)last * 4, 4) == 0)
            last--;
        x0 = first < x0 ? first : x0;
        x1 = last + 1 > x1 ? last + 1 : x1;
        y0 = y < y0 ? y : y0;
        y1 = y + 1;
    }
    if (x1 == 0) {
        x0 = y0 = 0;
        x1 = y1 = 1;
    }
    box[0] = x0;
    box[1] = y0;
    box[2] = x1 - x0;
    box[3] = y1 - y0;
}

ks_rc ks_apng_encode(const ks_image_t *frames, const unsigned *delays_ms, size_t count,
                     int level, unsigned char **out, size_t *out_size, ks_err_t *err)
{
    scratch_t *scratch;
    uint8_t *png = NULL, *p;
    size_t size = 0, have = 0;
    uint32_t sequence = 0;
    ks_rc rc;

    *out = NULL;
    *out_size = 0;
    if (count == 0 || count > KS_APNG_FRAMES_MAX)
        return ks_err(err, KS_INVALID, "an animation has 1..%d frames, not %zu",
                      KS_APNG_FRAMES_MAX, count);
    for (size_t i = 0; i < count; i++) {
        if ((rc = encode_start(&frames[i], level, &scratch, err)) != KS_OK)
            return rc;
        if (frames[i].width != frames[0].width || frames[i].height != frames[0].height ||
            frames[i].premultiplied != frames[0].premultiplied)
            return ks_err(err, KS_INVALID, "frame %zu is %ux%u, frame 0 %ux%u", i,
                          frames[i].width, frames[i].height, frames[0].width, frames[0].height);
        if (delays_ms[i] < 1 || delays_ms[i] > KS_APNG_DELAY_MAX_MS)
            return ks_err(err, KS_INVALID, "frame %zu: a delay is 1..%d ms, not %u", i,
                          KS_APNG_DELAY_MAX_MS, delays_ms[i]);
    }

    for (size_t i = 0; i < count && rc == KS_OK; i++) {
        uint32_t box[4] = {0, 0, frames[0].width, frames[0].height};
        uint8_t fctl[26], actl[8];
        size_t packed;

        if (i > 0)
            changed_box(&frames[i - 1], &frames[i], box);
        if ((rc = compress(&frames[i], box[0], box[1], box[2], box[3], level, scratch,
                               &packed, err)) != KS_OK)
            break;
        /* room for this frame's chunks (fdAT adds its sequence number), the
         * header and acTL before the first, IEND after the last */
        size_t need = size + CHUNK_SIZE(26) + CHUNK_SIZE(packed + 4) +
                      HEADER_SIZE + CHUNK_SIZE(8) + CHUNK_SIZE(0);
        if (need > have) {
            uint8_t *grown = realloc(png, need * 2);
            if (grown == NULL) {
                rc = ks_err(err, KS_NOMEM, "out of memory encoding an APNG of %zu frames",
                            count);
                break;
            }
            png = grown;
            have = need * 2;
        }
        p = png + size;
        if (i == 0) {
            p = header(p, frames[0].width, frames[0].height);
            put32(actl, (uint32_t)count);
            put32(actl + 4, 0);                    /* plays: forever */
            p = chunk(p, "acTL", actl, sizeof actl);
        }
        put32(fctl, sequence++);
        put32(fctl + 4, box[2]);
        put32(fctl + 8, box[3]);
        put32(fctl + 12, box[0]);
        put32(fctl + 16, box[1]);
        fctl[20] = (uint8_t)(delays_ms[i] >> 8);       /* delay: delays_ms[i] / 1000 s */
        fctl[21] = (uint8_t)delays_ms[i];
        fctl[22] = 1000 >> 8;
        fctl[23] = 1000 & 0xff;
        fctl[24] = 0;                                  /* dispose: none */
        fctl[25] = 0;                                  /* blend: source (replace the box) */
        p = chunk(p, "fcTL", fctl, sizeof fctl);
        if (i == 0) {
            p = chunk(p, "IDAT", scratch->packed, packed);
        } else {
            memcpy(p + 4, "fdAT", 4);
            put32(p + 8, sequence++);
            memcpy(p + 12, scratch->packed, packed);
            p = end_chunk(p, (uint32_t)packed + 4);
        }
        size = (size_t)(p - png);
    }
    scratch_trim(scratch);
    if (rc != KS_OK) {
        free(png);
        return rc;
    }
    p = chunk(png + size, "IEND", NULL, 0);
    *out = png;
    *out_size = (size_t)(p - png);
    return KS_OK;
}
