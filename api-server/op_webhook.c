/* op_webhook.c: the webhook operations (admin): RegisterWebhook,
 * ListWebhooks, DeleteWebhook, ListWebhookDeliveries, RedeliverWebhookEvent.
 * What a site sees is in wsdl/kisekae.h; recording and sending is in
 * webhook.c, the SQL in store_webhooks.c. */
#include <stdio.h>
#include <string.h>
#include "store_webhooks.h"
#include "webhook.h"

/* url: http(s)://host..., at most KS_WEBHOOK_URL_MAX printable ASCII
 * characters. Sets the fault and returns its code when it is not. */
static int check_url(struct soap *soap, const char *url)
{
    if (ks_check_text(soap, "url", url, KS_WEBHOOK_URL_MAX))
        return soap->error;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return ks_fault(soap, "InvalidArgument", "url: only printable ASCII without spaces");
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        url[strncmp(url, "https", 5) == 0 ? 8 : 7] == '\0' ||
        url[strncmp(url, "https", 5) == 0 ? 8 : 7] == '/')
        return ks_fault(soap, "InvalidArgument", "url: an http:// or https:// URL with a host");
    return SOAP_OK;
}

/* The event types of event[0..count) as a comma list into out. */
static int check_events(struct soap *soap, int count, char **event, char *out, size_t size)
{
    size_t len = 0;

    if (count < 1 || count > 4)
        return ks_fault(soap, "InvalidArgument", "event: 1 to 4 event types");
    out[0] = '\0';
    for (int i = 0; i < count; i++) {
        if (!event[i] || !ks_webhook_event_known(event[i]))
            return ks_fault(soap, "InvalidArgument", "event[%d]: \"%.40s\" is not an event type"
                            " (avatar.changed, avatar.regenerated, avatar.moved, avatar.deleted)",
                            i, event[i] ? event[i] : "");
        for (int j = 0; j < i; j++)
            if (strcmp(event[i], event[j]) == 0)
                return ks_fault(soap, "InvalidArgument", "event[%d]: %s given twice", i,
                                event[i]);
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", event[i]);
    }
    return SOAP_OK;
}

/* Fills w, in the arena, from row; 0 when out of memory. */
static int webhook_fill(struct soap *soap, struct ks__Webhook *w, const ks_webhook_row_t *row)
{
    char events[sizeof row->events], *save = NULL;
    int n = 0;

    if (!(w->event = soap_malloc(soap, 4 * sizeof *w->event)))
        return 0;
    w->id = row->id;
    w->url = soap_strdup(soap, row->url);
    w->createdAt = (time_t)row->created;
    snprintf(events, sizeof events, "%s", row->events);
    for (char *e = strtok_r(events, ",", &save); e && n < 4; e = strtok_r(NULL, ",", &save))
        w->event[n++] = soap_strdup(soap, e);
    w->__sizeevent = n;
    return 1;
}

static struct ks__Webhook *webhook_answer(struct soap *soap, const ks_webhook_row_t *row)
{
    struct ks__Webhook *w = soap_new_ks__Webhook(soap, -1);

    return w && webhook_fill(soap, w, row) ? w : NULL;
}

/* Fills d, in the arena, from row. */
static void delivery_fill(struct soap *soap, struct ks__WebhookDelivery *d,
                          const ks_delivery_row_t *row)
{
    d->eventId = row->event_id;
    d->type = soap_strdup(soap, row->type);
    d->userId = soap_strdup(soap, row->user_id);
    d->state = soap_strdup(soap, row->state);
    d->attempts = row->attempts;
    d->lastStatus = row->last_status;
    d->lastError = soap_strdup(soap, row->last_error);
    d->createdAt = (time_t)row->created;
    if (row->next_at && (d->nextAttemptAt = soap_malloc(soap, sizeof(time_t))))
        *d->nextAttemptAt = (time_t)row->next_at;
    if (row->delivered_at && (d->deliveredAt = soap_malloc(soap, sizeof(time_t))))
        *d->deliveredAt = (time_t)row->delivered_at;
}

