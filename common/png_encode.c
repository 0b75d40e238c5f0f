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
#define KS__SCRATCH_KEEP ((size_t)8 << 20)

typedef struct {
    struct libdeflate_compressor *compressors[KS_PNG_LEVEL_MAX + 1];
    ks_deflate_runs_scratch_t *runs;
    uint8_t *rows;            /* the filtered rows */
    size_t rows_size;
    uint8_t *packed;          /* the compressed rows */
    size_t packed_size;
} ks__scratch_t;

static pthread_key_t ks__scratch_key;
static pthread_once_t ks__scratch_once = PTHREAD_ONCE_INIT;

static void ks__scratch_free(void *value)
{
    ks__scratch_t *scratch = value;

    for (int level = 0; level <= KS_PNG_LEVEL_MAX; level++)
        if (scratch->compressors[level] != NULL)
            libdeflate_free_compressor(scratch->compressors[level]);
    ks_deflate_runs_scratch_free(scratch->runs);
    free(scratch->rows);
    free(scratch->packed);
    free(scratch);
}

static void ks__scratch_key_init(void)
{
    /* Failure leaves the key unusable; ks__scratch() then returns NULL and
     * the encode reports it as out of memory. */
    (void)pthread_key_create(&ks__scratch_key, ks__scratch_free);
}

static ks__scratch_t *ks__scratch(void)
{
    ks__scratch_t *scratch;

    if (pthread_once(&ks__scratch_once, ks__scratch_key_init) != 0)
        return NULL;
    scratch = pthread_getspecific(ks__scratch_key);
    if (scratch == NULL) {
        scratch = calloc(1, sizeof *scratch);
        if (scratch == NULL || pthread_setspecific(ks__scratch_key, scratch) != 0) {
            free(scratch);
            return NULL;
        }
    }
    return scratch;
}

/* Makes *buf hold at least size bytes (its old content is not kept). */
static int ks__reserve(uint8_t **buf, size_t *have, size_t size)
{
    if (size <= *have)
        return 1;
    free(*buf);
    *buf = malloc(size);
    *have = *buf != NULL ? size : 0;
    return *buf != NULL;
}

/* Frees what is over the size kept between encodes. */
static void ks__scratch_trim(ks__scratch_t *scratch)
{
    if (scratch->rows_size > KS__SCRATCH_KEEP) {
        free(scratch->rows);
        scratch->rows = NULL;
        scratch->rows_size = 0;
    }
    if (scratch->packed_size > KS__SCRATCH_KEEP) {
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
static uint8_t ks__straight[256][256];
static pthread_once_t ks__straight_once = PTHREAD_ONCE_INIT;

static void ks__straight_init(void)
{
    memset(ks__straight[0], 0, sizeof ks__straight[0]);
    for (unsigned a = 1; a < 256; a++)
        for (unsigned c = 0; c < 256; c++) {
            unsigned v = (c * 255 + a / 2) / a;
            ks__straight[a][c] = (uint8_t)(v > 255 ? 255 : v);
        }
}

/* Copies width straight RGBA pixels of row into out, un-premultiplying. */
static void ks__straight_row(uint8_t *restrict out, const uint8_t *restrict row,
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
            out[0] = ks__straight[a][row[0]];
            out[1] = ks__straight[a][row[1]];
            out[2] = ks__straight[a][row[2]];
            out[3] = (uint8_t)a;
        }
    }
}

/* ---- the PNG stream ----------------------------------------------------- */

static uint8_t *ks__put32(uint8_t *p, uint32_t v)
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
static uint8_t *ks__end_chunk(uint8_t *chunk, uint32_t data_len)
{
    ks__put32(chunk, data_len);
    uint32_t crc = libdeflate_crc32(0, chunk + 4, (size_t)data_len + 4);
    return ks__put32(chunk + 8 + data_len, crc);
}

