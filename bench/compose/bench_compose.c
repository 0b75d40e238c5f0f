/* bench_compose.c: bench-compose, kisekae's compositor against libvips and
 * ImageMagick, in one run (bench/compose/run.sh drives it; see README.md).
 *
 *   bench-compose --inputs DIR --work DIR [options]     (--help lists them)
 *
 * 1. Prepares each avatar (240x320 and 480x640) from INPUTS/<size>/layer-
 *    NN.png, ten full-canvas RGBA layers, bottom first: each layer is trimmed
 *    to its bounding box and encoded as kisekae's API server stores it
 *    (ks_image_trim, ks_png_encode level 9), and put into an image server's
 *    item store under WORK/<size>/store as the API server's PUT would. Every
 *    implementation reads those same PNG files and places them at their
 *    offsets on a transparent canvas.
 * 2. Runs every case once and checks the outputs show the same picture: each
 *    PNG against kisekae's warm output within a few levels per channel
 *    (premultiplied), each JPEG against that picture flattened onto the
 *    background. A failed check stops the bench: it never compares different
 *    work.
 * 3. Times the cases in interleaved rounds (each round runs every case for a
 *    fixed time, starting one case further each round) and takes the median
 *    of the rounds: the machine is shared and noisy. The time is CPU time,
 *    this process's (all its threads) plus its finished children's (the cli
 *    cases), so what other programs run on the same core does not count;
 *    wall-clock rates are printed beside, and include what CPU time leaves
 *    out, such as a process waiting for its fsync().
 * 4. Prints a table of composites per CPU second and output bytes, then one
 *    line per figure: `ratio CASE SIZE vs OTHER: R (size S.SSx)`, R being
 *    kisekae's composites per second over the other's and S kisekae's output
 *    bytes over the other's.
 *
 * Single thread throughout; run.sh pins the process to one core.
 */
#include "bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "fsutil.h"
#include "image.h"
#include "item_store.h"
#include "png_codec.h"

#define BENCH_AVATARS 2
#define BENCH_ROUNDS_MAX 15
#define BENCH_CASES_MAX 32
#define BENCH_FILE_MAX ((size_t)64 << 20)
#define BENCH_PNG_DIFF_MAX 3       /* levels per premultiplied channel */
#define BENCH_JPEG_MEAN_DIFF_MAX 5.0   /* 4:2:0 at quality 85 gives about 2.5 */
/* The largest difference of any JPEG channel. Measured with the bench's
 * avatars at quality 85: 96 (kisekae), 99 (libvips), 97 (ImageMagick), the
 * same for all three because all use 4:2:0 chroma subsampling, which
 * smears colour across the sharp edges of the art (an outline against a
 * saturated fill) by that much. 112 leaves about 13% over the worst
 * measured; a different picture (a layer missing or misplaced, a wrong
 * background) puts full-contrast edges where there were none and goes over
 * it or over the mean. */
#define BENCH_JPEG_MAX_DIFF_MAX 112
#define BENCH_WARMUP_S 0.15

static const struct {
    const char *label;
    uint32_t width, height;
} bench_sizes[BENCH_AVATARS] = { { "240x320", 240, 320 }, { "480x640", 480, 640 } };

typedef enum { BENCH_PNG, BENCH_JPEG } bench_format_t;

typedef struct {
    const char *name;                  /* "warm-png" */
    int avatar;                        /* index into bench_sizes */
    const char *impl;                  /* "kisekae", "libvips", "imagemagick", "vips-cli" */
    bench_format_t format;
    bench_run_fn run;
    void *state;
    bench_output_t output;             /* from the first run */
    double rates[BENCH_ROUNDS_MAX];    /* composites per CPU second, per round */
    double wall_rates[BENCH_ROUNDS_MAX];
    double median, low, high, wall_median;
} bench_case_t;

typedef struct {
    const char *inputs, *work;
    double seconds;                    /* per case and round */
    int rounds;
    bench_jpeg_t jpeg;
    const char *kisekae_compose, *vips, *convert;
} bench_options_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench-compose --inputs DIR --work DIR [options]\n"
            "\n"
            "Composites 10-layer avatars (DIR/240x320/layer-00.png .. layer-09.png and\n"
            "DIR/480x640/...) with kisekae, libvips and ImageMagick on one thread and\n"
            "prints composites per CPU second, output sizes and the ratios.\n"
            "bench/compose/run.sh (./kisekae bench compose) draws the inputs, builds and\n"
            "runs it.\n"
            "  --inputs DIR           the full-canvas layers, bottom first\n"
            "  --work DIR             where the trimmed layers and outputs go\n"
            "  --seconds S            CPU time per case and round (default 0.4)\n"
            "  --rounds N             rounds; the median is reported (default 5, at most %d)\n"
            "  --quality Q            JPEG quality for every implementation (default 85)\n"
            "  --background RRGGBB    JPEG background colour (default e8f0ff)\n"
            "  --kisekae-compose PATH the kisekae-compose binary (no CLI figures without it)\n"
            "  --vips PATH            the vips command line tool\n"
            "  --convert PATH         ImageMagick's convert\n",
            BENCH_ROUNDS_MAX);
}

