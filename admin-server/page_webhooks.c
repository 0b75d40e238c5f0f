/* page_webhooks.c: the site's webhook endpoints (README "Signed webhooks"),
 * for the owner role only (roles.c: KS_ACT_WEBHOOKS), as the API keeps
 * them for its admin role.
 *
 *   GET  /webhooks                  the endpoints (URL, event types) and
 *                                   the form registering one
 *   POST /webhooks/new              RegisterWebhook (URL, secret, events)
 *   GET  /webhooks/{id}             one endpoint and its delivery log,
 *                                   newest first, a page at a time, all or
 *                                   of one state (ListWebhookDeliveries,
 *                                   ?before=, ?state=)
 *   POST /webhooks/{id}/delete      DeleteWebhook
 *   POST /webhooks/{id}/redeliver   RedeliverWebhookEvent (field event)
 *
 * The secret goes to the API once, when the endpoint is registered: no
 * page, flash or audit entry ever shows it (the API never answers it back).
 * A refused registration shows the API's fault next to the form and keeps
 * what was typed, but the secret, which is typed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"
#include "pages.h"
#include "soapH.h"

#define DELIVERIES_PAGE 50

/* The event types of the API (wsdl/kisekae.h, ks__Webhook), in the order
 * the form offers them. */
static const char *const event_types[] = {"avatar.changed", "avatar.regenerated",
                                          "avatar.moved", "avatar.deleted"};
#define EVENT_TYPES ((int)(sizeof event_types / sizeof event_types[0]))

/* ---- calls ---- */

typedef struct {
    struct ks__ListWebhooksResponse response;
} list_call_t;

static int attempt_list(struct soap *soap, const char *url, void *p)
{
    return soap_call_ks__ListWebhooks(soap, url, NULL, &((list_call_t *)p)->response);
}

typedef struct {
    char *url, *secret;
    char *events[EVENT_TYPES];
    int event_count;
    struct ks__RegisterWebhookResponse response;
} register_call_t;

static int attempt_register(struct soap *soap, const char *url, void *p)
{
    register_call_t *call = p;
    return soap_call_ks__RegisterWebhook(soap, url, NULL, call->url, call->secret,
                                         call->event_count, call->events, &call->response);
}

typedef struct {
    int id;
    struct ks__DeleteWebhookResponse response;
} delete_call_t;

static int attempt_delete(struct soap *soap, const char *url, void *p)
{
    delete_call_t *call = p;
    return soap_call_ks__DeleteWebhook(soap, url, NULL, call->id, &call->response);
}

typedef struct {
    int id, limit;
    char *state;
    LONG64 *before;
    struct ks__ListWebhookDeliveriesResponse response;
} deliveries_call_t;

static int attempt_deliveries(struct soap *soap, const char *url, void *p)
{
    deliveries_call_t *call = p;
    return soap_call_ks__ListWebhookDeliveries(soap, url, NULL, call->id, call->state,
                                               call->before,
                                               &call->limit, &call->response);
}

typedef struct {
    int id;
    LONG64 event_id;
    struct ks__RedeliverWebhookEventResponse response;
} redeliver_call_t;

static int attempt_redeliver(struct soap *soap, const char *url, void *p)
{
    redeliver_call_t *call = p;
    return soap_call_ks__RedeliverWebhookEvent(soap, url, NULL, call->id, call->event_id,
                                               &call->response);
}

/* ---- helpers ---- */

/* "avatar.changed, avatar.moved" of webhook into out. */
static void event_list(const struct ks__Webhook *webhook, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; i < webhook->__sizeevent && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "",
                                webhook->event[i] ? webhook->event[i] : "");
}

/* The webhook of id in list, or NULL. */
static const struct ks__Webhook *find_webhook(const struct ks__ListWebhooksResponse *list,
                                              int id)
{
    for (int i = 0; list && i < list->__sizewebhook; i++)
        if (list->webhook[i].id == id)
            return &list->webhook[i];
    return NULL;
}

