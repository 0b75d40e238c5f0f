/* vips_side.c: the bench's work done with libvips, through its C API.
 *
 * Settings: one worker thread (vips_concurrency_set(1)) and the operation
 * cache off (vips_cache_set_max(0)). With the cache on, loading the same
 * file again and compositing the same images again would be cache hits:
 * an image server's composites differ every time, so every one here does
 * the work. Everything else is left at libvips's defaults.
 *
 * A composite is one vips_composite() of a transparent canvas and the ten
 * layers (mode OVER for each, their offsets as x/y), then
 * vips_pngsave_buffer() with its defaults; the JPEG case flattens onto the
 * background with vips_flatten() and saves with vips_jpegsave_buffer() at
 * the bench's quality. Cold (cold-decode): each layer's PNG is
 * vips_image_new_from_file() for every composite, so it is decoded every
 * time. cold-v: each layer was saved once in libvips's own .v format
 * (uncompressed, memory-mappable: the peer of kisekae's .kl layer files)
 * and is vips_image_new_from_file() of that file for every composite.
 * Warm: each layer was loaded once and copied to memory with
 * vips_image_copy_memory(). warm-png-level1 saves with compression=1 and
 * filter none (kisekae's level 1 has no row filter either); the other PNG
 * cases with libvips's defaults.
 */
#include "bench.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

struct bench_vips {
    const bench_avatar_t *avatar;
    bench_jpeg_t jpeg;
    VipsImage *canvas;                    /* transparent sRGB, in memory */
    VipsImage *layers[BENCH_LAYERS];      /* warm: decoded, in memory */
    char v_paths[BENCH_LAYERS][PATH_MAX]; /* cold-v: the layers as .v files */
    VipsArrayInt *x, *y;                  /* the layers' offsets */
    int modes[BENCH_LAYERS];              /* VIPS_BLEND_MODE_OVER */
};

static char bench__vips_about[256];

/* Moves libvips's error buffer into err. */
static ks_rc bench__vips_error(ks_err_t *err, const char *what)
{
    char text[KS_ERR_MAX];
    size_t length;

    snprintf(text, sizeof text, "%s", vips_error_buffer());
    vips_error_clear();
    length = strlen(text);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == ' '))
        text[--length] = '\0';
    return ks_err(err, KS_ERROR, "libvips: %s failed: %s", what, text);
}

ks_rc bench_vips_init(const char *argv0, ks_err_t *err)
{
    if (VIPS_INIT(argv0))
        return bench__vips_error(err, "VIPS_INIT()");
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    snprintf(bench__vips_about, sizeof bench__vips_about,
             "libvips %s: C API in process, concurrency 1, operation cache off; "
             "vips_composite (OVER) + vips_pngsave_buffer defaults; warm-png-level1: "
             "compression=1 filter=none; cold-v: layers mapped from .v files",
             vips_version_string());
    return KS_OK;
}

const char *bench_vips_describe(void)
{
    return bench__vips_about;
}

static void bench__vips_release(void *data)
{
    g_free(data);
}

/* How bench__vips_run saves. */
typedef enum { BENCH_VIPS_PNG, BENCH_VIPS_PNG_LEVEL1, BENCH_VIPS_JPEG } bench__vips_save_t;

