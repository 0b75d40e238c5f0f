/* auth.h: signing staff in and out, and finding who a request is from.
 *
 * The session cookie (ks_session) holds a random id; the sessions table
 * holds only its hash. A session ends when it is idle longer than
 * session_idle, older than session_max_age, signed out, or its staff
 * member is disabled or locked. Sign-in is slowed per account (its
 * failures since its last sign-in) and per address (its failures within
 * login_address_window since a sign-in from it), by ks_login_delay, with
 * the counters in the database so they hold across admin servers; an
 * account is locked after login_lock_after failures in a row. Every failure
 * is written to the audit log.
 */
#ifndef KS_ADMIN_AUTH_H
#define KS_ADMIN_AUTH_H

#include "admin.h"

#define KS_SESSION_COOKIE "ks_session"
#define KS_PRE_SESSION_COOKIE "ks_signin"    /* the sign-in form's CSRF secret */

/* Prepares what sign-in needs (once, at start, before the workers). */
ks_rc ks_admin_auth_init(const ks_admin_conf_t *conf, ks_err_t *err);

/* Reads the cookies: when the session is alive, fills req->staff,
 * req->signed_in, req->session_hash and req->csrf; an expired one is
 * deleted (and its cookie). Before sign-in, req->csrf is the sign-in form's
 * token (a cookie for it is set when missing). KS_DBDOWN when the admin
 * database does not answer. */
ks_rc ks_admin_auth_load(ks_admin_req_t *req, ks_err_t *err);

/* Checks name and password. KS_OK: a new session (a new id: nothing of an
 * earlier one is kept) with its cookie. KS_FORBIDDEN with the reason for
 * the person in err ("wrong name or password", "locked", "wait 4 s"). */
ks_rc ks_admin_auth_sign_in(ks_admin_req_t *req, const char *name, const char *password,
                            ks_err_t *err);

/* Deletes the session and its cookie. */
void ks_admin_auth_sign_out(ks_admin_req_t *req);

/* 1 when the POST's csrf field is the token of this browser's secret. */
int ks_admin_auth_csrf_ok(const ks_admin_req_t *req);

#endif
