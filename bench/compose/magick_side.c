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
 * encodes JPEG at the bench's quality. Cold: MagickReadImage() of each layer
 * for every composite. Warm: each layer's wand was read once and is reused.
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
             "PNG blob defaults",
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

/* Composites layers onto a new canvas and encodes it. */
static ks_rc bench__magick_run(bench_magick_t *side, MagickWand **layers, int jpeg,
                               bench_output_t *out, ks_err_t *err)
{
    const bench_avatar_t *avatar = side->avatar;
    MagickWand *canvas = NewMagickWand();
    unsigned char *data = NULL;
    size_t size = 0;
    ks_rc rc = KS_OK;

    if (MagickNewImage(canvas, avatar->width, avatar->height, side->transparent) != MagickTrue)
        rc = bench__magick_error(canvas, err, "MagickNewImage()");
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
    if (rc == KS_OK && MagickSetImageFormat(canvas, jpeg ? "JPEG" : "PNG") != MagickTrue)
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
    return bench__magick_run(magick, magick->layers, 0, out, err);
}

ks_rc bench_magick_jpeg(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_magick_t *magick = side;
    return bench__magick_run(magick, magick->layers, 1, out, err);
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

ks_rc bench_magick_cold_png(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_magick_t *magick = side;
    MagickWand *layers[BENCH_LAYERS] = {0};
    ks_rc rc = KS_OK;

    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++)
        rc = bench__magick_read(magick->avatar->layers[i].path, &layers[i], err);
    if (rc == KS_OK)
        rc = bench__magick_run(magick, layers, 0, out, err);
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
