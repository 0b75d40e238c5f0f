/* store_webhooks.c: the webhook tables (store_webhooks.h). */
#include <stdio.h>
#include <string.h>
#include "store_webhooks.h"

ks_rc ks_store_webhook_event(ks_api_ctx_t *ctx, MYSQL *conn, const char *type,
                             const char *user_id, const char *data)
{
    static const ks_col_t id_col[] = KS_COLUMNS(ks_webhook_row_t, id);
    ks_webhook_row_t subscribed[KS_WEBHOOKS_MAX];
    int count;
    ks_buf_t sql;
    ks_rc rc;

    /* A plain read of the few webhooks: no lock taken on them by every
     * change of an avatar. */
    ks_buf_init(&sql, 256);
    ks_store_sqlf(&sql, conn, "SELECT id FROM webhooks WHERE FIND_IN_SET(%s, events) ORDER BY id",
                  type);
    if ((rc = ks_store_rows(ctx, conn, &sql, KS_COLS(id_col), subscribed, sizeof subscribed[0],
                            KS_WEBHOOKS_MAX, &count)) != KS_OK || count == 0)
        return rc;

    ks_buf_init(&sql, 4096);
    ks_store_sqlf(&sql, conn, "INSERT INTO webhook_events (type, user_id, data) VALUES (%s, %s, %s)",
                  type, user_id, data);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    unsigned long long event_id = mysql_insert_id(conn);

    ks_buf_init(&sql, 1024 + (size_t)count * 96);
    ks_buf_addf(&sql, "INSERT INTO webhook_deliveries (webhook_id, event_id, user_id) VALUES ");
    for (int i = 0; i < count; i++)
        ks_store_sqlf(&sql, conn, i ? ", (%d, %llu, %s)" : "(%d, %llu, %s)", subscribed[i].id,
                      event_id, user_id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

/* ---- the webhooks ------------------------------------------------------------------ */

#define WEBHOOK_COLUMNS "id, url, events, UNIX_TIMESTAMP(created_at)"
static const ks_col_t webhook_cols[] = KS_COLUMNS(ks_webhook_row_t, id, url, events, created);

typedef struct {
    const char *url, *secret, *events;
    int *id;
} webhook_add_t;

static ks_rc add_webhook(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    webhook_add_t *add = arg;
    long long count;
    ks_rc rc;

    /* Locks the table's rows: two additions at once can't pass the limit. */
    if ((rc = ks_store_intf(ctx, conn, &count, "SELECT COUNT(*) FROM webhooks FOR UPDATE")) != KS_OK)
        return rc;
    if (count >= KS_WEBHOOKS_MAX)
        return ks_err(&ctx->err, KS_TOOLARGE, "there are %d webhooks already, the most there can be",
                      KS_WEBHOOKS_MAX);
    if ((rc = ks_store_execf(ctx, conn, "INSERT INTO webhooks (url, secret, events)"
                             " VALUES (%s, %s, %s)", add->url, add->secret, add->events)) != KS_OK)
        return rc;
    *add->id = (int)mysql_insert_id(conn);
    return KS_OK;
}

ks_rc ks_store_webhook_add(ks_api_ctx_t *ctx, MYSQL *conn, const char *url, const char *secret,
                           const char *events, int *id)
{
    webhook_add_t add = {url, secret, events, id};

    return ks_store_txn(ctx, conn, add_webhook, &add);
}

ks_rc ks_store_webhooks(struct soap *soap, MYSQL *conn, ks_webhook_row_t **rows, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT " WEBHOOK_COLUMNS " FROM webhooks ORDER BY id");
    return ks_store_rows_arena(soap, conn, &sql, KS_COLS(webhook_cols), sizeof **rows,
                               (void **)rows, count);
}

ks_rc ks_store_webhook(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_webhook_row_t *out)
{
    ks_rc rc = ks_store_onef(ctx, conn, KS_COLS(webhook_cols), out,
                             "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = %d", id);

    if (rc == KS_NOTFOUND)
        return ks_err(&ctx->err, KS_NOTFOUND, "webhook %d not found", id);
    return rc;
}

ks_rc ks_store_webhook_delete(ks_api_ctx_t *ctx, MYSQL *conn, int id, int *deleted)
{
    /* its deliveries go with it (ON DELETE CASCADE); the events stay, as
     * other webhooks may still deliver them */
    ks_rc rc = ks_store_execf(ctx, conn, "DELETE FROM webhooks WHERE id = %d", id);

    if (rc != KS_OK)
        return rc;
    *deleted = mysql_affected_rows(conn) > 0;
    return KS_OK;
}

/* ---- the delivery log --------------------------------------------------------------- */

#define DELIVERY_COLUMNS                                                                       \
    "d.event_id, e.type, e.user_id, d.state, d.attempts, d.last_status, d.last_error,"         \
    " UNIX_TIMESTAMP(e.created_at), IF(d.state = 'pending', UNIX_TIMESTAMP(d.next_at), 0),"    \
    " COALESCE(UNIX_TIMESTAMP(d.delivered_at), 0)"                                             \
    " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id"
static const ks_col_t delivery_cols[] = KS_COLUMNS(ks_delivery_row_t, event_id, type, user_id,
    state, attempts, last_status, last_error, created, next_at, delivered_at);

ks_rc ks_store_webhook_deliveries(struct soap *soap, MYSQL *conn, int id, const char *state,
                                  long long before_event_id, int limit,
                                  ks_delivery_row_t **rows, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT " DELIVERY_COLUMNS " WHERE d.webhook_id = %d", id);
    if (state)
        ks_store_sqlf(&sql, conn, " AND d.state = %s", state);
    if (before_event_id > 0)
        ks_buf_addf(&sql, " AND d.event_id < %lld", before_event_id);
    ks_buf_addf(&sql, " ORDER BY d.event_id DESC LIMIT %d", limit);
    return ks_store_rows_arena(soap, conn, &sql, KS_COLS(delivery_cols), sizeof **rows,
                               (void **)rows, count);
}

typedef struct {
    int id;
    long long event_id;
    ks_delivery_row_t *out;
} redeliver_t;

static ks_rc redeliver(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    redeliver_t *r = arg;
    ks_rc rc;

    if ((rc = ks_store_execf(ctx, conn, "UPDATE webhook_deliveries SET state = 'pending',"
                             " attempts = 0, next_at = NOW(3), delivered_at = NULL"
                             " WHERE webhook_id = %d AND event_id = %lld", r->id,
                             r->event_id)) != KS_OK)
        return rc;
    if ((rc = ks_store_onef(ctx, conn, KS_COLS(delivery_cols), r->out, "SELECT " DELIVERY_COLUMNS
                            " WHERE d.webhook_id = %d AND d.event_id = %lld", r->id,
                            r->event_id)) == KS_NOTFOUND)
        return ks_err(&ctx->err, KS_NOTFOUND, "webhook %d has no event %lld", r->id,
                      r->event_id);
    return rc;
}

ks_rc ks_store_webhook_redeliver(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long event_id,
                                 ks_delivery_row_t *out)
{
    redeliver_t r = {id, event_id, out};

    return ks_store_txn(ctx, conn, redeliver, &r);
}

/* ---- the sender's claims ------------------------------------------------------------ */

typedef struct {
    int lease_s, max;
    ks_delivery_job_t *jobs;
    int *count;
} claim_t;

static const ks_col_t claim_key_cols[] = KS_COLUMNS(ks_delivery_job_t, webhook_id, event_id);

static const ks_col_t job_cols[] = KS_COLUMNS(ks_delivery_job_t, attempts, age_s, url, secret, type,
    user_id, created, data);

static ks_rc claim(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    claim_t *c = arg;
    ks_buf_t sql;
    ks_rc rc;

    /* Only the delivery rows are locked (SKIP LOCKED: another API server's
     * sender takes others); a later event of a member waits while an
     * earlier one is pending, leased or not. */
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT d.webhook_id, d.event_id FROM webhook_deliveries d"
                " WHERE d.state = 'pending' AND d.next_at <= NOW(3) AND NOT EXISTS"
                " (SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = d.webhook_id"
                " AND p.user_id = d.user_id AND p.state = 'pending' AND p.event_id < d.event_id)"
                " ORDER BY d.next_at LIMIT %d FOR UPDATE SKIP LOCKED", c->max);
    if ((rc = ks_store_rows(ctx, conn, &sql, KS_COLS(claim_key_cols), c->jobs,
                            sizeof c->jobs[0], c->max, c->count)) != KS_OK)
        return rc;
    for (int i = 0; i < *c->count; i++) {
        ks_delivery_job_t *job = &c->jobs[i];
        if ((rc = ks_store_execf(ctx, conn, "UPDATE webhook_deliveries SET next_at = NOW(3)"
                                 " + INTERVAL %d SECOND WHERE webhook_id = %d AND event_id = %lld",
                                 c->lease_s, job->webhook_id, job->event_id)) != KS_OK ||
            (rc = ks_store_onef(ctx, conn, KS_COLS(job_cols), job,
                                "SELECT d.attempts, TIMESTAMPDIFF(SECOND, e.created_at, NOW(3)),"
                                " w.url, w.secret, e.type, e.user_id,"
                                " DATE_FORMAT(e.created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),"
                                " e.data FROM webhook_deliveries d"
                                " JOIN webhooks w ON w.id = d.webhook_id"
                                " JOIN webhook_events e ON e.id = d.event_id"
                                " WHERE d.webhook_id = %d AND d.event_id = %lld",
                                job->webhook_id, job->event_id)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

ks_rc ks_store_webhook_claim(ks_api_ctx_t *ctx, MYSQL *conn, int lease_s,
                             ks_delivery_job_t *jobs, int max, int *count)
{
    claim_t c = {lease_s, max, jobs, count};

    return ks_store_txn(ctx, conn, claim, &c);
}

ks_rc ks_store_webhook_result(ks_api_ctx_t *ctx, MYSQL *conn, const ks_delivery_job_t *job,
                              int status, const char *error, long retry_s)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_store_sqlf(&sql, conn, "UPDATE webhook_deliveries SET attempts = attempts + 1,"
                  " last_status = %d, last_error = LEFT(%s, 255)", status, error ? error : "");
    if (retry_s == 0)
        ks_buf_addf(&sql, ", state = 'delivered', delivered_at = NOW(3)");
    else if (retry_s < 0)
        ks_buf_addf(&sql, ", state = 'failed'");
    else
        ks_buf_addf(&sql, ", next_at = NOW(3) + INTERVAL %ld SECOND", retry_s);
    ks_buf_addf(&sql, " WHERE webhook_id = %d AND event_id = %lld AND state = 'pending'",
                job->webhook_id, job->event_id);
    return ks_store_run(ctx, conn, &sql, NULL);
}