ks_rc ks_png_encode(const ks_image_t *img, int level, unsigned char **out,
                    size_t *out_size, ks_err_t *err)
{
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    *out = NULL;
    *out_size = 0;
    if (level < 0 || level > KS_PNG_LEVEL_MAX)
        return ks_err(err, KS_INVALID, "PNG level %d is not in 0..%d", level, KS_PNG_LEVEL_MAX);
    if (img->pixels == NULL || img->width == 0 || img->height == 0 ||
        img->stride < (size_t)img->width * 4)
        return ks_err(err, KS_INVALID, "cannot encode an empty or malformed %ux%u image",
                      img->width, img->height);
    size_t n = (size_t)img->width * 4;                 /* bytes of a row's pixels */
    if (img->width > 0x7fffffffu || img->height > 0x7fffffffu ||
        n + 1 > ((size_t)1 << 31) / img->height)
        return ks_err(err, KS_INVALID, "image %ux%u is too large to encode", img->width,
                      img->height);
    size_t raw = (n + 1) * img->height;                /* the filtered stream */

    /* Level 1 is ks_deflate_runs; every other level is libdeflate's. */
    ks__scratch_t *scratch = ks__scratch();
    if (scratch == NULL)
        return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", img->width,
                      img->height);
    size_t bound;
    if (level == KS_PNG_LEVEL_FAST) {
        if (scratch->runs == NULL && (scratch->runs = ks_deflate_runs_scratch_new()) == NULL)
            return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", img->width,
                          img->height);
        bound = ks_deflate_runs_bound(raw);
    } else {
        if (scratch->compressors[level] == NULL &&
            (scratch->compressors[level] = libdeflate_alloc_compressor(level)) == NULL)
            return ks_err(err, KS_NOMEM, "libdeflate compressor for level %d: out of memory",
                          level);
        bound = libdeflate_zlib_compress_bound(scratch->compressors[level], raw);
    }
    if (!ks__reserve(&scratch->rows, &scratch->rows_size, raw) ||
        !ks__reserve(&scratch->packed, &scratch->packed_size, bound)) {
        ks__scratch_trim(scratch);
        return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", img->width,
                      img->height);
    }

    /* The rows, each after its filter byte (0, none), then compressed. */
    if (img->premultiplied && pthread_once(&ks__straight_once, ks__straight_init) != 0)
        return ks_err(err, KS_ERROR, "pthread_once() failed");
    for (uint32_t y = 0; y < img->height; y++) {
        uint8_t *row = scratch->rows + (size_t)y * (n + 1);
        row[0] = 0;
        ks__straight_row(row + 1, img->pixels + (size_t)y * img->stride, img->width,
                         img->premultiplied);
    }
    size_t packed = level == KS_PNG_LEVEL_FAST
                        ? ks_deflate_runs(scratch->runs, scratch->rows, raw, n + 1, 4,
                                          scratch->packed)
                        : libdeflate_zlib_compress(scratch->compressors[level], scratch->rows,
                                                   raw, scratch->packed, bound);
    uint8_t *png = packed != 0 && packed <= 0x7fffffffu ? malloc(8 + 25 + 12 + packed + 12)
                                                        : NULL;
    if (png == NULL) {
        ks__scratch_trim(scratch);
        return packed == 0 || packed > 0x7fffffffu
                   ? ks_err(err, KS_ERROR, "could not compress a %ux%u PNG", img->width,
                            img->height)
                   : ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u PNG", img->width,
                            img->height);
    }

    uint8_t *p = png;
    memcpy(p, signature, sizeof signature);
    p += sizeof signature;

    uint8_t *chunk = p;                                /* IHDR */
    memcpy(chunk + 4, "IHDR", 4);
    p = ks__put32(chunk + 8, img->width);
    p = ks__put32(p, img->height);
    *p++ = 8;                                          /* bit depth */
    *p++ = 6;                                          /* RGBA */
    *p++ = 0;                                          /* deflate */
    *p++ = 0;                                          /* adaptive filtering */
    *p++ = 0;                                          /* not interlaced */
    p = ks__end_chunk(chunk, 13);

    chunk = p;                                         /* IDAT, one for all rows */
    memcpy(chunk + 4, "IDAT", 4);
    memcpy(chunk + 8, scratch->packed, packed);
    p = ks__end_chunk(chunk, (uint32_t)packed);
    ks__scratch_trim(scratch);

    chunk = p;                                         /* IEND */
    memcpy(chunk + 4, "IEND", 4);
    p = ks__end_chunk(chunk, 0);

    *out = png;
    *out_size = (size_t)(p - png);
    return KS_OK;
}