/* The route's webhook ({id}) into *out (valid until the request ends), or
 * NULL with the error page drawn. */
static const struct ks__Webhook *route_webhook(ks_admin_req_t *req, list_call_t *call)
{
    const struct ks__Webhook *webhook;
    long long id;

    if (ks_page_parse_int(req->route_param, 1, 2147483647, &id) != 0) {
        ks_page_error(req, 404, "Page not found", "There is no webhook \"%s\".",
                      req->route_param);
        return NULL;
    }
    if (ks_page_api(req, "ListWebhooks", 1, attempt_list, call) != KS_OK) {
        ks_page_error(req, 503, "The webhooks could not be read", "See the message above.");
        return NULL;
    }
    if (!(webhook = find_webhook(&call->response, (int)id)))
        ks_page_error(req, 404, "Webhook not found", "There is no webhook %lld.", id);
    return webhook;
}

/* ---- the list and the registration form ---- */

/* The list page; after a refused registration vars holds its messages. */
static void render_list(ks_admin_req_t *req, ks_tpl_t *vars)
{
    list_call_t call = {0};
    ks_buf_t rows, boxes;
    int refused = ks_page_field(req, "url") != NULL;

    ks_buf_init(&rows, 1 << 18);
    ks_buf_init(&boxes, 1 << 12);
    if (ks_page_api(req, "ListWebhooks", 1, attempt_list, &call) == KS_OK) {
        for (int i = 0; i < call.response.__sizewebhook; i++) {
            const struct ks__Webhook *w = &call.response.webhook[i];
            char events[256], created[32];
            ks_tpl_t row;
            ks_tpl_init(&row);
            event_list(w, events, sizeof events);
            ks_format_utc(created, sizeof created, (long long)w->createdAt, 16);
            ks_tpl_set_int(&row, "id", w->id);
            ks_tpl_set(&row, "url", w->url);
            ks_tpl_set(&row, "events", events);
            ks_tpl_set(&row, "created", created);
            ks_page_render_part(req, &rows, "webhook_row.html", &row);
            ks_tpl_free(&row);
        }
        ks_tpl_set(vars, "listed", "1");
        ks_tpl_set(vars, "none", call.response.__sizewebhook ? "" : "1");
    }
    for (int i = 0; i < EVENT_TYPES; i++) {
        char field[32];
        ks_tpl_t box;
        ks_tpl_init(&box);
        snprintf(field, sizeof field, "event_%s", event_types[i]);
        ks_tpl_set(&box, "type", event_types[i]);
        ks_tpl_set_int(&box, "n", i + 1);
        /* a new form subscribes to avatar.changed; a refused one keeps its choice */
        ks_tpl_set(&box, "checked", (refused ? ks_page_field(req, field) != NULL : i == 0)
                                        ? "1" : "");
        ks_page_render_part(req, &boxes, "webhook_event_box.html", &box);
        ks_tpl_free(&box);
    }
    ks_tpl_set_html(vars, "rows", rows.data ? rows.data : "");
    ks_tpl_set_html(vars, "event_boxes", boxes.data ? boxes.data : "");
    ks_tpl_set(vars, "new_url", ks_page_field(req, "url"));
    ks_page_render(req, "Webhooks", "webhooks", "webhooks.html", vars);
    ks_buf_free(&rows);
    ks_buf_free(&boxes);
}

void ks_page_webhooks(ks_admin_req_t *req)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    render_list(req, &vars);
    ks_tpl_free(&vars);
}

