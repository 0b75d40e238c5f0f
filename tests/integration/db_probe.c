/* db_probe.c: ks-db-probe, runs one query through the database pool of
 * common/db_pool.c on a stack's master, as kisekae-api would, and prints
 * what it answered: the integration tests check how the pool's connections
 * behave (test_security.py: several statements in one query are refused).
 *
 *   ks-db-probe HOST:PORT USER DATABASE 'SQL'      (the password on stdin)
 *
 * Exit 0 and the first column of each row when the query ran, 1 and the
 * error when it failed, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "db_pool.h"

int main(int argc, char **argv)
{
    static ks_db_conf_t conf;
    ks_db_pool_t *pool;
    ks_db_session_t *session;
    MYSQL *conn;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    ks_err_t err = {{0}};
    ks_rc rc;

    if (argc != 5 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: ks-db-probe HOST:PORT USER DATABASE SQL (the password on stdin)\n");
        return argc == 2 ? 0 : 2;
    }
    if (ks_config_parse_hostport(argv[1], conf.master.host, sizeof conf.master.host,
                                 &conf.master.port, &err) != KS_OK) {
        fprintf(stderr, "ks-db-probe: %s\n", err.msg);
        return 2;
    }
    snprintf(conf.user, sizeof conf.user, "%s", argv[2]);
    snprintf(conf.name, sizeof conf.name, "%s", argv[3]);
    if (!fgets(conf.password, sizeof conf.password, stdin))
        conf.password[0] = '\0';
    conf.password[strcspn(conf.password, "\r\n")] = '\0';
    conf.connect_timeout_s = conf.read_timeout_s = conf.write_timeout_s = 5;
    conf.health_interval_ms = 1000;
    conf.health_timeout_s = 1;
    conf.max_lag_s = 5;
    mysql_library_init(0, NULL, NULL);
    pool = ks_db_pool_new(&conf);
    session = pool ? ks_db_session_new(pool) : NULL;
    if (!session) {
        fprintf(stderr, "ks-db-probe: out of memory\n");
        return 1;
    }
    ks_db_session_begin(session);
    rc = ks_db_master(session, &conn, &err);
    if (rc == KS_OK)
        rc = ks_db_query(session, conn, argv[4], strlen(argv[4]), &res, &err);
    if (rc == KS_OK && res)
        while ((row = mysql_fetch_row(res)))
            printf("%s\n", row[0] ? row[0] : "NULL");
    if (res)
        mysql_free_result(res);
    if (rc != KS_OK)
        fprintf(stderr, "ks-db-probe: %s\n", err.msg);
    ks_db_session_free(session);
    ks_db_pool_free(pool);
    mysql_library_end();
    return rc == KS_OK ? 0 : 1;
}
