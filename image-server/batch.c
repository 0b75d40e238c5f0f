/* batch.c: POST /internal/batch (batch.h).
 *
 * The framing is checked whole before anything is composed, so a malformed
 * or oversized batch changes nothing. Then each recipe is parsed, composed
 * (rebuild.h), encoded (output.h) and each of its files compared with the
 * stored one: a file is written only when it is missing or its bytes differ,
 * so a batch over members whose files are intact writes nothing and leaves
 * every file's identity (and nginx's caches) alone. A recipe that fails is
 * reported and the batch goes on.
 */
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compose_request.h"
#include "fsutil.h"
#include "log.h"
#include "output.h"

/* One recipe of the body: its kind and where its bytes are. */
typedef struct {
    ks_compose_kind_t kind;
    const char *body;
    size_t size;
} recipe_t;

typedef enum { FILE_SAME, FILE_MISSING, FILE_DIFFERS } file_state_t;

/* Reads one framing line of body (without its "\n") into line; 0, or -1 at
 * the end of the body or when the line is longer than size - 1. */
static int next_line(const char **p, const char *end, char *line, size_t size)
{
    const char *eol = memchr(*p, '\n', (size_t)(end - *p));

    if (!eol || (size_t)(eol - *p) >= size)
        return -1;
    memcpy(line, *p, (size_t)(eol - *p));
    line[eol - *p] = '\0';
    *p = eol + 1;
    return 0;
}

/* Splits the body into recipes (*out, malloc'd) and says whether it only
 * checks. */
static ks_rc parse_framing(const char *body, size_t size, recipe_t **out, int *count,
                           int *check_only, ks_err_t *err)
{
    const char *p = body, *end = body + size;
    recipe_t *recipes;
    char line[64];
    int n = 0;

    *out = NULL;
    *count = 0;
    if (next_line(&p, end, line, sizeof line) != 0 ||
        (strcmp(line, "batch write") != 0 && strcmp(line, "batch check") != 0))
        return ks_err(err, KS_INVALID, "batch: the first line must be \"batch write\" or "
                      "\"batch check\"");
    *check_only = strcmp(line, "batch check") == 0;
    recipes = malloc(sizeof *recipes * KS_BATCH_MAX_RECIPES);
    if (!recipes)
        return ks_err(err, KS_NOMEM, "batch: out of memory");
    while (p < end) {
        char kind[16], extra;
        unsigned long length;

        if (next_line(&p, end, line, sizeof line) != 0 ||
            sscanf(line, "%15s %lu%c", kind, &length, &extra) != 2 ||
            (strcmp(kind, "compose") != 0 && strcmp(kind, "album") != 0) ||
            line[strlen(kind) + 1] < '1' || line[strlen(kind) + 1] > '9') {
            free(recipes);
            return ks_err(err, KS_INVALID, "batch: recipe %d: expected a line \"compose N\" or "
                          "\"album N\" (N: 1..%d bytes)", n, KS_COMPOSE_MAX_BODY);
        }
        if (length > KS_COMPOSE_MAX_BODY || length > (size_t)(end - p)) {
            free(recipes);
            return ks_err(err, length > KS_COMPOSE_MAX_BODY ? KS_TOOLARGE : KS_INVALID,
                          "batch: recipe %d: %lu bytes, %s", n, length,
                          length > KS_COMPOSE_MAX_BODY ? "over the limit of a recipe"
                                                       : "past the end of the body");
        }
        if (n == KS_BATCH_MAX_RECIPES) {
            free(recipes);
            return ks_err(err, KS_TOOLARGE, "batch: more than %d recipes", KS_BATCH_MAX_RECIPES);
        }
        recipes[n].kind = kind[0] == 'c' ? KS_REQUEST_COMPOSE : KS_REQUEST_ALBUM;
        recipes[n].body = p;
        recipes[n].size = length;
        n++;
        p += length;
    }
    *out = recipes;
    *count = n;
    return KS_OK;
}

/* How the file at store/relative compares with data[0..size). */
static file_state_t compare_file(const char *store, const char *relative, const void *data,
                                 size_t size)
{
    char path[sizeof ((ks_image_conf_t *)0)->store + 256];
    unsigned char *stored;
    size_t stored_size;
    struct stat st;
    ks_err_t ignored;
    file_state_t state;

    snprintf(path, sizeof path, "%s/%s", store, relative);
    if (stat(path, &st) != 0)
        return errno == ENOENT ? FILE_MISSING : FILE_DIFFERS;
    if ((size_t)st.st_size != size)
        return FILE_DIFFERS;
    if (ks_file_read(path, size, &stored, &stored_size, &ignored) != KS_OK)
        return FILE_DIFFERS;
    state = stored_size == size && memcmp(stored, data, size) == 0 ? FILE_SAME : FILE_DIFFERS;
    free(stored);
    return state;
}

