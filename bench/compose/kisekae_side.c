/* kisekae_side.c: the bench's work done the way an image server does it.
 *
 * Layers come from an item store (image-server/item_store.h) over the same
 * files the other sides read, acquired by item, layer and sha256 exactly as a
 * compose request does. Warm: a store whose cache already holds every layer
 * (decoded and premultiplied), so a composite is ten cache hits, ks_compose
 * and the encoder. Two cold cases, each loading every layer for every
 * composite:
 * - cold-decode does what the other sides' cold cases do: reads each layer's
 *   PNG file, checks its sha256 (as the item store does before trusting a
 *   file), decodes it (ks_png_decode) and premultiplies it;
 * - cold-kl is kisekae's stored form: a store with no cache maps the layer's
 *   premultiplied layer file (layer_file.h), written when the layer was put,
 *   so nothing is decoded. Its fair peer is libvips reading its own
 *   memory-mappable .v files (vips_side.c), not a PNG decoder.
 *
 * PNG output is ks_png_encode at KS_PNG_LEVEL_FAST (what image servers write
 * avatars with) for the default figures and at KS_PNG_LEVEL_SMALL for the
 * size-first one; JPEG output is ks_jpeg_encode, which flattens the warm
 * composite onto the background as it encodes.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "fsutil.h"
#include "image.h"
#include "item_store.h"
#include "jpeg_codec.h"
#include "png_codec.h"

#define BENCH_KS_LEVEL KS_PNG_LEVEL_FAST
#define BENCH_KS_LEVEL_SIZEFIRST KS_PNG_LEVEL_SMALL
#define BENCH_KS_CACHE_BYTES ((size_t)256 << 20)
#define BENCH_KS_LAYER_BYTES_MAX ((size_t)16 << 20)

struct bench_kisekae {
    const bench_avatar_t *avatar;
    bench_jpeg_t jpeg;
    ks_item_store_t *warm;            /* every layer cached */
    ks_item_store_t *cold;            /* no cache: every acquire decodes */
};

const char *bench_kisekae_describe(void)
{
    return "item store + ks_compose (premultiplied integer source-over) + ks_png_encode "
           "(level FAST = 1: ks_deflate_runs, no row filter; size-first: level SMALL); "
           "cold-decode: read + sha256 + ks_png_decode + premultiply each layer PNG; "
           "cold-kl: item store without cache (maps each layer's stored .kl file, no decoding); "
           "jpeg: ks_jpeg_encode (flattens as it encodes)";
}

static ks_rc bench__store(const bench_avatar_t *avatar, size_t cache_bytes,
                          ks_item_store_t **out, ks_err_t *err)
{
    ks_item_store_options_t options = { .max_layer_bytes = BENCH_KS_LAYER_BYTES_MAX,
                                        .cache_bytes = cache_bytes };

    ks_png_limits_default(&options.png_limits);
    return ks_item_store_new(avatar->store_dir, &options, out, err);
}

/* Composes the avatar from store's layers into canvas (premultiplied). */
static ks_rc bench__compose(bench_kisekae_t *side, ks_item_store_t *store, ks_image_t *canvas,
                            ks_err_t *err)
{
    const bench_avatar_t *avatar = side->avatar;
    ks_item_layer_t *held[BENCH_LAYERS] = {0};
    ks_layer_ref_t refs[BENCH_LAYERS];
    ks_rc rc = KS_OK;

    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++) {
        const bench_layer_t *layer = &avatar->layers[i];
        rc = ks_item_store_acquire(store, layer->item_id, 0, layer->sha256, &held[i], err);
        if (rc == KS_OK) {
            refs[i].image = ks_item_layer_image(held[i]);
            refs[i].x = layer->x;
            refs[i].y = layer->y;
        }
    }
    if (rc == KS_OK)
        rc = ks_compose(refs, BENCH_LAYERS, avatar->width, avatar->height, canvas, err);
    for (int i = 0; i < BENCH_LAYERS; i++)
        ks_item_store_release(store, held[i]);
    return rc;
}

/* Composes the avatar from its PNG files, each read, checked against its
 * sha256, decoded and premultiplied for this composite alone. */