int ks__RegisterWebhook(struct soap *soap, char *url, char *secret, int __sizeevent,
                        char **event, struct ks__RegisterWebhookResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    char events[128];
    ks_webhook_row_t row;
    MYSQL *conn;
    int id;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || check_url(soap, url) ||
        ks_check_text(soap, "secret", secret, KS_WEBHOOK_SECRET_MAX) ||
        check_events(soap, __sizeevent, event, events, sizeof events))
        return soap->error;
    if (strlen(secret) < KS_WEBHOOK_SECRET_MIN)
        return ks_fault(soap, "InvalidArgument", "secret: at least %d characters",
                        KS_WEBHOOK_SECRET_MIN);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_webhook_add(ctx, conn, url, secret, events, &id)) != KS_OK ||
        (rc = ks_store_webhook(ctx, conn, id, &row)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(response->webhook = webhook_answer(soap, &row)))
        return soap->error = SOAP_EOM;
    return SOAP_OK;
}

int ks__ListWebhooks(struct soap *soap, struct ks__ListWebhooksResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_webhook_row_t *rows;
    MYSQL *conn;
    int count;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_webhooks(soap, conn, &rows, &count)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (count && !(response->webhook = soap_new_ks__Webhook(soap, count)))
        return soap->error = SOAP_EOM;
    for (int i = 0; i < count; i++)
        if (!webhook_fill(soap, &response->webhook[i], &rows[i]))
            return soap->error = SOAP_EOM;
    response->__sizewebhook = count;
    return SOAP_OK;
}

int ks__DeleteWebhook(struct soap *soap, int id, struct ks__DeleteWebhookResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_webhook_delete(ctx, conn, id, &response->deleted)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    return SOAP_OK;
}

int ks__ListWebhookDeliveries(struct soap *soap, int id, char *state, LONG64 *beforeEventId,
                              int *limit, struct ks__ListWebhookDeliveriesResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_delivery_row_t *rows;
    ks_webhook_row_t webhook;
    int count, page = limit ? *limit : KS_PAGE_LIMIT_DEFAULT;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if (state && strcmp(state, "pending") && strcmp(state, "delivered") && strcmp(state, "failed"))
        return ks_fault(soap, "InvalidArgument", "state: pending, delivered or failed");
    if (page < 1 || page > KS_PAGE_LIMIT_MAX)
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_PAGE_LIMIT_MAX);
    if (beforeEventId && *beforeEventId < 1)
        return ks_fault(soap, "InvalidArgument", "beforeEventId must be at least 1");
    /* from the master: the log an admin reads right after a redelivery */
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_webhook(ctx, conn, id, &webhook)) != KS_OK ||
        (rc = ks_store_webhook_deliveries(soap, conn, id, state,
                                          beforeEventId ? *beforeEventId : 0, page + 1, &rows,
                                          &count)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (count > page) {
        count = page;
        if ((response->nextBeforeEventId = soap_malloc(soap, sizeof(LONG64))))
            *response->nextBeforeEventId = rows[count - 1].event_id;
    }
    if (count && !(response->delivery = soap_new_ks__WebhookDelivery(soap, count)))
        return soap->error = SOAP_EOM;
    for (int i = 0; i < count; i++)
        delivery_fill(soap, &response->delivery[i], &rows[i]);
    response->__sizedelivery = count;
    return SOAP_OK;
}

int ks__RedeliverWebhookEvent(struct soap *soap, int id, LONG64 eventId,
                              struct ks__RedeliverWebhookEventResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_delivery_row_t row;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_webhook_redeliver(ctx, conn, id, eventId, &row)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(response->delivery = soap_new_ks__WebhookDelivery(soap, -1)))
        return soap->error = SOAP_EOM;
    delivery_fill(soap, response->delivery, &row);
    return SOAP_OK;
}
