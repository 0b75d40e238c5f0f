/* page.h: the page API: what a page handler (page_*.c) uses to read the
 * request, call the SOAP API, record what it changed and answer.
 *
 * A page is a function registered in the route table (routes.c) with the
 * action its role must allow; by the time it runs, the staff member is
 * signed in, allowed, and a POST carried a valid CSRF token. A page reads
 * top to bottom:
 *
 *     static void page_thing(ks_admin_req_t *req)
 *     {
 *         ks_tpl_t vars;
 *         ks_tpl_init(&vars);
 *         if (ks_page_api(req, "GetThing", 1, attempt_get_thing, &args) == KS_OK)
 *             ks_tpl_set(&vars, "name", args.response.thing->name);
 *         ks_page_render(req, "Thing", "things", "thing.html", &vars);
 *         ks_tpl_free(&vars);
 *     }
 *
 * Every value goes into HTML through the templates (html.h), escaped.
 * Every state change is followed by ks_page_audit. A POST that changed
 * something answers with ks_page_redirect (post/redirect/get); one that
 * was refused renders its form again with the messages next to the fields.
 */
#ifndef KS_ADMIN_PAGE_H
#define KS_ADMIN_PAGE_H

#include "admin.h"
#include "html.h"

/* ---- reading the request ---- */

/* A query parameter (?name=...), or NULL. */
const char *ks_page_query(const ks_admin_req_t *req, const char *name);
/* A field of the POST body, or NULL. */
const char *ks_page_field(const ks_admin_req_t *req, const char *name);
/* Parses s as a whole decimal number in [min, max]; 0 when it is, else -1. */
int ks_page_parse_int(const char *s, long long min, long long max, long long *out);
/* 1 when the signed-in staff member's role allows action. */
int ks_page_can(const ks_admin_req_t *req, ks_action_t action);

/* ---- the SOAP API ---- */

/* Runs one operation through the failover core (resend_safe: a read, or a
 * write whose second sending ends as one). On failure adds a message box
 * naming the fault's code and message ("NotFound: item 12 not found"), or,
 * when no API server answered, raises the "API unreachable" banner; returns
 * the ks_rc of ks_failover_call. What the call answered (in args) stays
 * valid until the request ends: each call has a gSOAP context of its own. */
ks_rc ks_page_api(ks_admin_req_t *req, const char *operation, int resend_safe,
                  ks_failover_attempt_fn attempt, void *args);
/* A read whose NotFound is an answer, not a problem: as ks_page_api, but
 * KS_NOTFOUND adds no message. */
ks_rc ks_page_api_lookup(ks_admin_req_t *req, const char *operation,
                         ks_failover_attempt_fn attempt, void *args);
/* The KisekaeFault code of the last call's answer ("InvalidArgument"...), or NULL. */
const char *ks_page_fault_code(ks_admin_req_t *req);
/* The message of the last call's fault ("" when it had none). */
const char *ks_page_fault_message(ks_admin_req_t *req);

/* ---- answering ---- */

/* Adds a message box above the content: kind "error", "success" or "info". */
void ks_page_message(ks_admin_req_t *req, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Renders template with vars (and the variables every page has: csrf,
 * staff_name, staff_role, can_<action> for each action the role allows)
 * inside the layout, titled title, with nav marked in the menu. */
void ks_page_render(ks_admin_req_t *req, const char *title, const char *nav,
                    const char *template, ks_tpl_t *vars);

/* Renders template with vars as a fragment appended to out (a table row);
 * the page then sets it with ks_tpl_set_html. */
void ks_page_render_part(ks_admin_req_t *req, ks_buf_t *out, const char *template,
                         const ks_tpl_t *vars);

/* 303 to location (a path of this site), showing flash (NULL: none) on the
 * next page. */
void ks_page_redirect(ks_admin_req_t *req, const char *location, const char *flash);

/* A whole page saying what went wrong, with status (403, 404, 400...). */
void ks_page_error(ks_admin_req_t *req, int status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A plain-text answer with status: what a script on the page shows as it
 * is (a preview's refusal), or the body of a missing image. */
void ks_page_send_text(ks_admin_req_t *req, int status, const char *text);

/* A binary answer (an image): data is copied. cache_control NULL: no-store. */
void ks_page_send_data(ks_admin_req_t *req, const char *content_type, const void *data,
                       size_t size, const char *cache_control);

/* Adds a Set-Cookie header: HttpOnly; SameSite=Strict; Path=/ (and Secure
 * over TLS or with cookie_secure); max_age_s < 0 deletes the cookie, 0
 * makes a session cookie. */
void ks_page_set_cookie(ks_admin_req_t *req, const char *name, const char *value,
                        int max_age_s);

/* ---- the audit log ---- */

/* Records that the signed-in staff member did action (e.g. "item.publish")
 * to target (e.g. "item 12"), with the state before and after (NULL when
 * there is none). A failure to record is logged and shown. */
void ks_page_audit(ks_admin_req_t *req, const char *action, const char *target,
                   const char *before, const char *after);

#endif
