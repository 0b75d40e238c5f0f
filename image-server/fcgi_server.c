/* fcgi_server.c: the FastCGI front of kisekae-image (libfcgi FCGX_* API).
 *
 * The socket and the worker threads are common/fcgi_pool.h's (shared with
 * kisekae-admin); each worker owns its own API client (gSOAP contexts are
 * not shared), made when the pool starts it. With `fastcgi_keep_conn on`,
 * nginx pins a worker to each upstream connection: configure at least as
 * many threads as nginx keeps connections.
 *
 * Every answer is text/plain: "ok ..." on success, one line naming what failed
 * otherwise (PROTOCOL.md); each failure is also logged once, and every
 * answer is counted by route and status with its duration (metrics.h), which
 * GET /metrics renders for Prometheus. Request bodies
 * are read up to a hard limit taken from CONTENT_LENGTH; whatever a request
 * leaves unread is drained (or the connection closed) so a kept connection
 * stays in step.
 *
 * Stopping: the pool's (fcgi_pool.h): busy workers finish their request,
 * all are joined, then the rebuilder and the metrics are freed.
 */
#include "fcgi_server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "avatar_store.h"
#include "batch.h"
#include "compose_request.h"
#include "fcgi_pool.h"
#include "fsutil.h"
#include "http_frame.h"
#include "log.h"
#include "metrics.h"
#include "node_agent.h"
#include "png_codec.h"
#include "rebuild.h"
#include "output.h"
#include "placeholder.h"
#include "sha256.h"

#define BATCH_ANSWER_MAX (4u << 20)   /* the image lines of a batch's answer */
#define SYNC_WAIT_S 50          /* a sync asked for now answers within (nginx waits 60 s) */

/* One request as a worker handles it. */
typedef struct {
    ks_fcgi_server_t *server;
    FCGX_Request *request;
    ks_node_api_client_t *api;     /* the worker's API client (rebuilds), or NULL */
} worker_t;

struct ks_fcgi_server {
    const ks_image_conf_t *conf;
    ks_item_store_t *items;
    ks_item_store_t *scenes;
    ks_node_api_t *api;            /* NULL without api_url */
    ks_rebuilder_t *rebuilder;
    ks_fcgi_pool_t *pool;
    /* The node agent, for POST /internal/sync (NULL without api_url); the
     * write lock is taken only to change it, so it never goes away under a
     * request. */
    pthread_rwlock_t agent_lock;
    ks_node_agent_t *agent;

    ks_metrics_t *metrics;    /* every request answered, GET /metrics */
    atomic_int batches;       /* batch requests under way (max_batches) */
    unsigned char *placeholder[2];   /* the avatar's and the thumbnail's (placeholder.h) */
    size_t placeholder_size[2];
};

/* One answer: status and a one-line body. */
typedef struct {
    int status;
    ks_metrics_route_t route; /* what the request reached, for the metrics */
    const char *allow;        /* Allow header for 405 */
    char body[KS_ERR_MAX + 512];
    unsigned char *data;      /* a binary body instead (malloc'd), e.g. a preview PNG */
    size_t data_size;
    const char *content_type; /* of data */
    const char *cache_control;/* NULL: no-store */
    char location[1024];      /* Location header (302) when not "" */
    int retry_after_s;        /* Retry-After header when > 0 */
} reply_t;

/* The HTTP status of rc; msg is the error's message: a write the store's
 * file system refused for want of space (strerror(ENOSPC) in it) is 507, so
 * the API can say the disk is full without passing on the message. */
static int status_of(ks_rc rc, const char *msg)
{
    if (rc != KS_OK && strstr(msg, strerror(ENOSPC)))
        return 507;
    switch (rc) {
    case KS_OK: return 200;
    case KS_INVALID: return 400;
    case KS_NOTFOUND: return 404;
    case KS_CONFLICT: return 409;
    case KS_TOOLARGE: return 413;
    case KS_UNAVAILABLE: return 503;
    default: return 500;
    }
}

