/* magick_side.c: the bench's work done with ImageMagick, through MagickWand.
 *
 * Settings: one thread (MagickSetResourceLimit(ThreadResource, 1); run.sh
 * also sets OMP_NUM_THREADS=1); everything else at ImageMagick's defaults.
 *
 * A composite makes a transparent canvas (MagickNewImage with "none"),
 * composites the ten layers onto it with MagickCompositeImage(OverCompositeOp)
 * at their offsets and encodes it with MagickSetImageFormat("PNG") and
 * MagickGetImageBlob(). The JPEG case sets the background colour, removes
 * the alpha channel (which flattens onto it, as `-alpha remove` does) and
 * encodes JPEG at the bench's quality. Cold (cold-decode): MagickReadImage()
 * of each layer for every composite. Warm: each layer's wand was read once
 * and is reused. warm-png-level1 sets png:compression-level=1 and no row
 * filter, like kisekae's level 1; the other PNG cases keep ImageMagick's
 * defaults (zlib 7, adaptive filters). "No filter" is
 * png:compression-filter=1 here: Debian's ImageMagick 6.9.11 writes
 * adaptive filters for the documented 0 (measured: its rows came out with
 * filters 0..4), while 1 gives filter 0 on every row. bench_compose.c counts
 * the filter bytes of every level-1 output and stops if any row is filtered.
 *
 * Debian's ImageMagick is Q16: a canvas made here has 16 bits per channel
 * and would be written as a 16-bit PNG. The canvas is set to depth 8 and
 * PNGs are written as PNG32 (8-bit RGBA, colour type 6) so every side
 * writes the same kind of file; bench_compose.c checks it.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wand/MagickWand.h>

struct bench_magick {
    const bench_avatar_t *avatar;
    bench_jpeg_t jpeg;
    MagickWand *layers[BENCH_LAYERS];      /* warm: decoded once */
    PixelWand *transparent;
    PixelWand *background;                 /* the JPEG background */
};

static char bench__magick_about[256];

/* Moves the wand's exception into err. */
static ks_rc bench__magick_error(MagickWand *wand, ks_err_t *err, const char *what)
{
    ExceptionType severity;
    char *text = MagickGetException(wand, &severity);
    ks_rc rc = ks_err(err, KS_ERROR, "ImageMagick: %s failed: %s", what,
                      text != NULL && *text ? text : "(no reason given)");

    if (text != NULL)
        MagickRelinquishMemory(text);
    MagickClearException(wand);
    return rc;
}

ks_rc bench_magick_init(ks_err_t *err)
{
    size_t version_number;
    const char *version, *end;
    int words;

    MagickWandGenesis();
    if (MagickSetResourceLimit(ThreadResource, 1) != MagickTrue)
        return ks_err(err, KS_ERROR, "ImageMagick: MagickSetResourceLimit(ThreadResource, 1) "
                      "failed");
    /* "ImageMagick 6.9.11-60 Q16 x86_64 2021-01-25 https://...": the first
     * three words name it. */
    version = MagickGetVersion(&version_number);
    for (end = version, words = 0; *end != '\0'; end++)
        if (*end == ' ' && ++words == 3)
            break;
    snprintf(bench__magick_about, sizeof bench__magick_about,
             "%.*s: MagickWand in process, 1 thread; MagickCompositeImage (Over) + "
             "PNG32 (8-bit RGBA) blob defaults; warm-png-level1: png:compression-level=1 "
             "and no row filter",
             (int)(end - version), version);
    return KS_OK;
}

const char *bench_magick_describe(void)
{
    return bench__magick_about;
}

static void bench__magick_release(void *data)
{
    MagickRelinquishMemory(data);
}

/* How bench__magick_run encodes. */
typedef enum { BENCH_MAGICK_PNG, BENCH_MAGICK_PNG_LEVEL1, BENCH_MAGICK_JPEG } bench__magick_save_t;