void ks_page_webhook_register(ks_admin_req_t *req)
{
    register_call_t call = {0};
    char target[64], after[1400], flash[1200], events[256];
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    call.url = (char *)ks_page_field(req, "url");
    call.secret = (char *)ks_page_field(req, "secret");
    for (int i = 0; i < EVENT_TYPES; i++) {
        char field[32];
        snprintf(field, sizeof field, "event_%s", event_types[i]);
        if (ks_page_field(req, field))
            call.events[call.event_count++] = (char *)event_types[i];
    }
    /* The API judges the URL, the secret and the events: its fault is the
     * message (no second copy of its rules here). */
    if (ks_page_api(req, "RegisterWebhook", 0, attempt_register, &call) != KS_OK ||
        !call.response.webhook) {
        ks_tpl_setf(&vars, "err_register", "Not registered: %s",
                    ks_page_fault_message(req)[0] ? ks_page_fault_message(req)
                                                  : "the API did not answer");
        req->status = 400;
        render_list(req, &vars);
        ks_tpl_free(&vars);
        return;
    }
    event_list(call.response.webhook, events, sizeof events);
    snprintf(target, sizeof target, "webhook %d", call.response.webhook->id);
    snprintf(after, sizeof after, "url %.1024s, events %s", call.response.webhook->url, events);
    ks_page_audit(req, "webhook.register", target, NULL, after);
    snprintf(flash, sizeof flash, "Webhook %d registered for %.1024s.",
             call.response.webhook->id, call.response.webhook->url);
    ks_page_redirect(req, "/webhooks", flash);
    ks_tpl_free(&vars);
}

/* ---- one webhook ---- */

/* "2026-12-06 13:40" of at, or "—" for none. */
static void when(char *out, size_t size, const time_t *at)
{
    if (at)
        ks_format_utc(out, size, (long long)*at, 19);
    else
        snprintf(out, size, "—");
}

void ks_page_webhook(ks_admin_req_t *req)
{
    list_call_t list = {0};
    const struct ks__Webhook *w = route_webhook(req, &list);
    const char *before_text = ks_page_query(req, "before");
    const char *state = ks_page_query(req, "state");
    deliveries_call_t call = {.limit = DELIVERIES_PAGE};
    LONG64 before = 0;
    long long number;
    char events[256], created[32];
    ks_buf_t rows;
    ks_tpl_t vars;

    if (!w)
        return;
    if (before_text && ks_page_parse_int(before_text, 1, 9223372036854775807LL, &number) == 0) {
        before = (LONG64)number;
        call.before = &before;
    }
    if (state && strcmp(state, "pending") && strcmp(state, "delivered") &&
        strcmp(state, "failed"))
        state = NULL;
    call.state = (char *)state;
    call.id = w->id;
    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "state", state);
    ks_tpl_set(&vars, state ? (strcmp(state, "pending") == 0 ? "state_pending"
                               : strcmp(state, "delivered") == 0 ? "state_delivered"
                                                                 : "state_failed")
                            : "state_any", "1");
    ks_buf_init(&rows, 1 << 18);
    event_list(w, events, sizeof events);
    ks_format_utc(created, sizeof created, (long long)w->createdAt, 16);
    ks_tpl_set_int(&vars, "id", w->id);
    ks_tpl_set(&vars, "url", w->url);
    ks_tpl_set(&vars, "events", events);
    ks_tpl_set(&vars, "created", created);
    ks_tpl_set(&vars, "not_first", call.before ? "1" : "");
    if (ks_page_api(req, "ListWebhookDeliveries", 1, attempt_deliveries, &call) == KS_OK) {
        const struct ks__ListWebhookDeliveriesResponse *r = &call.response;
        for (int i = 0; i < r->__sizedelivery; i++) {
            const struct ks__WebhookDelivery *d = &r->delivery[i];
            char at[32], next[32], done[32];
            ks_tpl_t row;
            ks_tpl_init(&row);
            ks_format_utc(at, sizeof at, (long long)d->createdAt, 19);
            when(next, sizeof next, d->nextAttemptAt);
            when(done, sizeof done, d->deliveredAt);
            ks_tpl_set_int(&row, "hook", w->id);
            ks_tpl_set_int(&row, "event", (long long)d->eventId);
            ks_tpl_set(&row, "type", d->type);
            ks_tpl_set(&row, "user", d->userId);
            ks_tpl_set(&row, "state", d->state);
            ks_tpl_set_int(&row, "attempts", d->attempts);
            if (d->lastStatus)
                ks_tpl_set_int(&row, "status", d->lastStatus);
            ks_tpl_set(&row, "error", d->lastError);
            ks_tpl_set(&row, "at", at);
            ks_tpl_set(&row, "next", strcmp(d->state, "pending") == 0 ? next : "");
            ks_tpl_set(&row, "done", d->deliveredAt ? done : "");
            ks_tpl_set(&row, "can_redeliver", strcmp(d->state, "pending") ? "1" : "");
            ks_tpl_set(&row, "csrf", req->csrf);
            ks_page_render_part(req, &rows, "webhook_delivery_row.html", &row);
            ks_tpl_free(&row);
        }
        ks_tpl_set(&vars, "listed", "1");
        ks_tpl_set(&vars, "none", r->__sizedelivery ? "" : "1");
        if (r->nextBeforeEventId)
            ks_tpl_set_int(&vars, "next_before", (long long)*r->nextBeforeEventId);
    }
    ks_tpl_set_html(&vars, "rows", rows.data ? rows.data : "");
    {
        char title[64];
        snprintf(title, sizeof title, "Webhook %d", w->id);
        ks_page_render(req, title, "webhooks", "webhook.html", &vars);
    }
    ks_buf_free(&rows);
    ks_tpl_free(&vars);
}

