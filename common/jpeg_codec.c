/* jpeg_codec.c: flatten and encode JPEG through libjpeg(-turbo).
 *
 * Rows are flattened one at a time into an RGB scanline and handed to
 * libjpeg, which writes into memory (jpeg_mem_dest). libjpeg reports errors
 * through error_exit, which longjmps back to the one setjmp here; its
 * messages go into the caller's ks_err_t, never to stderr.
 */
#include "jpeg_codec.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_error_t;

static void jpeg_error_exit(j_common_ptr cinfo)
{
    jpeg_error_t *error = (jpeg_error_t *)cinfo->err;

    error->base.format_message(cinfo, error->message);
    longjmp(error->jump, 1);
}

static void jpeg_output_message(j_common_ptr cinfo)
{
    (void)cinfo;   /* warnings are not printed */
}

/* round(x / 255) for x in 0..65025, exactly. */
static inline unsigned div255(unsigned x)
{
    x += 128;
    return (x + (x >> 8)) >> 8;
}

/* One row of img flattened onto background into rgb (width * 3 bytes). */
static void flatten_row(uint8_t *rgb, const uint8_t *row, uint32_t width,
                            int premultiplied, const unsigned bg[3])
{
    for (uint32_t x = 0; x < width; x++, rgb += 3, row += 4) {
        unsigned a = row[3], keep = 255 - a;
        for (int c = 0; c < 3; c++) {
            unsigned src = premultiplied ? row[c] : div255(row[c] * a);
            unsigned v = src + div255(bg[c] * keep);
            rgb[c] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

int ks_parse_colour(const char *text, uint32_t *rgb)
{
    uint32_t value = 0;

    if (text == NULL)
        return 0;
    if (*text == '#')
        text++;
    if (strlen(text) != 6)
        return 0;
    for (int i = 0; i < 6; i++) {
        char c = text[i];
        unsigned digit = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
        if (digit > 15)
            return 0;
        value = value << 4 | digit;
    }
    *rgb = value;
    return 1;
}

ks_rc ks_jpeg_encode(const ks_image_t *img, uint32_t background, int quality,
                     unsigned char **out, size_t *out_size, ks_err_t *err)
{
    struct jpeg_compress_struct cinfo;
    jpeg_error_t error;
    /* Set before the setjmp and not changed after it, so their values hold
     * after a longjmp; libjpeg's output lands in *dest. */
    struct {
        unsigned char *buffer;
        unsigned long size;
    } *dest = NULL;
    uint8_t *rgb = NULL;
    const unsigned bg[3] = {background >> 16 & 0xff, background >> 8 & 0xff, background & 0xff};

    *out = NULL;
    *out_size = 0;
    if (quality < 1 || quality > 100)
        return ks_err(err, KS_INVALID, "JPEG quality %d is not in 1..100", quality);
    if (img->pixels == NULL || img->width == 0 || img->height == 0 ||
        img->stride < (size_t)img->width * 4)
        return ks_err(err, KS_INVALID, "cannot encode an empty or malformed %ux%u image",
                      img->width, img->height);
    if (img->width > JPEG_MAX_DIMENSION || img->height > JPEG_MAX_DIMENSION)
        return ks_err(err, KS_INVALID, "image %ux%u is too large for JPEG", img->width,
                      img->height);

    dest = calloc(1, sizeof *dest);
    rgb = malloc((size_t)img->width * 3);
    if (dest == NULL || rgb == NULL) {
        free(dest);
        free(rgb);
        return ks_err(err, KS_NOMEM, "out of memory encoding a %ux%u JPEG", img->width,
                      img->height);
    }
    cinfo.err = jpeg_std_error(&error.base);
    error.base.error_exit = jpeg_error_exit;
    error.base.output_message = jpeg_output_message;
    error.message[0] = '\0';
    if (setjmp(error.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(dest->buffer);
        free(dest);
        free(rgb);
        return ks_err(err, KS_ERROR, "JPEG encode failed: %s", error.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &dest->buffer, &dest->size);
    cinfo.image_width = img->width;
    cinfo.image_height = img->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (quality >= 90) {
        cinfo.comp_info[0].h_samp_factor = 1;
        cinfo.comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW line = rgb;
        flatten_row(rgb, img->pixels + (size_t)cinfo.next_scanline * img->stride,
                        img->width, img->premultiplied, bg);
        jpeg_write_scanlines(&cinfo, &line, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(rgb);
    *out = dest->buffer;
    *out_size = dest->size;
    free(dest);
    return KS_OK;
}
