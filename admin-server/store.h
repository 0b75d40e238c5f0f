/* store.h: what the store_*.c files of kisekae-admin share: building and
 * running a statement in a ks_buf_t on the admin database's master. */
#ifndef KS_ADMIN_STORE_H
#define KS_ADMIN_STORE_H

#include "db_pool.h"

/* Begins a statement: *conn is the master's connection (for ks_sql_str)
 * and *sql an empty buffer of at most max bytes, freed by
 * ks_admin_store_run/ks_admin_store_row. On an error nothing is left to free. */
ks_rc ks_admin_store_begin(ks_db_session_t *db, MYSQL **conn, ks_buf_t *sql, size_t max,
                           ks_err_t *err);

/* Runs sql (built with ks_buf_addf and ks_sql_str) on conn and frees it;
 * *result as ks_db_query (NULL for statements without rows). */
ks_rc ks_admin_store_run(ks_db_session_t *db, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result,
                         ks_err_t *err);

/* Runs sql, which selects one row, and returns it in *row (KS_NOTFOUND when
 * there is none); free *result afterwards. */
ks_rc ks_admin_store_row(ks_db_session_t *db, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result,
                         MYSQL_ROW *row, const char *what, ks_err_t *err);

#endif
