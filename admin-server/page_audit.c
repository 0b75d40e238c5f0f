/* page_audit.c: the audit log (GET /audit, KS_ACT_AUDIT_VIEW): every state
 * change and every failed sign-in, newest first, filtered by staff member,
 * action (or its beginning: "member.") and target (or its beginning:
 * "member bob"), a page at a time by id (?before=). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "page.h"
#include "pages.h"
#include "store_audit.h"

#define PAGE_SIZE 50

/* Sets name to value %-encoded for a query string. */
static void set_encoded(ks_tpl_t *vars, const char *name, const char *value)
{
    ks_buf_t encoded;

    ks_buf_init(&encoded, 1024);
    ks_url_encode(&encoded, value);
    ks_tpl_set(vars, name, encoded.data ? encoded.data : "");
    ks_buf_free(&encoded);
}

/* A filter from the query: NULL when absent, empty or too long. */
static const char *filter_value(ks_admin_req_t *req, const char *name, size_t max)
{
    const char *value = ks_page_query(req, name);
    return value && *value && strlen(value) <= max ? value : NULL;
}

void ks_page_audit_log(ks_admin_req_t *req)
{
    ks_audit_filter_t filter = {.limit = PAGE_SIZE};
    const char *before = ks_page_query(req, "before");
    ks_audit_row_t *rows = calloc(PAGE_SIZE, sizeof *rows);
    ks_err_t err = {{0}};
    int count = 0, more = 0;
    ks_buf_t html;
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_buf_init(&html, 4 << 20);
    filter.staff_name = filter_value(req, "staff", 64);
    filter.action_prefix = filter_value(req, "action", 64);
    filter.target_prefix = filter_value(req, "target", 255);
    if (before)
        ks_page_parse_int(before, 1, 1LL << 62, &filter.before_id);
    ks_tpl_set(&vars, "staff", filter.staff_name);
    ks_tpl_set(&vars, "action", filter.action_prefix);
    ks_tpl_set(&vars, "target", filter.target_prefix);
    set_encoded(&vars, "staff_q", filter.staff_name);
    set_encoded(&vars, "action_q", filter.action_prefix);
    set_encoded(&vars, "target_q", filter.target_prefix);
    if (!rows) {
        ks_page_message(req, "error", "Out of memory for the audit log.");
    } else if (ks_admin_store_audit_list(req->db, &filter, rows, &count, &more, &err) !=
               KS_OK) {
        ks_log_error("audit log: %s", err.msg);
        ks_page_message(req, "error", "The audit log could not be read: %s", err.msg);
    } else {
        for (int i = 0; i < count; i++) {
            const ks_audit_row_t *r = &rows[i];
            char when[32];
            ks_tpl_t row;
            ks_format_utc(when, sizeof when, r->at, 19);
            ks_tpl_init(&row);
            ks_tpl_set_int(&row, "id", r->id);
            ks_tpl_set(&row, "when", when);
            ks_tpl_set(&row, "staff", r->staff_name);
            ks_tpl_set(&row, "address", r->address);
            ks_tpl_set(&row, "action", r->action);
            ks_tpl_set(&row, "failed", strstr(r->action, "failed") ? "1" : "");
            ks_tpl_set(&row, "target", r->target);
            set_encoded(&row, "staff_q", r->staff_name);
            set_encoded(&row, "action_q", r->action);
            set_encoded(&row, "target_q", r->target);
            ks_tpl_set(&row, "before", r->before);
            ks_tpl_set(&row, "after", r->after);
            ks_page_render_part(req, &html, "audit_row.html", &row);
            ks_tpl_free(&row);
        }
        ks_tpl_set(&vars, "listed", "1");
        ks_tpl_set(&vars, "none", count ? "" : "1");
        ks_tpl_set(&vars, "not_first", filter.before_id ? "1" : "");
        if (more)
            ks_tpl_set_int(&vars, "next_before", rows[count - 1].id);
    }
    ks_tpl_set_html(&vars, "rows", html.data ? html.data : "");
    ks_page_render(req, "Audit log", "audit", "audit.html", &vars);
    if (rows)
        ks_admin_store_audit_free(rows, count);
    free(rows);
    ks_buf_free(&html);
    ks_tpl_free(&vars);
}
