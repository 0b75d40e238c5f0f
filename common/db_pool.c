/* db_pool.c: the master/replica pool of db_pool.h and its SQL builder.
 *
 * Health is a "down until" time per server, shared by every session: the
 * first session that sees a server fail shuns it for KS_DB_SHUN_S seconds,
 * and the others skip it meanwhile instead of each waiting for a timeout.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include "config.h"
#include "db_pool.h"
#include "log.h"

#define KS_DB_SHUN_S 2
#define KS_DB_NODES_MAX (1 + KS_DB_REPLICAS_MAX)

typedef struct {
    const ks_db_node_conf_t *conf;
    const char *role;                 /* "master" or "replica" */
    time_t down_until;                /* shunned until then (monotonic seconds);
                                         read and written with __atomic builtins */
} ks_db_node_t;

struct ks_db_pool {
    ks_db_conf_t conf;
    ks_db_node_t nodes[KS_DB_NODES_MAX];   /* [0] is the master */
    int node_count;
};

struct ks_db_session {
    ks_db_pool_t *pool;
    MYSQL *conns[KS_DB_NODES_MAX];
    unsigned seed;
};

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

ks_rc ks_db_conf_add_replica(ks_db_conf_t *conf, const char *value, ks_err_t *err)
{
    char copy[256], *words[3];
    ks_db_node_conf_t *node;
    int n;

    if (conf->replica_count >= KS_DB_REPLICAS_MAX)
        return ks_err(err, KS_INVALID, "more than %d replicas", KS_DB_REPLICAS_MAX);
    snprintf(copy, sizeof copy, "%s", value);
    n = ks_config_split(copy, words, 2);
    if (n < 1 || n > 2)
        return ks_err(err, KS_INVALID, "db_replica needs host:port [weight]");
    node = &conf->replicas[conf->replica_count];
    if (ks_config_parse_hostport(words[0], node->host, sizeof node->host, &node->port, err))
        return KS_INVALID;
    node->weight = 1;
    if (n == 2) {
        char *end;
        long w = strtol(words[1], &end, 10);
        if (*end || w < 0 || w > 1000)
            return ks_err(err, KS_INVALID, "replica weight must be 0..1000, not \"%s\"",
                          words[1]);
        node->weight = (int)w;
    }
    conf->replica_count++;
    return KS_OK;
}

ks_db_pool_t *ks_db_pool_new(const ks_db_conf_t *conf)
{
    ks_db_pool_t *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->conf = *conf;
    pool->nodes[0].conf = &pool->conf.master;
    pool->nodes[0].role = "master";
    for (int i = 0; i < conf->replica_count; i++) {
        pool->nodes[1 + i].conf = &pool->conf.replicas[i];
        pool->nodes[1 + i].role = "replica";
    }
    pool->node_count = 1 + conf->replica_count;
    return pool;
}

void ks_db_pool_free(ks_db_pool_t *pool)
{
    free(pool);
}

ks_db_session_t *ks_db_session_new(ks_db_pool_t *pool)
{
    ks_db_session_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pool = pool;
    s->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    return s;
}

void ks_db_session_free(ks_db_session_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < KS_DB_NODES_MAX; i++)
        if (s->conns[i])
            mysql_close(s->conns[i]);
    free(s);
}

static time_t down_until(const ks_db_node_t *node)
{
    return __atomic_load_n(&node->down_until, __ATOMIC_RELAXED);
}

static void shun(ks_db_pool_t *pool, int index)
{
    ks_db_node_t *node = &pool->nodes[index];
    if (down_until(node) <= now_s())
        ks_log_warn("database %s %s:%d shunned for %d s", node->role, node->conf->host,
                    node->conf->port, KS_DB_SHUN_S);
    __atomic_store_n(&node->down_until, now_s() + KS_DB_SHUN_S, __ATOMIC_RELAXED);
}

static ks_rc connect_node(ks_db_session_t *s, int index, MYSQL **out, ks_err_t *err)
{
    ks_db_pool_t *pool = s->pool;
    ks_db_node_t *node = &pool->nodes[index];
    unsigned connect_timeout = (unsigned)pool->conf.connect_timeout_s;
    unsigned read_timeout = (unsigned)pool->conf.read_timeout_s;
    my_bool no = 0;
    MYSQL *m;

    if (s->conns[index]) {
        *out = s->conns[index];
        return KS_OK;
    }
    if (down_until(node) > now_s())
        return ks_err(err, KS_DBDOWN, "database %s %s:%d is shunned after a failure",
                      node->role, node->conf->host, node->conf->port);
    m = mysql_init(NULL);
    if (!m)
        return ks_err(err, KS_NOMEM, "mysql_init() failed");
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout);
    mysql_options(m, MYSQL_OPT_RECONNECT, &no);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(m, node->conf->host, pool->conf.user, pool->conf.password,
                            pool->conf.name, (unsigned)node->conf->port, NULL,
                            CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS)) {
        ks_err(err, KS_DBDOWN, "mysql_real_connect() to %s %s:%d failed: [%u] %s", node->role,
               node->conf->host, node->conf->port, mysql_errno(m), mysql_error(m));
        ks_log_error("%s", err->msg);
        mysql_close(m);
        shun(pool, index);
        return KS_DBDOWN;
    }
    s->conns[index] = m;
    *out = m;
    return KS_OK;
}

