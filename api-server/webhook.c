/* webhook.c: recording avatar events and delivering them (webhook.h).
 *
 * Delivery: the sender claims due deliveries (store_webhooks.c: a member's
 * oldest pending event per webhook, leased for the POST's timeout and some),
 * POSTs each outside any transaction, and records the outcome: a 2xx
 * answer delivers it; anything else (another status, no answer) is tried
 * again after webhook_retry seconds doubled per attempt, at most an hour,
 * until the event is webhook_give_up hours old, when it is given up
 * (state failed, still redeliverable by RedeliverWebhookEvent). A crash
 * between the POST and its record sends it again once the lease ends: at
 * least once, never lost; receivers de-duplicate by the event id.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "job.h"
#include "log.h"
#include "store_webhooks.h"
#include "webhook.h"

#define KS_WEBHOOK_BATCH 16
#define KS_WEBHOOK_BACKOFF_MAX_S 3600
#define KS_WEBHOOK_RESPONSE_MAX (64 * 1024)   /* bytes of an answer read (and ignored) */

static const char *const event_types[] = {KS_EVENT_CHANGED, KS_EVENT_REGENERATED,
                                          KS_EVENT_MOVED, KS_EVENT_DELETED};

int ks_webhook_event_known(const char *type)
{
    for (size_t i = 0; i < sizeof event_types / sizeof event_types[0]; i++)
        if (strcmp(type, event_types[i]) == 0)
            return 1;
    return 0;
}

/* Appends ,"name":"<server's public URL>/<path>" to data. */
static void add_url(ks_buf_t *data, const char *name, const ks_image_server_t *server,
                    const char *path)
{
    char url[sizeof server->public_url + 256];
    size_t base = strlen(server->public_url);

    while (base > 0 && server->public_url[base - 1] == '/')
        base--;
    snprintf(url, sizeof url, "%.*s/%s", (int)base, server->public_url, path);
    ks_buf_addf(data, ",\"%s\":", name);
    ks_buf_add_json_str(data, url);
}

ks_rc ks_webhook_avatar_event(ks_api_ctx_t *ctx, MYSQL *conn, const char *type,
                              const ks_member_t *member, const ks_image_server_t *server)
{
    char path[256];
    ks_buf_t data;
    ks_rc rc;

    ks_buf_init(&data, KS_WEBHOOK_DATA_MAX);
    ks_buf_addf(&data, "{\"userId\":");
    ks_buf_add_json_str(&data, member->user_id);
    ks_buf_addf(&data, ",\"version\":%u", member->version);
    if (server) {
        ks_buf_addf(&data, ",\"imageServer\":");
        ks_buf_add_json_str(&data, server->name);
        ks_avatar_path(member->user_id, member->version, path, sizeof path);
        add_url(&data, "imageUrl", server, path);
        ks_avatar_thumb_path(member->user_id, member->version, path, sizeof path);
        add_url(&data, "thumbnailUrl", server, path);
    }
    ks_buf_addf(&data, "}");
    rc = data.overflow ? ks_err(&ctx->err, KS_TOOLARGE, "the data of a %s event is over %d bytes",
                                type, KS_WEBHOOK_DATA_MAX)
                       : ks_store_webhook_event(ctx, conn, type, member->user_id, data.data);
    ks_buf_free(&data);
    return rc;
}

void ks_webhook_sign(const char *secret, long long t, const char *body, size_t body_size,
                     char *out, size_t out_size)
{
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char stamp[32], hex[2 * sizeof mac + 1];
    int stamp_len = snprintf(stamp, sizeof stamp, "%lld.", t);

    crypto_auth_hmacsha256_init(&state, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)stamp, (size_t)stamp_len);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)body, body_size);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, out_size, "t=%lld,v1=%s", t, hex);
}

/* ---- the sender ---------------------------------------------------------------------- */

/* POSTs job; returns the HTTP status (0 when there was no answer), with the
 * reason of a failure in why. */