static void reply_text(reply_t *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_text(reply_t *reply, int status, const char *fmt, ...)
{
    va_list args;

    reply->status = status;
    va_start(args, fmt);
    vsnprintf(reply->body, sizeof reply->body, fmt, args);
    va_end(args);
}

/* ---- request helpers ------------------------------------------------------- */

/* Compares the given secret with the configured one in time that does not
 * depend on where they differ (both are hashed to a fixed length first). */
static int secret_ok(const char *given, const char *expected)
{
    char given_hex[KS_SHA256_HEX_SIZE], expected_hex[KS_SHA256_HEX_SIZE];
    unsigned char diff = 0;

    if (given == NULL || expected[0] == '\0')
        return 0;
    ks_sha256_hex(given, strlen(given), given_hex);
    ks_sha256_hex(expected, strlen(expected), expected_hex);
    for (int i = 0; i < 64; i++)
        diff |= (unsigned char)(given_hex[i] ^ expected_hex[i]);
    return diff == 0;
}

/* Parses a decimal number without sign or leading zeros in [min, INT_MAX]
 * from *p up to the next '/' or the end; advances *p. Returns 0 or -1. */
static int path_number(const char **p, int min, int *out)
{
    const char *s = *p;
    long long value = 0;

    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        value = value * 10 + (*s - '0');
        if (value > INT_MAX)
            return -1;
    }
    if (value < min)
        return -1;
    *out = (int)value;
    *p = s;
    return 0;
}

/* Reads the request body of CONTENT_LENGTH bytes, at most limit, into *out
 * (malloc'd, owned by the caller). On failure the reply is filled. */
static int read_body(FCGX_Request *request, size_t limit, unsigned char **out,
                         size_t *out_size, reply_t *reply)
{
    const char *text = ks_fcgi_param(request, "CONTENT_LENGTH");
    unsigned long long length = 0;
    unsigned char *body;
    size_t got = 0;

    *out = NULL;
    *out_size = 0;
    if (text == NULL || text[0] == '\0') {
        reply_text(reply, 411, "Content-Length required");
        return -1;
    }
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || length > (ULLONG_MAX - 9) / 10) {
            reply_text(reply, 400, "bad Content-Length \"%.32s\"", text);
            return -1;
        }
        length = length * 10 + (unsigned)(*p - '0');
    }
    if (length > limit) {
        reply_text(reply, 413, "body is %llu bytes, over the limit of %zu", length, limit);
        return -1;
    }
    body = malloc(length > 0 ? (size_t)length : 1);
    if (body == NULL) {
        reply_text(reply, 503, "out of memory for a body of %llu bytes", length);
        return -1;
    }
    while (got < length) {
        size_t want = length - got;
        int n = FCGX_GetStr((char *)body + got, want > INT_MAX ? INT_MAX : (int)want,
                            request->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < length) {
        free(body);
        reply_text(reply, 400, "body ended after %zu of %llu bytes", got, length);
        return -1;
    }
    *out = body;
    *out_size = got;
    return 0;
}

/* Writes the answer. The header is formatted with snprintf: libfcgi's own
 * FCGX_FPrintF does not know C99 conversions such as %zu. */
static void send(FCGX_Request *request, const reply_t *reply, int head_only)
{
    char header[1792], retry_after[32] = "", why[256] = "";
    size_t length = reply->data ? reply->data_size : strlen(reply->body) + 1;
    int header_length;

    if (reply->retry_after_s > 0)
        snprintf(retry_after, sizeof retry_after, "Retry-After: %d\r\n", reply->retry_after_s);
    if (reply->data && reply->status >= 400) {   /* a placeholder: the body says no more */
        int n = snprintf(why, sizeof why, "X-Kisekae-Placeholder: %.200s", reply->body);
        for (int i = 23; i < n && i < (int)sizeof why; i++)
            if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
                why[i] = ' ';
        snprintf(why + strlen(why), sizeof why - strlen(why), "\r\n");
    }
    header_length = snprintf(header, sizeof header,
                             "Status: %d %s\r\n"
                             "Content-Type: %s\r\n"
                             "Cache-Control: %s\r\n"
                             "%s%s%s"
                             "%s%s%s"
                             "%s%s"
                             "Content-Length: %zu\r\n\r\n",
                             reply->status, ks_http_reason(reply->status),
                             reply->data ? reply->content_type : "text/plain; charset=utf-8",
                             reply->cache_control ? reply->cache_control : "no-store",
                             reply->allow ? "Allow: " : "", reply->allow ? reply->allow : "",
                             reply->allow ? "\r\n" : "",
                             reply->location[0] ? "Location: " : "", reply->location,
                             reply->location[0] ? "\r\n" : "", retry_after, why, length);
    if (header_length < 0 || (size_t)header_length >= sizeof header) {
        /* Only a Location could be that long, and it is bounded: a bug. */
        static const char failed[] = "Status: 500 Internal Server Error\r\n"
                                     "Content-Type: text/plain; charset=utf-8\r\n"
                                     "Content-Length: 22\r\n\r\nanswer header too long\n";
        FCGX_PutStr(failed, (int)sizeof failed - 1, request->out);
        return;
    }
    FCGX_PutStr(header, header_length, request->out);
    if (head_only)
        return;
    if (reply->data) {
        FCGX_PutStr((const char *)reply->data, (int)reply->data_size, request->out);
    } else {
        FCGX_PutStr(reply->body, (int)length - 1, request->out);
        FCGX_PutChar('\n', request->out);
    }
}

