/* page.c: the page API (page.h). */
#include "page.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_metrics.h"
#include "log.h"
#include "soapH.h"
#include "store_audit.h"
#include "store_staff.h"

const char *ks_page_query(const ks_admin_req_t *req, const char *name)
{
    return ks_form_get(&req->query, name);
}

const char *ks_page_field(const ks_admin_req_t *req, const char *name)
{
    return ks_form_get(&req->form, name);
}

int ks_page_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long n;

    if (!s || !*s)
        return -1;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

int ks_page_can(const ks_admin_req_t *req, ks_action_t action)
{
    return req->signed_in && ks_staff_role_allows((int)req->staff.role, (int)action);
}

/* ---- the SOAP API ---- */

/* The context of the request's last call, or NULL before the first. */
static struct soap *last_call(ks_admin_req_t *req)
{
    return req->call_count ? req->calls[req->call_count - 1] : NULL;
}

static ks_rc api_call(ks_admin_req_t *req, const char *operation, int resend_safe,
                      ks_failover_attempt_fn attempt, void *args, int quiet_notfound)
{
    ks_err_t err = {{0}};
    struct soap *soap;
    ks_rc rc;

    if (req->call_count == KS_ADMIN_CALLS_MAX) {
        ks_log_error("%s %s: more than %d SOAP calls in one request", req->method, req->path,
                     KS_ADMIN_CALLS_MAX);
        ks_page_message(req, "error", "%s: this page made too many calls (a bug).", operation);
        return KS_ERROR;
    }
    if (!(soap = soap_copy(req->soap))) {
        ks_page_message(req, "error", "%s: out of memory.", operation);
        return KS_NOMEM;
    }
    req->calls[req->call_count++] = soap;
    rc = ks_failover_call(&req->server->api, soap, operation, resend_safe, attempt, args, NULL,
                          &err);

    if (rc == KS_OK || (rc == KS_NOTFOUND && quiet_notfound))
        return rc;
    ks_admin_metrics_api_failure(rc == KS_UNAVAILABLE);
    if (rc == KS_UNAVAILABLE) {
        req->api_down = 1;
        ks_log_error("%s", err.msg);
        ks_page_message(req, "error", "%s: the API did not answer, so nothing was read or "
                        "changed.", operation);
    } else {
        const char *code = ks_page_fault_code(req);
        ks_log_warn("%s", err.msg);
        ks_page_message(req, "error", "%s failed: %s: %s", operation, code ? code : "Fault",
                        ks_page_fault_message(req));
    }
    return rc;
}

ks_rc ks_page_api(ks_admin_req_t *req, const char *operation, int resend_safe,
                  ks_failover_attempt_fn attempt, void *args)
{
    return api_call(req, operation, resend_safe, attempt, args, 0);
}

ks_rc ks_page_api_lookup(ks_admin_req_t *req, const char *operation,
                         ks_failover_attempt_fn attempt, void *args)
{
    return api_call(req, operation, 1, attempt, args, 1);
}

const char *ks_page_fault_code(ks_admin_req_t *req)
{
    return last_call(req) ? ks_failover_fault_code(last_call(req)) : NULL;
}

const char *ks_page_fault_message(ks_admin_req_t *req)
{
    struct soap *soap = last_call(req);
    const char *s;

    if (!soap)
        return "";
    if (ks_failover_fault_code(soap) && soap->fault->detail->ks__KisekaeFault->message)
        return soap->fault->detail->ks__KisekaeFault->message;
    s = soap_fault_string(soap);
    return s ? s : "";
}

/* ---- answering ---- */

void ks_page_message(ks_admin_req_t *req, const char *kind, const char *fmt, ...)
{
    char text[1024];
    va_list args;

    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    ks_buf_addf(&req->messages, "<div class=\"message %s\" role=\"%s\">",
                strcmp(kind, "error") == 0 ? "error" : strcmp(kind, "success") == 0 ? "success"
                                                                                    : "info",
                strcmp(kind, "error") == 0 ? "alert" : "status");
    ks_html_escape(&req->messages, text);
    ks_buf_addf(&req->messages, "</div>\n");
}

/* The variables every template may use. */
static void common_vars(ks_admin_req_t *req, ks_tpl_t *vars)
{
    ks_tpl_set(vars, "csrf", req->csrf);
    if (!req->signed_in)
        return;
    ks_tpl_set(vars, "signed_in", "1");
    ks_tpl_set(vars, "staff_name", req->staff.name);
    ks_tpl_set(vars, "staff_role", ks_staff_role_name((int)req->staff.role));
    for (int action = 0; action < KS_ACT_COUNT; action++) {
        char name[64];
        snprintf(name, sizeof name, "can_%s", ks_action_name(action));
        ks_tpl_set(vars, name, ks_page_can(req, (ks_action_t)action) ? "1" : "");
    }
}

static void render_failed(ks_admin_req_t *req, const ks_err_t *err)
{
    ks_log_error("%s", err->msg);
    req->status = 500;
    req->content_type = "text/plain; charset=utf-8";
    ks_buf_reset(&req->body);
    ks_buf_addf(&req->body, "The page could not be drawn (a bug); the log says why.\n");
}

