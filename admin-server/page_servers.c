/* page_servers.c: the image servers, for operators.
 *
 *   GET  /servers               every image server: mode, weight, members, heartbeat
 *   GET  /servers/{name}        one, with its forms: mode, weight, move members off
 *   POST /servers/{name}/mode   SetImageServerMode (active, draining, down)
 *   POST /servers/{name}/weight SetImageServerWeight
 *   POST /servers/{name}/move   one batch of MoveAvatars to another active server.
 *                               Without script, each click moves a batch and the
 *                               page shows what remains; admin.js posts batch
 *                               after batch (asking for JSON: {"moved", "remaining",
 *                               "stoppedBy", "error"}) and draws the progress until
 *                               none remain.
 *   POST /servers/{name}/purge  PurgeImageServer, for a server draining or down
 *                               that holds no members (the button is shown only
 *                               then, and asks first); back to the list.
 *
 * Every change is written to the audit log (a move, once per batch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "page.h"
#include "pages.h"
#include "soapH.h"

#define MOVE_BATCH_DEFAULT 20
#define MOVE_BATCH_MAX 200
#define WEIGHT_MAX 1000

/* ---- shared with the members pages (pages.h) ---- */

typedef struct {
    struct ks__ListImageServersResponse response;
} list_call_t;

static int attempt_list(struct soap *soap, const char *url, void *p)
{
    return soap_call_ks__ListImageServers(soap, url, NULL, &((list_call_t *)p)->response);
}

ks_rc ks_servers_list(ks_admin_req_t *req, struct ks__ListImageServersResponse **out)
{
    list_call_t *call = calloc(1, sizeof *call);
    ks_rc rc;

    *out = NULL;
    if (!call)
        return KS_NOMEM;
    rc = ks_page_api(req, "ListImageServers", 1, attempt_list, call);
    if (rc == KS_OK) {
        /* kept in the call's arena, which lives until the request ends */
        if (!(*out = soap_malloc(req->calls[req->call_count - 1], sizeof **out)))
            rc = KS_NOMEM;
        else
            **out = call->response;
    }
    free(call);
    return rc;
}

int ks_servers_options(ks_admin_req_t *req, const struct ks__ListImageServersResponse *list,
                       const char *selected, const char *placeholder, const char *move_from,
                       ks_buf_t *out)
{
    ks_tpl_t vars;
    int count = 0;

    ks_tpl_init(&vars);
    if (placeholder) {
        ks_tpl_set(&vars, "value", "");
        ks_tpl_set(&vars, "label", placeholder);
        ks_tpl_set(&vars, "selected", selected ? "" : "1");
        ks_page_render_part(req, out, "option.html", &vars);
    }
    for (int i = 0; list && i < list->__sizeserver; i++) {
        const struct ks__ImageServer *s = &list->server[i];
        if (move_from && (strcmp(s->name, move_from) == 0 || strcmp(s->mode, "active") != 0))
            continue;
        ks_tpl_set(&vars, "value", s->name);
        ks_tpl_setf(&vars, "label", "%s (%s, %d members)", s->name, s->mode, s->memberCount);
        ks_tpl_set(&vars, "selected", selected && strcmp(selected, s->name) == 0 ? "1" : "");
        ks_page_render_part(req, out, "option.html", &vars);
        count++;
    }
    ks_tpl_free(&vars);
    return count;
}

/* ---- pages ---- */

static void server_vars(const struct ks__ImageServer *s, ks_tpl_t *vars)
{
    char text[64];

    ks_tpl_set(vars, "name", s->name);
    ks_tpl_set(vars, "mode", s->mode);
    ks_tpl_set_int(vars, "weight", s->weight);
    ks_tpl_set_int(vars, "members", s->memberCount);
    ks_tpl_set(vars, "public_url", s->publicUrl);
    ks_tpl_set(vars, "internal_url", s->internalUrl);
    if (s->lastHeartbeat)
        ks_format_utc(text, sizeof text, (long long)*s->lastHeartbeat, 19);
    ks_tpl_set(vars, "heartbeat", s->lastHeartbeat ? text : "never");
    ks_tpl_set(vars, strcmp(s->mode, "active") == 0 ? "is_active"
                     : strcmp(s->mode, "draining") == 0 ? "is_draining" : "is_down", "1");
    ks_tpl_set(vars, "state", strcmp(s->mode, "active") == 0 ? "ok"
                              : strcmp(s->mode, "draining") == 0 ? "warn" : "bad");
    ks_tpl_set(vars, "purgeable", strcmp(s->mode, "active") != 0 && s->memberCount == 0 ? "1" : "");
}

