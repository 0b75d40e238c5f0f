/* page_dashboard.c: the dashboard (GET /): counts, every image server and
 * every database server from GetSystemStatus, problems marked. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "page.h"
#include "pages.h"
#include "soapH.h"

#define HEARTBEAT_LATE_S 60          /* a heartbeat older than this is a problem */
#define DISK_LOW_BYTES (1LL << 30)   /* less free disk than this is a problem */

typedef struct {
    struct ks__GetSystemStatusResponse response;
} status_call_t;

static int attempt_status(struct soap *soap, const char *url, void *p)
{
    status_call_t *call = p;
    return soap_call_ks__GetSystemStatus(soap, url, NULL, &call->response);
}

/* "12 s ago", "3 min ago", "2 h ago", "5 d ago". */
static void format_age(char *out, size_t size, long long seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        snprintf(out, size, "%lld s ago", seconds);
    else if (seconds < 7200)
        snprintf(out, size, "%lld min ago", seconds / 60);
    else if (seconds < 172800)
        snprintf(out, size, "%lld h ago", seconds / 3600);
    else
        snprintf(out, size, "%lld d ago", seconds / 86400);
}

/* "1.5 GiB", "830 MiB". */
static void format_bytes(char *out, size_t size, long long bytes)
{
    if (bytes >= (1LL << 30))
        snprintf(out, size, "%.1f GiB", (double)bytes / (double)(1LL << 30));
    else
        snprintf(out, size, "%.0f MiB", (double)bytes / (double)(1LL << 20));
}

static int image_server_rows(ks_admin_req_t *req, const struct ks__GetSystemStatusResponse *r,
                             ks_buf_t *rows, long long *avatars)
{
    long long most_stored = 0;
    int problems = 0;

    /* every image server holds every layer of the catalog: one that holds
     * fewer than another is still syncing (or missed pushes) */
    for (int i = 0; i < r->__sizeimageServer; i++)
        if (r->imageServer[i].itemsStored && *r->imageServer[i].itemsStored > most_stored)
            most_stored = (long long)*r->imageServer[i].itemsStored;

    for (int i = 0; i < r->__sizeimageServer; i++) {
        const struct ks__SystemImageServer *s = &r->imageServer[i];
        const char *state = "ok";
        char text[64], problem[160] = "";
        ks_tpl_t vars;

        ks_tpl_init(&vars);
        ks_tpl_set(&vars, "name", s->name);
        ks_tpl_set(&vars, "mode", s->mode);
        ks_tpl_set_int(&vars, "weight", s->weight);
        ks_tpl_set_int(&vars, "members", s->memberCount);
        ks_tpl_set(&vars, "public_url", s->publicUrl);
        if (s->lastHeartbeat) {
            long long age = req->now - (long long)*s->lastHeartbeat;
            format_age(text, sizeof text, age);
            ks_tpl_set(&vars, "heartbeat", text);
            if (age > HEARTBEAT_LATE_S && strcmp(s->mode, "down") != 0) {
                state = "bad";
                snprintf(problem, sizeof problem, "no heartbeat for %s", text);
            }
        } else {
            ks_tpl_set(&vars, "heartbeat", "never");
        }
        if (s->freeDiskBytes) {
            format_bytes(text, sizeof text, (long long)*s->freeDiskBytes);
            ks_tpl_set(&vars, "free_disk", text);
            if (*s->freeDiskBytes < DISK_LOW_BYTES && !problem[0]) {
                state = "warn";
                snprintf(problem, sizeof problem, "little free disk");
            }
        } else {
            ks_tpl_set(&vars, "free_disk", "unknown");
        }
        if (s->itemsStored) {
            long long behind = most_stored - (long long)*s->itemsStored;
            ks_tpl_set_int(&vars, "items_stored", (long long)*s->itemsStored);
            ks_tpl_set(&vars, "sync", behind > 0 ? "behind" : "in sync");
            if (behind > 0 && !problem[0] && strcmp(s->mode, "down") != 0) {
                state = "warn";
                snprintf(problem, sizeof problem, "%lld layer(s) behind the others: syncing",
                         behind);
            }
        } else {
            ks_tpl_set(&vars, "sync", "unknown");
        }
        if (s->avatarsComposed)
            *avatars += (long long)*s->avatarsComposed;
        if (strcmp(s->mode, "down") == 0) {
            state = "bad";
            snprintf(problem, sizeof problem, "%s",
                     s->downBySilence && *s->downBySilence == true_
                         ? "down: its heartbeats stopped" : "down (set by staff)");
        } else if (strcmp(s->mode, "draining") == 0 && !problem[0]) {
            state = "warn";
            snprintf(problem, sizeof problem, "draining: takes no new members");
        }
        problems += strcmp(state, "ok") != 0;
        ks_tpl_set(&vars, "state", state);
        ks_tpl_set(&vars, "problem", problem);
        ks_page_render_part(req, rows, "dashboard_image_row.html", &vars);
        ks_tpl_free(&vars);
    }
    return problems;
}

