/* store_audit.c: SQL of the audit_log table (store_audit.h). */
#include "store_audit.h"

#include "store.h"

#include <stdlib.h>
#include <string.h>

ks_rc ks_store_audit_add(ks_db_session_t *db, const ks_audit_entry_t *entry, ks_err_t *err)
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

/* Appends " AND column LIKE 'text%'" with LIKE's wildcards in text taken literally. */
static void like_prefix(ks_buf_t *sql, MYSQL *conn, const char *column, const char *text)
{
    char pattern[2 * 256 + 2], *p = pattern;

    for (; *text && p < pattern + sizeof pattern - 3; text++) {
        if (*text == '%' || *text == '_' || *text == '\\')
            *p++ = '\\';
        *p++ = *text;
    }
    *p++ = '%';
    *p = '\0';
    ks_buf_addf(sql, " AND %s LIKE ", column);
    ks_sql_str(sql, conn, pattern);
}

static char *copy(const char *s)
{
    return s ? strdup(s) : NULL;
}

ks_rc ks_store_audit_list(ks_db_session_t *db, const ks_audit_filter_t *filter,
                          ks_audit_row_t **rows, int *count, int *more, ks_err_t *err)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *rows = NULL;
    *count = *more = 0;
    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 2048);
    ks_buf_addf(&sql, "SELECT id, at, staff_name, address, action, target, before_text,"
                " after_text FROM audit_log WHERE 1 = 1");
    if (filter->staff_name) {
        ks_buf_addf(&sql, " AND staff_name = ");
        ks_sql_str(&sql, conn, filter->staff_name);
    }
    if (filter->action)
        like_prefix(&sql, conn, "action", filter->action);
    if (filter->target)
        like_prefix(&sql, conn, "target", filter->target);
    if (filter->before_id > 0)
        ks_buf_addf(&sql, " AND id < %lld", filter->before_id);
    /* one row beyond the page says whether another page follows */
    ks_buf_addf(&sql, " ORDER BY id DESC LIMIT %d", filter->limit + 1);
    if ((rc = ks_admin_store_run(db, conn, &sql, &res, err)) != KS_OK)
        return rc;
    if (!(*rows = calloc((size_t)filter->limit + 1, sizeof **rows))) {
        mysql_free_result(res);
        return ks_err(err, KS_NOMEM, "out of memory for the audit log");
    }
    while ((row = mysql_fetch_row(res))) {
        ks_audit_row_t *r;
        if (*count == filter->limit) {
            *more = 1;
            break;
        }
        r = &(*rows)[(*count)++];
        r->id = atoll(row[0]);
        r->at = atoll(row[1]);
        r->staff_name = copy(row[2]);
        r->address = copy(row[3]);
        r->action = copy(row[4]);
        r->target = copy(row[5]);
        r->before = copy(row[6]);
        r->after = copy(row[7]);
    }
    mysql_free_result(res);
    return KS_OK;
}

void ks_store_audit_rows_free(ks_audit_row_t *rows, int count)
{
    for (int i = 0; rows && i < count; i++) {
        free(rows[i].staff_name);
        free(rows[i].address);
        free(rows[i].action);
        free(rows[i].target);
        free(rows[i].before);
        free(rows[i].after);
    }
    free(rows);
}
