/* compose_cli.c: kisekae-compose, the compositor from the command line.
 *
 *   kisekae-compose [--size WxH] [--thumb X,Y,W,H:OUTWxOUTH] [--jpeg QUALITY]
 *                   [--background #RRGGBB] [--level N] -o OUT LAYER.png[@X,Y][#RRGGBB] ...
 *   kisekae-compose [--size WxH] [--level N] -o OUT.png --frame MS LAYER... --frame MS LAYER...
 *
 * Composes the layers bottom to top (the order given) onto a transparent
 * canvas, each at its X,Y offset (default 0,0) and tinted when a colour
 * follows (compose.h), and writes an RGBA PNG, or an animated PNG of frames
 * (each composed of the layers after its --frame, shown for MS ms), or
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
            "       kisekae-compose [--size WxH] [--level N] -o OUT.png\n"
            "                       --frame MS LAYER... [--frame MS LAYER...]...\n"
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
            "  --frame MS     start a frame of an animated PNG (APNG, full alpha), shown\n"
            "                 for MS milliseconds (1..%d) and composed of the layers\n"
            "                 that follow it; up to %d frames, looping forever\n"
            "Up to %d layers; each file at most %u bytes and %dx%d pixels.\n",
            KS_CLI_CANVAS_MAX, KS_PNG_LEVEL_MAX, KS_PNG_LEVEL_FAST, KS_PNG_LEVEL_SMALL,
            KS_APNG_DELAY_MAX_MS, KS_APNG_FRAMES_MAX, KS_CLI_LAYERS_MAX, KS_CLI_FILE_MAX, KS_CLI_CANVAS_MAX, KS_CLI_CANVAS_MAX);
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

/* What the command line asks. */
typedef struct {
    const char *out_path;
    int width, height, level, quality, want_thumb, have_background;
    int thumb_box[6];
    uint32_t background;
    int count;                                  /* layers */
    const char *paths[KS_CLI_LAYERS_MAX];
    ks_layer_ref_t layers[KS_CLI_LAYERS_MAX];
    int frame_count;                            /* 0: a still image */
    int frame_first[KS_APNG_FRAMES_MAX];        /* its first layer */
    unsigned delays_ms[KS_APNG_FRAMES_MAX];
} cli_t;

/* Fills cli from argv (layer images not loaded yet). Returns 0 to go on, 1
 * after --help (exit 0), 2 on a usage error (said on stderr). */