/* ---- handlers ---------------------------------------------------------------- */

/* PUT of an item layer (archived: old art of it), or of a scene's
 * background (store: server->scenes, layer 0). */
static void put_layer(ks_fcgi_server_t *server, ks_item_store_t *store,
                          FCGX_Request *request, int item_id, int layer_no, int archived,
                          reply_t *reply)
{
    const char *sha256 = ks_fcgi_param(request, "HTTP_X_KISEKAE_SHA256");
    unsigned char *body;
    size_t size;
    ks_err_t err = {{0}};
    ks_rc rc;

    if (sha256 == NULL || !ks_sha256_hex_valid(sha256)) {
        reply_text(reply, 400, "%s %d/%d: X-Kisekae-Sha256 must be 64 lowercase hex digits",
                  store == server->scenes ? "scene" : "layer", item_id, layer_no);
        return;
    }
    if (read_body(request, server->conf->max_layer_bytes, &body, &size, reply) != 0)
        return;
    if (archived)
        rc = ks_item_store_put_archived(store, item_id, layer_no, body, size, sha256, &err);
    else
        rc = ks_item_store_put(store, item_id, layer_no, body, size, sha256, &err);
    free(body);
    if (rc != KS_OK) {
        reply_text(reply, status_of(rc, err.msg), "%s", err.msg);
        return;
    }
    reply_text(reply, 200, "ok %s", sha256);
}

/* POST /internal/compose, /internal/preview and /internal/album. */
static void post_render(ks_fcgi_server_t *server, FCGX_Request *request,
                            ks_compose_kind_t kind, reply_t *reply)
{
    ks_compose_request_t *req;
    ks_image_t canvas = {0};
    unsigned char *body;
    size_t size;
    ks_err_t err = {{0}};
    ks_rc rc;

    if (read_body(request, KS_COMPOSE_MAX_BODY, &body, &size, reply) != 0)
        return;
    req = malloc(sizeof *req);
    if (req == NULL) {
        free(body);
        reply_text(reply, 503, "out of memory for a compose request");
        return;
    }
    rc = ks_compose_request_parse((const char *)body, size, kind,
                                  (uint32_t)server->conf->max_canvas_width,
                                  (uint32_t)server->conf->max_canvas_height, req, &err);
    free(body);
    if (rc == KS_OK)
        rc = ks_output_render(server->items, server->scenes, req, &canvas, &err);
    if (rc == KS_OK && kind == KS_REQUEST_PREVIEW) {
        rc = ks_png_encode(&canvas, KS_PNG_LEVEL_FAST, &reply->data, &reply->data_size, &err);
        if (rc == KS_OK) {
            ks_metrics_composed(server->metrics, KS_COMPOSED_PREVIEW);
            reply->status = 200;
            reply->content_type = "image/png";
            snprintf(reply->body, sizeof reply->body, "ok preview %zu bytes", reply->data_size);
        }
    } else if (rc == KS_OK) {
        ks_output_t output;
        rc = ks_output_store(server->conf->store, server->items, server->scenes, req, &canvas,
                             &output, &err);
        if (rc == KS_OK) {
            reply_text(reply, 200, "ok %s%s%s%s%s", output.path, output.thumb_path[0] ? " " : "",
                       output.thumb_path, output.anim_path[0] ? " " : "", output.anim_path);
            ks_metrics_composed(server->metrics, kind == KS_REQUEST_ALBUM ? KS_COMPOSED_ALBUM
                                                                         : KS_COMPOSED_AVATAR);
        }
        ks_output_free(&output);
    }
    ks_image_free(&canvas);
    if (rc != KS_OK) {
        if (rc == KS_INVALID || rc == KS_TOOLARGE || rc == KS_CONFLICT)
            reply_text(reply, status_of(rc, err.msg), "%s", err.msg);
        else
            reply_text(reply, status_of(rc, err.msg), "%s \"%s\": %s",
                      kind == KS_REQUEST_ALBUM ? "album of" : "compose", req->user_id, err.msg);
    }
    free(req);
}

