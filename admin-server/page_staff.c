/* page_staff.c: the staff, managed by owners (KS_ACT_STAFF_MANAGE).
 *
 *   GET  /staff                  every staff member: role, state, failed sign-ins;
 *                                the form that adds one (name, role, first password)
 *   POST /staff/new              adds one
 *   GET  /staff/{id}             one, with its forms:
 *   POST /staff/{id}/role        change the role
 *   POST /staff/{id}/disable     disable (its sessions end) or, with enable=1, enable
 *   POST /staff/{id}/unlock      unlock after too many failed sign-ins
 *   POST /staff/{id}/password    set a new password (its sessions end, it is unlocked)
 *
 * An owner changes others, not themself (no owner can lock every owner out by
 * a slip). Every change is written to the audit log, target "staff NAME" (as
 * the failed sign-ins are).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "page.h"
#include "pages.h"
#include "session.h"
#include "store_staff.h"
#include "store_staff_manage.h"

#define STAFF_PAGE 100

static const char *state_of(const ks_staff_t *s)
{
    return s->disabled ? "disabled" : s->locked ? "locked" : "active";
}

/* <option>s of the roles, selected marking one. */
static void role_options(ks_admin_req_t *req, int selected, ks_buf_t *out)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    for (int role = 0; role < KS_STAFF_ROLE_COUNT; role++) {
        ks_tpl_set(&vars, "value", ks_staff_role_name(role));
        ks_tpl_set(&vars, "label", ks_staff_role_name(role));
        ks_tpl_set(&vars, "selected", role == selected ? "1" : "");
        ks_page_render_part(req, out, "option.html", &vars);
    }
    ks_tpl_free(&vars);
}

static void render_list(ks_admin_req_t *req, ks_tpl_t *vars)
{
    ks_staff_row_t *rows = calloc(STAFF_PAGE, sizeof *rows);
    const char *after_text = ks_page_query(req, "after");
    ks_buf_t html, options;
    ks_err_t err = {{0}};
    long long after = 0;
    int count = 0, more = 0;
    const char *role = ks_page_field(req, "role");

    ks_buf_init(&html, 1 << 20);
    ks_buf_init(&options, 4096);
    if (after_text)
        ks_page_parse_int(after_text, 0, 1LL << 62, &after);
    if (!rows) {
        ks_page_message(req, "error", "Out of memory.");
    } else if (ks_admin_store_staff_list(req->db, after, STAFF_PAGE, rows, &count, &more, &err) !=
               KS_OK) {
        ks_log_error("staff list: %s", err.msg);
        ks_page_message(req, "error", "The staff could not be read: %s", err.msg);
    } else {
        for (int i = 0; i < count; i++) {
            const ks_staff_t *s = &rows[i].staff;
            char created[32];
            ks_tpl_t row;
            ks_format_utc(created, sizeof created, rows[i].created_at, 10);
            ks_tpl_init(&row);
            ks_tpl_set_int(&row, "id", s->id);
            ks_tpl_set(&row, "name", s->name);
            ks_tpl_set(&row, "role", ks_staff_role_name((int)s->role));
            ks_tpl_set(&row, "state", state_of(s));
            ks_tpl_set_int(&row, "failed", s->failed_logins);
            ks_tpl_set(&row, "created", created);
            ks_tpl_set(&row, "me", s->id == req->staff.id ? "1" : "");
            ks_page_render_part(req, &html, "staff_row.html", &row);
            ks_tpl_free(&row);
        }
        if (more)
            ks_tpl_set_int(vars, "next_after", rows[count - 1].staff.id);
        ks_tpl_set(vars, "not_first", after ? "1" : "");
    }
    role_options(req, role ? ks_staff_role_parse(role) : KS_STAFF_VIEWER, &options);
    ks_tpl_set_html(vars, "rows", html.data ? html.data : "");
    ks_tpl_set_html(vars, "role_options", options.data ? options.data : "");
    ks_tpl_set_int(vars, "password_min", KS_PASSWORD_MIN);
    ks_page_render(req, "Staff", "staff", "staff.html", vars);
    ks_buf_free(&html);
    ks_buf_free(&options);
    free(rows);
}

void ks_page_staff(ks_admin_req_t *req)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    render_list(req, &vars);
    ks_tpl_free(&vars);
}

/* 1 when name may be a staff member's (as --add-staff requires). */
static int name_ok(const char *name)
{
    return name && *name && strlen(name) <= 64 &&
           strcspn(name, " \t\r\n<>&\"'") == strlen(name);
}

