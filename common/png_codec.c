/* png_codec.c: PNG decoding of untrusted input through libpng.
 *
 * Decoding first walks the chunk list in the caller's buffer without libpng
 * (png_scan): the signature, the IHDR size, chunk lengths and the number
 * of ancillary chunks against the limits, so those rejections carry a clear
 * message and cost nothing. libpng then reads from the same buffer with the
 * limits also set on it, and every colour type and bit depth is normalised to
 * straight RGBA8; the image is allocated only after png_read_info() has
 * passed the size check. libpng reports failures through png_error(),
 * which writes the message into the caller's ks_err_t (nothing goes to
 * stderr; warnings are dropped) and longjmps back to the one setjmp in
 * png_read().
 *
 * Encoding is png_encode.c's, without libpng.
 */
#include "png_codec.h"

#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void ks_png_limits_default(ks_png_limits_t *limits)
{
    limits->max_width = 4096;
    limits->max_height = 4096;
    limits->max_decoded_bytes = (size_t)64 << 20;
    limits->max_chunk_bytes = (size_t)256 << 10;
    limits->max_chunks = 256;
}

/* ---- libpng callbacks ------------------------------------------------------ */

/* The state libpng's callbacks reach through png_get_error_ptr() and
 * png_get_io_ptr(). rc stays KS_OK until a failure has written err. */
typedef struct {
    const unsigned char *data;    /* the caller's PNG */
    size_t pos;
    size_t size;                  /* of data */
    ks_err_t *err;
    ks_rc rc;
} png_io_t;

/* libpng's message is one of its own phrases, sometimes after a chunk name
 * ("IDAT: CRC error"); the few that mean a limit or memory get their code. */
static ks_rc png_error_rc(const char *msg)
{
    if (strstr(msg, "Out of memory") != NULL || strstr(msg, "insufficient memory") != NULL)
        return KS_NOMEM;
    if (strstr(msg, "too large") != NULL || strstr(msg, "exceeds") != NULL ||
        strstr(msg, "limit") != NULL)
        return KS_TOOLARGE;
    return KS_INVALID;
}

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_io_t *io = png_get_error_ptr(png);

    if (io->rc == KS_OK) {      /* not already reported by our own callback */
        io->rc = png_error_rc(msg);
        ks_err(io->err, io->rc, "%s: %s",
               io->rc == KS_TOOLARGE ? "PNG is over a decoding limit"
               : io->rc == KS_NOMEM  ? "out of memory decoding PNG"
                                     : "invalid PNG", msg);
    }
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* ---- decoding -------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static ks_rc png_check_size(uint32_t width, uint32_t height, const ks_png_limits_t *limits,
                                ks_err_t *err)
{
    if (width > limits->max_width || height > limits->max_height)
        return ks_err(err, KS_TOOLARGE, "PNG is %ux%u, larger than the %ux%u limit",
                      width, height, limits->max_width, limits->max_height);
    uint64_t decoded = (uint64_t)width * height * 4;
    if (decoded > limits->max_decoded_bytes)
        return ks_err(err, KS_TOOLARGE,
                      "PNG is %ux%u, %llu bytes decoded, over the %zu-byte limit",
                      width, height, (unsigned long long)decoded, limits->max_decoded_bytes);
    return KS_OK;
}

