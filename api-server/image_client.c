/* image_client.c: HTTP calls from the API tier to image servers.
 *
 * Each image server has a secret of its own, derived from the API's
 * cluster_secret and the server's name (ks_image_server_secret), so the
 * secret one server holds opens no other. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image_client.h"
#include "log.h"

#define KS_IMAGE_ANSWER_MAX 4096
#define KS_IMAGE_PREVIEW_MAX (16 * 1024 * 1024)
#define KS_IMAGE_REQUEST_MAX (64 * 1024)      /* the image server's limit on a body */

void ks_image_server_secret(const char *cluster_secret, const char *name,
                            char secret[KS_SHA256_HEX_SIZE])
{
    char message[128];
    int n = snprintf(message, sizeof message, "kisekae image server %s", name);

    ks_hmac_sha256_hex(cluster_secret, strlen(cluster_secret), message,
                       n < (int)sizeof message ? (size_t)n : sizeof message - 1, secret);
}

/* Sends one request; headers[0] is filled with the cluster secret. With
 * keep, a 200 answer's body is handed to the caller (free with
 * ks_http_response_free); max_answer bounds it. */
static ks_rc call(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *method,
                  const char *path, const char **headers, const void *body, size_t size,
                  size_t max_answer, ks_http_response_t *keep)
{
    char url[512], secret[128], own[KS_SHA256_HEX_SIZE];
    ks_http_response_t resp;
    ks_rc rc;

    snprintf(url, sizeof url, "%s%s", server->internal_url, path);
    ks_image_server_secret(ctx->conf->cluster_secret, server->name, own);
    snprintf(secret, sizeof secret, "X-Kisekae-Secret: %s", own);
    headers[0] = secret;
    rc = ks_http_request(ctx->http, method, url, headers, body, size, max_answer, &resp,
                         &ctx->err);
    /* The log gets the details; the message (which may reach a SOAP client)
     * names the server but not its internal address. */
    if (rc != KS_OK) {
        ks_log_warn("image server \"%s\": %s", server->name, ctx->err.msg);
        return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" did not answer %s %s",
                      server->name, method, path);
    }
    if (resp.status == 200 && keep) {
        *keep = resp;
        return KS_OK;
    }
    if (resp.status != 200) {
        size_t n = resp.body ? strcspn(resp.body, "\r\n") : 0;    /* its first line */
        rc = resp.status == 409 ? KS_CONFLICT : resp.status == 413 ? KS_TOOLARGE : KS_UNAVAILABLE;
        ks_err(&ctx->err, rc, "image server \"%s\" answered %s %s with %ld: %.*s", server->name,
               method, path, resp.status, (int)(n > 300 ? 300 : n), resp.body ? resp.body : "");
        ks_log_warn("%s", ctx->err.msg);
        if (resp.status == 507)
            ks_err(&ctx->err, rc, "image server \"%s\" has no space left on its disk (%s %s"
                   " answered 507)", server->name, method, path);
        else if (rc == KS_UNAVAILABLE)    /* the body may be a proxy's HTML page */
            ks_err(&ctx->err, rc, "image server \"%s\" answered %s %s with %ld", server->name,
                   method, path, resp.status);
    }
    ks_http_response_free(&resp);
    return rc;
}

ks_rc ks_image_put_layer(ks_api_ctx_t *ctx, const ks_image_server_t *server, int item_id,
                         int layer_no, const void *png, size_t size, const char *sha256,
                         int archived)
{
    char path[64], hash[128];
    const char *headers[] = {NULL, "Content-Type: image/png", hash, NULL};

    snprintf(path, sizeof path, "/internal/items/%d/%d%s", item_id, layer_no,
             archived ? "/archive" : "");
    snprintf(hash, sizeof hash, "X-Kisekae-Sha256: %s", sha256);
    return call(ctx, server, "PUT", path, headers, png, size, KS_IMAGE_ANSWER_MAX, NULL);
}

ks_rc ks_image_put_scene(ks_api_ctx_t *ctx, const ks_image_server_t *server, int scene_id,
                         const void *png, size_t size, const char *sha256)
{
    char path[64], hash[128];
    const char *headers[] = {NULL, "Content-Type: image/png", hash, NULL};

    snprintf(path, sizeof path, "/internal/scenes/%d", scene_id);
    snprintf(hash, sizeof hash, "X-Kisekae-Sha256: %s", sha256);
    return call(ctx, server, "PUT", path, headers, png, size, KS_IMAGE_ANSWER_MAX, NULL);
}

