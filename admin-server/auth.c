/* auth.c: sign-in, sign-out and sessions (auth.h). */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "page.h"
#include "session.h"
#include "store_staff.h"

#define TOUCH_EVERY_S 10     /* last_seen_at is written at most this often */

/* Argon2id of a password nobody has: an unknown name costs what a known one does. */
static char dummy_hash[KS_PASSWORD_HASH_MAX];

ks_rc ks_admin_auth_init(const ks_admin_conf_t *conf, ks_err_t *err)
{
    char secret[KS_SESSION_ID_HEX];

    ks_session_new_id(secret);
    return ks_password_hash(secret, conf->argon2_opslimit, conf->argon2_memlimit, dummy_hash,
                            err);
}

static const char *cookie_header(const ks_admin_req_t *req)
{
    const char *header = FCGX_GetParam("HTTP_COOKIE", req->fcgi->envp);
    return header ? header : "";
}

static void pre_session(ks_admin_req_t *req)
{
    if (ks_form_cookie(cookie_header(req), KS_PRE_SESSION_COOKIE, req->pre_session,
                       sizeof req->pre_session) != 0 ||
        !ks_session_id_valid(req->pre_session)) {
        ks_session_new_id(req->pre_session);
        ks_page_set_cookie(req, KS_PRE_SESSION_COOKIE, req->pre_session, 0);
    }
    ks_csrf_token(req->pre_session, req->csrf);
}

ks_rc ks_admin_auth_load(ks_admin_req_t *req, ks_err_t *err)
{
    const ks_admin_conf_t *conf = req->conf;
    ks_session_row_t row;
    ks_rc rc;

    if (ks_form_cookie(cookie_header(req), KS_SESSION_COOKIE, req->session_id,
                       sizeof req->session_id) != 0 ||
        !ks_session_id_valid(req->session_id)) {
        req->session_id[0] = '\0';
        pre_session(req);
        return KS_OK;
    }
    ks_session_hash(req->session_id, req->session_hash);
    rc = ks_admin_store_session_get(req->db, req->session_hash, &row, err);
    if (rc == KS_OK)
        rc = ks_admin_store_staff_by_id(req->db, row.staff_id, &req->staff, err);
    if (rc == KS_OK && (ks_session_expired(req->now, row.created_at, row.last_seen_at,
                                           conf->session_idle_s, conf->session_max_age_s) ||
                        req->staff.disabled || req->staff.locked)) {
        ks_admin_store_session_delete(req->db, req->session_hash, err);
        rc = KS_NOTFOUND;
    }
    if (rc == KS_NOTFOUND) {
        ks_page_set_cookie(req, KS_SESSION_COOKIE, "", -1);
        req->session_id[0] = req->session_hash[0] = '\0';
        pre_session(req);
        return KS_OK;
    }
    if (rc != KS_OK)
        return rc;
    req->signed_in = 1;
    ks_csrf_token(req->session_id, req->csrf);
    snprintf(req->flash, sizeof req->flash, "%s", row.flash);
    if (req->now - row.last_seen_at >= TOUCH_EVERY_S || row.flash[0])
        return ks_admin_store_session_touch(req->db, req->session_hash, req->now, row.flash[0] != 0,
                                            err);
    return KS_OK;
}

static void audit_failure(ks_admin_req_t *req, const char *name, const char *why)
{
    char target[100];

    snprintf(target, sizeof target, "staff %.64s", name);
    ks_page_audit(req, "login.failed", target, NULL, why);
}

/* Refuses an attempt that comes too soon after failures: of the account
 * (staff, NULL when the name is unknown) or of the address. */
static int throttled(ks_admin_req_t *req, const ks_staff_t *staff, int *wait_s, ks_err_t *err)
{
    const ks_admin_conf_t *conf = req->conf;
    int address_failures = 0, delay;
    long long last_at = 0;

    *wait_s = 0;
    if (staff) {
        delay = ks_login_delay(staff->failed_logins, conf->login_throttle_after,
                               conf->login_throttle_max_s);
        if (staff->last_failed_at + delay > req->now)
            *wait_s = (int)(staff->last_failed_at + delay - req->now);
    }
    if (ks_admin_store_address_failures(req->db, req->remote,
                                        req->now - conf->login_address_window_s,
                                        &address_failures, &last_at, err) != KS_OK)
        return -1;
    delay = ks_login_delay(address_failures, conf->login_throttle_after,
                           conf->login_throttle_max_s);
    if (last_at + delay > req->now && (int)(last_at + delay - req->now) > *wait_s)
        *wait_s = (int)(last_at + delay - req->now);
    return *wait_s > 0;
}