void ks_page_webhook_delete(ks_admin_req_t *req)
{
    list_call_t list = {0};
    const struct ks__Webhook *w = route_webhook(req, &list);
    delete_call_t call = {0};
    char target[64], before[1400], flash[1200], events[256];

    if (!w)
        return;
    call.id = w->id;
    if (ks_page_api(req, "DeleteWebhook", 1, attempt_delete, &call) != KS_OK) {
        ks_page_error(req, 503, "The webhook was not deleted", "See the message above.");
        return;
    }
    event_list(w, events, sizeof events);
    snprintf(target, sizeof target, "webhook %d", w->id);
    snprintf(before, sizeof before, "url %.1024s, events %s", w->url, events);
    ks_page_audit(req, "webhook.delete", target, before, "deleted with its pending deliveries");
    snprintf(flash, sizeof flash, "Webhook %d (%.1024s) deleted.", w->id, w->url);
    ks_page_redirect(req, "/webhooks", flash);
}

void ks_page_webhook_redeliver(ks_admin_req_t *req)
{
    list_call_t list = {0};
    const struct ks__Webhook *w = route_webhook(req, &list);
    redeliver_call_t call = {0};
    char target[64], after[128], flash[200], location[64];
    long long event_id;

    if (!w)
        return;
    if (ks_page_parse_int(ks_page_field(req, "event"), 1, 9223372036854775807LL,
                          &event_id) != 0) {
        ks_page_error(req, 400, "No event", "Choose an event of the delivery log to send "
                      "again. Nothing was changed.");
        return;
    }
    call.id = w->id;
    call.event_id = (LONG64)event_id;
    snprintf(location, sizeof location, "/webhooks/%d", w->id);
    if (ks_page_api(req, "RedeliverWebhookEvent", 0, attempt_redeliver, &call) != KS_OK ||
        !call.response.delivery) {
        ks_page_error(req, ks_page_fault_code(req) &&
                      strcmp(ks_page_fault_code(req), "NotFound") == 0 ? 404 : 400,
                      "Not sent again", "Event %lld of webhook %d: %s. Nothing was changed.",
                      event_id, w->id, ks_page_fault_message(req)[0]
                                            ? ks_page_fault_message(req)
                                            : "the API did not answer");
        return;
    }
    snprintf(target, sizeof target, "webhook %d", w->id);
    snprintf(after, sizeof after, "event %lld pending again", event_id);
    ks_page_audit(req, "webhook.redeliver", target, NULL, after);
    snprintf(flash, sizeof flash, "Event %lld will be sent to webhook %d again now.", event_id,
             w->id);
    ks_page_redirect(req, location, flash);
}