/* Composites layers onto a new canvas and encodes it as save says. */
static ks_rc bench__magick_run(bench_magick_t *side, MagickWand **layers,
                               bench__magick_save_t save, bench_output_t *out, ks_err_t *err)
{
    const bench_avatar_t *avatar = side->avatar;
    MagickWand *canvas = NewMagickWand();
    unsigned char *data = NULL;
    size_t size = 0;
    int jpeg = save == BENCH_MAGICK_JPEG;
    ks_rc rc = KS_OK;

    if (MagickNewImage(canvas, avatar->width, avatar->height, side->transparent) != MagickTrue ||
        MagickSetImageDepth(canvas, 8) != MagickTrue)
        rc = bench__magick_error(canvas, err, "MagickNewImage() at depth 8");
    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++) {
        if (MagickCompositeImage(canvas, layers[i], OverCompositeOp, avatar->layers[i].x,
                                 avatar->layers[i].y) != MagickTrue)
            rc = bench__magick_error(canvas, err, "MagickCompositeImage()");
    }
    if (rc == KS_OK && jpeg) {
        if (MagickSetImageBackgroundColor(canvas, side->background) != MagickTrue ||
            MagickSetImageAlphaChannel(canvas, RemoveAlphaChannel) != MagickTrue ||
            MagickSetImageCompressionQuality(canvas, (size_t)side->jpeg.quality) != MagickTrue)
            rc = bench__magick_error(canvas, err, "flattening onto the background");
    }
    if (rc == KS_OK && save == BENCH_MAGICK_PNG_LEVEL1 &&
        (MagickSetOption(canvas, "png:compression-level", "1") != MagickTrue ||
         MagickSetOption(canvas, "png:compression-filter", "1") != MagickTrue))
        rc = bench__magick_error(canvas, err, "MagickSetOption(png:compression-*)");
    if (rc == KS_OK && MagickSetImageFormat(canvas, jpeg ? "JPEG" : "PNG32") != MagickTrue)
        rc = bench__magick_error(canvas, err, "MagickSetImageFormat()");
    if (rc == KS_OK && (data = MagickGetImageBlob(canvas, &size)) == NULL)
        rc = bench__magick_error(canvas, err, "MagickGetImageBlob()");
    DestroyMagickWand(canvas);
    if (rc != KS_OK)
        return rc;
    if (out == NULL) {
        MagickRelinquishMemory(data);
    } else {
        out->data = data;
        out->size = size;
        out->release = bench__magick_release;
    }
    return KS_OK;
}

ks_rc bench_magick_warm_png(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_magick_t *magick = side;
    return bench__magick_run(magick, magick->layers, BENCH_MAGICK_PNG, out, err);
}

ks_rc bench_magick_warm_png_level1(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_magick_t *magick = side;
    return bench__magick_run(magick, magick->layers, BENCH_MAGICK_PNG_LEVEL1, out, err);
}

ks_rc bench_magick_jpeg(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_magick_t *magick = side;
    return bench__magick_run(magick, magick->layers, BENCH_MAGICK_JPEG, out, err);
}

/* A new wand holding the layer file at path. */
static ks_rc bench__magick_read(const char *path, MagickWand **out, ks_err_t *err)
{
    MagickWand *wand = NewMagickWand();

    if (MagickReadImage(wand, path) != MagickTrue) {
        ks_rc rc = bench__magick_error(wand, err, "MagickReadImage()");
        DestroyMagickWand(wand);
        *out = NULL;
        return rc;
    }
    *out = wand;
    return KS_OK;
}

ks_rc bench_magick_cold_decode(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_magick_t *magick = side;
    MagickWand *layers[BENCH_LAYERS] = {0};
    ks_rc rc = KS_OK;

    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++)
        rc = bench__magick_read(magick->avatar->layers[i].path, &layers[i], err);
    if (rc == KS_OK)
        rc = bench__magick_run(magick, layers, BENCH_MAGICK_PNG, out, err);
    for (int i = 0; i < BENCH_LAYERS; i++)
        if (layers[i] != NULL)
            DestroyMagickWand(layers[i]);
    return rc;
}

ks_rc bench_magick_new(const bench_avatar_t *avatar, const bench_jpeg_t *jpeg,
                       bench_magick_t **out, ks_err_t *err)
{
    bench_magick_t *side = calloc(1, sizeof *side);
    char colour[16];
    ks_rc rc = KS_OK;

    *out = NULL;
    if (side == NULL)
        return ks_err(err, KS_NOMEM, "ImageMagick side: out of memory");
    side->avatar = avatar;
    side->jpeg = *jpeg;
    side->transparent = NewPixelWand();
    side->background = NewPixelWand();
    snprintf(colour, sizeof colour, "#%02x%02x%02x", jpeg->background[0], jpeg->background[1],
             jpeg->background[2]);
    if (PixelSetColor(side->transparent, "none") != MagickTrue ||
        PixelSetColor(side->background, colour) != MagickTrue)
        rc = ks_err(err, KS_ERROR, "ImageMagick: PixelSetColor() failed");
    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++)
        rc = bench__magick_read(avatar->layers[i].path, &side->layers[i], err);
    if (rc != KS_OK) {
        bench_magick_free(side);
        return rc;
    }
    *out = side;
    return KS_OK;
}

void bench_magick_free(bench_magick_t *side)
{
    if (side == NULL)
        return;
    for (int i = 0; i < BENCH_LAYERS; i++)
        if (side->layers[i] != NULL)
            DestroyMagickWand(side->layers[i]);
    if (side->transparent != NULL)
        DestroyPixelWand(side->transparent);
    if (side->background != NULL)
        DestroyPixelWand(side->background);
    free(side);
}