/* POST /internal/batch (batch.h): the answer is its first line and then one
 * line per image. */
static void post_batch(worker_t *worker, reply_t *reply)
{
    ks_fcgi_server_t *server = worker->server;
    ks_batch_counts_t counts;
    ks_buf_t lines, whole;
    unsigned char *body;
    size_t size;
    ks_err_t err = {{0}};
    ks_rc rc;

    if (atomic_fetch_add(&server->batches, 1) >= server->conf->max_batches) {
        atomic_fetch_sub(&server->batches, 1);
        reply->retry_after_s = 1;
        reply_text(reply, 503, "batch: %d batches under way (max_batches); try again",
                  server->conf->max_batches);
        return;
    }
    if (read_body(worker->request, KS_BATCH_MAX_BODY, &body, &size, reply) != 0) {
        atomic_fetch_sub(&server->batches, 1);
        return;
    }
    ks_buf_init(&lines, BATCH_ANSWER_MAX);
    rc = ks_batch_run(server->rebuilder, worker->api, server->conf, (const char *)body, size,
                      &lines, &counts, &err);
    atomic_fetch_sub(&server->batches, 1);
    free(body);
    if (rc != KS_OK) {
        ks_buf_free(&lines);
        reply_text(reply, status_of(rc, err.msg), "%s", err.msg);
        return;
    }
    ks_buf_init(&whole, BATCH_ANSWER_MAX + 256);
    ks_buf_addf(&whole, "ok %d recipes, %d images: %d written, %d unchanged, %d missing, "
                "%d differ, %d failed\n", counts.recipes, counts.images, counts.written,
                counts.unchanged, counts.missing, counts.differs, counts.failed);
    ks_buf_append(&whole, lines.data ? lines.data : "", lines.len);
    ks_buf_free(&lines);
    if (whole.overflow || !whole.data) {
        ks_buf_free(&whole);
        reply_text(reply, 503, "batch: out of memory for the answer");
        return;
    }
    reply_text(reply, 200, "ok %d recipes, %d images: %d written, %d failed", counts.recipes,
              counts.images, counts.written, counts.failed);
    reply->data = (unsigned char *)whole.data;     /* handed over: freed with free() */
    reply->data_size = whole.len;
    reply->content_type = "text/plain; charset=utf-8";
}

/* POST /internal/sync: the node agent's full pass, now (node_agent.h). */
static void post_sync(ks_fcgi_server_t *server, reply_t *reply)
{
    ks_node_sync_counts_t counts;
    ks_err_t err = {{0}};
    ks_rc rc;

    pthread_rwlock_rdlock(&server->agent_lock);
    if (!server->agent)
        rc = ks_err(&err, KS_UNAVAILABLE, "sync: this server has no api_url: it cannot sync");
    else
        rc = ks_node_agent_sync_now(server->agent, SYNC_WAIT_S, &counts, &err);
    pthread_rwlock_unlock(&server->agent_lock);
    if (rc != KS_OK) {
        reply_text(reply, 503, "sync: %s", err.msg);
        return;
    }
    reply_text(reply, 200, "ok sync\nlayers_checked %lld\nmissing %lld\nstale %lld\n"
              "extra %lld\nfetched %lld\nfailed %lld", counts.checked, counts.missing,
              counts.stale, counts.extra, counts.fetched, counts.failed);
}

/* DELETE /internal/avatars/{user_id} and /internal/albums/{user_id}/{photo}
 * (photo 0: every image of the member). */
static void delete(ks_fcgi_server_t *server, const char *user_id, int photo,
                       reply_t *reply)
{
    ks_err_t err = {{0}};
    ks_rc rc;

    ks_rebuilder_note_delete(server->rebuilder);      /* before: a rebuild then looks again */
    rc = photo > 0 ? ks_album_store_remove(server->conf->store, user_id, (unsigned)photo, &err)
                   : ks_avatar_store_remove_member(server->conf->store, user_id, &err);

    if (rc != KS_OK)
        reply_text(reply, status_of(rc, err.msg), "%s", err.msg);
    else
        reply_text(reply, 200, "ok");
}

/* The member's last good image where the one asked for can't be made now (a
 * 5xx: the API unreachable, max_rebuilds busy, a compose failing) and the
 * store holds an older version of it (avatar_store.h keeps the one before
 * the current): its bytes, under the same status, with why. Returns 1 when
 * reply holds it. */
