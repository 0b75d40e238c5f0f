/* store_staff.c: SQL of the staff, sessions and login_attempts tables
 * (store_staff.h). */
#include "store_staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define STAFF_COLUMNS KS_ADMIN_STAFF_COLUMNS ", password_hash"

void ks_admin_store_staff_from_row(MYSQL_ROW row, ks_staff_t *out)
{
    memset(out, 0, sizeof *out);
    out->id = atoll(row[0]);
    snprintf(out->name, sizeof out->name, "%s", row[1]);
    out->role = (ks_staff_role_t)ks_staff_role_parse(row[2]);
    out->disabled = atoi(row[3]);
    out->failed_logins = atoi(row[4]);
    out->last_failed_at = atoll(row[5]);
    out->locked = atoi(row[6]);
}

static ks_rc staff_where(ks_db_session_t *db, ks_buf_t *sql, MYSQL *conn, ks_staff_t *out,
                         char *hash, ks_err_t *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc = ks_admin_store_row(db, conn, sql, &res, &row, "staff member", err);

    if (rc != KS_OK)
        return rc;
    ks_admin_store_staff_from_row(row, out);
    if (hash)
        snprintf(hash, KS_PASSWORD_HASH_MAX, "%s", row[7]);
    mysql_free_result(res);
    return out->role == (ks_staff_role_t)-1 ? ks_err(err, KS_ERROR, "staff %s has an unknown role",
                                               out->name)
                                      : KS_OK;
}

ks_rc ks_admin_store_staff_by_name(ks_db_session_t *db, const char *name, ks_staff_t *out,
                                   char hash[KS_PASSWORD_HASH_MAX], ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 1024, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "SELECT " STAFF_COLUMNS " FROM staff WHERE name = ");
    ks_sql_str(&sql, conn, name);
    return staff_where(db, &sql, conn, out, hash, err);
}

ks_rc ks_admin_store_staff_by_id(ks_db_session_t *db, long long id, ks_staff_t *out, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 512, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "SELECT " STAFF_COLUMNS " FROM staff WHERE id = %lld", id);
    return staff_where(db, &sql, conn, out, NULL, err);
}

ks_rc ks_admin_store_staff_insert(ks_db_session_t *db, MYSQL **conn, ks_buf_t *sql,
                                  const char *name, ks_staff_role_t role, const char *hash,
                                  long long now, ks_err_t *err)
{
    ks_rc rc = ks_admin_store_begin(db, conn, sql, 1024, err);

    if (rc != KS_OK)
        return rc;
    ks_buf_addf(sql, "INSERT INTO staff (name, password_hash, role, created_at) VALUES (");
    ks_sql_str(sql, *conn, name);
    ks_buf_addf(sql, ", ");
    ks_sql_str(sql, *conn, hash);
    ks_buf_addf(sql, ", '%s', %lld)", ks_staff_role_name(role), now);
    return KS_OK;
}

ks_rc ks_admin_store_staff_put(ks_db_session_t *db, const char *name, ks_staff_role_t role,
                               const char *hash, long long now, int *created, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_staff_insert(db, &conn, &sql, name, role, hash, now, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, " ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash),"
                " role = VALUES(role), disabled = 0, locked = 0, failed_logins = 0");
    if ((rc = ks_admin_store_run(db, conn, &sql, NULL, err)) != KS_OK)
        return rc;
    *created = mysql_affected_rows(conn) == 1;   /* 2: an existing row updated */
    return KS_OK;
}

/* Runs sql, built of trusted text only (numbers, hex digests), on the master. */
static ks_rc run_plain(ks_db_session_t *db, ks_buf_t *sql, ks_err_t *err)
{
    MYSQL *conn;
    ks_rc rc = ks_db_master(db, &conn, err);

    if (rc != KS_OK) {
        ks_buf_free(sql);
        return rc;
    }
    return ks_admin_store_run(db, conn, sql, NULL, err);
}

ks_rc ks_admin_store_staff_set_hash(ks_db_session_t *db, long long id, const char *hash,
                                    ks_err_t *err)
{
    ks_buf_t sql;

    /* hash comes from crypto_pwhash_str: printable ASCII without quotes */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE staff SET password_hash = '%s' WHERE id = %lld", hash, id);
    return run_plain(db, &sql, err);
}

ks_rc ks_admin_store_staff_failed(ks_db_session_t *db, long long id, long long now, int lock_after,
                                  int *locked, ks_err_t *err)
{
    ks_staff_t staff;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE staff SET failed_logins = failed_logins + 1, last_failed_at ="
                " %lld, locked = IF(failed_logins >= %d, 1, locked) WHERE id = %lld", now,
                lock_after, id);
    if ((rc = run_plain(db, &sql, err)) != KS_OK)
        return rc;
    if ((rc = ks_admin_store_staff_by_id(db, id, &staff, err)) != KS_OK)
        return rc;
    *locked = staff.locked;
    return KS_OK;
}

