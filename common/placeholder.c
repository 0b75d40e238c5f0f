/* placeholder.c: the stand-in picture (placeholder.h). The silhouette is a
 * head and shoulders in light grey on transparency, drawn with 4x4
 * supersampling so its edges are smooth, then encoded by the same PNG
 * encoder as avatars. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include "fsutil.h"
#include "placeholder.h"
#include "png_codec.h"

#define PLACEHOLDER_MAX 4096
#define SUBSAMPLES 4

/* 1 when the point (x, y), in units of the image's width w and height h, is
 * inside the silhouette: a circle for the head and a rounded body below. */
static int inside(double x, double y, double w, double h)
{
    double hx = (x - w * 0.5) / (w * 0.17), hy = (y - h * 0.30) / (w * 0.17);
    double bx = (x - w * 0.5) / (w * 0.36), by = (y - h * 0.82) / (h * 0.30);

    if (hx * hx + hy * hy <= 1.0)
        return 1;
    return y >= h * 0.52 && y <= h * 0.98 && bx * bx + (by < 0 ? by * by : 0) <= 1.0;
}

ks_rc ks_placeholder_draw(unsigned width, unsigned height, unsigned char **png, size_t *size,
                          ks_err_t *err)
{
    ks_image_t img;
    ks_rc rc;

    *png = NULL;
    if (width < 1 || height < 1 || width > PLACEHOLDER_MAX || height > PLACEHOLDER_MAX)
        return ks_err(err, KS_INVALID, "a placeholder is 1..%d pixels a side, not %ux%u",
                      PLACEHOLDER_MAX, width, height);
    if ((rc = ks_image_alloc(&img, width, height, err)) != KS_OK)
        return rc;
    img.premultiplied = 1;
    for (unsigned y = 0; y < height; y++) {
        for (unsigned x = 0; x < width; x++) {
            int hits = 0;
            for (int sy = 0; sy < SUBSAMPLES; sy++)
                for (int sx = 0; sx < SUBSAMPLES; sx++)
                    hits += inside(x + (sx + 0.5) / SUBSAMPLES, y + (sy + 0.5) / SUBSAMPLES,
                                   width, height);
            unsigned alpha = (unsigned)(hits * 255 + SUBSAMPLES * SUBSAMPLES / 2) /
                             (SUBSAMPLES * SUBSAMPLES);
            unsigned char *p = img.pixels + (size_t)y * img.stride + (size_t)x * 4;
            p[0] = p[1] = (unsigned char)(alpha * 0xc4 / 255);   /* #c4c4cc, premultiplied */
            p[2] = (unsigned char)(alpha * 0xcc / 255);
            p[3] = (unsigned char)alpha;
        }
    }
    rc = ks_png_encode(&img, KS_PNG_LEVEL_SMALL, png, size, err);
    ks_image_free(&img);
    return rc;
}

ks_rc ks_placeholder_load(const char *path, unsigned width, unsigned height,
                          unsigned char **png, size_t *size, ks_err_t *err)
{
    ks_png_limits_t limits;
    ks_image_t check;
    ks_rc rc;

    if (!path || !*path)
        return ks_placeholder_draw(width, height, png, size, err);
    if ((rc = ks_file_read(path, 16u << 20, png, size, err)) != KS_OK)
        return rc;
    ks_png_limits_default(&limits);
    limits.max_width = limits.max_height = PLACEHOLDER_MAX;
    if ((rc = ks_png_decode(*png, *size, &limits, &check, err)) != KS_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        free(*png);
        *png = NULL;
        return ks_err(err, rc, "placeholder_png \"%s\": %s", path, why);
    }
    ks_image_free(&check);
    return KS_OK;
}

ks_rc ks_placeholder_publish(const char *dir, unsigned char *const png[2], const size_t size[2],
                             ks_err_t *err)
{
    static const char *const names[2] = {"avatar.png", "thumb.png"};
    char path[PATH_MAX];
    ks_rc rc;

    if ((rc = ks_mkdir_p(dir, err)) != KS_OK)
        return rc;
    for (int i = 0; i < 2; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path)
            return ks_err(err, KS_INVALID, "placeholder folder path too long: %s", dir);
        if ((rc = ks_file_write_atomic(path, png[i], size[i], err)) != KS_OK)
            return rc;
    }
    return KS_OK;
}
