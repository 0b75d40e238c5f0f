/* migrate.c: schema migrations and the administration commands of kisekae-api.
 *
 * The migrations in sql/migrations/NNN_name.sql are compiled into the binary.
 * `kisekae-api --migrate` takes a named lock (so two servers never migrate at
 * once), reads schema_version and applies every migration numbered above it,
 * in order, recording each: any older schema is brought to the current one,
 * and running it again changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "embedded.h"
#include "log.h"

extern const ks_embedded_t ks_embedded_migrations[];

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
    int status;

    if (mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_ON))
        return ks_err(err, KS_ERROR, "migration %s: multiple statements refused: [%u] %s",
                      m->name, mysql_errno(conn), mysql_error(conn));
    if (mysql_real_query(conn, (const char *)m->data, (unsigned long)m->size)) {
        ks_err(err, KS_ERROR, "migration %s failed: [%u] %s", m->name, mysql_errno(conn),
               mysql_error(conn));
        mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
        return KS_ERROR;
    }
    do {
        MYSQL_RES *res = mysql_store_result(conn);
        if (res)
            mysql_free_result(res);
        status = mysql_next_result(conn);
        if (status > 0) {
            ks_err(err, KS_ERROR, "migration %s failed: [%u] %s", m->name, mysql_errno(conn),
                   mysql_error(conn));
            mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
            return KS_ERROR;
        }
    } while (status == 0);
    mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
    return KS_OK;
}

ks_rc ks_migrate(ks_db_pool_t *pool, ks_err_t *err)
{
    ks_db_session_t *db = ks_db_session_new(pool);
    MYSQL *conn = NULL;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int current = 0, applied = 0;
    ks_rc rc;

    if (!db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        goto done;
    if ((rc = run(db, conn, "SELECT GET_LOCK('kisekae_migrate', 30)", &res, err)) != KS_OK)
        goto done;
    row = mysql_fetch_row(res);
    if (!row || !row[0] || strcmp(row[0], "1") != 0) {
        rc = ks_err(err, KS_ERROR, "another migration holds the lock");
        goto done;
    }
    mysql_free_result(res);
    res = NULL;
    rc = run(db, conn, "CREATE TABLE IF NOT EXISTS schema_version ("
                       " version INT NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL,"
                       " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                       ") ENGINE=InnoDB", NULL, err);
    if (rc != KS_OK ||
        (rc = run(db, conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version", &res, err)))
        goto done;
    row = mysql_fetch_row(res);
    current = row && row[0] ? atoi(row[0]) : 0;
    mysql_free_result(res);
    res = NULL;

    for (const ks_embedded_t *m = ks_embedded_migrations; m->name; m++) {
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
    if (res)
        mysql_free_result(res);
    if (conn)
        run(db, conn, "DO RELEASE_LOCK('kisekae_migrate')", NULL, &(ks_err_t){{0}});
    ks_db_session_free(db);
    return rc;
}

ks_rc ks_add_client(ks_db_pool_t *pool, const char *name, const char *role,
                    const char *image_server, const char *secret, ks_err_t *err)
{
    ks_db_session_t *db = ks_db_session_new(pool);
    char hash[160];
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if (!db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if (strcmp(role, "site") && strcmp(role, "admin") && strcmp(role, "node")) {
        rc = ks_err(err, KS_INVALID, "role must be site, admin or node, not \"%s\"", role);
        goto done;
    }
    if (!*name || strlen(name) > 64) {
        rc = ks_err(err, KS_INVALID, "a client name must be 1..64 characters");
        goto done;
    }
    if (strcmp(role, "node") == 0 && (!image_server || !*image_server)) {
        rc = ks_err(err, KS_INVALID, "a node client acts for one image server: name it with"
                    " --image-server NAME");
        goto done;
    }
    if (strcmp(role, "node") != 0 && image_server) {
        rc = ks_err(err, KS_INVALID, "only a node client acts for an image server");
        goto done;
    }
    if (image_server && strlen(image_server) > 63) {
        rc = ks_err(err, KS_INVALID, "an image server name is 1..63 characters");
        goto done;
    }
    if ((rc = ks_auth_hash_secret(secret, hash, sizeof hash, err)) != KS_OK ||
        (rc = ks_db_master(db, &conn, err)) != KS_OK)
        goto done;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO api_clients (name, secret_hash, role, image_server) VALUES (");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", '%s', '%s', ", hash, role);
    if (image_server)
        ks_sql_str(&sql, conn, image_server);
    else
        ks_buf_addf(&sql, "NULL");
    /* a new version: what API servers remember of the old secret no longer counts */
    ks_buf_addf(&sql, ") ON DUPLICATE KEY UPDATE secret_hash = VALUES(secret_hash),"
                     " role = VALUES(role), image_server = VALUES(image_server), enabled = 1,"
                     " version = version + 1, failed_logins = 0");
    rc = ks_sql_run(&sql, db, conn, NULL, err);
    ks_buf_free(&sql);
done:
    ks_db_session_free(db);
    return rc;
}

ks_rc ks_revoke_client(ks_db_pool_t *pool, const char *name, ks_err_t *err)
{
    ks_db_session_t *db = ks_db_session_new(pool);
    MYSQL *conn;
    ks_buf_t sql;
    ks_rc rc;

    if (!db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        goto done;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE api_clients SET enabled = 0, version = version + 1 WHERE name = ");
    ks_sql_str(&sql, conn, name);
    rc = ks_sql_run(&sql, db, conn, NULL, err);
    ks_buf_free(&sql);
    if (rc == KS_OK && mysql_affected_rows(conn) == 0)
        rc = ks_err(err, KS_NOTFOUND, "no API client \"%s\"", name);
done:
    ks_db_session_free(db);
    return rc;
}

/* Inserts the image server s, or gives a registered one s's URLs. */
static ks_rc upsert_image_server(ks_db_session_t *db, MYSQL *conn,
                                 const ks_api_image_server_conf_t *s, ks_err_t *err)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 2048);
    ks_buf_addf(&sql, "INSERT INTO image_servers (name, internal_url, public_url, weight) VALUES (");
    ks_sql_str(&sql, conn, s->name);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, s->internal_url);
    ks_buf_addf(&sql, ", ");
    ks_sql_str(&sql, conn, s->public_url);
    ks_buf_addf(&sql, ", %d) ON DUPLICATE KEY UPDATE internal_url = VALUES(internal_url),"
                     " public_url = VALUES(public_url)", s->weight);
    rc = ks_sql_run(&sql, db, conn, NULL, err);
    ks_buf_free(&sql);
    return rc;
}

ks_rc ks_set_image_server(ks_db_pool_t *pool, const ks_api_image_server_conf_t *server,
                          ks_err_t *err)
{
    ks_db_session_t *db = ks_db_session_new(pool);
    MYSQL *conn;
    ks_rc rc;

    if (!db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_master(db, &conn, err)) == KS_OK)
        rc = upsert_image_server(db, conn, server, err);
    ks_db_session_free(db);
    return rc;
}

ks_rc ks_register_image_servers(ks_db_pool_t *pool, const ks_api_conf_t *conf, ks_err_t *err)
{
    ks_db_session_t *db = ks_db_session_new(pool);
    MYSQL *conn;
    ks_rc rc;

    if (!db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_master(db, &conn, err)) != KS_OK)
        goto done;
    for (int i = 0; i < conf->image_server_count && rc == KS_OK; i++)
        rc = upsert_image_server(db, conn, &conf->image_servers[i], err);
done:
    ks_db_session_free(db);
    return rc;
}
