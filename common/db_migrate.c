/* db_migrate.c: numbered schema migrations (db_migrate.h). */
#include "db_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"

static ks_rc run(ks_db_session_t *db, MYSQL *conn, const char *statement, MYSQL_RES **res,
                 ks_err_t *err)
{
    return ks_db_query(db, conn, statement, strlen(statement), res, err);
}

/* Runs a migration's statements: several in one query, which only this
 * connection allows, only while it applies them (the pool's connections
 * take one statement per query). */
static ks_rc apply(MYSQL *conn, const ks_embedded_t *m, ks_err_t *err)
{
    ks_rc rc = KS_OK;
    int status;

    if (mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_ON))
        return ks_err(err, KS_ERROR, "migration %s: multiple statements refused: [%u] %s",
                      m->name, mysql_errno(conn), mysql_error(conn));
    if (mysql_real_query(conn, (const char *)m->data, (unsigned long)m->size)) {
        rc = ks_err(err, KS_ERROR, "migration %s failed: [%u] %s", m->name, mysql_errno(conn),
                    mysql_error(conn));
    } else {
        do {
            MYSQL_RES *res = mysql_store_result(conn);
            if (res)
                mysql_free_result(res);
            status = mysql_next_result(conn);
            if (status > 0)
                rc = ks_err(err, KS_ERROR, "migration %s failed: [%u] %s", m->name,
                            mysql_errno(conn), mysql_error(conn));
        } while (status == 0);
    }
    mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
    return rc;
}

/* The first column of the statement's one row as a number (0 without one). */
static ks_rc select_int(ks_db_session_t *db, MYSQL *conn, const char *statement, int *value,
                        ks_err_t *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc = run(db, conn, statement, &res, err);

    if (rc != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    *value = row && row[0] ? atoi(row[0]) : 0;
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_db_migrate(ks_db_pool_t *pool, const ks_embedded_t *migrations, ks_err_t *err)
{
    ks_db_session_t *db = ks_db_session_new(pool);
    MYSQL *conn = NULL;
    int current = 0, applied = 0, locked = 0;
    ks_rc rc;

    if (!db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        goto done;
    /* One lock per database: the API's and the admin server's may share a server. */
    rc = select_int(db, conn, "SELECT GET_LOCK(CONCAT('kisekae_migrate:', DATABASE()), 30)",
                    &locked, err);
    if (rc != KS_OK)
        goto done;
    if (!locked) {
        rc = ks_err(err, KS_ERROR, "another migration holds the lock");
        goto done;
    }
    rc = run(db, conn, "CREATE TABLE IF NOT EXISTS schema_version ("
                       " version INT NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL,"
                       " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                       ") ENGINE=InnoDB", NULL, err);
    if (rc != KS_OK ||
        (rc = select_int(db, conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                         &current, err)) != KS_OK)
        goto done;

    for (const ks_embedded_t *m = migrations; m->name; m++) {
        int number = atoi(m->name);
        char record[256];
        if (number <= current)
            continue;
        ks_log_info("applying migration %s", m->name);
        if ((rc = apply(conn, m, err)) != KS_OK)
            goto done;
        snprintf(record, sizeof record,
                 "INSERT INTO schema_version (version, name) VALUES (%d, '%.100s')", number,
                 m->name);
        if ((rc = run(db, conn, record, NULL, err)) != KS_OK)
            goto done;
        current = number;
        applied++;
    }
    ks_log_info("schema is at version %d (%d migrations applied now)", current, applied);
done:
    if (conn && locked)
        run(db, conn, "DO RELEASE_LOCK(CONCAT('kisekae_migrate:', DATABASE()))", NULL,
            &(ks_err_t){{0}});
    ks_db_session_free(db);
    return rc;
}