/* Composites layers (canvas first) and saves as save says. */
static ks_rc bench__vips_run(bench_vips_t *side, VipsImage **layers, bench__vips_save_t save,
                             bench_output_t *out, ks_err_t *err)
{
    VipsImage *in[BENCH_LAYERS + 1], *composite = NULL, *flat = NULL;
    void *data = NULL;
    size_t size = 0;
    ks_rc rc = KS_OK;

    in[0] = side->canvas;
    memcpy(in + 1, layers, sizeof(VipsImage *) * BENCH_LAYERS);
    if (vips_composite(in, &composite, BENCH_LAYERS + 1, side->modes, "x", side->x, "y",
                       side->y, NULL))
        return bench__vips_error(err, "vips_composite()");
    if (save == BENCH_VIPS_PNG) {
        if (vips_pngsave_buffer(composite, &data, &size, NULL))
            rc = bench__vips_error(err, "vips_pngsave_buffer()");
    } else if (save == BENCH_VIPS_PNG_LEVEL1) {
        if (vips_pngsave_buffer(composite, &data, &size, "compression", 1, "filter",
                                VIPS_FOREIGN_PNG_FILTER_NONE, NULL))
            rc = bench__vips_error(err, "vips_pngsave_buffer(compression=1)");
    } else {
        VipsArrayDouble *background = vips_array_double_newv(
            3, (double)side->jpeg.background[0], (double)side->jpeg.background[1],
            (double)side->jpeg.background[2]);
        if (vips_flatten(composite, &flat, "background", background, NULL))
            rc = bench__vips_error(err, "vips_flatten()");
        else if (vips_jpegsave_buffer(flat, &data, &size, "Q", side->jpeg.quality, NULL))
            rc = bench__vips_error(err, "vips_jpegsave_buffer()");
        vips_area_unref(VIPS_AREA(background));
    }
    if (flat != NULL)
        g_object_unref(flat);
    g_object_unref(composite);
    if (rc != KS_OK)
        return rc;
    if (out == NULL) {
        g_free(data);
    } else {
        out->data = data;
        out->size = size;
        out->release = bench__vips_release;
    }
    return KS_OK;
}

ks_rc bench_vips_warm_png(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_vips_t *vips = side;
    return bench__vips_run(vips, vips->layers, BENCH_VIPS_PNG, out, err);
}

ks_rc bench_vips_warm_png_level1(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_vips_t *vips = side;
    return bench__vips_run(vips, vips->layers, BENCH_VIPS_PNG_LEVEL1, out, err);
}

ks_rc bench_vips_jpeg(void *side, bench_output_t *out, ks_err_t *err)
{
    bench_vips_t *vips = side;
    return bench__vips_run(vips, vips->layers, BENCH_VIPS_JPEG, out, err);
}

/* Opens each layer from its file in paths (PNG or .v) and composites. */
static ks_rc bench__vips_cold(bench_vips_t *vips, int v_files, bench_output_t *out,
                              ks_err_t *err)
{
    VipsImage *layers[BENCH_LAYERS] = {0};
    ks_rc rc = KS_OK;

    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++) {
        layers[i] = vips_image_new_from_file(v_files ? vips->v_paths[i]
                                                     : vips->avatar->layers[i].path, NULL);
        if (layers[i] == NULL)
            rc = bench__vips_error(err, "vips_image_new_from_file()");
    }
    if (rc == KS_OK)
        rc = bench__vips_run(vips, layers, BENCH_VIPS_PNG, out, err);
    for (int i = 0; i < BENCH_LAYERS; i++)
        if (layers[i] != NULL)
            g_object_unref(layers[i]);
    return rc;
}

ks_rc bench_vips_cold_decode(void *side, bench_output_t *out, ks_err_t *err)
{
    return bench__vips_cold(side, 0, out, err);
}

ks_rc bench_vips_cold_v(void *side, bench_output_t *out, ks_err_t *err)
{
    return bench__vips_cold(side, 1, out, err);
}