static int db_server_rows(ks_admin_req_t *req, const struct ks__GetSystemStatusResponse *r,
                          ks_buf_t *rows)
{
    int problems = 0;

    for (int i = 0; i < r->__sizedbServer; i++) {
        const struct ks__SystemDbServer *s = &r->dbServer[i];
        const char *state = strcmp(s->state, "healthy") == 0 ? "ok"
                            : strcmp(s->state, "down") == 0 ? "bad" : "warn";
        ks_tpl_t vars;

        if (strcmp(s->role, "master") == 0 && strcmp(s->state, "pending") == 0)
            state = "ok";                       /* the master is usable before its check */
        ks_tpl_init(&vars);
        ks_tpl_set(&vars, "role", s->role);
        ks_tpl_set(&vars, "address", s->address);
        ks_tpl_set(&vars, "state", state);
        ks_tpl_set(&vars, "health", s->state);
        ks_tpl_set_int(&vars, "weight", s->weight);
        if (s->lagSeconds)
            ks_tpl_setf(&vars, "lag", "%d s", *s->lagSeconds);
        else
            ks_tpl_set(&vars, "lag", "—");
        ks_tpl_set_int(&vars, "reads", (long long)s->readsServed);
        ks_tpl_set(&vars, "reason", s->reason);
        problems += strcmp(state, "ok") != 0;
        ks_page_render_part(req, rows, "dashboard_db_row.html", &vars);
        ks_tpl_free(&vars);
    }
    return problems;
}

void ks_page_dashboard(ks_admin_req_t *req)
{
    status_call_t call = {0};
    ks_buf_t image_rows, db_rows;
    ks_tpl_t vars;
    long long avatars = 0;
    int problems;

    ks_tpl_init(&vars);
    ks_buf_init(&image_rows, 1 << 20);
    ks_buf_init(&db_rows, 1 << 20);
    if (ks_page_api(req, "GetSystemStatus", 1, attempt_status, &call) == KS_OK) {
        const struct ks__GetSystemStatusResponse *r = &call.response;
        ks_tpl_set(&vars, "status", "1");
        problems = image_server_rows(req, r, &image_rows, &avatars);
        problems += db_server_rows(req, r, &db_rows);
        if (r->counts) {
            ks_tpl_set_int(&vars, "members", (long long)r->counts->members);
            ks_tpl_set_int(&vars, "items", (long long)r->counts->items);
            ks_tpl_set_int(&vars, "categories", (long long)r->counts->categories);
        }
        ks_tpl_set_int(&vars, "avatars", avatars);
        ks_tpl_set(&vars, "database_error", r->databaseError);
        ks_tpl_set_int(&vars, "max_lag", r->maxLagSeconds);
        ks_tpl_set_int(&vars, "problems", problems);
        ks_tpl_set(&vars, "problems_plural", problems == 1 ? "" : "s");
        ks_tpl_set_html(&vars, "image_rows", image_rows.data ? image_rows.data : "");
        ks_tpl_set_html(&vars, "db_rows", db_rows.data ? db_rows.data : "");
    }
    ks_page_render(req, "Dashboard", "dashboard", "dashboard.html", &vars);
    ks_buf_free(&image_rows);
    ks_buf_free(&db_rows);
    ks_tpl_free(&vars);
}