static int reply_last_good(const ks_fcgi_server_t *server, const ks_member_image_t *image,
                           const char *why, reply_t *reply)
{
    enum { LAST_GOOD_MAX = 64 << 20 };
    int (*make_path)(const char *, unsigned, char *, size_t) =
        image->kind == KS_IMAGE_THUMB ? ks_avatar_thumb_path
        : image->kind == KS_IMAGE_ANIM ? ks_avatar_anim_path : ks_avatar_path;
    unsigned version = ks_avatar_store_last_good(server->conf->store, image->user_id,
                                                 image->kind, image->number);
    char relative[PATH_MAX], path[PATH_MAX];
    ks_err_t err;

    if (version == 0 || make_path(image->user_id, version, relative, sizeof relative) < 0 ||
        snprintf(path, sizeof path, "%s/%s", server->conf->store, relative) >= (int)sizeof path ||
        ks_file_read(path, LAST_GOOD_MAX, &reply->data, &reply->data_size, &err) != KS_OK)
        return 0;           /* none, or pruned meanwhile: the placeholder */
    reply->content_type = "image/png";
    reply_text(reply, reply->status, "version %u, the last good image (%s)", version, why);
    return 1;
}

/* GET of a member's image that nginx did not find in the store (its
 * try_files fallback): rebuild.h. */
static void get_image(worker_t *worker, const char *method, const char *path,
                          reply_t *reply)
{
    static const char immutable[] = "public, max-age=31536000, immutable";
    ks_rebuild_answer_t answer;
    ks_member_image_t image;
    ks_err_t err;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply->allow = "GET, HEAD";
        reply_text(reply, 405, "%s %s: method not allowed", method, path);
        return;
    }
    ks_rebuild(worker->server->rebuilder, worker->api, path, &answer);
    reply_text(reply, answer.status, "%s", answer.message);
    reply->retry_after_s = answer.retry_after_s;
    if (answer.status == 200) {
        reply->data = answer.image;
        reply->data_size = answer.image_size;
        reply->content_type = answer.content_type;
        reply->cache_control = immutable;
        return;
    }
    free(answer.image);
    reply->cache_control = "no-cache";
    if (answer.status == 302) {
        memcpy(reply->location, answer.location, sizeof reply->location);
    } else if (ks_member_image_parse(path[0] == '/' ? path + 1 : path, &image, &err) == KS_OK) {
        /* Never a broken image: a member's image that can't be made now gets
         * the member's last good one, any other the placeholder, with the
         * status and why (a malformed path keeps its text answer). */
        int thumb = image.kind == KS_IMAGE_THUMB;
        ks_fcgi_server_t *server = worker->server;
        if (answer.status >= 500 && reply_last_good(server, &image, answer.message, reply))
            return;
        if ((reply->data = malloc(server->placeholder_size[thumb])) != NULL) {
            memcpy(reply->data, server->placeholder[thumb], server->placeholder_size[thumb]);
            reply->data_size = server->placeholder_size[thumb];
            reply->content_type = "image/png";
        }
    }
}

/* What /health and /metrics report besides the counters of requests. */
static void read_gauges(ks_fcgi_server_t *server, ks_metrics_gauges_t *g)
{
    ks_item_store_stats_t stats;
    struct statvfs fs;

    ks_item_store_stats(server->items, &stats);
    memset(g, 0, sizeof *g);
    if (statvfs(server->conf->store, &fs) == 0)
        g->store_free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
    g->items_stored = stats.layers_stored;
    g->layer_cache_entries = stats.cache_entries;
    g->layer_cache_bytes = stats.cache_bytes;
    g->layer_cache_capacity = stats.cache_capacity;
    g->layer_cache_hits = stats.cache_hits;
    g->layer_cache_misses = stats.cache_misses;
    g->layer_cache_evictions = stats.cache_evictions;
    g->images_rebuilt = ks_rebuilder_count(server->rebuilder);
    g->miss_cache_hits = ks_rebuilder_miss_hits(server->rebuilder);
    g->threads = server->conf->threads;   /* the pool starts them all or fails */
}

static void get_health(ks_fcgi_server_t *server, reply_t *reply)
{
    ks_metrics_gauges_t g;

    read_gauges(server, &g);
    /* The body is several lines; send adds the final newline. */
    reply_text(reply, 200,
              "status ok\n"
              "items_stored %zu\n"
              "avatars_composed %llu\n"
              "store_free_bytes %llu\n"
              "threads %d\n"
              "layer_cache_entries %zu\n"
              "layer_cache_bytes %zu\n"
              "layer_cache_capacity %zu\n"
              "layer_cache_hits %llu\n"
              "layer_cache_misses %llu\n"
              "layer_cache_evictions %llu\n"
              "images_rebuilt %llu",
              g.items_stored, ks_metrics_stored_total(server->metrics), g.store_free_bytes,
              g.threads, g.layer_cache_entries, g.layer_cache_bytes, g.layer_cache_capacity,
              g.layer_cache_hits, g.layer_cache_misses, g.layer_cache_evictions,
              g.images_rebuilt);
}