static ks_rc bench__compose_decoded(bench_kisekae_t *side, ks_image_t *canvas, ks_err_t *err)
{
    const bench_avatar_t *avatar = side->avatar;
    ks_image_t images[BENCH_LAYERS] = {0};
    ks_layer_ref_t refs[BENCH_LAYERS];
    ks_png_limits_t limits;
    ks_rc rc = KS_OK;

    ks_png_limits_default(&limits);
    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++) {
        const bench_layer_t *layer = &avatar->layers[i];
        char sha256[KS_SHA256_HEX_SIZE];
        unsigned char *png = NULL;
        size_t size = 0;

        rc = ks_file_read(layer->path, BENCH_KS_LAYER_BYTES_MAX, &png, &size, err);
        if (rc == KS_OK) {
            ks_sha256_hex(png, size, sha256);
            if (strcmp(sha256, layer->sha256) != 0)
                rc = ks_err(err, KS_CONFLICT, "%s: not the PNG of its sha256", layer->path);
        }
        if (rc == KS_OK && (rc = ks_png_decode(png, size, &limits, &images[i], err)) == KS_OK) {
            ks_image_premultiply(&images[i]);
            refs[i].image = &images[i];
            refs[i].x = layer->x;
            refs[i].y = layer->y;
        }
        free(png);
    }
    if (rc == KS_OK)
        rc = ks_compose(refs, BENCH_LAYERS, avatar->width, avatar->height, canvas, err);
    for (int i = 0; i < BENCH_LAYERS; i++)
        ks_image_free(&images[i]);
    return rc;
}

/* Encodes canvas as a PNG at level into out (NULL: discarded). */
static ks_rc bench__encode(const ks_image_t *canvas, int level, bench_output_t *out,
                           ks_err_t *err)
{
    unsigned char *png = NULL;
    size_t size = 0;
    ks_rc rc = ks_png_encode(canvas, level, &png, &size, err);

    if (rc != KS_OK)
        return rc;
    if (out == NULL) {
        free(png);
    } else {
        out->data = png;
        out->size = size;
        out->release = free;
    }
    return KS_OK;
}

static ks_rc bench__png(bench_kisekae_t *side, ks_item_store_t *store, int level,
                        bench_output_t *out, ks_err_t *err)
{
    ks_image_t canvas = {0};
    ks_rc rc = bench__compose(side, store, &canvas, err);

    if (rc == KS_OK)
        rc = bench__encode(&canvas, level, out, err);
    ks_image_free(&canvas);
    return rc;
}

ks_rc bench_kisekae_warm_png(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_kisekae_t *ks = side;
    return bench__png(ks, ks->warm, BENCH_KS_LEVEL, out, err);
}

ks_rc bench_kisekae_warm_png_sizefirst(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_kisekae_t *ks = side;
    return bench__png(ks, ks->warm, BENCH_KS_LEVEL_SIZEFIRST, out, err);
}

ks_rc bench_kisekae_cold_kl(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_kisekae_t *ks = side;
    return bench__png(ks, ks->cold, BENCH_KS_LEVEL, out, err);
}

ks_rc bench_kisekae_cold_decode(void *side, bench_output_t *out, ks_err_t *err)
{
    ks_image_t canvas = {0};
    ks_rc rc = bench__compose_decoded(side, &canvas, err);

    if (rc == KS_OK)
        rc = bench__encode(&canvas, BENCH_KS_LEVEL, out, err);
    ks_image_free(&canvas);
    return rc;
}

ks_rc bench_kisekae_jpeg(void *state, bench_output_t *out, ks_err_t *err)
{
    bench_kisekae_t *side = state;
    const uint8_t *rgb = side->jpeg.background;
    ks_image_t canvas = {0};
    unsigned char *jpeg = NULL;
    size_t size = 0;
    ks_rc rc = bench__compose(side, side->warm, &canvas, err);

    if (rc == KS_OK)
        rc = ks_jpeg_encode(&canvas, (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2],
                            side->jpeg.quality, &jpeg, &size, err);
    ks_image_free(&canvas);
    if (rc != KS_OK)
        return rc;
    if (out == NULL) {
        free(jpeg);
    } else {
        out->data = jpeg;
        out->size = size;
        out->release = free;
    }
    return KS_OK;
}

ks_rc bench_kisekae_new(const bench_avatar_t *avatar, const bench_jpeg_t *jpeg,
                        bench_kisekae_t **out, ks_err_t *err)
{
    bench_kisekae_t *side = calloc(1, sizeof *side);
    ks_image_t canvas = {0};
    ks_rc rc;

    *out = NULL;
    if (side == NULL)
        return ks_err(err, KS_NOMEM, "kisekae side: out of memory");
    side->avatar = avatar;
    side->jpeg = *jpeg;
    rc = bench__store(avatar, BENCH_KS_CACHE_BYTES, &side->warm, err);
    if (rc == KS_OK)
        rc = bench__store(avatar, 0, &side->cold, err);
    /* One composite fills the warm store's cache. */
    if (rc == KS_OK)
        rc = bench__compose(side, side->warm, &canvas, err);
    ks_image_free(&canvas);
    if (rc != KS_OK) {
        bench_kisekae_free(side);
        return rc;
    }
    *out = side;
    return KS_OK;
}

void bench_kisekae_free(bench_kisekae_t *side)
{
    if (side == NULL)
        return;
    ks_item_store_free(side->warm);
    ks_item_store_free(side->cold);
    free(side);
}
