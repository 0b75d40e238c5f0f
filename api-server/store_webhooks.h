/* store_webhooks.h: the webhooks, webhook_events and webhook_deliveries
 * tables (sql/migrations/009_webhooks.sql): sites' endpoints, the events
 * recorded for them in the transactions that change avatars, and the
 * delivery of each event to each endpoint, claimed by the sender
 * (webhook.c). */
#ifndef KS_API_STORE_WEBHOOKS_H
#define KS_API_STORE_WEBHOOKS_H

#include "store.h"

#define KS_WEBHOOKS_MAX 64
#define KS_WEBHOOK_URL_MAX 1024
#define KS_WEBHOOK_SECRET_MIN 16
#define KS_WEBHOOK_SECRET_MAX 128
#define KS_WEBHOOK_DATA_MAX 2048         /* bytes of an event's JSON data */

typedef struct {
    int id;
    char url[KS_WEBHOOK_URL_MAX + 1];
    char events[128];                    /* "avatar.changed,avatar.deleted" */
    long long created;                   /* unix time */
} ks_webhook_row_t;

typedef struct {
    long long event_id;
    char type[32];
    char user_id[KS_USER_ID_MAX + 1];
    char state[16];                      /* pending | delivered | failed */
    int attempts, last_status;
    char last_error[256];
    long long created, next_at, delivered_at;   /* unix time; 0: none */
} ks_delivery_row_t;

/* One delivery the sender claimed: where, how to sign, and what. */
typedef struct {
    int webhook_id;
    long long event_id;
    int attempts;                        /* POSTs made before this one */
    long long age_s;                     /* since the event happened */
    char url[KS_WEBHOOK_URL_MAX + 1];
    char secret[KS_WEBHOOK_SECRET_MAX + 1];
    char type[32];
    char user_id[KS_USER_ID_MAX + 1];
    char created[32];                    /* "2026-12-06T10:30:00.123Z" */
    char data[KS_WEBHOOK_DATA_MAX + 1];
} ks_delivery_job_t;

/* Records event type for user_id with data (a JSON object) in the caller's
 * open transaction, with a delivery to each webhook subscribed to type; no
 * row at all when none is. */
ks_rc ks_store_webhook_event(ks_api_ctx_t *ctx, MYSQL *conn, const char *type,
                             const char *user_id, const char *data);

/* Adds a webhook (events: a comma list of known types) as *id; KS_TOOLARGE
 * when KS_WEBHOOKS_MAX exist. Runs its own transaction. */
ks_rc ks_store_webhook_add(ks_api_ctx_t *ctx, MYSQL *conn, const char *url, const char *secret,
                           const char *events, int *id);

/* Every webhook, ordered by id, in the request's arena. */
ks_rc ks_store_webhooks(struct soap *soap, MYSQL *conn, ks_webhook_row_t **rows, int *count);

/* Webhook id (KS_NOTFOUND when there is none). */
ks_rc ks_store_webhook(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_webhook_row_t *out);

/* Removes webhook id with its deliveries; *deleted is 0 when it did not exist. */
ks_rc ks_store_webhook_delete(ks_api_ctx_t *ctx, MYSQL *conn, int id, int *deleted);

/* The deliveries of webhook id, newest event first, those before
 * before_event_id (0: all), only in state (NULL: any), at most limit, in the
 * request's arena. */
ks_rc ks_store_webhook_deliveries(struct soap *soap, MYSQL *conn, int id, const char *state,
                                  long long before_event_id, int limit,
                                  ks_delivery_row_t **rows, int *count);

/* Makes the delivery of event_id to webhook id pending and due at once, its
 * attempts counted afresh, and reads it into *out (KS_NOTFOUND when there is
 * no such delivery). */
ks_rc ks_store_webhook_redeliver(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long event_id,
                                 ks_delivery_row_t *out);

/* Claims up to max due deliveries (for each webhook and member, the oldest
 * pending event only, so a member's events arrive in order) by moving them
 * lease_s seconds ahead, in a transaction of its own, and reads them into
 * jobs. */
ks_rc ks_store_webhook_claim(ks_api_ctx_t *ctx, MYSQL *conn, int lease_s,
                             ks_delivery_job_t *jobs, int max, int *count);

/* The outcome of a POST of job: delivered (retry_s 0), tried again in
 * retry_s seconds, or given up (retry_s < 0); status and error (NULL: none)
 * are kept for the delivery log. */
ks_rc ks_store_webhook_result(ks_api_ctx_t *ctx, MYSQL *conn, const ks_delivery_job_t *job,
                              int status, const char *error, long retry_s);

#endif