static int parse_args(int argc, char **argv, cli_t *cli)
{
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            cli->out_path = argv[++i];
        } else if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            if (parse_int(argv[++i], 0, KS_PNG_LEVEL_MAX, &cli->level, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --level needs 0..%d, not \"%s\"\n",
                        KS_PNG_LEVEL_MAX, argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--jpeg") && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 100, &cli->quality, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --jpeg needs a quality 1..100, not \"%s\"\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--background") && i + 1 < argc) {
            if (!ks_parse_colour(argv[++i], &cli->background)) {
                fprintf(stderr, "kisekae-compose: --background needs #RRGGBB, not \"%s\"\n",
                        argv[i]);
                return 2;
            }
            cli->have_background = 1;
        } else if (!strcmp(argv[i], "--thumb") && i + 1 < argc) {
            i++;
            char *p = argv[i];
            for (int k = 0; k < 6; k++) {
                static const char after[6] = {',', ',', ',', ':', 'x', '\0'};
                if (parse_int(p, k < 2 ? 0 : 1, k < 4 ? KS_CLI_CANVAS_MAX : KS_RESIZE_MAX,
                              &cli->thumb_box[k], &end) || *end != after[k]) {
                    fprintf(stderr, "kisekae-compose: --thumb needs X,Y,W,H:OUTWxOUTH "
                                    "(W, H, OUTW, OUTH at least 1), not \"%s\"\n", argv[i]);
                    return 2;
                }
                p = end + 1;
            }
            cli->want_thumb = 1;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            i++;
            if (parse_int(argv[i], 1, KS_CLI_CANVAS_MAX, &cli->width, &end) || *end != 'x' ||
                parse_int(end + 1, 1, KS_CLI_CANVAS_MAX, &cli->height, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --size needs WxH within 1..%d, not \"%s\"\n",
                        KS_CLI_CANVAS_MAX, argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--frame") && i + 1 < argc) {
            int delay;
            if (cli->frame_count == KS_APNG_FRAMES_MAX ||
                parse_int(argv[++i], 1, KS_APNG_DELAY_MAX_MS, &delay, &end) || *end) {
                fprintf(stderr, "kisekae-compose: --frame needs a delay of 1..%d ms, not "
                        "\"%s\" (at most %d frames)\n", KS_APNG_DELAY_MAX_MS, argv[i],
                        KS_APNG_FRAMES_MAX);
                return 2;
            }
            cli->frame_first[cli->frame_count] = cli->count;
            cli->delays_ms[cli->frame_count++] = (unsigned)delay;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kisekae-compose: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (cli->count == KS_CLI_LAYERS_MAX) {
            fprintf(stderr, "kisekae-compose: more than %d layers\n", KS_CLI_LAYERS_MAX);
            return 2;
        } else {
            ks_layer_ref_t *layer = &cli->layers[cli->count];
            if (parse_layer_arg(argv[i], &layer->x, &layer->y, &layer->tint)) {
                fprintf(stderr, "kisekae-compose: \"%s\": an offset is @X,Y within +-%d\n",
                        argv[i], KS_CLI_CANVAS_MAX);
                return 2;
            }
            cli->paths[cli->count++] = argv[i];   /* the path alone, after parse_layer_arg */
        }
    }
    if (!cli->out_path || cli->count == 0) {
        usage(stderr);
        return 2;
    }
    if (cli->have_background && cli->quality == 0) {
        fprintf(stderr, "kisekae-compose: --background is for --jpeg output\n");
        return 2;
    }
    if (cli->frame_count > 0) {
        if (cli->quality || cli->want_thumb) {
            fprintf(stderr, "kisekae-compose: --frame makes an animated PNG: no --jpeg or "
                            "--thumb\n");
            return 2;
        }
        if (cli->frame_first[0] != 0) {
            fprintf(stderr, "kisekae-compose: with --frame, every layer follows a --frame\n");
            return 2;
        }
        for (int f = 0; f < cli->frame_count; f++)
            if ((f + 1 < cli->frame_count ? cli->frame_first[f + 1] : cli->count) ==
                cli->frame_first[f]) {
                fprintf(stderr, "kisekae-compose: frame %d has no layer\n", f + 1);
                return 2;
            }
    }
    return 0;
}

/* Reads and decodes the layer files into images (premultiplied). Returns how
 * many it loaded, all of them or up to the one that failed (said on
 * stderr). */
static int load_layers(cli_t *cli, ks_image_t *images)
{
    ks_png_limits_t limits;
    ks_err_t err;

    ks_png_limits_default(&limits);
    limits.max_width = limits.max_height = KS_CLI_CANVAS_MAX;
    limits.max_decoded_bytes = (size_t)KS_CLI_CANVAS_MAX * KS_CLI_CANVAS_MAX * 4;
    for (int i = 0; i < cli->count; i++) {
        unsigned char *data;
        size_t size;
        if (ks_file_read(cli->paths[i], KS_CLI_FILE_MAX, &data, &size, &err) != KS_OK) {
            fprintf(stderr, "kisekae-compose: %s\n", err.msg);
            return i;
        }
        ks_rc rc = ks_png_decode(data, size, &limits, &images[i], &err);
        free(data);
        if (rc != KS_OK) {
            fprintf(stderr, "kisekae-compose: %s: %s\n", cli->paths[i], err.msg);
            return i;
        }
        ks_image_premultiply(&images[i]);
        cli->layers[i].image = &images[i];
    }
    return cli->count;
}

/* Composes each frame and encodes them as one APNG into *file. */
static ks_rc encode_animation(const cli_t *cli, unsigned char **file, size_t *file_size,
                              ks_err_t *err)
{
    ks_image_t frames[KS_APNG_FRAMES_MAX] = {{0}};
    ks_rc rc = KS_OK;
    int f;

    for (f = 0; f < cli->frame_count && rc == KS_OK; f++) {
        int first = cli->frame_first[f];
        int end = f + 1 < cli->frame_count ? cli->frame_first[f + 1] : cli->count;
        rc = ks_compose(&cli->layers[first], (size_t)(end - first), (uint32_t)cli->width,
                        (uint32_t)cli->height, &frames[f], err);
    }
    if (rc == KS_OK)
        rc = ks_apng_encode(frames, cli->delays_ms, (size_t)cli->frame_count, cli->level, file,
                            file_size, err);
    while (f-- > 0)
        ks_image_free(&frames[f]);
    return rc;
}

/* Composes the still image (or its thumbnail) and encodes it into *file. */
static ks_rc encode_still(const cli_t *cli, unsigned char **file, size_t *file_size,
                          ks_err_t *err)
{
    ks_image_t canvas = {0}, thumb = {0};
    const ks_image_t *result = &canvas;
    ks_rc rc = ks_compose(cli->layers, (size_t)cli->count, (uint32_t)cli->width,
                          (uint32_t)cli->height, &canvas, err);
    const int *box = cli->thumb_box;

    if (rc == KS_OK && cli->want_thumb) {
        rc = ks_image_resize(&canvas, (uint32_t)box[0], (uint32_t)box[1], (uint32_t)box[2],
                             (uint32_t)box[3], (uint32_t)box[4], (uint32_t)box[5], &thumb, err);
        result = &thumb;
    }
    if (rc == KS_OK)
        rc = cli->quality ? ks_jpeg_encode(result, cli->background, cli->quality, file,
                                           file_size, err)
                          : ks_png_encode(result, cli->level, file, file_size, err);
    ks_image_free(&canvas);
    ks_image_free(&thumb);
    return rc;
}

int main(int argc, char **argv)
{
    static cli_t cli = {.level = KS_PNG_LEVEL_FAST, .background = 0xffffff};
    static ks_image_t images[KS_CLI_LAYERS_MAX];
    unsigned char *file = NULL;
    size_t file_size = 0;
    int loaded, status = 1, rc;
    ks_err_t err;

    if ((rc = parse_args(argc, argv, &cli)) != 0)
        return rc == 1 ? 0 : 2;
    if ((loaded = load_layers(&cli, images)) == cli.count) {
        if (!cli.width) {
            cli.width = (int)images[0].width;
            cli.height = (int)images[0].height;
        }
        if ((cli.frame_count ? encode_animation(&cli, &file, &file_size, &err)
                             : encode_still(&cli, &file, &file_size, &err)) != KS_OK ||
            ks_file_write_atomic(cli.out_path, file, file_size, &err) != KS_OK)
            fprintf(stderr, "kisekae-compose: %s\n", err.msg);
        else
            status = 0;
    }
    for (int i = 0; i < loaded; i++)
        ks_image_free(&images[i]);
    free(file);
    return status;
}