static int post(ks_api_ctx_t *ctx, const ks_delivery_job_t *job, char *why, size_t why_size)
{
    char signature[128], signature_header[160], id_header[64], type_header[64];
    const char *headers[] = {"Content-Type: application/json", "User-Agent: kisekae-webhook/1",
                             id_header, type_header, signature_header, NULL};
    ks_http_response_t resp = {0};
    ks_buf_t body;
    int status = 0;

    ks_buf_init(&body, KS_WEBHOOK_DATA_MAX + 512);
    ks_buf_addf(&body, "{\"id\":\"%lld\",\"type\":", job->event_id);
    ks_buf_add_json_str(&body, job->type);
    ks_buf_addf(&body, ",\"created\":");
    ks_buf_add_json_str(&body, job->created);
    ks_buf_addf(&body, ",\"data\":%s}", job->data);
    ks_webhook_sign(job->secret, (long long)time(NULL), body.data, body.len, signature,
                    sizeof signature);
    snprintf(signature_header, sizeof signature_header, "X-Kisekae-Signature: %s", signature);
    snprintf(id_header, sizeof id_header, "X-Kisekae-Event-Id: %lld", job->event_id);
    snprintf(type_header, sizeof type_header, "X-Kisekae-Event-Type: %s", job->type);
    if (body.overflow)
        snprintf(why, why_size, "the event's body is too large");
    else if (ks_http_request(ctx->http, "POST", job->url, headers, body.data, body.len,
                             KS_WEBHOOK_RESPONSE_MAX, &resp, &ctx->err) != KS_OK)
        snprintf(why, why_size, "%s", ctx->err.msg);
    else if ((status = resp.status) < 200 || status > 299)
        snprintf(why, why_size, "answered HTTP %d", status);
    else
        why[0] = '\0';
    ks_http_response_free(&resp);
    ks_buf_free(&body);
    return status;
}

/* The seconds before the next try of a delivery after its attempt-th
 * failure (attempt >= 1), or -1 when the event is too old to try again. */
static long retry_after(const ks_api_conf_t *conf, const ks_delivery_job_t *job, int attempt)
{
    long delay = conf->webhook_retry_s;

    if (job->age_s >= (long long)conf->webhook_give_up_h * 3600)
        return -1;
    for (int i = 1; i < attempt && delay < KS_WEBHOOK_BACKOFF_MAX_S; i++)
        delay *= 2;
    return delay < KS_WEBHOOK_BACKOFF_MAX_S ? delay : KS_WEBHOOK_BACKOFF_MAX_S;
}

static int send_round(struct soap *soap, ks_api_ctx_t *ctx, ks_job_t *sender_job, void *arg)
{
    ks_delivery_job_t jobs[KS_WEBHOOK_BATCH];
    int count = 0, lease = ctx->conf->webhook_timeout_s + 5;
    MYSQL *conn;

    (void)soap;
    (void)sender_job;
    (void)arg;
    if (ks_db_master(ctx->db, &conn, &ctx->err) != KS_OK ||
        ks_store_webhook_claim(ctx, conn, lease, jobs, KS_WEBHOOK_BATCH, &count) != KS_OK) {
        ks_log_warn("webhooks: claiming deliveries failed: %s", ctx->err.msg);
        return 0;
    }
    for (int i = 0; i < count; i++) {
        const ks_delivery_job_t *job = &jobs[i];
        char why[256];
        int status = post(ctx, job, why, sizeof why);
        long retry = why[0] ? retry_after(ctx->conf, job, job->attempts + 1) : 0;

        if (why[0])
            ks_log_warn("webhooks: event %lld to webhook %d (%s) failed, attempt %d: %s; %s",
                        job->event_id, job->webhook_id, job->url, job->attempts + 1, why,
                        retry < 0 ? "given up" : "tried again later");
        ks_db_session_begin(ctx->db);
        if (ks_db_master(ctx->db, &conn, &ctx->err) != KS_OK ||
            ks_store_webhook_result(ctx, conn, job, status, why[0] ? why : NULL, retry) != KS_OK)
            ks_log_warn("webhooks: recording the delivery of event %lld to webhook %d failed:"
                        " %s (it is sent again when its lease ends)", job->event_id,
                        job->webhook_id, ctx->err.msg);
    }
    return count == KS_WEBHOOK_BATCH;
}

static ks_job_t *sender;

ks_rc ks_webhooks_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err)
{
    return ks_job_start("webhooks", conf, pool, (long)conf->webhook_timeout_s * 1000,
                        conf->webhook_interval_ms, send_round, NULL, &sender, err);
}

void ks_webhooks_stop(void)
{
    ks_job_stop(sender);
    sender = NULL;
}
