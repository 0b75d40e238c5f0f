/* jpeg_codec.h: JPEG output (libjpeg-turbo), for album photos.
 *
 * JPEG has no alpha: the image is flattened onto an opaque background colour
 * first (source over, premultiplied, exact rounding), then encoded with
 * libjpeg's standard tables at the given quality, 4:2:0 chroma below
 * quality 90 and 4:4:4 from 90 up, baseline, without metadata. The same
 * image and settings always give the same bytes.
 */
#ifndef KS_JPEG_CODEC_H
#define KS_JPEG_CODEC_H

#include <stdint.h>
#include "image.h"

#define KS_JPEG_QUALITY_DEFAULT 85

/* Encodes img (straight or premultiplied RGBA) flattened onto background
 * (0xRRGGBB) at quality 1..100. *out is malloc'd and owned by the caller. */
ks_rc ks_jpeg_encode(const ks_image_t *img, uint32_t background, int quality,
                     unsigned char **out, size_t *out_size, ks_err_t *err);

/* Parses "#RRGGBB" (or "RRGGBB") into *rgb. Returns 0 when it is not one. */
int ks_parse_colour(const char *text, uint32_t *rgb);

#endif