void ks_page_staff_add(ks_admin_req_t *req)
{
    const char *name = ks_page_field(req, "name"), *password = ks_page_field(req, "password");
    int role = ks_staff_role_parse(ks_page_field(req, "role"));
    char hash[KS_PASSWORD_HASH_MAX], target[80], after[64], flash[160];
    ks_err_t err = {{0}};
    long long id = 0;
    int bad = 0;
    ks_tpl_t vars;
    ks_rc rc;

    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "new_name", name);
    if (!name_ok(name)) {
        ks_tpl_set(&vars, "err_name", "A name of 1 to 64 characters without spaces, quotes, "
                   "< > or &.");
        bad = 1;
    }
    if (role < 0) {
        ks_tpl_set(&vars, "err_role", "Choose a role.");
        bad = 1;
    }
    if (!password || ks_password_check_policy(password, &err) != KS_OK) {
        ks_tpl_set(&vars, "err_password", password ? err.msg : "Give a first password.");
        bad = 1;
    }
    if (!bad && ks_password_hash(password, req->conf->argon2_opslimit,
                                 req->conf->argon2_memlimit, hash, &err) != KS_OK) {
        ks_page_message(req, "error", "The password could not be hashed: %s", err.msg);
        bad = 1;
    }
    if (!bad) {
        rc = ks_admin_store_staff_add(req->db, name, (ks_staff_role_t)role, hash, req->now, &id,
                                      &err);
        if (rc == KS_OK) {
            snprintf(target, sizeof target, "staff %.64s", name);
            snprintf(after, sizeof after, "role %s, active", ks_staff_role_name(role));
            ks_page_audit(req, "staff.add", target, NULL, after);
            snprintf(flash, sizeof flash, "%.64s added as %s. Give them their password in "
                     "person; they can sign in now.", name, ks_staff_role_name(role));
            ks_page_redirect(req, "/staff", flash);
            ks_tpl_free(&vars);
            return;
        }
        if (rc == KS_CONFLICT) {
            ks_tpl_set(&vars, "err_name", err.msg);
        } else {
            ks_log_error("staff add: %s", err.msg);
            ks_page_message(req, "error", "Not added: %s", err.msg);
        }
    }
    req->status = 400;
    render_list(req, &vars);
    ks_tpl_free(&vars);
}

/* The staff member of the route ({id}), or -1 with the error page drawn. */
static int route_staff(ks_admin_req_t *req, ks_staff_t *out)
{
    ks_err_t err = {{0}};
    long long id;
    ks_rc rc;

    if (ks_page_parse_int(req->route_param, 1, 1LL << 62, &id) != 0) {
        ks_page_error(req, 404, "Page not found", "There is no staff member \"%s\".",
                      req->route_param);
        return -1;
    }
    rc = ks_admin_store_staff_by_id(req->db, id, out, &err);
    if (rc == KS_NOTFOUND) {
        ks_page_error(req, 404, "Staff member not found", "There is no staff member %lld.", id);
        return -1;
    }
    if (rc != KS_OK) {
        ks_log_error("staff %lld: %s", id, err.msg);
        ks_page_error(req, 503, "The admin database does not answer", "%s", err.msg);
        return -1;
    }
    return 0;
}

static void render_one(ks_admin_req_t *req, const ks_staff_t *s)
{
    ks_buf_t options;
    char title[100];
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_buf_init(&options, 4096);
    role_options(req, (int)s->role, &options);
    ks_tpl_set_int(&vars, "id", s->id);
    ks_tpl_set(&vars, "name", s->name);
    ks_tpl_set(&vars, "role", ks_staff_role_name((int)s->role));
    ks_tpl_set(&vars, "state", state_of(s));
    ks_tpl_set(&vars, "disabled", s->disabled ? "1" : "");
    ks_tpl_set(&vars, "locked", s->locked ? "1" : "");
    ks_tpl_set_int(&vars, "failed", s->failed_logins);
    ks_tpl_set(&vars, "me", s->id == req->staff.id ? "1" : "");
    ks_tpl_set_html(&vars, "role_options", options.data ? options.data : "");
    ks_tpl_set_int(&vars, "password_min", KS_PASSWORD_MIN);
    ks_buf_reset(&options);
    snprintf(title, sizeof title, "staff %.64s", s->name);
    ks_url_encode(&options, title);
    ks_tpl_set(&vars, "audit_target", options.data ? options.data : "");
    snprintf(title, sizeof title, "Staff: %.64s", s->name);
    ks_page_render(req, title, "staff", "staff_one.html", &vars);
    ks_buf_free(&options);
    ks_tpl_free(&vars);
}

void ks_page_staff_one(ks_admin_req_t *req)
{
    ks_staff_t s;

    if (route_staff(req, &s) == 0)
        render_one(req, &s);
}

/* The staff member of the route for a change: not the owner themself
 * (refused with the page drawn). 0 to go on. */
static int change_target(ks_admin_req_t *req, ks_staff_t *s)
{
    if (route_staff(req, s) != 0)
        return -1;
    if (s->id == req->staff.id) {
        ks_page_message(req, "error", "You cannot change your own account here: ask another "
                        "owner. Nothing was changed.");
        req->status = 400;
        render_one(req, s);
        return -1;
    }
    return 0;
}

