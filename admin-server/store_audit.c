/* store_audit.c: SQL of the audit_log table (store_audit.h). */
#include "store_audit.h"

#include "store.h"

ks_rc ks_admin_store_audit_add(ks_db_session_t *db, const ks_audit_entry_t *entry, ks_err_t *err)
{
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256 * 1024);
    ks_buf_addf(&sql, "INSERT INTO audit_log (at, staff_id, staff_name, address, action, target,"
                " before_text, after_text) VALUES (%lld, ", entry->at);
    if (entry->staff_id > 0)
        ks_buf_addf(&sql, "%lld, ", entry->staff_id);
    else
        ks_buf_addf(&sql, "NULL, ");
    ks_sql_str(&sql, conn, entry->staff_name ? entry->staff_name : "");
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, entry->address ? entry->address : "");
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, entry->action);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, entry->target ? entry->target : "");
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, entry->before);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, entry->after);
    ks_buf_addf(&sql, ")");
    return ks_admin_store_run(db, conn, &sql, NULL, err);
}