ks_rc bench_vips_new(const bench_avatar_t *avatar, const bench_jpeg_t *jpeg,
                     bench_vips_t **out, ks_err_t *err)
{
    bench_vips_t *side = calloc(1, sizeof *side);
    VipsImage *black = NULL, *canvas = NULL;
    int x[BENCH_LAYERS], y[BENCH_LAYERS];
    ks_rc rc = KS_OK;

    *out = NULL;
    if (side == NULL)
        return ks_err(err, KS_NOMEM, "libvips side: out of memory");
    side->avatar = avatar;
    side->jpeg = *jpeg;
    for (int i = 0; i < BENCH_LAYERS; i++) {
        x[i] = avatar->layers[i].x;
        y[i] = avatar->layers[i].y;
        side->modes[i] = VIPS_BLEND_MODE_OVER;
    }
    side->x = vips_array_int_new(x, BENCH_LAYERS);
    side->y = vips_array_int_new(y, BENCH_LAYERS);

    /* vips_black() makes a multiband image; composite wants it to be sRGB. */
    if (vips_black(&black, (int)avatar->width, (int)avatar->height, "bands", 4, NULL) ||
        vips_copy(black, &canvas, "interpretation", VIPS_INTERPRETATION_sRGB, NULL) ||
        (side->canvas = vips_image_copy_memory(canvas)) == NULL)
        rc = bench__vips_error(err, "making the canvas");
    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++) {
        VipsImage *file = vips_image_new_from_file(avatar->layers[i].path, NULL);
        int length = snprintf(side->v_paths[i], sizeof side->v_paths[i], "%s/layer-%02d.v",
                              avatar->out_dir, i);
        if (length < 0 || (size_t)length >= sizeof side->v_paths[i])
            rc = ks_err(err, KS_INVALID, "libvips side: %s: path too long", avatar->out_dir);
        else if (file == NULL || (side->layers[i] = vips_image_copy_memory(file)) == NULL)
            rc = bench__vips_error(err, "loading a layer");
        else if (vips_image_write_to_file(side->layers[i], side->v_paths[i], NULL))
            rc = bench__vips_error(err, "writing a layer as .v");
        if (file != NULL)
            g_object_unref(file);
    }
    if (black != NULL)
        g_object_unref(black);
    if (canvas != NULL)
        g_object_unref(canvas);
    if (rc != KS_OK) {
        bench_vips_free(side);
        return rc;
    }
    *out = side;
    return KS_OK;
}

void bench_vips_free(bench_vips_t *side)
{
    if (side == NULL)
        return;
    for (int i = 0; i < BENCH_LAYERS; i++)
        if (side->layers[i] != NULL)
            g_object_unref(side->layers[i]);
    if (side->canvas != NULL)
        g_object_unref(side->canvas);
    if (side->x != NULL)
        vips_area_unref(VIPS_AREA(side->x));
    if (side->y != NULL)
        vips_area_unref(VIPS_AREA(side->y));
    free(side);
}

ks_rc bench_vips_decode(const bench_output_t *encoded, uint8_t **rgba, uint32_t *width,
                        uint32_t *height, ks_err_t *err)
{
    VipsImage *image = vips_image_new_from_buffer(encoded->data, encoded->size, "", NULL);
    VipsImage *srgb = NULL, *with_alpha = NULL, *uchar = NULL;
    size_t size = 0;
    void *pixels = NULL;

    *rgba = NULL;
    if (image == NULL)
        return bench__vips_error(err, "vips_image_new_from_buffer()");
    int failed = vips_colourspace(image, &srgb, VIPS_INTERPRETATION_sRGB, NULL);

    if (!failed && srgb->Bands == 4) {
        with_alpha = srgb;
        g_object_ref(with_alpha);
    } else if (!failed) {
        failed = vips_bandjoin_const1(srgb, &with_alpha, 255.0, NULL);
    }
    if (!failed && vips_cast_uchar(with_alpha, &uchar, NULL) == 0)
        pixels = vips_image_write_to_memory(uchar, &size);
    if (pixels != NULL) {
        *width = (uint32_t)uchar->Xsize;
        *height = (uint32_t)uchar->Ysize;
    }
    if (uchar != NULL)
        g_object_unref(uchar);
    if (with_alpha != NULL)
        g_object_unref(with_alpha);
    if (srgb != NULL)
        g_object_unref(srgb);
    g_object_unref(image);
    if (pixels == NULL)
        return bench__vips_error(err, "decoding an output");
    if (size != (size_t)*width * *height * 4) {
        g_free(pixels);
        return ks_err(err, KS_ERROR, "libvips decoded %zu bytes for %ux%u RGBA", size, *width,
                      *height);
    }
    /* malloc'd memory for the caller, like the other decoders. */
    *rgba = malloc(size);
    if (*rgba != NULL)
        memcpy(*rgba, pixels, size);
    g_free(pixels);
    return *rgba != NULL ? KS_OK : ks_err(err, KS_NOMEM, "out of memory");
}