void bench_output_free(bench_output_t *out)
{
    if (out->data != NULL && out->release != NULL)
        out->release(out->data);
    memset(out, 0, sizeof *out);
}

static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds used so far by this process and its waited-for children. */
static double bench_cpu_now(void)
{
    struct timespec t;
    struct rusage children;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    getrusage(RUSAGE_CHILDREN, &children);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9
           + (double)(children.ru_utime.tv_sec + children.ru_stime.tv_sec)
           + (double)(children.ru_utime.tv_usec + children.ru_stime.tv_usec) / 1e6;
}

/* ---- step 1: the inputs as kisekae stores them ---------------------------- */

static ks_rc bench_path(char *out, size_t size, ks_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ks_rc bench_path(char *out, size_t size, ks_err_t *err, const char *fmt, ...)
{
    va_list args;
    int length;

    va_start(args, fmt);
    length = vsnprintf(out, size, fmt, args);
    va_end(args);
    if (length < 0 || (size_t)length >= size)
        return ks_err(err, KS_INVALID, "path too long: \"%.64s...\"", out);
    return KS_OK;
}

/* Trims one full-canvas layer file and puts it into store as item i + 1,
 * layer 0: the PUT an image server gets from the API server. */
static ks_rc bench_prepare_layer(const char *source, ks_item_store_t *store,
                                 bench_avatar_t *avatar, int i, ks_err_t *err)
{
    bench_layer_t *layer = &avatar->layers[i];
    ks_image_t full = {0}, trimmed = {0};
    ks_png_limits_t limits;
    unsigned char *data = NULL, *png = NULL;
    size_t size = 0, png_size = 0;
    ks_err_t why;
    ks_rc rc;

    ks_png_limits_default(&limits);
    layer->item_id = i + 1;
    rc = bench_path(layer->path, sizeof layer->path, err, "%s/items/%d/0.png",
                    avatar->store_dir, layer->item_id);
    if (rc == KS_OK)
        rc = ks_file_read(source, BENCH_FILE_MAX, &data, &size, err);
    if (rc == KS_OK && (rc = ks_png_decode(data, size, &limits, &full, &why)) != KS_OK)
        ks_err(err, rc, "%s: %s", source, why.msg);
    if (rc == KS_OK && (full.width != avatar->width || full.height != avatar->height))
        rc = ks_err(err, KS_INVALID, "%s: %ux%u, not the canvas %s", source, full.width,
                    full.height, avatar->label);
    if (rc == KS_OK && (rc = ks_image_trim(&full, &trimmed, &layer->x, &layer->y, &why)) != KS_OK)
        ks_err(err, rc, "%s: %s", source, why.msg);
    if (rc == KS_OK)
        rc = ks_png_encode(&trimmed, 9, &png, &png_size, err);   /* as api-server/op_catalog.c */
    if (rc == KS_OK) {
        layer->width = trimmed.width;
        layer->height = trimmed.height;
        ks_sha256_hex(png, png_size, layer->sha256);
        rc = ks_item_store_put(store, layer->item_id, 0, png, png_size, layer->sha256, err);
    }
    free(data);
    free(png);
    ks_image_free(&full);
    ks_image_free(&trimmed);
    return rc;
}

static ks_rc bench_prepare(const bench_options_t *options, int index, bench_avatar_t *avatar,
                           ks_err_t *err)
{
    ks_item_store_options_t store_options = { .max_layer_bytes = BENCH_FILE_MAX };
    ks_item_store_t *store = NULL;
    ks_image_t canvas = {0};
    unsigned char *png = NULL;
    size_t png_size = 0;
    ks_rc rc;

    memset(avatar, 0, sizeof *avatar);
    snprintf(avatar->label, sizeof avatar->label, "%s", bench_sizes[index].label);
    avatar->width = bench_sizes[index].width;
    avatar->height = bench_sizes[index].height;
    if ((rc = bench_path(avatar->store_dir, sizeof avatar->store_dir, err, "%s/%s/store",
                         options->work, avatar->label)) != KS_OK ||
        (rc = bench_path(avatar->out_dir, sizeof avatar->out_dir, err, "%s/%s/out",
                         options->work, avatar->label)) != KS_OK ||
        (rc = bench_path(avatar->canvas_path, sizeof avatar->canvas_path, err,
                         "%s/%s/canvas.png", options->work, avatar->label)) != KS_OK ||
        (rc = ks_mkdir_p(avatar->out_dir, err)) != KS_OK)
        return rc;
    ks_png_limits_default(&store_options.png_limits);
    if ((rc = ks_item_store_new(avatar->store_dir, &store_options, &store, err)) != KS_OK)
        return rc;
    for (int i = 0; i < BENCH_LAYERS && rc == KS_OK; i++) {
        char source[PATH_MAX];
        if ((rc = bench_path(source, sizeof source, err, "%s/%s/layer-%02d.png",
                             options->inputs, avatar->label, i)) == KS_OK)
            rc = bench_prepare_layer(source, store, avatar, i, err);
    }
    ks_item_store_free(store);
    if (rc != KS_OK)
        return rc;
    /* The base image vips composite needs on its command line. */
    rc = ks_image_alloc(&canvas, avatar->width, avatar->height, err);
    if (rc == KS_OK)
        rc = ks_png_encode(&canvas, 9, &png, &png_size, err);
    if (rc == KS_OK)
        rc = ks_file_write_atomic(avatar->canvas_path, png, png_size, err);
    ks_image_free(&canvas);
    free(png);
    return rc;
}

/* ---- step 2: the same picture everywhere ------------------------------------ */

/* What a PNG's header and data say about how it was written. */
typedef struct {
    int bit_depth, colour_type;
    int zlib_level_class;              /* FLEVEL: 0 fastest .. 3 maximum */
    unsigned filters[5];               /* rows per filter type */
} bench_png_facts_t;

static uint32_t bench_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the IHDR, and for 8-bit RGBA the filter byte of every row (inflating
 * the IDAT chunks). Returns -1 when it is not a PNG this can read. */
static int bench_png_facts(const bench_output_t *png, bench_png_facts_t *facts)
{
    static const unsigned char signature[8] = { 137, 'P', 'N', 'G', 13, 10, 26, 10 };
    const unsigned char *p = png->data, *end = png->data + png->size;
    unsigned char *raw;
    size_t row_bytes, raw_size;
    uint32_t height;
    z_stream z;
    int zrc = Z_OK, first_idat = 1;

    memset(facts, 0, sizeof *facts);
    if (png->size < 33 || memcmp(p, signature, 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0)
        return -1;
    height = bench_be32(p + 20);
    facts->bit_depth = p[24];
    facts->colour_type = p[25];
    if (facts->bit_depth != 8 || facts->colour_type != 6 || p[28] != 0)
        return 0;                      /* not 8-bit RGBA, or interlaced: no filter census */
    row_bytes = (size_t)bench_be32(p + 16) * 4 + 1;
    if (height == 0 || row_bytes > BENCH_FILE_MAX / height)
        return -1;
    raw_size = row_bytes * height;
    raw = malloc(raw_size);
    memset(&z, 0, sizeof z);
    if (raw == NULL || inflateInit(&z) != Z_OK) {
        free(raw);
        return -1;
    }
    z.next_out = raw;
    z.avail_out = (uInt)raw_size;
    for (p += 8; end - p >= 12 && zrc == Z_OK; ) {
        uint32_t length = bench_be32(p);
        const unsigned char *data = p + 8;
        if ((size_t)(end - data) < (size_t)length + 4)
            break;
        if (memcmp(p + 4, "IDAT", 4) == 0) {
            if (first_idat && length >= 2)
                facts->zlib_level_class = data[1] >> 6;   /* FLEVEL */
            first_idat = 0;
            z.next_in = (unsigned char *)data;
            z.avail_in = length;
            zrc = inflate(&z, Z_NO_FLUSH);
        }
        p = data + length + 4;
    }
    for (size_t row = 0; row < (raw_size - z.avail_out) / row_bytes; row++)
        if (raw[row * row_bytes] < 5)
            facts->filters[raw[row * row_bytes]]++;
    inflateEnd(&z);
    free(raw);
    return 0;
}

/* Decodes a PNG output into premultiplied RGBA8. */
static ks_rc bench_decode_png(const bench_case_t *c, ks_image_t *image, ks_err_t *err)
{
    ks_png_limits_t limits;
    ks_err_t why;
    ks_rc rc;

    ks_png_limits_default(&limits);
    rc = ks_png_decode(c->output.data, c->output.size, &limits, image, &why);
    if (rc != KS_OK)
        return ks_err(err, rc, "%s %s %s: its output does not decode: %s", c->name,
                      bench_sizes[c->avatar].label, c->impl, why.msg);
    ks_image_premultiply(image);
    return KS_OK;
}

/* Compares a PNG case with the reference (premultiplied); *max_diff. */
static ks_rc bench_check_png(const bench_case_t *c, const ks_image_t *reference, int *max_diff,
                             ks_err_t *err)
{
    ks_image_t image = {0};
    ks_rc rc = bench_decode_png(c, &image, err);

    *max_diff = 0;
    if (rc != KS_OK)
        return rc;
    if (image.width != reference->width || image.height != reference->height) {
        rc = ks_err(err, KS_ERROR, "%s %s %s: output is %ux%u", c->name,
                    bench_sizes[c->avatar].label, c->impl, image.width, image.height);
    } else {
        for (uint32_t y = 0; y < image.height; y++) {
            const uint8_t *a = image.pixels + (size_t)y * image.stride;
            const uint8_t *b = reference->pixels + (size_t)y * reference->stride;
            for (size_t i = 0; i < (size_t)image.width * 4; i++) {
                int d = abs((int)a[i] - (int)b[i]);
                if (d > *max_diff)
                    *max_diff = d;
            }
        }
    }
    ks_image_free(&image);
    return rc;
}

/* Compares a JPEG case with the reference flattened onto the background:
 * over every RGB channel, the largest and the mean difference. */
static ks_rc bench_check_jpeg(const bench_case_t *c, const ks_image_t *reference,
                              const bench_jpeg_t *jpeg, int *max_diff, double *mean_diff,
                              ks_err_t *err)
{
    uint8_t *rgba = NULL;
    uint32_t width = 0, height = 0;
    double sum = 0;
    ks_rc rc = bench_vips_decode(&c->output, &rgba, &width, &height, err);

    *max_diff = 0;
    *mean_diff = 0;
    if (rc != KS_OK)
        return rc;
    if (width != reference->width || height != reference->height) {
        free(rgba);
        return ks_err(err, KS_ERROR, "%s %s %s: output is %ux%u", c->name,
                      bench_sizes[c->avatar].label, c->impl, width, height);
    }
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *p = rgba + (size_t)y * width * 4;
        const uint8_t *r = reference->pixels + (size_t)y * reference->stride;
        for (uint32_t x = 0; x < width; x++, p += 4, r += 4) {
            unsigned alpha = r[3];
            for (int k = 0; k < 3; k++) {
                /* premultiplied source over an opaque background */
                int want = r[k] + (int)((jpeg->background[k] * (255 - alpha) + 127) / 255);
                int d = abs((int)p[k] - want);
                sum += d;
                if (d > *max_diff)
                    *max_diff = d;
            }
        }
    }
    *mean_diff = sum / ((double)width * height * 3);
    free(rgba);
    return KS_OK;
}

/* The first kisekae warm-png case of an avatar: the reference picture. */
static const bench_case_t *bench_reference(const bench_case_t *cases, int count, int avatar)
{
    for (int i = 0; i < count; i++)
        if (cases[i].avatar == avatar && !strcmp(cases[i].name, "warm-png") &&
            !strcmp(cases[i].impl, "kisekae"))
            return &cases[i];
    return NULL;
}

static int bench_check(const bench_case_t *cases, int count, const bench_jpeg_t *jpeg)
{
    int failed = 0;

    printf("check: every output against kisekae's warm PNG of the same size "
           "(PNG: must be 8-bit RGBA, max difference per premultiplied channel, limit %d; "
           "JPEG: against it flattened onto the background, max limit %d, mean limit %.1f)\n",
           BENCH_PNG_DIFF_MAX, BENCH_JPEG_MAX_DIFF_MAX, BENCH_JPEG_MEAN_DIFF_MAX);
    for (int a = 0; a < BENCH_AVATARS; a++) {
        const bench_case_t *ref = bench_reference(cases, count, a);
        ks_image_t reference = {0};
        ks_err_t err;

        if (ref == NULL)
            continue;
        if (bench_decode_png(ref, &reference, &err) != KS_OK) {
            fprintf(stderr, "bench-compose: %s\n", err.msg);
            return -1;
        }
        for (int i = 0; i < count; i++) {
            const bench_case_t *c = &cases[i];
            int max_diff;
            double mean_diff;

            if (c->avatar != a)
                continue;
            if (c->format == BENCH_PNG) {
                bench_png_facts_t facts;
                if (bench_png_facts(&c->output, &facts) < 0 || facts.bit_depth != 8 ||
                    facts.colour_type != 6) {
                    printf("  %-20s %-8s %-12s %d-bit, colour type %d: not 8-bit RGBA  FAILED\n",
                           c->name, bench_sizes[a].label, c->impl, facts.bit_depth,
                           facts.colour_type);
                    failed = 1;
                    continue;
                }
                /* Equal settings means no row filter on either side. */
                if (!strcmp(c->name, "warm-png-level1") && facts.filters[0] !=
                    facts.filters[0] + facts.filters[1] + facts.filters[2] + facts.filters[3] +
                    facts.filters[4]) {
                    printf("  %-20s %-8s %-12s rows filtered: not the level-1 setting  FAILED\n",
                           c->name, bench_sizes[a].label, c->impl);
                    failed = 1;
                    continue;
                }
            }
            if (c == ref)
                continue;
            if (c->format == BENCH_PNG) {
                if (bench_check_png(c, &reference, &max_diff, &err) != KS_OK) {
                    fprintf(stderr, "bench-compose: %s\n", err.msg);
                    failed = 1;
                    continue;
                }
                printf("  %-20s %-8s %-12s max diff %d%s\n", c->name,
                       bench_sizes[a].label, c->impl, max_diff,
                       max_diff > BENCH_PNG_DIFF_MAX ? "  FAILED" : "");
                failed |= max_diff > BENCH_PNG_DIFF_MAX;
            } else {
                if (bench_check_jpeg(c, &reference, jpeg, &max_diff, &mean_diff, &err)
                    != KS_OK) {
                    fprintf(stderr, "bench-compose: %s\n", err.msg);
                    failed = 1;
                    continue;
                }
                int bad = mean_diff > BENCH_JPEG_MEAN_DIFF_MAX || max_diff > BENCH_JPEG_MAX_DIFF_MAX;
                printf("  %-20s %-8s %-12s max diff %d, mean %.2f%s\n", c->name,
                       bench_sizes[a].label, c->impl, max_diff, mean_diff, bad ? "  FAILED" : "");
                failed |= bad;
            }
        }
        ks_image_free(&reference);
    }
    return failed ? -1 : 0;
}

/* How each PNG was written: depth, colour type, zlib level class, filters. */
static void bench_print_png_facts(const bench_case_t *cases, int count)
{
    static const char *const levels[] = { "fastest", "fast", "default", "maximum" };

    printf("PNG outputs (the file's zlib header level class; the rows per filter "
           "none/sub/up/average/paeth):\n");
    for (int i = 0; i < count; i++) {
        const bench_case_t *c = &cases[i];
        bench_png_facts_t f;
        if (c->format != BENCH_PNG || c->avatar != 0)
            continue;
        if (bench_png_facts(&c->output, &f) < 0) {
            printf("  %-20s %-12s not a PNG this can read\n", c->name, c->impl);
            continue;
        }
        if (f.bit_depth == 8 && f.colour_type == 6)
            printf("  %-20s %-12s 8-bit RGBA, zlib %s, filters %u/%u/%u/%u/%u\n", c->name,
                   c->impl, levels[f.zlib_level_class & 3], f.filters[0], f.filters[1],
                   f.filters[2], f.filters[3], f.filters[4]);
        else
            printf("  %-20s %-12s %d-bit, colour type %d (not 8-bit RGBA)\n", c->name,
                   c->impl, f.bit_depth, f.colour_type);
    }
}

/* ---- step 3: timing ----------------------------------------------------------- */

static int bench_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs c for at least seconds of CPU time (and at least once; at most ten
 * times that in wall-clock time, on a very busy machine); composites per
 * CPU second and per wall-clock second. */
static ks_rc bench_time(bench_case_t *c, double seconds, double *rate, double *wall_rate,
                        ks_err_t *err)
{
    double start = bench_now(), cpu_start = bench_cpu_now(), elapsed, cpu_elapsed;
    unsigned long runs = 0;

    do {
        ks_rc rc = c->run(c->state, NULL, err);
        if (rc != KS_OK)
            return rc;
        runs++;
        elapsed = bench_now() - start;
        cpu_elapsed = bench_cpu_now() - cpu_start;
    } while (cpu_elapsed < seconds && elapsed < 10 * seconds);
    *rate = (double)runs / (cpu_elapsed > 0 ? cpu_elapsed : elapsed);
    *wall_rate = (double)runs / elapsed;
    return KS_OK;
}

static double bench_median(const double *values, int n)
{
    double sorted[BENCH_ROUNDS_MAX];

    memcpy(sorted, values, sizeof(double) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(double), bench_compare_doubles);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static ks_rc bench_measure(bench_case_t *cases, int count, const bench_options_t *options,
                           ks_err_t *err)
{
    double ignored, ignored_wall;
    ks_rc rc;

    for (int i = 0; i < count; i++)
        if ((rc = bench_time(&cases[i], BENCH_WARMUP_S, &ignored, &ignored_wall, err)) != KS_OK)
            return rc;
    for (int round = 0; round < options->rounds; round++) {
        for (int k = 0; k < count; k++) {
            bench_case_t *c = &cases[(k + round) % count];
            if ((rc = bench_time(c, options->seconds, &c->rates[round], &c->wall_rates[round],
                                 err)) != KS_OK)
                return rc;
        }
        fprintf(stderr, "bench-compose: round %d of %d done\n", round + 1, options->rounds);
    }
    for (int i = 0; i < count; i++) {
        bench_case_t *c = &cases[i];
        c->median = bench_median(c->rates, options->rounds);
        c->wall_median = bench_median(c->wall_rates, options->rounds);
        c->low = c->high = c->rates[0];
        for (int round = 1; round < options->rounds; round++) {
            if (c->rates[round] < c->low)
                c->low = c->rates[round];
            if (c->rates[round] > c->high)
                c->high = c->rates[round];
        }
    }
    return KS_OK;
}

/* ---- step 4: the figures ------------------------------------------------------ */

static const bench_case_t *bench_find(const bench_case_t *cases, int count, const char *name,
                                      int avatar, const char *impl)
{
    for (int i = 0; i < count; i++)
        if (cases[i].avatar == avatar && !strcmp(cases[i].name, name) &&
            !strcmp(cases[i].impl, impl))
            return &cases[i];
    return NULL;
}

/* `ratio FIGURE SIZE vs OTHER: R (size S.SSx)`; kisekae's case is mine,
 * theirs is other's case (which may be of another name, as size-first). */
static void bench_ratio(const bench_case_t *cases, int count, const char *figure,
                        const char *mine, const char *theirs, int avatar, const char *other,
                        const char *other_impl)
{
    const bench_case_t *k = bench_find(cases, count, mine, avatar, "kisekae");
    const bench_case_t *o = bench_find(cases, count, theirs, avatar, other_impl);

    printf("ratio %s %s vs %s: ", figure, bench_sizes[avatar].label, other);
    if (k == NULL)
        printf("n/a (kisekae has no %s case yet)\n", mine);
    else if (o == NULL)
        printf("n/a (%s was not measured)\n", other_impl);
    else {
        double r = k->median / o->median;
        printf("%.*f (size %.2fx)\n", r < 10 ? 2 : 1, r,
               (double)k->output.size / (double)o->output.size);
    }
}

static void bench_report(const bench_case_t *cases, int count)
{
    printf("\n%-19s %-8s %-12s %12s %19s %12s %12s\n", "case", "size", "implementation",
           "composites/s", "(rounds low - high)", "wall-clock/s", "output bytes");
    for (int i = 0; i < count; i++) {
        const bench_case_t *c = &cases[i];
        printf("%-19s %-8s %-12s %12.1f %9.1f - %-7.1f %12.1f %12zu\n", c->name,
               bench_sizes[c->avatar].label, c->impl, c->median, c->low, c->high,
               c->wall_median, c->output.size);
    }
    printf("\n");
    bench_ratio(cases, count, "warm-png", "warm-png", "warm-png", 0, "libvips", "libvips");
    bench_ratio(cases, count, "warm-png", "warm-png", "warm-png", 0, "imagemagick",
                "imagemagick");
    bench_ratio(cases, count, "warm-png", "warm-png", "warm-png", 1, "libvips", "libvips");
    bench_ratio(cases, count, "warm-png", "warm-png", "warm-png", 1, "imagemagick",
                "imagemagick");
    bench_ratio(cases, count, "warm-png-sizefirst", "warm-png-sizefirst", "warm-png", 0,
                "libvips", "libvips");
    bench_ratio(cases, count, "warm-png-sizefirst", "warm-png-sizefirst", "warm-png", 0,
                "imagemagick", "imagemagick");
    bench_ratio(cases, count, "warm-png-level1", "warm-png", "warm-png-level1", 0, "libvips",
                "libvips");
    bench_ratio(cases, count, "warm-png-level1", "warm-png", "warm-png-level1", 0,
                "imagemagick", "imagemagick");
    bench_ratio(cases, count, "warm-png-level1", "warm-png", "warm-png-level1", 1, "libvips",
                "libvips");
    bench_ratio(cases, count, "warm-png-level1", "warm-png", "warm-png-level1", 1,
                "imagemagick", "imagemagick");
    bench_ratio(cases, count, "cold-decode", "cold-decode", "cold-decode", 0, "libvips",
                "libvips");
    bench_ratio(cases, count, "cold-decode", "cold-decode", "cold-decode", 0, "imagemagick",
                "imagemagick");
    bench_ratio(cases, count, "cold-kl", "cold-kl", "cold-v", 0, "libvips-v", "libvips");
    bench_ratio(cases, count, "jpeg", "jpeg", "jpeg", 0, "libvips", "libvips");
    bench_ratio(cases, count, "jpeg", "jpeg", "jpeg", 0, "imagemagick", "imagemagick");
    bench_ratio(cases, count, "cli", "cli", "cli", 0, "vips-cli", "vips-cli");
    bench_ratio(cases, count, "cli", "cli", "cli", 0, "imagemagick", "imagemagick");
}

/* ---- main ------------------------------------------------------------------------- */

static int bench_parse(int argc, char **argv, bench_options_t *o)
{
    o->seconds = 0.4;
    o->rounds = 5;
    o->jpeg.quality = 85;
    o->jpeg.background[0] = 0xe8;
    o->jpeg.background[1] = 0xf0;
    o->jpeg.background[2] = 0xff;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (value == NULL) {
            fprintf(stderr, "bench-compose: %s needs a value (see --help)\n", arg);
            return -1;
        }
        i++;
        errno = 0;
        if (!strcmp(arg, "--inputs")) {
            o->inputs = value;
        } else if (!strcmp(arg, "--work")) {
            o->work = value;
        } else if (!strcmp(arg, "--kisekae-compose")) {
            o->kisekae_compose = value;
        } else if (!strcmp(arg, "--vips")) {
            o->vips = value;
        } else if (!strcmp(arg, "--convert")) {
            o->convert = value;
        } else if (!strcmp(arg, "--seconds")) {
            o->seconds = strtod(value, &end);
            if (*end || errno || !(o->seconds >= 0.01 && o->seconds <= 60)) {
                fprintf(stderr, "bench-compose: --seconds needs 0.01..60, not \"%s\"\n", value);
                return -1;
            }
        } else if (!strcmp(arg, "--rounds")) {
            long n = strtol(value, &end, 10);
            if (*end || errno || n < 1 || n > BENCH_ROUNDS_MAX) {
                fprintf(stderr, "bench-compose: --rounds needs 1..%d, not \"%s\"\n",
                        BENCH_ROUNDS_MAX, value);
                return -1;
            }
            o->rounds = (int)n;
        } else if (!strcmp(arg, "--quality")) {
            long q = strtol(value, &end, 10);
            if (*end || errno || q < 1 || q > 100) {
                fprintf(stderr, "bench-compose: --quality needs 1..100, not \"%s\"\n", value);
                return -1;
            }
            o->jpeg.quality = (int)q;
        } else if (!strcmp(arg, "--background")) {
            unsigned long rgb = strtoul(value + (value[0] == '#'), &end, 16);
            if (*end || errno || strlen(value + (value[0] == '#')) != 6) {
                fprintf(stderr, "bench-compose: --background needs RRGGBB, not \"%s\"\n",
                        value);
                return -1;
            }
            o->jpeg.background[0] = (uint8_t)(rgb >> 16);
            o->jpeg.background[1] = (uint8_t)(rgb >> 8);
            o->jpeg.background[2] = (uint8_t)rgb;
        } else {
            fprintf(stderr, "bench-compose: unknown option \"%s\"\n", arg);
            usage(stderr);
            return -1;
        }
    }
    if (o->inputs == NULL || o->work == NULL) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static void bench_add(bench_case_t *cases, int *count, const char *name, int avatar,
                      const char *impl, bench_format_t format, bench_run_fn run, void *state)
{
    if (run == NULL || state == NULL || *count == BENCH_CASES_MAX)
        return;
    cases[*count] = (bench_case_t){ .name = name, .avatar = avatar, .impl = impl,
                                    .format = format, .run = run, .state = state };
    (*count)++;
}

int main(int argc, char **argv)
{
    static bench_avatar_t avatars[BENCH_AVATARS];
    static bench_case_t cases[BENCH_CASES_MAX];
    bench_kisekae_t *kisekae[BENCH_AVATARS] = {0};
    bench_vips_t *vips[BENCH_AVATARS] = {0};
    bench_magick_t *magick[BENCH_AVATARS] = {0};
    bench_cli_t *cli[3] = {0};
    bench_options_t options = {0};
    int count = 0, status = 1;
    ks_err_t err;
    ks_rc rc = KS_OK;

    if (bench_parse(argc, argv, &options) != 0)
        return 2;
    if (bench_vips_init(argv[0], &err) != KS_OK || bench_magick_init(&err) != KS_OK) {
        fprintf(stderr, "bench-compose: %s\n", err.msg);
        return 1;
    }
    for (int a = 0; a < BENCH_AVATARS && rc == KS_OK; a++) {
        if ((rc = bench_prepare(&options, a, &avatars[a], &err)) == KS_OK &&
            (rc = bench_kisekae_new(&avatars[a], &options.jpeg, &kisekae[a], &err)) == KS_OK &&
            (rc = bench_vips_new(&avatars[a], &options.jpeg, &vips[a], &err)) == KS_OK)
            rc = bench_magick_new(&avatars[a], &options.jpeg, &magick[a], &err);
    }
    if (rc == KS_OK && options.kisekae_compose != NULL)
        rc = bench_cli_new(BENCH_CLI_KISEKAE, options.kisekae_compose, &avatars[0], &cli[0],
                           &err);
    if (rc == KS_OK && options.vips != NULL)
        rc = bench_cli_new(BENCH_CLI_VIPS, options.vips, &avatars[0], &cli[1], &err);
    if (rc == KS_OK && options.convert != NULL)
        rc = bench_cli_new(BENCH_CLI_MAGICK, options.convert, &avatars[0], &cli[2], &err);
    if (rc != KS_OK) {
        fprintf(stderr, "bench-compose: %s\n", err.msg);
        goto done;
    }

    /* The order of the table and of each round. */
    for (int a = 0; a < BENCH_AVATARS; a++) {
        bench_add(cases, &count, "warm-png", a, "kisekae", BENCH_PNG, bench_kisekae_warm_png,
                  kisekae[a]);
        bench_add(cases, &count, "warm-png", a, "libvips", BENCH_PNG, bench_vips_warm_png,
                  vips[a]);
        bench_add(cases, &count, "warm-png", a, "imagemagick", BENCH_PNG,
                  bench_magick_warm_png, magick[a]);
    }
    /* Equal settings: kisekae's warm-png is already level 1, no row filter. */
    for (int a = 0; a < BENCH_AVATARS; a++) {
        bench_add(cases, &count, "warm-png-level1", a, "libvips", BENCH_PNG,
                  bench_vips_warm_png_level1, vips[a]);
        bench_add(cases, &count, "warm-png-level1", a, "imagemagick", BENCH_PNG,
                  bench_magick_warm_png_level1, magick[a]);
    }
    bench_add(cases, &count, "warm-png-sizefirst", 0, "kisekae", BENCH_PNG,
              bench_kisekae_warm_png_sizefirst, kisekae[0]);
    bench_add(cases, &count, "cold-decode", 0, "kisekae", BENCH_PNG, bench_kisekae_cold_decode,
              kisekae[0]);
    bench_add(cases, &count, "cold-decode", 0, "libvips", BENCH_PNG, bench_vips_cold_decode,
              vips[0]);
    bench_add(cases, &count, "cold-decode", 0, "imagemagick", BENCH_PNG,
              bench_magick_cold_decode, magick[0]);
    bench_add(cases, &count, "cold-kl", 0, "kisekae", BENCH_PNG, bench_kisekae_cold_kl,
              kisekae[0]);
    bench_add(cases, &count, "cold-v", 0, "libvips", BENCH_PNG, bench_vips_cold_v, vips[0]);
    bench_add(cases, &count, "jpeg", 0, "kisekae", BENCH_JPEG, bench_kisekae_jpeg, kisekae[0]);
    bench_add(cases, &count, "jpeg", 0, "libvips", BENCH_JPEG, bench_vips_jpeg, vips[0]);
    bench_add(cases, &count, "jpeg", 0, "imagemagick", BENCH_JPEG, bench_magick_jpeg,
              magick[0]);
    bench_add(cases, &count, "cli", 0, "kisekae", BENCH_PNG, bench_cli_run, cli[0]);
    bench_add(cases, &count, "cli", 0, "vips-cli", BENCH_PNG, bench_cli_run, cli[1]);
    bench_add(cases, &count, "cli", 0, "imagemagick", BENCH_PNG, bench_cli_run, cli[2]);

    printf("bench/compose: 10-layer avatars composited source-over, bottom to top, onto a "
           "transparent canvas, then encoded; one thread\n"
           "inputs: each layer trimmed to its box and stored as kisekae's API server does "
           "(ks_png_encode level 9); every implementation reads those files and places them at "
           "their offsets\n"
           "kisekae: %s\n%s\n%s\n"
           "jpeg: flattened onto #%02x%02x%02x, quality %d for all; cli: whole processes "
           "(start, read, composite, write a PNG file)\n"
           "timing: %d rounds of %.2f CPU s per case, interleaved; the median round is "
           "reported; composites per CPU second (this process and its children), "
           "wall-clock beside\n",
           bench_kisekae_describe(), bench_vips_describe(), bench_magick_describe(),
           options.jpeg.background[0], options.jpeg.background[1], options.jpeg.background[2],
           options.jpeg.quality, options.rounds, options.seconds);

    for (int i = 0; i < count && rc == KS_OK; i++)
        rc = cases[i].run(cases[i].state, &cases[i].output, &err);
    if (rc != KS_OK) {
        fprintf(stderr, "bench-compose: %s\n", err.msg);
        goto done;
    }
    if (bench_check(cases, count, &options.jpeg) != 0) {
        fprintf(stderr, "bench-compose: the outputs differ: not timing different work\n");
        goto done;
    }
    bench_print_png_facts(cases, count);
    fflush(stdout);
    if ((rc = bench_measure(cases, count, &options, &err)) != KS_OK) {
        fprintf(stderr, "bench-compose: %s\n", err.msg);
        goto done;
    }
    bench_report(cases, count);
    status = 0;
done:
    for (int i = 0; i < count; i++)
        bench_output_free(&cases[i].output);
    for (int a = 0; a < BENCH_AVATARS; a++) {
        bench_kisekae_free(kisekae[a]);
        bench_vips_free(vips[a]);
        bench_magick_free(magick[a]);
    }
    for (int i = 0; i < 3; i++)
        bench_cli_free(cli[i]);
    return status;
}
