/* store.c: the statement runners of store.h. */
#include "store.h"

ks_rc ks_admin_store_begin(ks_db_session_t *db, MYSQL **conn, ks_buf_t *sql, size_t max,
                           ks_err_t *err)
{
    ks_rc rc = ks_db_master(db, conn, err);

    if (rc != KS_OK)
        return rc;
    ks_buf_init(sql, max);
    return KS_OK;
}

ks_rc ks_admin_store_run(ks_db_session_t *db, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result,
                         ks_err_t *err)
{
    ks_rc rc = ks_sql_run(sql, db, conn, result, err);
    ks_buf_free(sql);
    return rc;
}

ks_rc ks_admin_store_row(ks_db_session_t *db, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result,
                         MYSQL_ROW *row, const char *what, ks_err_t *err)
{
    ks_rc rc = ks_admin_store_run(db, conn, sql, result, err);

    if (rc != KS_OK)
        return rc;
    *row = mysql_fetch_row(*result);
    if (!*row) {
        mysql_free_result(*result);
        *result = NULL;
        return ks_err(err, KS_NOTFOUND, "%s not found", what);
    }
    return KS_OK;
}