ks_rc ks_db_master(ks_db_session_t *s, MYSQL **out, ks_err_t *err)
{
    return connect_node(s, 0, out, err);
}

ks_rc ks_db_reader(ks_db_session_t *s, MYSQL **out, ks_err_t *err)
{
    ks_db_pool_t *pool = s->pool;
    int tried[KS_DB_NODES_MAX] = {0};

    /* Pick by weight among the replicas not tried yet; on failure pick again. */
    for (;;) {
        int total = 0, pick, index = -1;
        time_t now = now_s();

        for (int i = 1; i < pool->node_count; i++)
            if (!tried[i] && down_until(&pool->nodes[i]) <= now)
                total += pool->nodes[i].conf->weight;
        if (total == 0)
            break;
        pick = (int)(rand_r(&s->seed) % (unsigned)total);
        for (int i = 1; i < pool->node_count; i++) {
            if (tried[i] || down_until(&pool->nodes[i]) > now)
                continue;
            pick -= pool->nodes[i].conf->weight;
            if (pick < 0) {
                index = i;
                break;
            }
        }
        if (index < 0)          /* shunned by another thread meanwhile: count again */
            continue;
        tried[index] = 1;
        if (connect_node(s, index, out, err) == KS_OK)
            return KS_OK;
    }
    return connect_node(s, 0, out, err);
}

static int index_of(ks_db_session_t *s, MYSQL *conn)
{
    for (int i = 0; i < s->pool->node_count; i++)
        if (s->conns[i] == conn)
            return i;
    return -1;
}

ks_rc ks_db_query(ks_db_session_t *s, MYSQL *conn, const char *sql, size_t len,
                  MYSQL_RES **result, ks_err_t *err)
{
    unsigned code;
    int index;

    if (result)
        *result = NULL;
    if (mysql_real_query(conn, sql, (unsigned long)len) == 0) {
        MYSQL_RES *res = mysql_store_result(conn);
        if (res || mysql_field_count(conn) == 0) {
            if (result)
                *result = res;
            else if (res)
                mysql_free_result(res);
            return KS_OK;
        }
    }
    code = mysql_errno(conn);
    index = index_of(s, conn);
    ks_err(err, KS_ERROR, "query on %s failed: [%u] %s (%.60s)",
           index >= 0 ? s->pool->nodes[index].role : "database", code, mysql_error(conn), sql);
    if (code == ER_DUP_ENTRY)
        return KS_CONFLICT;
    if (code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR ||
        code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST) {
        ks_log_error("%s", err->msg);
        if (index >= 0) {
            mysql_close(conn);
            s->conns[index] = NULL;
            shun(s->pool, index);
        }
        return KS_DBDOWN;
    }
    ks_log_error("%s", err->msg);
    return KS_ERROR;
}

/* ---- SQL in a ks_buf_t ------------------------------------------------------ */

void ks_sql_blob(ks_buf_t *sql, MYSQL *conn, const void *data, size_t size)
{
    char *at = ks_buf_reserve(sql, size * 2 + 2);   /* escaping at most doubles */
    if (!at)
        return;
    *at++ = '\'';
    at += mysql_real_escape_string(conn, at, data, (unsigned long)size);
    *at++ = '\'';
    *at = '\0';
    sql->len = (size_t)(at - sql->data);
}

void ks_sql_str(ks_buf_t *sql, MYSQL *conn, const char *s)
{
    if (!s)
        ks_buf_addf(sql, "NULL");
    else
        ks_sql_blob(sql, conn, s, strlen(s));
}

ks_rc ks_sql_run(ks_buf_t *sql, ks_db_session_t *session, MYSQL *conn, MYSQL_RES **result,
                 ks_err_t *err)
{
    if (sql->overflow)
        return ks_err(err, KS_TOOLARGE, "SQL statement is larger than %zu bytes", sql->max);
    return ks_db_query(session, conn, sql->data, sql->len, result, err);
}