/* The row of frame `frame` of the layer layers[base] (frame 0: that row):
 * frame rows follow their layer's among the rows of the same item and z
 * order (the order KS_LAYER_SELECT's callers read them in). NULL when the
 * layer has no such frame. */
static const ks_layer_row_t *frame_row(const ks_layer_row_t *layers, int count, int base,
                                       int frame)
{
    int layer_no = KS_FRAME_LAYER_NO(frame, layers[base].layer_no);

    for (int j = base; j < count && layers[j].item_id == layers[base].item_id &&
                       layers[j].z_order == layers[base].z_order; j++)
        if (layers[j].layer_no == layer_no)
            return &layers[j];
    return NULL;
}

/* The frames of the layer layers[base]: 1 for a still layer. */
static int frame_count(const ks_layer_row_t *layers, int count, int base)
{
    int frames = 1;

    if (layers[base].delay_ms > 0)
        while (frames < KS_FRAMES_MAX && frame_row(layers, count, base, frames))
            frames++;
    return frames;
}

/* Adds the lines that draw layers (in drawing order; frame rows among them
 * as KS_LAYER_SELECT reads them) and sets body->overflow when they are more
 * than an image server draws. A still image (animate 0) draws frame 0 of
 * every layer. An animated one, when some layers have frames, has as many
 * frames as the longest animation, shown for that layer's delays (the first
 * in drawing order among equals); every animated layer of k frames shows its
 * frame f % k in frame f (a shorter animation loops), a still layer is drawn
 * in every frame (PROTOCOL.md: frames, flayer). */
static void add_layers(ks_buf_t *body, const ks_layer_row_t *layers, int count, int animate)
{
    int frames = 1, longest = 0, lines = 0;

    for (int i = 0; animate && i < count; i++) {
        int k = layers[i].layer_no < KS_FRAME_STEP ? frame_count(layers, count, i) : 1;
        if (k > frames) {
            frames = k;
            longest = i;
        }
    }
    if (frames > 1) {
        ks_buf_addf(body, "frames");
        for (int f = 0; f < frames; f++)
            ks_buf_addf(body, " %d", frame_row(layers, count, longest, f)->delay_ms);
        ks_buf_addf(body, "\n");
    }
    for (int i = 0; i < count; i++) {
        int k;

        if (layers[i].layer_no >= KS_FRAME_STEP)
            continue;
        k = frames > 1 ? frame_count(layers, count, i) : 1;
        for (int f = 0; f < (k > 1 ? frames : 1); f++, lines++) {
            const ks_layer_row_t *l = frame_row(layers, count, i, f % k);
            if (k > 1)
                ks_buf_addf(body, "flayer %d ", f);
            else
                ks_buf_addf(body, "layer ");
            ks_buf_addf(body, "%d %d %d %d %d %s%s%s\n", l->item_id, l->layer_no, l->z_order,
                        l->x, l->y, l->sha256, l->tint[0] ? " " : "", l->tint);
        }
    }
    if (lines > KS_IMAGE_LAYERS_MAX)
        body->overflow = 1;
}

/* POSTs body (built by the caller) to path; frees body. */
static ks_rc post_text(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *path,
                       ks_buf_t *body, int layer_count, size_t max_answer,
                       ks_http_response_t *keep)
{
    const char *headers[] = {NULL, "Content-Type: text/plain", NULL};
    ks_rc rc;

    if (body->overflow) {
        ks_buf_free(body);
        return ks_err(&ctx->err, KS_TOOLARGE, "a request of %d layers is larger than an image "
                      "server takes (%d bytes, %d layers and frames of layers)", layer_count,
                      KS_IMAGE_REQUEST_MAX, KS_IMAGE_LAYERS_MAX);
    }
    rc = call(ctx, server, "POST", path, headers, body->data, body->len, max_answer, keep);
    ks_buf_free(body);
    return rc;
}

void ks_image_compose_body(const ks_api_conf_t *conf, const char *user_id, unsigned version,
                           const ks_layer_row_t *layers, int count, ks_buf_t *body)
{
    ks_buf_init(body, KS_IMAGE_REQUEST_MAX);
    ks_buf_addf(body, "user_id %s\nversion %u\ncanvas %d %d\nthumb %d %d %d %d %d %d\n", user_id,
                version, conf->canvas.width, conf->canvas.height, conf->thumb_x, conf->thumb_y,
                conf->thumb_width, conf->thumb_height, conf->thumb_size.width,
                conf->thumb_size.height);
    add_layers(body, layers, count, 1);
}

