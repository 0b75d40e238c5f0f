/* compose_cli.c: kisekae-compose, the compositor from the command line.
 *
 *   kisekae-compose [--size WxH] [--thumb X,Y,W,H:OUTWxOUTH] [--jpeg QUALITY]
 *                   [--background #RRGGBB] [--level N] -o OUT LAYER.png[@X,Y][#RRGGBB] ...
 *
 * Composes the layers bottom to top (the order given) onto a transparent
 * canvas, each at its X,Y offset (default 0,0) and tinted when a colour
 * follows (compose.h), and writes an RGBA PNG, or
 * the bust-up thumbnail of a region, or a JPEG flattened onto a colour. The
 * canvas defaults to the first layer's size. Operators use it to check art;
 * tests use it to drive the same decoder, compositor, scaler and encoders as
 * the image server from outside. Exit status: 0 done, 1 bad input or a
 * failed write, 2 usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compose.h"
#include "fsutil.h"
#include "jpeg_codec.h"
#include "png_codec.h"
#include "resize.h"

#define KS_CLI_LAYERS_MAX 256
#define KS_CLI_FILE_MAX (64u << 20)
#define KS_CLI_CANVAS_MAX 8192

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kisekae-compose [--size WxH] [--thumb X,Y,W,H:OUTWxOUTH] [--jpeg QUALITY]\n"
            "                       [--background #RRGGBB] [--level N]\n"
            "                       -o OUT LAYER.png[@X,Y][#RRGGBB] ...\n"
            "\n"
            "Composes PNG layers bottom to top (\"source over\", exact premultiplied\n"
            "integer math, as the image servers do) and writes an RGBA PNG.\n"
            "  --size WxH     canvas size (default: the first layer's size; at most %d)\n"
            "  --thumb X,Y,W,H:OUTWxOUTH\n"
            "                 write the region at X,Y of WxH (inside the canvas) scaled to\n"
            "                 OUTWxOUTH with Lanczos-3 instead (the bust-up thumbnail)\n"
            "  --jpeg Q       write JPEG of quality Q (1-100), flattened onto the background\n"
            "  --background #RRGGBB\n"
            "                 the colour a JPEG is flattened onto (default #ffffff)\n"
            "  --level N      PNG compression 0-%d (default %d, the image servers' fast\n"
            "                 encoder; %d is what the size-first setting uses)\n"
            "  -o OUT         output file, written atomically\n"
            "  LAYER.png@X,Y  a layer and where its top-left corner goes (default 0,0;\n"
            "                 negative offsets and layers larger than the canvas are clipped)\n"
            "  LAYER.png#RRGGBB\n"
            "                 tint the layer: each colour channel multiplied by the colour's\n"
            "                 (white art becomes the colour, alpha unchanged), as the image\n"
            "                 servers tint a worn item's tintable layers\n"
            "Up to %d layers; each file at most %u bytes and %dx%d pixels.\n",
            KS_CLI_CANVAS_MAX, KS_PNG_LEVEL_MAX, KS_PNG_LEVEL_FAST, KS_PNG_LEVEL_SMALL,
            KS_CLI_LAYERS_MAX, KS_CLI_FILE_MAX, KS_CLI_CANVAS_MAX, KS_CLI_CANVAS_MAX);
}

/* Parses "N" into an int within [min, max]; 0 on success. */
static int parse_int(const char *s, int min, int max, int *out, char **end)
{
    long v;
    errno = 0;
    v = strtol(s, end, 10);
    if (*end == s || errno || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Splits "file.png@X,Y#RRGGBB" (both suffixes optional) into the path (in
 * place), the offset and the tint. */
static int parse_layer_arg(char *arg, int *x, int *y, uint32_t *tint)
{
    char *hash = strrchr(arg, '#'), *at, *end;
    uint32_t rgb;

    *x = *y = 0;
    *tint = KS_TINT_NONE;
    if (hash && hash > arg && ks_parse_colour(hash, &rgb)) {
        *tint = KS_TINT(rgb);
        *hash = '\0';
    }
    if (!(at = strrchr(arg, '@')))
        return 0;
    *at = '\0';
    if (parse_int(at + 1, -KS_CLI_CANVAS_MAX, KS_CLI_CANVAS_MAX, x, &end) || *end != ',' ||
        parse_int(end + 1, -KS_CLI_CANVAS_MAX, KS_CLI_CANVAS_MAX, y, &end) || *end)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    ks_image_t images[KS_CLI_LAYERS_MAX];
    ks_layer_ref_t layers[KS_CLI_LAYERS_MAX];
    const char *paths[KS_CLI_LAYERS_MAX];
    ks_image_t canvas = {0};
    ks_png_limits_t limits;
    ks_image_t thumb = {0};
    const char *out_path = NULL;
    int width = 0, height = 0, level = KS_PNG_LEVEL_FAST, count = 0, status = 1;
    int quality = 0, thumb_box[6] = {0}, want_thumb = 0, have_background = 0;
    uint32_t background = 0xffffff;
    unsigned char *file = NULL;
    size_t file_size = 0;
    ks_err_t err;

    ks_png_limits_default(&limits);
    limits.max_width = limits.max_height = KS_CLI_CANVAS_MAX;
    limits.max_decoded_bytes = (size_t)KS_CLI_CANVAS_MAX * KS_CLI_CANVAS_MAX * 4;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out_path = argv[++i];
        } else if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            if (parse_int(argv[++i], 0, KS_PNG_LEVEL_MAX, &level, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --level needs 0..%d, not \"%s\"\n",
                        KS_PNG_LEVEL_MAX, argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--jpeg") && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 100, &quality, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --jpeg needs a quality 1..100, not \"%s\"\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--background") && i + 1 < argc) {
            if (!ks_parse_colour(argv[++i], &background)) {
                fprintf(stderr, "kisekae-compose: --background needs #RRGGBB, not \"%s\"\n",
                        argv[i]);
                return 2;
            }
            have_background = 1;
        } else if (!strcmp(argv[i], "--thumb") && i + 1 < argc) {
            i++;
            char *p = argv[i];
            for (int k = 0; k < 6; k++) {
                static const char after[6] = {',', ',', ',', ':', 'x', '\0'};
                if (parse_int(p, k < 2 ? 0 : 1, k < 4 ? KS_CLI_CANVAS_MAX : KS_RESIZE_MAX,
                              &thumb_box[k], &end) || *end != after[k]) {
                    fprintf(stderr, "kisekae-compose: --thumb needs X,Y,W,H:OUTWxOUTH "
                                    "(W, H, OUTW, OUTH at least 1), not \"%s\"\n", argv[i]);
                    return 2;
                }
                p = end + 1;
            }
            want_thumb = 1;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            i++;
            if (parse_int(argv[i], 1, KS_CLI_CANVAS_MAX, &width, &end) || *end != 'x' ||
                parse_int(end + 1, 1, KS_CLI_CANVAS_MAX, &height, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --size needs WxH within 1..%d, not \"%s\"\n",
                        KS_CLI_CANVAS_MAX, argv[i]);
                return 2;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kisekae-compose: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (count == KS_CLI_LAYERS_MAX) {
            fprintf(stderr, "kisekae-compose: more than %d layers\n", KS_CLI_LAYERS_MAX);
            return 2;
        } else {
            if (parse_layer_arg(argv[i], &layers[count].x, &layers[count].y,
                                &layers[count].tint)) {
                fprintf(stderr, "kisekae-compose: \"%s\": an offset is @X,Y within +-%d\n",
                        argv[i], KS_CLI_CANVAS_MAX);
                return 2;
            }
            paths[count] = argv[i];          /* the path alone, after parse_layer_arg */
            layers[count].image = &images[count];
            count++;
        }
    }
    if (!out_path || count == 0) {
        usage(stderr);
        return 2;
    }
    if (have_background && quality == 0) {
        fprintf(stderr, "kisekae-compose: --background is for --jpeg output\n");
        return 2;
    }

    for (int i = 0; i < count; i++) {
        const char *path = paths[i];
        unsigned char *data;
        size_t size;
        if (ks_file_read(path, KS_CLI_FILE_MAX, &data, &size, &err) != KS_OK) {
            fprintf(stderr, "kisekae-compose: %s\n", err.msg);
            count = i;
            goto done;
        }
        ks_rc rc = ks_png_decode(data, size, &limits, &images[i], &err);
        free(data);
        if (rc != KS_OK) {
            fprintf(stderr, "kisekae-compose: %s: %s\n", path, err.msg);
            count = i;
            goto done;
        }
        ks_image_premultiply(&images[i]);
    }
    if (!width) {
        width = (int)images[0].width;
        height = (int)images[0].height;
    }
    if (ks_compose(layers, (size_t)count, (uint32_t)width, (uint32_t)height, &canvas, &err)) {
        fprintf(stderr, "kisekae-compose: %s\n", err.msg);
        goto done;
    }
    const ks_image_t *result = &canvas;
    if (want_thumb) {
        if (ks_image_resize(&canvas, (uint32_t)thumb_box[0], (uint32_t)thumb_box[1],
                            (uint32_t)thumb_box[2], (uint32_t)thumb_box[3],
                            (uint32_t)thumb_box[4], (uint32_t)thumb_box[5], &thumb, &err)) {
            fprintf(stderr, "kisekae-compose: --thumb: %s\n", err.msg);
            goto done;
        }
        result = &thumb;
    }
    if ((quality ? ks_jpeg_encode(result, background, quality, &file, &file_size, &err)
                 : ks_png_encode(result, level, &file, &file_size, &err)) ||
        ks_file_write_atomic(out_path, file, file_size, &err)) {
        fprintf(stderr, "kisekae-compose: %s\n", err.msg);
        goto done;
    }
    status = 0;
done:
    for (int i = 0; i < count; i++)
        ks_image_free(&images[i]);
    ks_image_free(&canvas);
    ks_image_free(&thumb);
    free(file);
    return status;
}
