/* png_codec.h: PNG intake and output through libpng.
 *
 * Decoding is for untrusted input: the limits are set on libpng before it
 * reads the header, and every colour type and bit depth (palette with tRNS,
 * grey, grey+alpha, 16-bit, interlaced) is normalised to straight RGBA8.
 * Anything else is rejected with a reason before image buffers are allocated.
 */
#ifndef KS_PNG_CODEC_H
#define KS_PNG_CODEC_H

#include "image.h"

typedef struct {
    uint32_t max_width;           /* default 4096 */
    uint32_t max_height;          /* default 4096 */
    size_t max_decoded_bytes;     /* width * height * 4, default 64 MiB */
    size_t max_chunk_bytes;       /* largest chunk other than IDAT (and the most a
                                     compressed text or ICC chunk may inflate to);
                                     a larger one rejects the file. default 256 KiB */
    uint32_t max_chunks;          /* ancillary chunks; more reject the file. default 256 */
} ks_png_limits_t;

/* Fills limits with the defaults above. */
void ks_png_limits_default(ks_png_limits_t *limits);

/* Decodes a PNG held in memory into out (straight RGBA8, owned by the caller:
 * ks_image_free). Errors: KS_INVALID (not a PNG, truncated, bad CRC, corrupt
 * data) or KS_TOOLARGE (over a limit), with the reason in err; out is zeroed on
 * failure. The chunk list is checked against the limits before libpng runs. */
ks_rc ks_png_decode(const void *data, size_t size, const ks_png_limits_t *limits,
                    ks_image_t *out, ks_err_t *err);

/* Encoding levels: each names a libdeflate level and a filter choice
 * (png_encode.c). FAST is what image servers write avatars with; SMALL trades
 * speed for a smaller file; MAX is the smallest and slowest. */
#define KS_PNG_LEVEL_FAST 1
#define KS_PNG_LEVEL_SMALL 2
#define KS_PNG_LEVEL_MAX 12

/* Encodes img as an RGBA8 PNG (un-premultiplying on the fly if needed). *out
 * is malloc'd and owned by the caller. level: 0..KS_PNG_LEVEL_MAX. The same
 * image and level always give the same bytes. */
ks_rc ks_png_encode(const ks_image_t *img, int level, unsigned char **out,
                    size_t *out_size, ks_err_t *err);

/* Animated PNG (APNG): frames[0..count) of one size, each shown for
 * delays_ms[i], looping forever; full 8-bit alpha. The first frame is the
 * PNG's own image (what a viewer without APNG shows); each later one is
 * stored as the box where it differs from the one before, which replaces
 * that box (dispose none, blend source). Deterministic like ks_png_encode.
 * KS_INVALID for no frames or more than KS_APNG_FRAMES_MAX, frames of
 * different sizes, or a delay outside 1..KS_APNG_DELAY_MAX_MS. */
#define KS_APNG_FRAMES_MAX 64
#define KS_APNG_DELAY_MAX_MS 65535
ks_rc ks_apng_encode(const ks_image_t *frames, const unsigned *delays_ms, size_t count,
                     int level, unsigned char **out, size_t *out_size, ks_err_t *err);

#endif