ks_rc ks_image_compose(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *user_id,
                       unsigned version, const ks_layer_row_t *layers, int count)
{
    ks_buf_t body;

    ks_image_compose_body(ctx->conf, user_id, version, layers, count, &body);
    return post_text(ctx, server, "/internal/compose", &body, count, KS_IMAGE_ANSWER_MAX, NULL);
}

ks_rc ks_image_preview(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                       const ks_layer_row_t *layers, int count, unsigned char **png,
                       size_t *size)
{
    ks_http_response_t resp;
    ks_buf_t body;
    ks_rc rc;

    ks_buf_init(&body, KS_IMAGE_REQUEST_MAX);
    ks_buf_addf(&body, "canvas %d %d\n", ctx->conf->canvas.width, ctx->conf->canvas.height);
    add_layers(&body, layers, count, 0);
    rc = post_text(ctx, server, "/internal/preview", &body, count, KS_IMAGE_PREVIEW_MAX, &resp);
    if (rc != KS_OK)
        return rc;
    if (resp.body_size < 8 || memcmp(resp.body, "\x89PNG\r\n\x1a\n", 8) != 0) {
        ks_http_response_free(&resp);
        return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" answered a preview "
                      "with something that is not a PNG", server->name);
    }
    *png = (unsigned char *)resp.body;     /* handed over: ks_http_response_free is free() */
    *size = resp.body_size;
    return KS_OK;
}

void ks_image_album_body(const ks_album_request_t *album, ks_buf_t *body)
{
    ks_buf_init(body, KS_IMAGE_REQUEST_MAX);
    ks_buf_addf(body, "user_id %s\nphoto %u\ncanvas %d %d\nscene %d %s\nbackground #ffffff\n"
                "quality %d\n", album->user_id, album->photo_id, album->width, album->height,
                album->scene_id, album->scene_sha256, album->quality);
    add_layers(body, album->layers, album->layer_count, 0);
}

ks_rc ks_image_album(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                     const ks_album_request_t *album)
{
    ks_buf_t body;

    ks_image_album_body(album, &body);
    return post_text(ctx, server, "/internal/album", &body, album->layer_count,
                     KS_IMAGE_ANSWER_MAX, NULL);
}

ks_rc ks_image_delete_member(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                             const char *user_id)
{
    char path[128];
    const char *headers[] = {NULL, NULL};

    snprintf(path, sizeof path, "/internal/avatars/%s", user_id);   /* a valid id is URL-safe */
    return call(ctx, server, "DELETE", path, headers, NULL, 0, KS_IMAGE_ANSWER_MAX, NULL);
}

ks_rc ks_image_delete_album(ks_api_ctx_t *ctx, const ks_image_server_t *server,
                            const char *user_id, unsigned photo_id)
{
    char path[160];
    const char *headers[] = {NULL, NULL};

    snprintf(path, sizeof path, "/internal/albums/%s/%u", user_id, photo_id);
    return call(ctx, server, "DELETE", path, headers, NULL, 0, KS_IMAGE_ANSWER_MAX, NULL);
}

/* ---- batches ------------------------------------------------------------------------- */

#define KS_IMAGE_BATCH_ANSWER_MAX (4 * 1024 * 1024)

void ks_image_batch_begin(ks_buf_t *body, int check_only)
{
    ks_buf_init(body, KS_IMAGE_BATCH_MAX);
    ks_buf_addf(body, "batch %s\n", check_only ? "check" : "write");
}

int ks_image_batch_add(ks_buf_t *body, const char *route, const ks_buf_t *recipe)
{
    size_t before = body->len;
    int length = recipe->data ? (int)recipe->len : 0;

    if (recipe->overflow || length == 0 || body->overflow)
        return -1;
    ks_buf_addf(body, "%s %d\n", route, length);
    ks_buf_append(body, recipe->data, recipe->len);
    if (body->overflow) {           /* as it was: the caller sends it and starts another */
        body->overflow = 0;
        body->len = before;
        body->data[before] = '\0';
        return -1;
    }
    return 0;
}

/* call() through an HTTP client of its own that waits up to
 * KS_IMAGE_SLOW_TIMEOUT_S: a batch or a sync takes longer than one image. */