void ks_page_servers(ks_admin_req_t *req)
{
    struct ks__ListImageServersResponse *list = NULL;
    ks_buf_t rows;
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_buf_init(&rows, 1 << 20);
    if (ks_servers_list(req, &list) == KS_OK) {
        for (int i = 0; i < list->__sizeserver; i++) {
            ks_tpl_t row;
            ks_tpl_init(&row);
            server_vars(&list->server[i], &row);
            ks_page_render_part(req, &rows, "server_row.html", &row);
            ks_tpl_free(&row);
        }
        ks_tpl_set(&vars, "listed", "1");
        ks_tpl_set(&vars, "none", list->__sizeserver ? "" : "1");
    }
    ks_tpl_set_html(&vars, "rows", rows.data ? rows.data : "");
    ks_page_render(req, "Image servers", "servers", "servers.html", &vars);
    ks_buf_free(&rows);
    ks_tpl_free(&vars);
}

/* The server of the route ({name}) from list, or NULL with the error page
 * drawn. */
static const struct ks__ImageServer *route_server(ks_admin_req_t *req,
                                                  struct ks__ListImageServersResponse **list)
{
    if (ks_servers_list(req, list) != KS_OK) {
        ks_page_error(req, 503, "The image servers could not be read", "See the message above.");
        return NULL;
    }
    for (int i = 0; i < (*list)->__sizeserver; i++)
        if (strcmp((*list)->server[i].name, req->route_param) == 0)
            return &(*list)->server[i];
    ks_page_error(req, 404, "Image server not found", "There is no image server \"%s\".",
                  req->route_param);
    return NULL;
}

static void render_server(ks_admin_req_t *req, const struct ks__ListImageServersResponse *list,
                          const struct ks__ImageServer *s, ks_tpl_t *vars)
{
    ks_buf_t options;
    char title[100];
    int targets;

    ks_buf_init(&options, 1 << 16);
    server_vars(s, vars);
    targets = ks_servers_options(req, list, ks_page_field(req, "to"), NULL, s->name, &options);
    ks_tpl_set_html(vars, "move_options", options.data ? options.data : "");
    ks_tpl_set(vars, "move_targets", targets ? "1" : "");
    ks_tpl_set_int(vars, "batch", MOVE_BATCH_DEFAULT);
    ks_tpl_set_int(vars, "batch_max", MOVE_BATCH_MAX);
    snprintf(title, sizeof title, "Image server %.64s", s->name);
    ks_page_render(req, title, "servers", "server.html", vars);
    ks_buf_free(&options);
}

void ks_page_server(ks_admin_req_t *req)
{
    struct ks__ListImageServersResponse *list = NULL;
    const struct ks__ImageServer *s = route_server(req, &list);
    ks_tpl_t vars;

    if (!s)
        return;
    ks_tpl_init(&vars);
    render_server(req, list, s, &vars);
    ks_tpl_free(&vars);
}

/* A change refused: the server's page again, the message above it. */
static void refused(ks_admin_req_t *req, const struct ks__ListImageServersResponse *list,
                    const struct ks__ImageServer *s)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    req->status = 400;
    render_server(req, list, s, &vars);
    ks_tpl_free(&vars);
}

static void changed(ks_admin_req_t *req, const char *name, const char *action,
                    const char *before, const char *after, const char *flash)
{
    char target[96], location[96];

    snprintf(target, sizeof target, "image server %.64s", name);
    ks_page_audit(req, action, target, before, after);
    snprintf(location, sizeof location, "/servers/%.64s", name);
    ks_page_redirect(req, location, flash);
}

typedef struct {
    char *name, *mode;
    int weight;
    struct ks__SetImageServerModeResponse mode_response;
    struct ks__SetImageServerWeightResponse weight_response;
} set_call_t;

