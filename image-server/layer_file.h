/* layer_file.h: an item layer stored ready to compose.
 *
 * Beside each canonical PNG (items/<id>/<layer>.png) an image server keeps
 * items/<id>/<layer>.kl: the layer decoded and premultiplied, so composing
 * maps it instead of decoding. Layout (little-endian):
 *
 *     0   8  magic "KSLAYER1"
 *     8   4  width            12  4  height
 *    16  64  sha256 of the canonical PNG, lowercase hex
 *    80  48  zero
 *   128      width * height RGBA8 pixels, premultiplied, rows without padding
 *
 * The file is derived from the PNG and checked against it only through the
 * sha256 in its header, which the compose request names: a file whose header
 * does not match is ignored and rewritten from the PNG. Its pixels are not
 * trusted for memory safety either: the compositor is safe for any values.
 */
#ifndef KS_LAYER_FILE_H
#define KS_LAYER_FILE_H

#include <stddef.h>
#include "image.h"
#include "ks.h"
#include "sha256.h"

#define KS_LAYER_FILE_HEADER 128

typedef struct {
    ks_image_t image;       /* premultiplied; pixels point into the mapping */
    void *map;
    size_t map_size;
} ks_layer_map_t;

/* Writes img (premultiplied) with the PNG's sha256 to path, atomically. */
ks_rc ks_layer_file_write(const char *path, const ks_image_t *img, const char *sha256_hex,
                          ks_err_t *err);

/* Maps the layer file at path into *out (read-only). KS_NOTFOUND when there
 * is none, KS_CONFLICT when it holds another sha256, KS_INVALID when it is
 * malformed or over max_width x max_height. *out is zeroed on failure. */
ks_rc ks_layer_file_map(const char *path, const char *sha256_hex, uint32_t max_width,
                        uint32_t max_height, ks_layer_map_t *out, ks_err_t *err);

/* Unmaps a layer from ks_layer_file_map; a zeroed map is ignored. */
void ks_layer_file_unmap(ks_layer_map_t *map);

#endif