/* GET /metrics: the counters and gauges in the Prometheus text format. */
static void get_metrics(ks_fcgi_server_t *server, reply_t *reply)
{
    ks_metrics_gauges_t g;
    ks_buf_t text;

    read_gauges(server, &g);
    ks_buf_init(&text, 1u << 20);
    ks_metrics_render(server->metrics, &g, &text);
    if (text.overflow) {
        ks_buf_free(&text);
        reply_text(reply, 500, "/metrics: the exposition is over 1 MiB or out of memory");
        return;
    }
    reply->status = 200;
    reply->data = (unsigned char *)text.data;   /* freed with the reply */
    reply->data_size = text.len;
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    snprintf(reply->body, sizeof reply->body, "ok metrics %zu bytes", text.len);
}

/* Routes one request: path, then secret, then method, then body. */
static void route(worker_t *worker, reply_t *reply)
{
    ks_fcgi_server_t *server = worker->server;
    FCGX_Request *request = worker->request;
    const char *method = ks_fcgi_param(request, "REQUEST_METHOD");
    const char *uri = ks_fcgi_param(request, "DOCUMENT_URI");
    char path[512];
    int item_id = 0, layer_no = 0;

    if (method == NULL)
        method = "";
    if (uri == NULL)
        uri = ks_fcgi_param(request, "REQUEST_URI");
    if (uri == NULL)
        uri = "";
    snprintf(path, sizeof path, "%.*s", (int)strcspn(uri, "?"), uri);

    if (strcmp(path, "/health") == 0 || strcmp(path, "/metrics") == 0) {
        reply->route = path[1] == 'h' ? KS_ROUTE_HEALTH : KS_ROUTE_METRICS;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            reply->allow = "GET, HEAD";
            reply_text(reply, 405, "%s %s: method not allowed", method, path);
            return;
        }
        if (reply->route == KS_ROUTE_HEALTH)
            get_health(server, reply);
        else
            get_metrics(server, reply);
        return;
    }
    /* Only the public server block's try_files fallback sends these. */
    if (strncmp(path, "/avatars/", 9) == 0 || strncmp(path, "/albums/", 8) == 0) {
        reply->route = KS_ROUTE_REBUILD;
        get_image(worker, method, path, reply);
        return;
    }

    if (strncmp(path, "/internal/", 10) != 0) {
        reply_text(reply, 404, "%s: not found", path);
        return;
    }
    /* Each route: its path, the one method it takes. */
    const char *rest = path + 10, *want = NULL;
    enum {
        R_ITEM, R_ARCHIVED, R_SCENE, R_COMPOSE, R_PREVIEW, R_ALBUM, R_DEL_MEMBER, R_DEL_PHOTO,
        R_BATCH, R_SYNC
    } route;
    char user_id[KS_USER_ID_MAX + 1] = "";
    int photo = 0;
    const char *p;
    if (strncmp(rest, "items/", 6) == 0 && (p = rest + 6, path_number(&p, 1, &item_id) == 0)
        && *p++ == '/' && path_number(&p, 0, &layer_no) == 0
        && (*p == '\0' || strcmp(p, "/archive") == 0)) {
        route = *p == '\0' ? R_ITEM : R_ARCHIVED;
        want = "PUT";
    } else if (strncmp(rest, "scenes/", 7) == 0 &&
               (p = rest + 7, path_number(&p, 1, &item_id) == 0) && *p == '\0') {
        route = R_SCENE;
        want = "PUT";
    } else if (strcmp(rest, "compose") == 0 || strcmp(rest, "preview") == 0 ||
               strcmp(rest, "album") == 0) {
        route = rest[0] == 'c' ? R_COMPOSE : rest[0] == 'p' ? R_PREVIEW : R_ALBUM;
        want = "POST";
    } else if (strcmp(rest, "batch") == 0 || strcmp(rest, "sync") == 0) {
        route = rest[0] == 'b' ? R_BATCH : R_SYNC;
        want = "POST";
    } else if (strncmp(rest, "avatars/", 8) == 0 && strlen(rest + 8) < sizeof user_id &&
               ks_user_id_valid(rest + 8)) {
        strcpy(user_id, rest + 8);
        route = R_DEL_MEMBER;
        want = "DELETE";
    } else if (strncmp(rest, "albums/", 7) == 0 && (p = strchr(rest + 7, '/')) != NULL &&
               (size_t)(p - (rest + 7)) < sizeof user_id) {
        memcpy(user_id, rest + 7, (size_t)(p - (rest + 7)));
        user_id[p - (rest + 7)] = '\0';
        p++;
        if (!ks_user_id_valid(user_id) || path_number(&p, 1, &photo) != 0 || *p != '\0') {
            reply_text(reply, 404, "%s: not found", path);
            return;
        }
        route = R_DEL_PHOTO;
        want = "DELETE";
    } else {
        reply_text(reply, 404, "%s: not found", path);
        return;
    }
    {
        static const ks_metrics_route_t route_metric[] = {
            [R_ITEM] = KS_ROUTE_ITEM, [R_ARCHIVED] = KS_ROUTE_ARCHIVE, [R_SCENE] = KS_ROUTE_SCENE,
            [R_COMPOSE] = KS_ROUTE_COMPOSE, [R_PREVIEW] = KS_ROUTE_PREVIEW,
            [R_ALBUM] = KS_ROUTE_ALBUM, [R_DEL_MEMBER] = KS_ROUTE_DELETE_MEMBER,
            [R_DEL_PHOTO] = KS_ROUTE_DELETE_PHOTO, [R_BATCH] = KS_ROUTE_BATCH,
            [R_SYNC] = KS_ROUTE_SYNC,
        };
        reply->route = route_metric[route];
    }
    if (!secret_ok(ks_fcgi_param(request, "HTTP_X_KISEKAE_SECRET"),
                       server->conf->cluster_secret)) {
        reply_text(reply, 403, "%s: missing or wrong X-Kisekae-Secret", path);
        return;
    }
    if (strcmp(method, want) != 0) {
        reply->allow = want;
        reply_text(reply, 405, "%s %s: method not allowed", method, path);
        return;
    }
    switch (route) {
    case R_ITEM: put_layer(server, server->items, request, item_id, layer_no, 0, reply); break;
    case R_ARCHIVED:
        put_layer(server, server->items, request, item_id, layer_no, 1, reply);
        break;
    case R_SCENE: put_layer(server, server->scenes, request, item_id, 0, 0, reply); break;
    case R_COMPOSE: post_render(server, request, KS_REQUEST_COMPOSE, reply); break;
    case R_PREVIEW: post_render(server, request, KS_REQUEST_PREVIEW, reply); break;
    case R_ALBUM: post_render(server, request, KS_REQUEST_ALBUM, reply); break;
    case R_DEL_MEMBER: delete(server, user_id, 0, reply); break;
    case R_DEL_PHOTO: delete(server, user_id, photo, reply); break;
    case R_BATCH: post_batch(worker, reply); break;
    case R_SYNC: post_sync(server, reply); break;
    }
}