/* Appends one image line and counts it. */
static void report(ks_buf_t *answer, ks_batch_counts_t *counts, int recipe, const char *status,
                   const char *path, const char *message)
{
    counts->images++;
    if (strcmp(status, "written") == 0)
        counts->written++;
    else if (strcmp(status, "missing") == 0)
        counts->missing++;
    else if (strcmp(status, "differs") == 0)
        counts->differs++;
    else if (strcmp(status, "unchanged") == 0)
        counts->unchanged++;
    else
        counts->failed++;
    ks_buf_addf(answer, "%d %s %s%s%.300s\n", recipe, status, path[0] ? path : "-",
                message ? " " : "", message ? message : "");
}

/* The files a recipe that failed would have written, each reported failed. */
static void report_failed(ks_buf_t *answer, ks_batch_counts_t *counts, int recipe,
                          const ks_compose_request_t *req, const char *message)
{
    char path[256] = "", thumb[256] = "";

    if (req->kind == KS_REQUEST_ALBUM) {
        ks_album_path(req->user_id, req->photo, path, sizeof path);
    } else {
        ks_avatar_path(req->user_id, req->version, path, sizeof path);
        if (req->has_thumb)
            ks_avatar_thumb_path(req->user_id, req->version, thumb, sizeof thumb);
    }
    if (thumb[0])
        report(answer, counts, recipe, "failed", thumb, message);
    report(answer, counts, recipe, "failed", path, message);
}

/* Composes one parsed recipe and compares, writes and reports its files. */
static void run_recipe(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                       const ks_image_conf_t *conf, int index, const ks_compose_request_t *req,
                       int check_only, ks_buf_t *answer, ks_batch_counts_t *counts)
{
    ks_image_t canvas = {0};
    ks_output_t output = {0};
    file_state_t image_state, thumb_state = FILE_SAME;
    ks_err_t err = {{0}};
    int fetched = 0;
    ks_rc rc = ks_rebuild_render(rebuilder, client, req, &canvas, &fetched, &err);

    if (rc == KS_OK)
        rc = ks_output_encode(req, &canvas, &output, &err);
    if (rc == KS_OK)
        rc = ks_rebuild_animate(rebuilder, req, &canvas, &output, &err);
    ks_image_free(&canvas);
    if (rc != KS_OK) {
        report_failed(answer, counts, index, req, err.msg);
        ks_output_free(&output);
        return;
    }
    image_state = compare_file(conf->store, output.path, output.image, output.image_size);
    if (output.anim && image_state == FILE_SAME)      /* written with the image */
        image_state = compare_file(conf->store, output.anim_path, output.anim,
                                   output.anim_size);
    if (output.thumb)
        thumb_state = compare_file(conf->store, output.thumb_path, output.thumb,
                                   output.thumb_size);
    if (!check_only && (image_state != FILE_SAME || thumb_state != FILE_SAME))
        rc = ks_output_write(conf->store, req, &output, image_state != FILE_SAME,
                             thumb_state != FILE_SAME, &err);
    for (int thumb = output.thumb ? 1 : 0; thumb >= 0; thumb--) {
        file_state_t state = thumb ? thumb_state : image_state;
        const char *path = thumb ? output.thumb_path : output.path;
        const char *status = state == FILE_SAME ? "unchanged"
                             : check_only       ? (state == FILE_MISSING ? "missing" : "differs")
                             : rc == KS_OK      ? "written"
                                                : "failed";
        report(answer, counts, index, status, path, strcmp(status, "failed") ? NULL : err.msg);
    }
    if (fetched)
        ks_log_info("batch: recipe %d (\"%s\"): %d layers or scenes fetched from the API", index,
                    req->user_id, fetched);
    ks_output_free(&output);
}

ks_rc ks_batch_run(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                   const ks_image_conf_t *conf, const char *body, size_t size, ks_buf_t *answer,
                   ks_batch_counts_t *counts, ks_err_t *err)
{
    ks_compose_request_t *req;
    recipe_t *recipes;
    int count, check_only = 0;
    ks_rc rc;

    memset(counts, 0, sizeof *counts);
    if (size > KS_BATCH_MAX_BODY)
        return ks_err(err, KS_TOOLARGE, "batch: %zu bytes, over the limit of %d", size,
                      KS_BATCH_MAX_BODY);
    if ((rc = parse_framing(body, size, &recipes, &count, &check_only, err)) != KS_OK)
        return rc;
    req = malloc(sizeof *req);
    if (!req) {
        free(recipes);
        return ks_err(err, KS_NOMEM, "batch: out of memory for a recipe");
    }
    counts->recipes = count;
    for (int i = 0; i < count; i++) {
        ks_err_t parse_err = {{0}};

        if (ks_compose_request_parse(recipes[i].body, recipes[i].size, recipes[i].kind,
                                     (uint32_t)conf->max_canvas_width,
                                     (uint32_t)conf->max_canvas_height, req, &parse_err)
            != KS_OK)
            report(answer, counts, i, "failed", "", parse_err.msg);
        else
            run_recipe(rebuilder, client, conf, i, req, check_only, answer, counts);
    }
    free(req);
    free(recipes);
    if (answer->overflow)
        return ks_err(err, KS_ERROR, "batch: the answer did not fit its buffer");
    return KS_OK;
}