/* After a change: its audit entry and back to the member's page. */
static void changed(ks_admin_req_t *req, const ks_staff_t *s, const char *action,
                    const char *before, const char *after, const char *flash)
{
    char target[80], location[64];

    snprintf(target, sizeof target, "staff %.64s", s->name);
    ks_page_audit(req, action, target, before, after);
    snprintf(location, sizeof location, "/staff/%lld", s->id);
    ks_page_redirect(req, location, flash);
}

/* A store failure: logged, shown, nothing else done. */
static void store_failed(ks_admin_req_t *req, const ks_staff_t *s, const ks_err_t *err)
{
    ks_log_error("staff %s: %s", s->name, err->msg);
    ks_page_message(req, "error", "The admin database refused the change: %s", err->msg);
    req->status = 503;
    render_one(req, s);
}

void ks_page_staff_role(ks_admin_req_t *req)
{
    int role = ks_staff_role_parse(ks_page_field(req, "role"));
    char before[40], after[40], flash[160];
    ks_err_t err = {{0}};
    ks_staff_t s;

    if (change_target(req, &s) != 0)
        return;
    if (role < 0) {
        ks_page_message(req, "error", "Choose a role: owner, editor, operator or viewer.");
        req->status = 400;
        render_one(req, &s);
        return;
    }
    if (ks_admin_store_staff_set_role(req->db, s.id, (ks_staff_role_t)role, &err) != KS_OK) {
        store_failed(req, &s, &err);
        return;
    }
    snprintf(before, sizeof before, "role %s", ks_staff_role_name((int)s.role));
    snprintf(after, sizeof after, "role %s", ks_staff_role_name(role));
    snprintf(flash, sizeof flash, "%.64s is now %s.", s.name, ks_staff_role_name(role));
    changed(req, &s, "staff.role", before, after, flash);
}

void ks_page_staff_disable(ks_admin_req_t *req)
{
    int enable = ks_page_field(req, "enable") != NULL;
    char flash[160];
    ks_err_t err = {{0}};
    ks_staff_t s;

    if (change_target(req, &s) != 0)
        return;
    if (ks_admin_store_staff_set_disabled(req->db, s.id, !enable, &err) != KS_OK ||
        (!enable && ks_admin_store_session_delete_staff(req->db, s.id, &err) != KS_OK)) {
        store_failed(req, &s, &err);
        return;
    }
    snprintf(flash, sizeof flash, enable ? "%.64s is enabled: they can sign in again."
                                         : "%.64s is disabled: signed out, and cannot sign in.",
             s.name);
    changed(req, &s, enable ? "staff.enable" : "staff.disable",
            s.disabled ? "disabled" : "enabled", enable ? "enabled" : "disabled", flash);
}

void ks_page_staff_unlock(ks_admin_req_t *req)
{
    char before[64], flash[160];
    ks_err_t err = {{0}};
    ks_staff_t s;

    if (change_target(req, &s) != 0)
        return;
    if (ks_admin_store_staff_unlock(req->db, s.id, &err) != KS_OK) {
        store_failed(req, &s, &err);
        return;
    }
    snprintf(before, sizeof before, "%s, %d failed sign-in(s)", s.locked ? "locked" : "unlocked",
             s.failed_logins);
    snprintf(flash, sizeof flash, "%.64s is unlocked: they can sign in again.", s.name);
    changed(req, &s, "staff.unlock", before, "unlocked, 0 failed sign-ins", flash);
}

void ks_page_staff_password(ks_admin_req_t *req)
{
    const char *password = ks_page_field(req, "password");
    char hash[KS_PASSWORD_HASH_MAX], flash[200];
    ks_err_t err = {{0}};
    ks_staff_t s;

    if (change_target(req, &s) != 0)
        return;
    if (!password || ks_password_check_policy(password, &err) != KS_OK) {
        ks_page_message(req, "error", "%s Nothing was changed.",
                        password ? err.msg : "Give the new password.");
        req->status = 400;
        render_one(req, &s);
        return;
    }
    if (ks_password_hash(password, req->conf->argon2_opslimit, req->conf->argon2_memlimit, hash,
                         &err) != KS_OK ||
        ks_admin_store_staff_set_hash(req->db, s.id, hash, &err) != KS_OK ||
        ks_admin_store_session_delete_staff(req->db, s.id, &err) != KS_OK ||
        ks_admin_store_staff_unlock(req->db, s.id, &err) != KS_OK) {
        store_failed(req, &s, &err);
        return;
    }
    snprintf(flash, sizeof flash, "%.64s has a new password: their sessions ended; give it to "
             "them in person.", s.name);
    changed(req, &s, "staff.password", "old password", "new password, sessions ended, unlocked",
            flash);
}