static void handle(worker_t *worker)
{
    FCGX_Request *request = worker->request;
    reply_t reply = {0};
    const char *method = ks_fcgi_param(request, "REQUEST_METHOD");
    const char *uri = ks_fcgi_param(request, "REQUEST_URI");
    const char *remote = ks_fcgi_param(request, "REMOTE_ADDR");
    struct timespec start, end;

    clock_gettime(CLOCK_MONOTONIC, &start);
    reply.route = KS_ROUTE_OTHER;
    route(worker, &reply);
    ks_fcgi_drain(request);
    send(request, &reply, method != NULL && strcmp(method, "HEAD") == 0);
    free(reply.data);
    clock_gettime(CLOCK_MONOTONIC, &end);
    ks_metrics_request(worker->server->metrics, reply.route, reply.status,
                       (double)(end.tv_sec - start.tv_sec) +
                           (double)(end.tv_nsec - start.tv_nsec) / 1e9);

    if (reply.status >= 500)
        ks_log_error("%s %s from %s: %d %s", method ? method : "-", uri ? uri : "-",
                     remote ? remote : "-", reply.status, reply.body);
    else if (reply.status >= 400)
        ks_log_warn("%s %s from %s: %d %s", method ? method : "-", uri ? uri : "-",
                    remote ? remote : "-", reply.status, reply.body);
    else
        ks_log_debug("%s %s from %s: %d", method ? method : "-", uri ? uri : "-",
                     remote ? remote : "-", reply.status);
}

