/* image_client.c: HTTP calls from the API tier to image servers. */
#include <stdio.h>
#include <string.h>
#include "image_client.h"
#include "log.h"

#define KS_IMAGE_ANSWER_MAX 4096

/* Sends one request; headers[0] is filled with the cluster secret. */
static ks_rc call(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *method,
                  const char *path, const char **headers, const void *body, size_t size,
                  long *status)
{
    char url[512], secret[192];
    ks_http_response_t resp;
    ks_rc rc;

    snprintf(url, sizeof url, "%s%s", server->internal_url, path);
    snprintf(secret, sizeof secret, "X-Kisekae-Secret: %s", ctx->conf->cluster_secret);
    headers[0] = secret;
    rc = ks_http_request(ctx->http, method, url, headers, body, size, KS_IMAGE_ANSWER_MAX, &resp,
                         &ctx->err);
    if (rc != KS_OK) {
        ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\": %s", server->name, ctx->err.msg);
        ks_log_warn("%s", ctx->err.msg);
        return KS_UNAVAILABLE;
    }
    *status = resp.status;
    if (resp.status != 200) {
        size_t n = resp.body_size;
        while (n > 0 && (resp.body[n - 1] == '\n' || resp.body[n - 1] == '\r'))
            n--;
        ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" answered %s %s with %ld: %.*s",
               server->name, method, path, resp.status, (int)(n > 300 ? 300 : n),
               resp.body ? resp.body : "");
        ks_log_warn("%s", ctx->err.msg);
        rc = KS_UNAVAILABLE;
    }
    ks_http_response_free(&resp);
    return rc;
}

ks_rc ks_image_put_layer(ks_api_ctx_t *ctx, const ks_image_server_t *server, int item_id,
                         int layer_no, const void *png, size_t size, const char *sha256)
{
    char path[64], hash[128];
    const char *headers[] = {NULL, "Content-Type: image/png", hash, NULL};
    long status = 0;

    snprintf(path, sizeof path, "/internal/items/%d/%d", item_id, layer_no);
    snprintf(hash, sizeof hash, "X-Kisekae-Sha256: %s", sha256);
    return call(ctx, server, "PUT", path, headers, png, size, &status);
}

ks_rc ks_image_compose(ks_api_ctx_t *ctx, const ks_image_server_t *server, const char *user_id,
                       unsigned version, int canvas_width, int canvas_height,
                       const ks_layer_row_t *layers, int count)
{
    ks_buf_t body;
    const char *headers[] = {NULL, "Content-Type: text/plain", NULL};
    long status = 0;
    ks_rc rc;

    ks_buf_init(&body, 64 * 1024);
    ks_buf_addf(&body, "user_id %s\nversion %u\ncanvas %d %d\n", user_id, version, canvas_width,
               canvas_height);
    for (int i = 0; i < count; i++)
        ks_buf_addf(&body, "layer %d %d %d %d %d %s\n", layers[i].item_id, layers[i].layer_no,
                   layers[i].z_order, layers[i].x, layers[i].y, layers[i].sha256);
    if (body.overflow) {
        ks_buf_free(&body);
        return ks_err(&ctx->err, KS_TOOLARGE, "compose request of %d layers is too large", count);
    }
    rc = call(ctx, server, "POST", "/internal/compose", headers, body.data, body.len, &status);
    ks_buf_free(&body);
    if (rc != KS_OK && status == 409)
        return KS_CONFLICT;
    return rc;
}