static int attempt_mode(struct soap *soap, const char *url, void *p)
{
    set_call_t *call = p;
    return soap_call_ks__SetImageServerMode(soap, url, NULL, call->name, call->mode,
                                            &call->mode_response);
}

static int attempt_weight(struct soap *soap, const char *url, void *p)
{
    set_call_t *call = p;
    return soap_call_ks__SetImageServerWeight(soap, url, NULL, call->name, call->weight,
                                              &call->weight_response);
}

void ks_page_server_mode(ks_admin_req_t *req)
{
    struct ks__ListImageServersResponse *list = NULL;
    const struct ks__ImageServer *s = route_server(req, &list);
    const char *mode = ks_page_field(req, "mode");
    set_call_t call = {0};
    char before[40], after[40], flash[200];

    if (!s)
        return;
    if (!mode || (strcmp(mode, "active") && strcmp(mode, "draining") && strcmp(mode, "down"))) {
        ks_page_message(req, "error", "Choose a mode: active, draining or down.");
        refused(req, list, s);
        return;
    }
    call.name = s->name;
    call.mode = (char *)mode;
    if (ks_page_api(req, "SetImageServerMode", 1, attempt_mode, &call) != KS_OK) {
        refused(req, list, s);
        return;
    }
    snprintf(before, sizeof before, "mode %s", s->mode);
    snprintf(after, sizeof after, "mode %s", mode);
    snprintf(flash, sizeof flash, "%.64s is now %s%s", s->name, mode,
             strcmp(mode, "draining") == 0 ? ": it takes no new members. Move its members off "
                                             "below to empty it."
             : strcmp(mode, "down") == 0 ? ": the API no longer calls it; its members' images "
                                           "cannot change until it is back or they are moved."
                                         : ": it takes new members.");
    changed(req, s->name, "server.mode", before, after, flash);
}

void ks_page_server_weight(ks_admin_req_t *req)
{
    struct ks__ListImageServersResponse *list = NULL;
    const struct ks__ImageServer *s = route_server(req, &list);
    set_call_t call = {0};
    char before[40], after[40], flash[200];
    long long weight;

    if (!s)
        return;
    if (ks_page_parse_int(ks_page_field(req, "weight"), 1, WEIGHT_MAX, &weight) != 0) {
        ks_page_message(req, "error", "The weight is a whole number from 1 to %d.", WEIGHT_MAX);
        refused(req, list, s);
        return;
    }
    call.name = s->name;
    call.weight = (int)weight;
    if (ks_page_api(req, "SetImageServerWeight", 1, attempt_weight, &call) != KS_OK) {
        refused(req, list, s);
        return;
    }
    snprintf(before, sizeof before, "weight %d", s->weight);
    snprintf(after, sizeof after, "weight %lld", weight);
    snprintf(flash, sizeof flash, "The weight of %.64s is now %lld.", s->name, weight);
    changed(req, s->name, "server.weight", before, after, flash);
}

typedef struct {
    char *from, *to;
    int limit;
    struct ks__MoveAvatarsResponse response;
} move_call_t;

static int attempt_move(struct soap *soap, const char *url, void *p)
{
    move_call_t *call = p;
    return soap_call_ks__MoveAvatars(soap, url, NULL, call->from, call->to, call->limit,
                                     &call->response);
}

/* The answer of a batch for admin.js. */
static void move_json(ks_admin_req_t *req, int status, const move_call_t *call, const char *error)
{
    req->status = status;
    req->content_type = "application/json";
    ks_buf_reset(&req->body);
    ks_buf_addf(&req->body, "{\"moved\": %d, \"remaining\": %d, \"stoppedBy\": ",
                call->response.moved, call->response.remaining);
    ks_buf_add_json_str(&req->body, call->response.stoppedBy);
    ks_buf_addf(&req->body, ", \"error\": ");
    ks_buf_add_json_str(&req->body, error);
    ks_buf_addf(&req->body, "}\n");
}

