/* store_staff_manage.c: SQL of the staff table for owners
 * (store_staff_manage.h). */
#include "store_staff_manage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_staff.h"

ks_rc ks_admin_store_staff_list(ks_db_session_t *db, long long after_id, int max,
                                ks_staff_row_t *rows, int *count, int *more, ks_err_t *err)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *count = *more = 0;
    if ((rc = ks_admin_store_begin(db, &conn, &sql, 512, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "SELECT " KS_ADMIN_STAFF_COLUMNS ", created_at FROM staff"
                " WHERE id > %lld ORDER BY id LIMIT %d", after_id, max + 1);
    if ((rc = ks_admin_store_run(db, conn, &sql, &res, err)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res))) {
        ks_staff_row_t *r;
        if (*count == max) {
            *more = 1;
            break;
        }
        r = &rows[(*count)++];
        memset(r, 0, sizeof *r);
        ks_admin_store_staff_from_row(row, &r->staff);
        r->created_at = atoll(row[7]);
    }
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_admin_store_staff_add(ks_db_session_t *db, const char *name, ks_staff_role_t role,
                               const char *hash, long long now, long long *id, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_staff_insert(db, &conn, &sql, name, role, hash, now, err)) != KS_OK)
        return rc;
    rc = ks_admin_store_run(db, conn, &sql, NULL, err);
    if (rc == KS_CONFLICT)
        return ks_err(err, KS_CONFLICT, "a staff member is called \"%s\" already", name);
    if (rc != KS_OK)
        return rc;
    *id = (long long)mysql_insert_id(conn);
    return KS_OK;
}

/* Runs an UPDATE of staff id made of trusted text (numbers, role names). */
static ks_rc update(ks_db_session_t *db, long long id, const char *assignment, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_admin_store_begin(db, &conn, &sql, 256, err)) != KS_OK)
        return rc;
    ks_buf_addf(&sql, "UPDATE staff SET %s WHERE id = %lld", assignment, id);
    return ks_admin_store_run(db, conn, &sql, NULL, err);
}

ks_rc ks_admin_store_staff_set_role(ks_db_session_t *db, long long id, ks_staff_role_t role,
                                    ks_err_t *err)
{
    char assignment[64];

    snprintf(assignment, sizeof assignment, "role = '%s'", ks_staff_role_name(role));
    return update(db, id, assignment, err);
}

ks_rc ks_admin_store_staff_set_disabled(ks_db_session_t *db, long long id, int disabled,
                                        ks_err_t *err)
{
    return update(db, id, disabled ? "disabled = 1" : "disabled = 0", err);
}

ks_rc ks_admin_store_staff_unlock(ks_db_session_t *db, long long id, ks_err_t *err)
{
    return update(db, id, "locked = 0, failed_logins = 0", err);
}