void ks_page_render_part(ks_admin_req_t *req, ks_buf_t *out, const char *template,
                         const ks_tpl_t *vars)
{
    ks_err_t err = {{0}};

    if (ks_tpl_render(out, template, vars, &err) != KS_OK)
        ks_log_error("%s", err.msg);
}

void ks_page_render(ks_admin_req_t *req, const char *title, const char *nav,
                    const char *template, ks_tpl_t *vars)
{
    ks_tpl_t layout;
    ks_buf_t content;
    ks_err_t err = {{0}};
    char nav_var[80];

    if (req->flash[0]) {
        ks_buf_t flash;
        ks_buf_init(&flash, KS_ADMIN_MESSAGES_MAX);
        ks_buf_addf(&flash, "<div class=\"message success\" role=\"status\">");
        ks_html_escape(&flash, req->flash);
        ks_buf_addf(&flash, "</div>\n");
        ks_buf_append(&flash, req->messages.data ? req->messages.data : "", req->messages.len);
        ks_buf_free(&req->messages);
        req->messages = flash;
        req->flash[0] = '\0';
    }
    common_vars(req, vars);
    ks_buf_init(&content, 4 << 20);
    if (ks_tpl_render(&content, template, vars, &err) != KS_OK || content.overflow) {
        if (content.overflow)
            ks_err(&err, KS_TOOLARGE, "page %s is over 4 MiB", template);
        ks_buf_free(&content);
        render_failed(req, &err);
        return;
    }
    ks_tpl_init(&layout);
    common_vars(req, &layout);
    ks_tpl_set(&layout, "title", title);
    snprintf(nav_var, sizeof nav_var, "nav_%s", nav ? nav : "");
    ks_tpl_set(&layout, nav_var, "1");
    ks_tpl_set_html(&layout, "content", content.data ? content.data : "");
    ks_tpl_set_html(&layout, "messages", req->messages.data ? req->messages.data : "");
    ks_tpl_set(&layout, "api_down", req->api_down ? "1" : "");
    ks_buf_reset(&req->body);
    if (ks_tpl_render(&req->body, "layout.html", &layout, &err) != KS_OK)
        render_failed(req, &err);
    else if (!req->status)
        req->status = 200;
    req->content_type = "text/html; charset=utf-8";
    ks_tpl_free(&layout);
    ks_buf_free(&content);
}

void ks_page_redirect(ks_admin_req_t *req, const char *location, const char *flash)
{
    ks_err_t err = {{0}};

    req->status = 303;
    ks_buf_addf(&req->headers, "Location: %s\r\n", location);
    req->content_type = "text/plain; charset=utf-8";
    ks_buf_reset(&req->body);
    ks_buf_addf(&req->body, "See %s\n", location);
    if (flash && req->signed_in &&
        ks_admin_store_session_flash(req->db, req->session_hash, flash, &err) != KS_OK)
        ks_log_warn("flash: %s", err.msg);
}

void ks_page_error(ks_admin_req_t *req, int status, const char *title, const char *fmt, ...)
{
    char text[1024];
    ks_tpl_t vars;
    va_list args;

    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "heading", title);
    ks_tpl_set(&vars, "text", text);
    req->status = status;
    ks_page_render(req, title, NULL, "error.html", &vars);
    ks_tpl_free(&vars);
}

void ks_page_send_text(ks_admin_req_t *req, int status, const char *text)
{
    req->status = status;
    req->content_type = "text/plain; charset=utf-8";
    req->cache_control = NULL;
    ks_buf_reset(&req->body);
    ks_buf_addf(&req->body, "%s\n", text);
}

void ks_page_send_data(ks_admin_req_t *req, const char *content_type, const void *data,
                       size_t size, const char *cache_control)
{
    req->status = 200;
    req->content_type = content_type;
    req->cache_control = cache_control;
    ks_buf_reset(&req->body);
    ks_buf_append(&req->body, data, size);
}

void ks_page_set_cookie(ks_admin_req_t *req, const char *name, const char *value,
                        int max_age_s)
{
    ks_buf_addf(&req->headers, "Set-Cookie: %s=%s; HttpOnly; SameSite=Strict; Path=/%s", name,
                max_age_s < 0 ? "" : value, req->https || req->conf->cookie_secure
                                                 ? "; Secure" : "");
    if (max_age_s < 0)
        ks_buf_addf(&req->headers, "; Max-Age=0");
    else if (max_age_s > 0)
        ks_buf_addf(&req->headers, "; Max-Age=%d", max_age_s);
    ks_buf_addf(&req->headers, "\r\n");
}

/* ---- the audit log ---- */

void ks_page_audit(ks_admin_req_t *req, const char *action, const char *target,
                   const char *before, const char *after)
{
    ks_audit_entry_t entry = {
        .at = req->now, .staff_id = req->signed_in ? req->staff.id : 0,
        .staff_name = req->signed_in ? req->staff.name : "", .address = req->remote,
        .action = action, .target = target, .before = before, .after = after};
    ks_err_t err = {{0}};

    if (ks_admin_store_audit_add(req->db, &entry, &err) != KS_OK) {
        ks_log_error("audit log: %s (%s %s by %s)", err.msg, action, target ? target : "",
                     entry.staff_name);
        ks_page_message(req, "error", "The change was made but could not be written to the "
                        "audit log: %s", err.msg);
    }
}