void ks_page_server_move(ks_admin_req_t *req)
{
    const char *accept = FCGX_GetParam("HTTP_ACCEPT", req->fcgi->envp);
    int json = accept && strstr(accept, "application/json") != NULL;
    struct ks__ListImageServersResponse *list = NULL;
    const struct ks__ImageServer *s = route_server(req, &list);
    move_call_t call = {0};
    char before[100], after[300], error[600], flash[400], target[96];
    long long batch = MOVE_BATCH_DEFAULT;

    if (!s) {
        if (json)
            move_json(req, 404, &call, "no such image server, or the API did not answer");
        return;
    }
    call.from = s->name;
    call.to = (char *)ks_page_field(req, "to");
    if (ks_page_field(req, "batch") &&
        ks_page_parse_int(ks_page_field(req, "batch"), 1, MOVE_BATCH_MAX, &batch) != 0)
        batch = -1;
    if (!call.to || !*call.to || strlen(call.to) > 64 || batch < 0) {
        snprintf(error, sizeof error, "Choose the server to move the members to, and a batch of "
                 "1 to %d members.", MOVE_BATCH_MAX);
        if (json) {
            move_json(req, 400, &call, error);
        } else {
            ks_page_message(req, "error", "%s", error);
            refused(req, list, s);
        }
        return;
    }
    call.limit = (int)batch;
    /* not resent: a second sending would move another batch the counts here would miss */
    if (ks_page_api(req, "MoveAvatars", 0, attempt_move, &call) != KS_OK) {
        if (json) {
            const char *code = ks_page_fault_code(req);
            if (req->api_down)
                snprintf(error, sizeof error, "MoveAvatars: the API did not answer; nothing "
                         "more was moved.");
            else
                snprintf(error, sizeof error, "MoveAvatars failed: %s: %s",
                         code ? code : "Fault", ks_page_fault_message(req));
            move_json(req, req->api_down ? 503 : 400, &call, error);
        } else {
            refused(req, list, s);
        }
        return;
    }
    snprintf(before, sizeof before, "%d member(s) on %.64s", s->memberCount, s->name);
    snprintf(after, sizeof after, "%d moved to %.64s, %d remain%s%.200s", call.response.moved,
             call.to, call.response.remaining, call.response.stoppedBy ? "; stopped by: " : "",
             call.response.stoppedBy ? call.response.stoppedBy : "");
    snprintf(target, sizeof target, "image server %.64s", s->name);
    ks_page_audit(req, "server.move_members", target, before, after);
    if (json) {
        move_json(req, 200, &call, NULL);
        return;
    }
    snprintf(flash, sizeof flash, "Moved %d member(s) from %.64s to %.64s; %d remain%s%.200s",
             call.response.moved, s->name, call.to, call.response.remaining,
             call.response.stoppedBy ? ". Stopped by: " : ".",
             call.response.stoppedBy ? call.response.stoppedBy : "");
    snprintf(error, sizeof error, "/servers/%.64s", s->name);
    ks_page_redirect(req, error, flash);
}

typedef struct {
    char *name;
    struct ks__PurgeImageServerResponse response;
} purge_call_t;

static int attempt_purge(struct soap *soap, const char *url, void *p)
{
    purge_call_t *call = p;
    return soap_call_ks__PurgeImageServer(soap, url, NULL, call->name, &call->response);
}

void ks_page_server_purge(ks_admin_req_t *req)
{
    struct ks__ListImageServersResponse *list = NULL;
    const struct ks__ImageServer *s = route_server(req, &list);
    purge_call_t call = {0};
    char before[100], after[100], flash[200], target[96];

    if (!s)
        return;
    /* The API checks again (members may have arrived since the list). */
    if (strcmp(s->mode, "active") == 0 || s->memberCount > 0) {
        ks_page_message(req, "error", "Only a server that is draining or down and holds no "
                        "members can be purged: set it draining and move its members off first.");
        refused(req, list, s);
        return;
    }
    call.name = s->name;
    if (ks_page_api(req, "PurgeImageServer", 1, attempt_purge, &call) != KS_OK) {
        refused(req, list, s);
        return;
    }
    snprintf(before, sizeof before, "mode %s, %d member(s)", s->mode, s->memberCount);
    snprintf(after, sizeof after, "purged (%d replica rows, %d queued deletions)",
             call.response.replicasRemoved, call.response.deletionsRemoved);
    snprintf(target, sizeof target, "image server %.64s", s->name);
    ks_page_audit(req, "server.purge", target, before, after);
    snprintf(flash, sizeof flash, "%.64s was purged. It can register again as a new server.",
             s->name);
    ks_page_redirect(req, "/servers", flash);
}