/* A chunk type for a message: its four letters, or '?' for other bytes. */
static void png_chunk_name(const unsigned char *type, char name[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = type[i];
        name[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? (char)c : '?';
    }
    name[4] = '\0';
}

/* Walks the chunks up to IEND: the signature, the IHDR size, every chunk's
 * length against the file and max_chunk_bytes (IDAT excepted), and the number
 * of ancillary chunks. libpng 1.6.39 only warns about a chunk over
 * png_set_chunk_malloc_max() and then allocates it whole, so this walk is
 * what holds that limit. What it cannot follow (a length over 2^31, a cut
 * chunk header) is left for libpng to report. */
static ks_rc png_scan(const unsigned char *data, size_t size, const ks_png_limits_t *limits,
                          ks_err_t *err)
{
    if (size == 0)
        return ks_err(err, KS_INVALID, "not a PNG file (it is empty)");
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0)
        return ks_err(err, KS_INVALID, "not a PNG file");

    uint32_t ancillary = 0;
    for (size_t pos = 8; size - pos >= 8;) {
        uint32_t length = be32(data + pos);
        const unsigned char *type = data + pos + 4;
        char name[5];
        if (length > PNG_UINT_31_MAX)
            break;
        if (memcmp(type, "IDAT", 4) != 0 && length > limits->max_chunk_bytes) {
            png_chunk_name(type, name);
            return ks_err(err, KS_TOOLARGE, "PNG chunk %s is %u bytes, over the %zu-byte limit",
                          name, length, limits->max_chunk_bytes);
        }
        if (size - pos - 8 < (size_t)length + 4)
            return ks_err(err, KS_INVALID, "PNG is truncated");
        if (pos == 8 && memcmp(type, "IHDR", 4) == 0 && length == 13) {
            ks_rc rc = png_check_size(be32(data + pos + 8), be32(data + pos + 12),
                                          limits, err);
            if (rc != KS_OK)
                return rc;
        }
        if ((type[0] & 0x20) != 0 && ++ancillary > limits->max_chunks)
            return ks_err(err, KS_TOOLARGE, "PNG has more than %u ancillary chunks",
                          limits->max_chunks);
        if (memcmp(type, "IEND", 4) == 0)
            break;
        pos += (size_t)length + 12;
    }
    return KS_OK;
}

static void png_read_data(png_structp png, png_bytep buf, size_t length)
{
    png_io_t *io = png_get_io_ptr(png);

    if (length > io->size - io->pos) {
        io->rc = ks_err(io->err, KS_INVALID, "PNG is truncated");
        png_error(png, "PNG is truncated");
    }
    memcpy(buf, io->data + io->pos, length);
    io->pos += length;
}

/* Everything between png_read_info() and the last row, under one setjmp.
 * On failure img may hold pixels; the caller frees it. */
static ks_rc png_read(png_structp png, png_infop info, png_io_t *io,
                          const ks_png_limits_t *limits, ks_image_t *img)
{
    png_bytep *volatile rows = NULL;

    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        return io->rc != KS_OK ? io->rc : KS_ERROR;
    }

    png_set_user_limits(png, limits->max_width, limits->max_height);
    png_set_chunk_cache_max(png, limits->max_chunks);
    png_set_chunk_malloc_max(png, limits->max_chunk_bytes);
    png_set_read_fn(png, io, png_read_data);
    png_read_info(png, info);

    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    ks_rc rc = png_check_size(width, height, limits, io->err);
    if (rc != KS_OK)
        return rc;

    /* To straight RGBA8, whatever the input. */
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    else if (!(color_type & PNG_COLOR_MASK_ALPHA))
        png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    if (bit_depth == 16)
        png_set_scale_16(png);      /* round(v * 255 / 65535), not the high byte */
    if (!(color_type & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4)
        return ks_err(io->err, KS_ERROR,
                      "libpng did not expand PNG colour type %d, depth %d to RGBA8",
                      color_type, bit_depth);

    rc = ks_image_alloc(img, width, height, io->err);
    if (rc != KS_OK)
        return rc;
    rows = malloc(height * sizeof(*rows));
    if (rows == NULL)
        return ks_err(io->err, KS_NOMEM, "malloc() of %u PNG row pointers failed", height);
    for (png_uint_32 y = 0; y < height; y++)
        rows[y] = img->pixels + (size_t)y * img->stride;
    png_read_image(png, rows);
    free(rows);
    rows = NULL;
    return KS_OK;
}

ks_rc ks_png_decode(const void *data, size_t size, const ks_png_limits_t *limits,
                    ks_image_t *out, ks_err_t *err)
{
    memset(out, 0, sizeof(*out));
    if (data == NULL && size != 0)
        return ks_err(err, KS_INVALID, "PNG data is NULL");

    ks_rc rc = png_scan(data, size, limits, err);
    if (rc != KS_OK)
        return rc;

    png_io_t io = { .data = data, .size = size, .err = err, .rc = KS_OK };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_png_error,
                                             on_png_warning);
    if (png == NULL)
        return io.rc != KS_OK ? io.rc
                              : ks_err(err, KS_NOMEM, "png_create_read_struct() failed");
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        return ks_err(err, KS_NOMEM, "png_create_info_struct() failed");
    }

    ks_image_t img = { 0 };
    rc = png_read(png, info, &io, limits, &img);
    png_destroy_read_struct(&png, &info, NULL);
    if (rc != KS_OK) {
        ks_image_free(&img);
        return rc;
    }
    *out = img;
    return KS_OK;
}