static ks_rc call_slow(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *path,
                       const char **headers, const void *body, size_t size,
                       ks_http_response_t *keep)
{
    ks_http_t *quick = ctx->http, *slow = ks_http_new(KS_IMAGE_SLOW_TIMEOUT_S * 1000L);
    ks_rc rc;

    if (!slow)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for an HTTP client");
    ctx->http = slow;
    rc = call(ctx, server, "POST", path, headers, body, size, KS_IMAGE_BATCH_ANSWER_MAX, keep);
    ctx->http = quick;
    ks_http_free(slow);
    return rc;
}

/* Parses one image line "<recipe> <status> <path>[ <message>]" into results. */
static int batch_line(const char *line, size_t length, int recipes,
                      ks_image_recipe_result_t *results)
{
    char status[16];
    int recipe, used = 0;
    ks_image_recipe_result_t *r;

    if (sscanf(line, "%d %15s %*s%n", &recipe, status, &used) != 2 || used == 0 ||
        recipe < 0 || recipe >= recipes || (size_t)used > length)
        return -1;
    r = &results[recipe];
    r->images++;
    if (strcmp(status, "written") == 0) {
        r->written++;
    } else if (strcmp(status, "missing") == 0) {
        r->missing++;
    } else if (strcmp(status, "differs") == 0) {
        r->differs++;
    } else if (strcmp(status, "failed") == 0) {
        const char *message = line + used;
        size_t n = length - (size_t)used;
        while (n > 0 && *message == ' ')
            message++, n--;
        if (r->failed++ == 0)
            snprintf(r->message, sizeof r->message, "%.*s", (int)n, message);
    } else if (strcmp(status, "unchanged") != 0) {
        return -1;
    }
    return 0;
}

ks_rc ks_image_batch(ks_api_ctx_t *ctx, const ks_image_server_t *server, ks_buf_t *body,
                     int recipes, ks_image_recipe_result_t *results)
{
    const char *headers[] = {NULL, "Content-Type: text/plain", NULL};
    ks_http_response_t resp;
    const char *p, *end;
    ks_rc rc;

    memset(results, 0, (size_t)recipes * sizeof *results);
    if (body->overflow || !body->data) {
        ks_buf_free(body);
        return ks_err(&ctx->err, KS_ERROR, "a batch body overflowed");
    }
    rc = call_slow(ctx, server, "/internal/batch", headers, body->data, body->len, &resp);
    ks_buf_free(body);
    if (rc != KS_OK)
        return rc;
    p = resp.body ? resp.body : "";
    end = p + (resp.body ? resp.body_size : 0);
    p = memchr(p, '\n', (size_t)(end - p));        /* past the summary line */
    for (p = p ? p + 1 : end; p < end && rc == KS_OK;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t length = (size_t)((eol ? eol : end) - p);
        char line[1024];

        snprintf(line, sizeof line, "%.*s", (int)(length < sizeof line ? length
                                                                          : sizeof line - 1), p);
        if (length > 0 && batch_line(line, strlen(line), recipes, results) != 0)
            rc = ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" answered a batch with "
                        "the line \"%.100s\"", server->name, line);
        p = eol ? eol + 1 : end;
    }
    ks_http_response_free(&resp);
    return rc;
}

ks_rc ks_image_sync(ks_api_ctx_t *ctx, const ks_image_server_t *server, ks_image_sync_t *out)
{
    const char *headers[] = {NULL, NULL};
    static const struct {
        const char *key;
        size_t offset;
    } keys[] = {{"layers_checked", offsetof(ks_image_sync_t, checked)},
                {"missing", offsetof(ks_image_sync_t, missing)},
                {"stale", offsetof(ks_image_sync_t, stale)},
                {"extra", offsetof(ks_image_sync_t, extra)},
                {"fetched", offsetof(ks_image_sync_t, fetched)},
                {"failed", offsetof(ks_image_sync_t, failed)}};
    ks_http_response_t resp;
    int found = 0;
    ks_rc rc;

    memset(out, 0, sizeof *out);
    if ((rc = call_slow(ctx, server, "/internal/sync", headers, "", 0, &resp)) != KS_OK)
        return rc;
    for (const char *line = resp.body; line && *line;) {
        char key[32];
        long long value;

        if (sscanf(line, "%31s %lld", key, &value) == 2)
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                if (strcmp(key, keys[k].key) == 0) {
                    *(long long *)((char *)out + keys[k].offset) = value;
                    found |= 1 << k;
                }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    ks_http_response_free(&resp);
    if (found != (1 << (sizeof keys / sizeof keys[0])) - 1)
        return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" answered a sync without "
                      "its counts", server->name);
    return KS_OK;
}