/* ---- workers ------------------------------------------------------------------ */

/* The pool's callbacks: each worker's state is its API client (NULL without
 * api_url). */
static ks_rc worker_init(void *arg, int index, void **state, ks_err_t *err)
{
    ks_fcgi_server_t *server = arg;
    ks_node_api_client_t *api = NULL;
    ks_rc rc;

    (void)index;
    if (server->api && (rc = ks_node_api_client_new(server->api, &api, err)) != KS_OK)
        return rc;
    *state = api;
    return KS_OK;
}

static void worker_free(void *arg, void *state)
{
    (void)arg;
    ks_node_api_client_free(state);
}

static void pool_handle(void *arg, void *state, FCGX_Request *request)
{
    worker_t worker = {.server = arg, .request = request, .api = state};

    handle(&worker);
}

/* Writes the placeholders as <store>/.placeholder/avatar.png and thumb.png,
 * for nginx to answer with when this app can't answer at all: it is down or
 * restarting (502, 504), or the rebuild location's rate limit refused the
 * request (503). See kisekae-image-public.conf. */
static ks_rc publish_placeholders(const char *store, unsigned char *const png[2],
                                  const size_t size[2], ks_err_t *err)
{
    char dir[PATH_MAX];

    if ((size_t)snprintf(dir, sizeof dir, "%s/.placeholder", store) >= sizeof dir)
        return ks_err(err, KS_INVALID, "store path too long: %s", store);
    return ks_placeholder_publish(dir, png, size, err);
}

ks_rc ks_fcgi_server_start(const ks_image_conf_t *conf, ks_item_store_t *items,
                           ks_item_store_t *scenes, ks_node_api_t *api, ks_fcgi_server_t **out,
                           ks_err_t *err)
{
    ks_fcgi_server_t *server;
    ks_rc rc;

    *out = NULL;
    server = calloc(1, sizeof *server);
    if (server == NULL)
        return ks_err(err, KS_NOMEM, "fcgi server: out of memory");
    server->conf = conf;
    server->items = items;
    server->scenes = scenes;
    server->api = api;
    atomic_init(&server->batches, 0);
    server->metrics = ks_metrics_new();
    if (server->metrics == NULL) {
        free(server);
        return ks_err(err, KS_NOMEM, "fcgi server: out of memory");
    }
    pthread_rwlock_init(&server->agent_lock, NULL);

    rc = ks_rebuilder_new(conf, items, scenes, &server->rebuilder, err);
    if (rc == KS_OK)
        rc = ks_placeholder_load(conf->placeholder_png, (unsigned)conf->placeholder_size.width,
                                 (unsigned)conf->placeholder_size.height, &server->placeholder[0],
                                 &server->placeholder_size[0], err);
    if (rc == KS_OK)
        rc = ks_placeholder_load(conf->placeholder_thumb_png,
                                 (unsigned)conf->placeholder_thumb_size.width,
                                 (unsigned)conf->placeholder_thumb_size.height,
                                 &server->placeholder[1], &server->placeholder_size[1], err);
    if (rc == KS_OK)
        rc = publish_placeholders(conf->store, server->placeholder, server->placeholder_size, err);
    if (rc == KS_OK) {
        ks_fcgi_pool_conf_t pool_conf = {
            .listen = conf->listen, .threads = conf->threads, .arg = server,
            .worker_init = worker_init, .worker_free = worker_free,
            .handle = pool_handle,
        };
        rc = ks_fcgi_pool_start(&pool_conf, &server->pool, err);
    }
    if (rc != KS_OK) {
        ks_fcgi_server_stop(server);
        return rc;
    }
    *out = server;
    return KS_OK;
}

void ks_fcgi_server_set_agent(ks_fcgi_server_t *server, ks_node_agent_t *agent)
{
    pthread_rwlock_wrlock(&server->agent_lock);
    server->agent = agent;
    pthread_rwlock_unlock(&server->agent_lock);
}

unsigned long long ks_fcgi_server_avatars_composed(ks_fcgi_server_t *server)
{
    return ks_metrics_stored_total(server->metrics);
}

void ks_fcgi_server_stop(ks_fcgi_server_t *server)
{
    if (server == NULL)
        return;

    ks_fcgi_pool_stop(server->pool);
    ks_rebuilder_free(server->rebuilder);
    free(server->placeholder[0]);
    free(server->placeholder[1]);
    pthread_rwlock_destroy(&server->agent_lock);
    ks_metrics_free(server->metrics);
    free(server);
}
