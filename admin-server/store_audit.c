/* store_audit.c: SQL of the audit_log table (store_audit.h). */
#include "store_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

ks_rc ks_admin_store_audit_list(ks_db_session_t *db, const ks_audit_filter_t *filter,
                                ks_audit_row_t *rows, int *count, int *more, ks_err_t *err)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *count = *more = 0;
    if (filter->limit < 1 || filter->limit > 200)
        return ks_err(err, KS_INVALID, "audit_list: limit must be 1..200");
    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT id, at, staff_name, address, action, target, before_text,"
                " after_text FROM audit_log WHERE 1 = 1");
    if (filter->before_id > 0)
        ks_buf_addf(&sql, " AND id < %lld", filter->before_id);
    if (filter->target) {
        ks_buf_addf(&sql, " AND target = ");
        ks_sql_str(&sql, conn, filter->target);
    }
    if (filter->target_prefix) {
        ks_buf_addf(&sql, " AND target LIKE ");
        ks_sql_like(&sql, conn, filter->target_prefix, 0);
    }
    if (filter->staff_name) {
        ks_buf_addf(&sql, " AND staff_name = ");
        ks_sql_str(&sql, conn, filter->staff_name);
    }
    if (filter->action_prefix) {
        ks_buf_addf(&sql, " AND action LIKE ");
        ks_sql_like(&sql, conn, filter->action_prefix, 0);
    }
    /* one row beyond the page says whether another follows */
    ks_buf_addf(&sql, " ORDER BY id DESC LIMIT %d", filter->limit + 1);
    if ((rc = ks_admin_store_run(db, conn, &sql, &res, err)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res))) {
        ks_audit_row_t *r = &rows[*count];
        if (*count == filter->limit) {
            *more = 1;
            break;
        }
        memset(r, 0, sizeof *r);
        r->id = atoll(row[0]);
        r->at = atoll(row[1]);
        snprintf(r->staff_name, sizeof r->staff_name, "%s", row[2]);
        snprintf(r->address, sizeof r->address, "%s", row[3]);
        snprintf(r->action, sizeof r->action, "%s", row[4]);
        snprintf(r->target, sizeof r->target, "%s", row[5]);
        r->before = row[6] ? strdup(row[6]) : NULL;
        r->after = row[7] ? strdup(row[7]) : NULL;
        ++*count;
    }
    mysql_free_result(res);
    return KS_OK;
}

void ks_admin_store_audit_free(ks_audit_row_t *rows, int count)
{
    for (int i = 0; i < count; i++) {
        free(rows[i].before);
        free(rows[i].after);
        rows[i].before = rows[i].after = NULL;
    }
}

void ks_admin_audit_time(long long at, char out[32])
{
    time_t t = (time_t)at;
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, 32, "%lld", at);
}
