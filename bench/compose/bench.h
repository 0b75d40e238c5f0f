/* bench.h: what the parts of bench-compose share.
 *
 * bench-compose times one piece of work done three ways: composite the ten
 * layers of an avatar source-over, bottom to top, onto a transparent canvas
 * and encode the result (PNG, or JPEG flattened onto a background colour).
 * kisekae_side.c does it with kisekae's item store, compositor and codecs,
 * vips_side.c with libvips and magick_side.c with ImageMagick, all in this
 * process; cli_side.c times whole processes of kisekae-compose, `vips
 * composite` and `convert`. bench_compose.c prepares the inputs, runs the
 * cases in interleaved rounds, checks that every output shows the same
 * picture and prints the figures.
 *
 * Every side reads the same files: each layer trimmed to its bounding box
 * and encoded the way kisekae's API server stores it, placed at its offset.
 */
#ifndef KS_BENCH_H
#define KS_BENCH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ks.h"
#include "sha256.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define BENCH_LAYERS 10

typedef struct {
    char path[PATH_MAX];              /* the trimmed PNG: <store>/items/<item_id>/0.png */
    int item_id;                      /* 1..BENCH_LAYERS, bottom first */
    int x, y;                         /* where its top-left corner goes */
    uint32_t width, height;           /* its trimmed size */
    char sha256[KS_SHA256_HEX_SIZE];  /* of the file, as the item store wants it */
} bench_layer_t;

typedef struct {
    char label[16];                   /* "240x320" */
    uint32_t width, height;
    char store_dir[PATH_MAX];         /* an image server's store holding the layers */
    char canvas_path[PATH_MAX];       /* a transparent PNG of the canvas size (vips-cli) */
    char out_dir[PATH_MAX];           /* where the CLI cases write */
    bench_layer_t layers[BENCH_LAYERS];
} bench_avatar_t;

/* What the JPEG cases share: quality and the background flattened onto. */
typedef struct {
    int quality;
    uint8_t background[3];            /* R, G, B */
} bench_jpeg_t;

/* One encoded image from a case; release(data) frees it. */
typedef struct {
    unsigned char *data;
    size_t size;
    void (*release)(void *data);
} bench_output_t;

void bench_output_free(bench_output_t *out);

/* One composite of a case. out NULL: the output is discarded (timing runs);
 * otherwise it is handed over. KS_OK or an error with the reason in err. */
typedef ks_rc (*bench_run_fn)(void *state, bench_output_t *out, ks_err_t *err);

/* ---- the sides: each _new prepares what its cases need for one avatar ---- */

typedef struct bench_kisekae bench_kisekae_t;
ks_rc bench_kisekae_new(const bench_avatar_t *avatar, const bench_jpeg_t *jpeg,
                        bench_kisekae_t **out, ks_err_t *err);
void bench_kisekae_free(bench_kisekae_t *side);
const char *bench_kisekae_describe(void);
ks_rc bench_kisekae_warm_png(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_kisekae_warm_png_sizefirst(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_kisekae_cold_decode(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_kisekae_cold_kl(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_kisekae_jpeg(void *side, bench_output_t *out, ks_err_t *err);

typedef struct bench_vips bench_vips_t;
ks_rc bench_vips_init(const char *argv0, ks_err_t *err);
const char *bench_vips_describe(void);
ks_rc bench_vips_new(const bench_avatar_t *avatar, const bench_jpeg_t *jpeg,
                     bench_vips_t **out, ks_err_t *err);
void bench_vips_free(bench_vips_t *side);
ks_rc bench_vips_warm_png(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_vips_warm_png_level1(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_vips_cold_decode(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_vips_cold_v(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_vips_jpeg(void *side, bench_output_t *out, ks_err_t *err);
/* Decodes a JPEG or PNG with libvips into straight RGBA8 (the JPEG check). */
ks_rc bench_vips_decode(const bench_output_t *encoded, uint8_t **rgba, uint32_t *width,
                        uint32_t *height, ks_err_t *err);

typedef struct bench_magick bench_magick_t;
ks_rc bench_magick_init(ks_err_t *err);
const char *bench_magick_describe(void);
ks_rc bench_magick_new(const bench_avatar_t *avatar, const bench_jpeg_t *jpeg,
                       bench_magick_t **out, ks_err_t *err);
void bench_magick_free(bench_magick_t *side);
ks_rc bench_magick_warm_png(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_magick_warm_png_level1(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_magick_cold_decode(void *side, bench_output_t *out, ks_err_t *err);
ks_rc bench_magick_jpeg(void *side, bench_output_t *out, ks_err_t *err);

/* Whole processes: one composite of the avatar per run, written to a file. */
typedef struct {
    const bench_avatar_t *avatar;
    char output[PATH_MAX];            /* where the run writes */
    char *argv[4 * BENCH_LAYERS + 16];
    char *strings;                    /* the arguments' text, one block */
} bench_cli_t;

typedef enum { BENCH_CLI_KISEKAE, BENCH_CLI_VIPS, BENCH_CLI_MAGICK } bench_cli_tool_t;

/* Builds the command line of tool (its program: program) for the avatar. */
ks_rc bench_cli_new(bench_cli_tool_t tool, const char *program, const bench_avatar_t *avatar,
                    bench_cli_t **out, ks_err_t *err);
void bench_cli_free(bench_cli_t *cli);
/* Runs the command once and waits; with out, reads back what it wrote. */
ks_rc bench_cli_run(void *cli, bench_output_t *out, ks_err_t *err);

#endif
