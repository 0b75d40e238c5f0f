/* store_staff.h: the admin database's staff, sessions and login_attempts
 * tables (migrations/001_initial.sql). Every function runs on the master
 * of db (the admin database has no replicas), writes its error into err
 * and returns a ks_rc: KS_NOTFOUND when the row asked for is absent,
 * KS_DBDOWN when the database does not answer. */
#ifndef KS_ADMIN_STORE_STAFF_H
#define KS_ADMIN_STORE_STAFF_H

#include "admin.h"
#include "db_pool.h"
#include "session.h"

/* The columns of staff that ks_admin_store_staff_from_row reads, in order;
 * a query may select more after them. */
#define KS_ADMIN_STAFF_COLUMNS "id, name, role, disabled, failed_logins, last_failed_at, locked"

/* Fills *out from a row that starts with KS_ADMIN_STAFF_COLUMNS; an unknown
 * role is left as (ks_staff_role_t)-1 for the caller to refuse or show. */
void ks_admin_store_staff_from_row(MYSQL_ROW row, ks_staff_t *out);

/* Begins the INSERT of a staff row (name, hash, role, created at now) in
 * *sql on the master's *conn, as ks_admin_store_begin does; the caller may
 * append an ON DUPLICATE KEY clause, then runs it with ks_admin_store_run. */
ks_rc ks_admin_store_staff_insert(ks_db_session_t *db, MYSQL **conn, ks_buf_t *sql,
                                  const char *name, ks_staff_role_t role, const char *hash,
                                  long long now, ks_err_t *err);

/* The staff member name and its password hash (hash may be NULL). */
ks_rc ks_admin_store_staff_by_name(ks_db_session_t *db, const char *name, ks_staff_t *out,
                                   char hash[KS_PASSWORD_HASH_MAX], ks_err_t *err);
ks_rc ks_admin_store_staff_by_id(ks_db_session_t *db, long long id, ks_staff_t *out, ks_err_t *err);

/* Adds name with role and hash, or (when name exists) gives it that role
 * and hash, enables and unlocks it; *created says which. */
ks_rc ks_admin_store_staff_put(ks_db_session_t *db, const char *name, ks_staff_role_t role,
                               const char *hash, long long now, int *created, ks_err_t *err);

ks_rc ks_admin_store_staff_set_hash(ks_db_session_t *db, long long id, const char *hash,
                                    ks_err_t *err);

/* Counts a failed sign-in of staff id at now and locks it when that makes
 * lock_after failures; *locked says whether it is locked now. */
ks_rc ks_admin_store_staff_failed(ks_db_session_t *db, long long id, long long now, int lock_after,
                                  int *locked, ks_err_t *err);
/* A successful sign-in: the failure count starts again. */
ks_rc ks_admin_store_staff_succeeded(ks_db_session_t *db, long long id, ks_err_t *err);

/* Records a sign-in attempt; outcome: ok, failed, throttled or locked. */
ks_rc ks_admin_store_login_attempt(ks_db_session_t *db, long long now, const char *name,
                                   const char *address, const char *outcome, ks_err_t *err);
/* The failed attempts from address since since (and since its last
 * successful sign-in), and when the last was. */
ks_rc ks_admin_store_address_failures(ks_db_session_t *db, const char *address, long long since,
                                      int *count, long long *last_at, ks_err_t *err);

/* ---- sessions ---- */
typedef struct {
    long long staff_id;
    long long created_at, last_seen_at;
    char flash[501];
} ks_session_row_t;

ks_rc ks_admin_store_session_create(ks_db_session_t *db, const char *id_hash, long long staff_id,
                                    long long now, const char *address, ks_err_t *err);
ks_rc ks_admin_store_session_get(ks_db_session_t *db, const char *id_hash, ks_session_row_t *out,
                                 ks_err_t *err);
/* Sets last_seen_at to now and, with clear_flash, empties flash. */
ks_rc ks_admin_store_session_touch(ks_db_session_t *db, const char *id_hash, long long now,
                                   int clear_flash, ks_err_t *err);
/* Sets the message the session's next page shows. */
ks_rc ks_admin_store_session_flash(ks_db_session_t *db, const char *id_hash, const char *flash,
                                   ks_err_t *err);
ks_rc ks_admin_store_session_delete(ks_db_session_t *db, const char *id_hash, ks_err_t *err);
/* Deletes every session of staff id (disabled, password reset). */
ks_rc ks_admin_store_session_delete_staff(ks_db_session_t *db, long long staff_id, ks_err_t *err);
/* Deletes the sessions expired at now. */
ks_rc ks_admin_store_session_expire(ks_db_session_t *db, long long now, int idle_s, int max_age_s,
                                    ks_err_t *err);

#endif