ks_rc ks_admin_store_staff_succeeded(ks_db_session_t *db, long long id, ks_err_t *err)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE staff SET failed_logins = 0 WHERE id = %lld", id);
    return run_plain(db, &sql, err);
}

ks_rc ks_admin_store_login_attempt(ks_db_session_t *db, long long now, const char *name,
                                   const char *address, const char *outcome, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 1024, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "INSERT INTO login_attempts (at, name, address, outcome) VALUES (%lld, ",
                now);
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, address);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, outcome);
    ks_buf_addf(&sql, ")");
    return ks_admin_store_run(db, conn, &sql, NULL, err);
}

ks_rc ks_admin_store_address_failures(ks_db_session_t *db, const char *address, long long since,
                                      int *count, long long *last_at, ks_err_t *err)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 512, err)) != KS_OK)
        return rc;
    /* failures since the address's last sign-in, within the window */
    ks_buf_addf(&sql, "SELECT COUNT(*), COALESCE(MAX(at), 0) FROM login_attempts"
                " WHERE outcome = 'failed' AND at >= %lld AND address = ", since);
    ks_sql_str(&sql, conn, address);
    ks_buf_addf(&sql, " AND id > (SELECT COALESCE(MAX(id), 0) FROM login_attempts"
                " WHERE outcome = 'ok' AND address = ");
    ks_sql_str(&sql, conn, address);
    ks_buf_addf(&sql, ")");
    if ((rc = ks_admin_store_row(db, conn, &sql, &res, &row, "count", err)) != KS_OK)
        return rc;
    *count = atoi(row[0]);
    *last_at = atoll(row[1]);
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_admin_store_session_create(ks_db_session_t *db, const char *id_hash, long long staff_id,
                                    long long now, const char *address, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 512, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "INSERT INTO sessions (id_hash, staff_id, created_at, last_seen_at,"
                " address) VALUES ('%s', %lld, %lld, %lld, ", id_hash, staff_id, now, now);
    ks_sql_str(&sql, conn, address);
    ks_buf_addf(&sql, ")");
    return ks_admin_store_run(db, conn, &sql, NULL, err);
}

ks_rc ks_admin_store_session_get(ks_db_session_t *db, const char *id_hash, ks_session_row_t *out,
                                 ks_err_t *err)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 256, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "SELECT staff_id, created_at, last_seen_at, flash FROM sessions"
                " WHERE id_hash = '%s'", id_hash);   /* a hex digest: no quoting needed */
    if ((rc = ks_admin_store_row(db, conn, &sql, &res, &row, "session", err)) != KS_OK)
        return rc;
    out->staff_id = atoll(row[0]);
    out->created_at = atoll(row[1]);
    out->last_seen_at = atoll(row[2]);
    snprintf(out->flash, sizeof out->flash, "%s", row[3]);
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_admin_store_session_touch(ks_db_session_t *db, const char *id_hash, long long now,
                                   int clear_flash, ks_err_t *err)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE sessions SET last_seen_at = %lld%s WHERE id_hash = '%s'", now,
                clear_flash ? ", flash = ''" : "", id_hash);
    return run_plain(db, &sql, err);
}

ks_rc ks_admin_store_session_flash(ks_db_session_t *db, const char *id_hash, const char *flash,
                                   ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 1536, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "UPDATE sessions SET flash = ");
    ks_sql_str(&sql, conn, flash);
    ks_buf_addf(&sql, " WHERE id_hash = '%s'", id_hash);
    return ks_admin_store_run(db, conn, &sql, NULL, err);
}

ks_rc ks_admin_store_session_delete(ks_db_session_t *db, const char *id_hash, ks_err_t *err)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM sessions WHERE id_hash = '%s'", id_hash);
    return run_plain(db, &sql, err);
}

ks_rc ks_admin_store_session_delete_staff(ks_db_session_t *db, long long staff_id, ks_err_t *err)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM sessions WHERE staff_id = %lld", staff_id);
    return run_plain(db, &sql, err);
}

ks_rc ks_admin_store_session_expire(ks_db_session_t *db, long long now, int idle_s, int max_age_s,
                                    ks_err_t *err)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM sessions WHERE last_seen_at < %lld OR created_at < %lld",
                now - idle_s, now - max_age_s);
    return run_plain(db, &sql, err);
}