ks_rc ks_admin_auth_sign_in(ks_admin_req_t *req, const char *name, const char *password,
                            ks_err_t *err)
{
    const ks_admin_conf_t *conf = req->conf;
    char hash[KS_PASSWORD_HASH_MAX], id[KS_SESSION_ID_HEX];
    ks_staff_t staff;
    ks_err_t inner = {{0}};
    int known, wait_s, locked = 0;
    ks_rc rc;

    rc = ks_admin_store_staff_by_name(req->db, name, &staff, hash, &inner);
    if (rc != KS_OK && rc != KS_NOTFOUND)
        return ks_err(err, rc, "%s", inner.msg);
    known = rc == KS_OK;
    switch (throttled(req, known ? &staff : NULL, &wait_s, &inner)) {
    case -1:
        return ks_err(err, KS_DBDOWN, "%s", inner.msg);
    case 1:
        ks_admin_store_login_attempt(req->db, req->now, name, req->remote, "throttled", &inner);
        audit_failure(req, name, "throttled: too many failed attempts");
        return ks_err(err, KS_FORBIDDEN, "Too many failed attempts: wait %d s and try again.",
                      wait_s);
    }
    if (known && staff.locked) {
        ks_password_verify(hash, password);
        ks_admin_store_login_attempt(req->db, req->now, name, req->remote, "locked", &inner);
        audit_failure(req, name, "account locked");
        return ks_err(err, KS_FORBIDDEN, "This account is locked after too many failed "
                      "attempts; an owner can unlock it.");
    }
    if (!ks_password_verify(known ? hash : dummy_hash, password) || !known || staff.disabled) {
        if (known && (rc = ks_admin_store_staff_failed(req->db, staff.id, req->now,
                                                       conf->login_lock_after, &locked, &inner)))
            return ks_err(err, rc, "%s", inner.msg);
        ks_admin_store_login_attempt(req->db, req->now, name, req->remote, "failed", &inner);
        audit_failure(req, name, locked ? "wrong password; account now locked"
                                        : known && staff.disabled ? "account disabled"
                                                                  : "wrong name or password");
        if (locked)
            return ks_err(err, KS_FORBIDDEN, "Wrong name or password. This account is now "
                          "locked; an owner can unlock it.");
        return ks_err(err, KS_FORBIDDEN, "Wrong name or password.");
    }
    /* Signed in: a new id, whatever the browser held before. */
    if ((rc = ks_admin_store_staff_succeeded(req->db, staff.id, &inner)) != KS_OK)
        return ks_err(err, rc, "%s", inner.msg);
    if (ks_password_needs_rehash(hash, conf->argon2_opslimit, conf->argon2_memlimit) &&
        ks_password_hash(password, conf->argon2_opslimit, conf->argon2_memlimit, hash,
                         &inner) == KS_OK) {
        if (ks_admin_store_staff_set_hash(req->db, staff.id, hash, &inner) == KS_OK)
            ks_log_info("password of staff \"%s\" rehashed with the configured cost", staff.name);
    }
    if (req->session_hash[0])
        ks_admin_store_session_delete(req->db, req->session_hash, &inner);
    ks_admin_store_session_expire(req->db, req->now, conf->session_idle_s, conf->session_max_age_s,
                                  &inner);
    ks_session_new_id(id);
    ks_session_hash(id, req->session_hash);
    if ((rc = ks_admin_store_session_create(req->db, req->session_hash, staff.id, req->now,
                                            req->remote, &inner)) != KS_OK)
        return ks_err(err, rc, "%s", inner.msg);
    ks_admin_store_login_attempt(req->db, req->now, name, req->remote, "ok", &inner);
    snprintf(req->session_id, sizeof req->session_id, "%s", id);
    ks_page_set_cookie(req, KS_SESSION_COOKIE, id, 0);
    ks_page_set_cookie(req, KS_PRE_SESSION_COOKIE, "", -1);
    req->staff = staff;
    req->signed_in = 1;
    ks_csrf_token(id, req->csrf);
    ks_page_audit(req, "login", NULL, NULL, NULL);
    return KS_OK;
}

void ks_admin_auth_sign_out(ks_admin_req_t *req)
{
    ks_err_t err = {{0}};

    if (req->signed_in) {
        ks_page_audit(req, "logout", NULL, NULL, NULL);
        if (ks_admin_store_session_delete(req->db, req->session_hash, &err) != KS_OK)
            ks_log_error("sign-out of %s: %s", req->staff.name, err.msg);
    }
    ks_page_set_cookie(req, KS_SESSION_COOKIE, "", -1);
    req->signed_in = 0;
}

int ks_admin_auth_csrf_ok(const ks_admin_req_t *req)
{
    const char *given = ks_form_get(&req->form, "csrf");
    return ks_csrf_check(req->signed_in ? req->session_id : req->pre_session, given);
}
