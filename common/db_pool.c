/* db_pool.c: the master/replica pool of db_pool.h and its SQL builder.
 *
 * Three kinds of object:
 * - a node: one database server (master or replica, host:port) with its
 *   health and read counter, shared by every thread (atomics; its reason
 *   text under the pool's lock);
 * - a generation: the configuration at one time (its nodes, their weights,
 *   credentials and timeouts), immutable once built and reference counted.
 *   A reconfiguration builds a new one; a node still listed is carried into
 *   it, with its health and counter;
 * - a session: one thread's connections, indexed like the nodes of the
 *   generation it adopted at the start of its current call.
 *
 * Only the health thread re-admits a node. Sessions mark a node down when a
 * connection to it fails, and each bump of a node's incarnation (it went
 * down) makes the sessions reconnect instead of using a connection that
 * died with the server.
 *
 * A read connection handed to a caller is a handle more than a connection:
 * ks_db_query runs a statement given one on whichever server serves the
 * call's reads now. A handle whose server failed is kept open (unused, but
 * good for escaping) until the call ends, so the caller's pointer stays
 * valid; the same goes for a master connection that failed, on which a
 * later statement (a ROLLBACK) fails at once.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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

#ifndef ER_CONNECTION_KILLED
#define ER_CONNECTION_KILLED 1927         /* MariaDB: the server killed the connection */
#endif
#ifndef CR_SERVER_LOST_EXTENDED
#define CR_SERVER_LOST_EXTENDED 2055
#endif

#define KS_DB_RETIRED_MAX (2 * KS_DB_NODES_MAX)

typedef struct ks_db_node {
    char host[128];
    int port;
    int is_master;
    int refs;                   /* generations that list it (atomic) */
    int state;                  /* ks_db_state_t (atomic) */
    int lag_s;                  /* Seconds_Behind_Master, -1 unknown (atomic) */
    unsigned incarnation;       /* +1 each time it goes down (atomic) */
    long long failed_at_ms;     /* when a session last saw it fail (atomic) */
    unsigned long long reads;   /* read statements served (atomic) */
    char reason[KS_DB_REASON_MAX];   /* why it is not healthy; under pool->lock */
} node_t;

typedef struct {
    unsigned number;
    int refs;                   /* the pool's current pointer + sessions + health (atomic) */
    ks_db_conf_t conf;
    node_t *nodes[KS_DB_NODES_MAX];   /* [0] is the master */
    int weights[KS_DB_NODES_MAX];
    int count;
} gen_t;

struct ks_db_pool {
    pthread_mutex_t lock;       /* current, the nodes' reasons, the health flags */
    gen_t *current;
    unsigned generation;        /* current->number, for a lock-free check (atomic) */
    pthread_t health_thread;
    int health_running;         /* (atomic) */
    pthread_cond_t health_wake; /* on CLOCK_MONOTONIC */
    int health_stop, health_kick;
};

typedef struct {
    MYSQL *conn;
    unsigned incarnation;       /* the node's when connected */
} link_t;

struct ks_db_session {
    ks_db_pool_t *pool;
    gen_t *gen;
    link_t readers[KS_DB_NODES_MAX];  /* by node index; [0] reads on the master */
    link_t writer;                    /* the master, for writes */
    struct {
        MYSQL *conn;
        int reader;
    } retired[KS_DB_RETIRED_MAX];     /* failed during this call; closed when it ends */
    int retired_count;
    int call_reader;            /* node serving this call's reads, -1 none yet */
    unsigned tried;             /* bit per node that failed during this call */
    int sticky;                 /* the call's reads go to the master */
    int writer_used;            /* the call has the writer: it is never swapped */
    uint64_t rng;
};

/* ---- small helpers ---------------------------------------------------------- */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies src into dst (size bytes), cut short if need be. */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static const char *role_of(const node_t *node)
{
    return node->is_master ? "master" : "replica";
}

const char *ks_db_state_name(ks_db_state_t state)
{
    switch (state) {
    case KS_DB_PENDING: return "pending";
    case KS_DB_HEALTHY: return "healthy";
    case KS_DB_SHUNNED: return "shunned";
    case KS_DB_DOWN: return "down";
    }
    return "?";
}

/* Errors after which the server, or the way to it, is gone. */
static int is_connection_error(unsigned code)
{
    return code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR ||
           code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST ||
           code == CR_SERVER_LOST_EXTENDED || code == ER_SERVER_SHUTDOWN ||
           code == ER_CONNECTION_KILLED;
}

/* ---- configuration ------------------------------------------------------------ */

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
        if (end == words[1] || *end || w < 0 || w > 1000)
            return ks_err(err, KS_INVALID, "replica weight must be 0..1000, not \"%s\"",
                          words[1]);
        node->weight = (int)w;
    }
    conf->replica_count++;
    return KS_OK;
}

ks_rc ks_db_conf_check(const ks_db_conf_t *conf, ks_err_t *err)
{
    const ks_db_node_conf_t *all[KS_DB_NODES_MAX];
    int count = 0;

    if (!conf->master.host[0])
        return ks_err(err, KS_INVALID, "db_master is not set");
    all[count++] = &conf->master;
    for (int i = 0; i < conf->replica_count && count < KS_DB_NODES_MAX; i++)
        all[count++] = &conf->replicas[i];
    for (int i = 0; i < count; i++)
        for (int j = 0; j < i; j++)
            if (all[i]->port == all[j]->port && strcmp(all[i]->host, all[j]->host) == 0)
                return ks_err(err, KS_INVALID, "database server %s:%d is listed twice",
                              all[i]->host, all[i]->port);
    return KS_OK;
}

/* Connections made under a can serve b: same credentials and, for the
 * sessions' connections or the health thread's, the same timeouts. */
static int same_login(const ks_db_conf_t *a, const ks_db_conf_t *b, int for_health)
{
    if (strcmp(a->name, b->name) != 0 || strcmp(a->user, b->user) != 0 ||
        strcmp(a->password, b->password) != 0)
        return 0;
    if (for_health)
        return a->health_timeout_s == b->health_timeout_s;
    return a->connect_timeout_s == b->connect_timeout_s &&
           a->read_timeout_s == b->read_timeout_s && a->write_timeout_s == b->write_timeout_s;
}

/* ---- nodes and generations ------------------------------------------------------ */

static node_t *node_new(const ks_db_node_conf_t *conf, int is_master)
{
    node_t *node = calloc(1, sizeof *node);
    if (!node)
        return NULL;
    snprintf(node->host, sizeof node->host, "%s", conf->host);
    node->port = conf->port;
    node->is_master = is_master;
    node->refs = 1;
    node->state = KS_DB_PENDING;
    node->lag_s = -1;
    snprintf(node->reason, sizeof node->reason, "not checked yet");
    return node;
}

static void node_unref(node_t *node)
{
    if (node && __atomic_sub_fetch(&node->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(node);
}

static void gen_unref(gen_t *gen)
{
    if (!gen || __atomic_sub_fetch(&gen->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (int i = 0; i < gen->count; i++)
        node_unref(gen->nodes[i]);
    free(gen);
}

/* The current generation, with a reference for the caller. */
static gen_t *gen_acquire(ks_db_pool_t *pool)
{
    gen_t *gen;
    pthread_mutex_lock(&pool->lock);
    gen = pool->current;
    __atomic_add_fetch(&gen->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&pool->lock);
    return gen;
}

/* Builds a generation of conf, carrying over the nodes of old (may be NULL)
 * still listed. NULL when out of memory. Called under pool->lock, or before
 * the pool is shared. */
static gen_t *gen_build(const gen_t *old, const ks_db_conf_t *conf)
{
    gen_t *gen = calloc(1, sizeof *gen);
    if (!gen)
        return NULL;
    gen->number = old ? old->number + 1 : 1;
    gen->refs = 1;
    gen->conf = *conf;
    for (int i = 0; i <= conf->replica_count; i++) {
        const ks_db_node_conf_t *nc = i == 0 ? &conf->master : &conf->replicas[i - 1];
        node_t *node = NULL;
        for (int j = 0; old && j < old->count && !node; j++) {
            node_t *o = old->nodes[j];
            if (o->is_master == (i == 0) && o->port == nc->port && strcmp(o->host, nc->host) == 0) {
                node = o;
                __atomic_add_fetch(&node->refs, 1, __ATOMIC_ACQ_REL);
            }
        }
        if (!node && !(node = node_new(nc, i == 0))) {
            gen_unref(gen);
            return NULL;
        }
        gen->nodes[gen->count] = node;
        gen->weights[gen->count] = nc->weight;
        gen->count++;
    }
    return gen;
}

/* Moves the connections of links_old (indexed by old's nodes) to links_new
 * (by now's nodes), closing those to nodes now lacks, or all of them unless
 * keep. links_new starts empty. */
static void links_remap(const gen_t *old, link_t *links_old, const gen_t *now, link_t *links_new,
                        int keep)
{
    for (int i = 0; i < old->count; i++) {
        int to = -1;
        if (!links_old[i].conn)
            continue;
        for (int j = 0; keep && j < now->count && to < 0; j++)
            if (now->nodes[j] == old->nodes[i])
                to = j;
        if (to >= 0)
            links_new[to] = links_old[i];
        else
            mysql_close(links_old[i].conn);
        links_old[i].conn = NULL;
    }
}

/* ---- node health ------------------------------------------------------------------ */

static void set_reason(node_t *node, const char *why)
{
    copy_text(node->reason, sizeof node->reason, why ? why : "");
}

/* A session saw node fail: it is down until the health thread finds it well.
 * Without a health thread nothing would re-admit it, so it is left alone. */
static void node_failed(ks_db_pool_t *pool, node_t *node, const char *why)
{
    if (!LOAD(&pool->health_running))
        return;
    STORE(&node->failed_at_ms, now_ms());
    pthread_mutex_lock(&pool->lock);
    if (LOAD(&node->state) != KS_DB_DOWN) {
        STORE(&node->state, KS_DB_DOWN);
        __atomic_add_fetch(&node->incarnation, 1, __ATOMIC_ACQ_REL);
        set_reason(node, why);
        ks_log_warn("database %s %s:%d is down: %s", role_of(node), node->host, node->port, why);
        pool->health_kick = 1;            /* a passing failure is forgiven soon */
        pthread_cond_signal(&pool->health_wake);
    }
    pthread_mutex_unlock(&pool->lock);
}

/* The health thread's verdict on node, from a check that started at
 * started_ms. A session's failure seen during the check wins over a good
 * verdict: the next check decides. */
static void node_checked(ks_db_pool_t *pool, node_t *node, ks_db_state_t state, int lag_s,
                         const char *why, long long started_ms)
{
    ks_db_state_t before;

    pthread_mutex_lock(&pool->lock);
    before = (ks_db_state_t)LOAD(&node->state);
    if (state == KS_DB_HEALTHY && LOAD(&node->failed_at_ms) >= started_ms) {
        pthread_mutex_unlock(&pool->lock);
        return;
    }
    if (state == KS_DB_DOWN && before != KS_DB_DOWN)
        __atomic_add_fetch(&node->incarnation, 1, __ATOMIC_ACQ_REL);
    STORE(&node->lag_s, lag_s);
    STORE(&node->state, state);
    set_reason(node, state == KS_DB_HEALTHY ? "" : why);
    if (before != state) {
        if (state == KS_DB_HEALTHY && node->is_master)
            ks_log_info("database master %s:%d is healthy", node->host, node->port);
        else if (state == KS_DB_HEALTHY)
            ks_log_info("database replica %s:%d is healthy (%d s behind): it takes reads",
                        node->host, node->port, lag_s);
        else
            ks_log_warn("database %s %s:%d is %s: %s", role_of(node), node->host, node->port,
                        ks_db_state_name(state), why);
    }
    pthread_mutex_unlock(&pool->lock);
}

ks_db_state_t ks_db_replica_verdict(const char *io_running, const char *sql_running,
                                    const char *seconds_behind, int max_lag_s, int *lag_s,
                                    char *why, size_t why_size)
{
    char *end;
    long lag;

    *lag_s = -1;
    why[0] = '\0';
    if (seconds_behind) {
        lag = strtol(seconds_behind, &end, 10);
        if (end != seconds_behind && !*end && lag >= 0)
            *lag_s = lag > 1000000000 ? 1000000000 : (int)lag;
    }
    if (!io_running || strcmp(io_running, "Yes") != 0) {
        snprintf(why, why_size, "replication IO thread is %s", io_running ? io_running : "NULL");
        return KS_DB_SHUNNED;
    }
    if (!sql_running || strcmp(sql_running, "Yes") != 0) {
        snprintf(why, why_size, "replication SQL thread is %s", sql_running ? sql_running : "NULL");
        return KS_DB_SHUNNED;
    }
    if (*lag_s < 0) {
        snprintf(why, why_size, "Seconds_Behind_Master is %s", seconds_behind ? seconds_behind : "NULL");
        return KS_DB_SHUNNED;
    }
    if (*lag_s > max_lag_s) {
        snprintf(why, why_size, "%d s behind the master (more than %d s)", *lag_s, max_lag_s);
        return KS_DB_SHUNNED;
    }
    return KS_DB_HEALTHY;
}

/* ---- connections ----------------------------------------------------------------- */

/* Connects to node with the given timeouts (seconds). */
static ks_rc open_conn(const ks_db_conf_t *conf, const node_t *node, unsigned connect_s,
                       unsigned read_s, unsigned write_s, MYSQL **out, ks_err_t *err)
{
    my_bool no = 0;
    MYSQL *m = mysql_init(NULL);

    *out = NULL;
    if (!m)
        return ks_err(err, KS_NOMEM, "mysql_init() failed");
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &write_s);
    mysql_options(m, MYSQL_OPT_RECONNECT, &no);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* Every change locks the member's row first, so the gap locks of
     * REPEATABLE READ protect nothing here; they only made writes to
     * neighbouring members deadlock. (Needs binlog_format ROW or MIXED.) */
    mysql_options(m, MYSQL_INIT_COMMAND, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    /* One statement per query (no CLIENT_MULTI_STATEMENTS): a value that
     * slipped into SQL unescaped cannot append statements of its own. The
     * migrations turn it on for their connection alone (migrate.c). */
    if (!mysql_real_connect(m, node->host, conf->user, conf->password, conf->name,
                            (unsigned)node->port, NULL, CLIENT_FOUND_ROWS)) {
        ks_err(err, KS_DBDOWN, "mysql_real_connect() to %s %s:%d failed: [%u] %s", role_of(node),
               node->host, node->port, mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return KS_DBDOWN;
    }
    *out = m;
    return KS_OK;
}

/* Runs sql on conn; *code gets the error number (0 on success). */
static ks_rc run_statement(MYSQL *conn, const node_t *node, const char *sql, size_t len,
                           MYSQL_RES **result, unsigned *code, ks_err_t *err)
{
    *code = 0;
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
    *code = mysql_errno(conn);
    ks_err(err, KS_ERROR, "query on %s %s:%d failed: [%u] %s (%.60s)",
           node ? role_of(node) : "database", node ? node->host : "?", node ? node->port : 0,
           *code, mysql_error(conn), sql);
    if (*code == ER_DUP_ENTRY)
        return KS_CONFLICT;
    if (*code == ER_LOCK_DEADLOCK || *code == ER_LOCK_WAIT_TIMEOUT)
        return KS_BUSY;
    return is_connection_error(*code) ? KS_DBDOWN : KS_ERROR;
}

/* ---- the pool ---------------------------------------------------------------------- */

ks_db_pool_t *ks_db_pool_new(const ks_db_conf_t *conf)
{
    ks_db_pool_t *pool = calloc(1, sizeof *pool);
    pthread_condattr_t attr;

    if (!pool)
        return NULL;
    pool->current = gen_build(NULL, conf);
    if (!pool->current) {
        free(pool);
        return NULL;
    }
    pool->generation = pool->current->number;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->health_wake, &attr);
    pthread_condattr_destroy(&attr);
    return pool;
}

void ks_db_pool_free(ks_db_pool_t *pool)
{
    if (!pool)
        return;
    if (LOAD(&pool->health_running)) {
        pthread_mutex_lock(&pool->lock);
        STORE(&pool->health_stop, 1);
        pthread_cond_signal(&pool->health_wake);
        pthread_mutex_unlock(&pool->lock);
        pthread_join(pool->health_thread, NULL);
    }
    gen_unref(pool->current);
    pthread_cond_destroy(&pool->health_wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

ks_rc ks_db_pool_reconfigure(ks_db_pool_t *pool, const ks_db_conf_t *conf, ks_err_t *err)
{
    gen_t *old, *gen;
    char members[1024] = "", added[512] = "", removed[512] = "";
    ks_rc rc;

    if ((rc = ks_db_conf_check(conf, err)) != KS_OK)
        return rc;
    pthread_mutex_lock(&pool->lock);
    old = pool->current;
    gen = gen_build(old, conf);
    if (!gen) {
        pthread_mutex_unlock(&pool->lock);
        return ks_err(err, KS_NOMEM, "out of memory for a new database pool generation");
    }
    pool->current = gen;
    STORE(&pool->generation, gen->number);
    pool->health_kick = 1;               /* check the new servers now */
    pthread_cond_signal(&pool->health_wake);
    pthread_mutex_unlock(&pool->lock);

    for (int i = 0; i < gen->count; i++) {
        int kept = 0;
        snprintf(members + strlen(members), sizeof members - strlen(members), "%s%s:%d (%sweight %d)",
                 i == 0 ? "" : i == 1 ? "; replicas " : ", ", gen->nodes[i]->host,
                 gen->nodes[i]->port, i == 0 ? "read " : "", gen->weights[i]);
        for (int j = 0; j < old->count; j++)
            kept |= old->nodes[j] == gen->nodes[i];
        if (!kept)
            snprintf(added + strlen(added), sizeof added - strlen(added), " %s %s:%d",
                     role_of(gen->nodes[i]), gen->nodes[i]->host, gen->nodes[i]->port);
    }
    for (int j = 0; j < old->count; j++) {
        int kept = 0;
        for (int i = 0; i < gen->count; i++)
            kept |= old->nodes[j] == gen->nodes[i];
        if (!kept)
            snprintf(removed + strlen(removed), sizeof removed - strlen(removed), " %s %s:%d",
                     role_of(old->nodes[j]), old->nodes[j]->host, old->nodes[j]->port);
    }
    ks_log_info("database pool generation %u: master %s; added:%s; removed:%s", gen->number,
                members, added[0] ? added : " none", removed[0] ? removed : " none");
    gen_unref(old);
    return KS_OK;
}

void ks_db_pool_status(ks_db_pool_t *pool, ks_db_pool_status_t *out)
{
    gen_t *gen;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&pool->lock);
    gen = pool->current;
    out->generation = gen->number;
    out->health_interval_ms = gen->conf.health_interval_ms;
    out->max_lag_s = gen->conf.max_lag_s;
    out->node_count = gen->count;
    for (int i = 0; i < gen->count; i++) {
        const node_t *node = gen->nodes[i];
        ks_db_node_status_t *s = &out->nodes[i];
        s->is_master = node->is_master;
        snprintf(s->host, sizeof s->host, "%s", node->host);
        s->port = node->port;
        s->weight = gen->weights[i];
        s->state = (ks_db_state_t)LOAD(&node->state);
        s->lag_s = node->is_master ? -1 : LOAD(&node->lag_s);
        s->reads = LOAD(&node->reads);
        copy_text(s->reason, sizeof s->reason, node->reason);
    }
    pthread_mutex_unlock(&pool->lock);
}

void ks__db_pool_set_state(ks_db_pool_t *pool, int index, ks_db_state_t state, int lag_s)
{
    gen_t *gen = gen_acquire(pool);
    if (index >= 0 && index < gen->count)
        node_checked(pool, gen->nodes[index], state, lag_s, "set by a test", LLONG_MAX);
    gen_unref(gen);
}

/* ---- the health thread ------------------------------------------------------------------ */

/* The verdict on a replica from its SHOW SLAVE STATUS result. */
static ks_db_state_t replica_state(MYSQL_RES *res, int max_lag_s, int *lag_s, char *why,
                                   size_t why_size)
{
    MYSQL_ROW row = mysql_fetch_row(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    const char *io = NULL, *sql = NULL, *behind = NULL;

    if (!row) {
        snprintf(why, why_size, "not a replica: SHOW SLAVE STATUS is empty");
        return KS_DB_SHUNNED;
    }
    /* MySQL 8 names them Replica_* and Seconds_Behind_Source. */
    for (unsigned i = 0; i < mysql_num_fields(res); i++) {
        const char *name = fields[i].name;
        if (!strcmp(name, "Slave_IO_Running") || !strcmp(name, "Replica_IO_Running"))
            io = row[i];
        else if (!strcmp(name, "Slave_SQL_Running") || !strcmp(name, "Replica_SQL_Running"))
            sql = row[i];
        else if (!strcmp(name, "Seconds_Behind_Master") || !strcmp(name, "Seconds_Behind_Source"))
            behind = row[i];
    }
    return ks_db_replica_verdict(io, sql, behind, max_lag_s, lag_s, why, why_size);
}

/* Checks one node on *conn (connected here if NULL; closed when the
 * connection fails): the master must answer, a replica must replicate. */
static ks_db_state_t check_node(const ks_db_conf_t *conf, const node_t *node, MYSQL **conn,
                                int *lag_s, char *why, size_t why_size)
{
    unsigned timeout = (unsigned)conf->health_timeout_s;
    const char *sql = node->is_master ? "SELECT 1" : "SHOW SLAVE STATUS";
    MYSQL_RES *res = NULL;
    ks_db_state_t state;
    ks_err_t err;
    unsigned code;

    *lag_s = -1;
    if (!*conn && open_conn(conf, node, timeout, timeout, timeout, conn, &err) != KS_OK) {
        copy_text(why, why_size, err.msg);
        return KS_DB_DOWN;
    }
    if (run_statement(*conn, node, sql, strlen(sql), &res, &code, &err) != KS_OK) {
        copy_text(why, why_size, err.msg);
        if (is_connection_error(code)) {
            mysql_close(*conn);
            *conn = NULL;
            return KS_DB_DOWN;
        }
        /* e.g. no SLAVE MONITOR privilege: it answers, but we cannot tell its lag */
        return node->is_master ? KS_DB_DOWN : KS_DB_SHUNNED;
    }
    if (!res) {
        snprintf(why, why_size, "%s returned no result", sql);
        return node->is_master ? KS_DB_DOWN : KS_DB_SHUNNED;
    }
    state = node->is_master ? KS_DB_HEALTHY
                            : replica_state(res, conf->max_lag_s, lag_s, why, why_size);
    mysql_free_result(res);
    return state;
}

static void *health_main(void *arg)
{
    ks_db_pool_t *pool = arg;
    gen_t *gen = gen_acquire(pool);
    link_t links[KS_DB_NODES_MAX] = {{0}};

    mysql_thread_init();
    for (;;) {
        struct timespec deadline;
        long long wake_ms;
        gen_t *now;

        /* A new generation: keep the connections to the nodes it kept. */
        if (LOAD(&pool->generation) != gen->number) {
            link_t moved[KS_DB_NODES_MAX] = {{0}};
            now = gen_acquire(pool);
            links_remap(gen, links, now, moved, same_login(&gen->conf, &now->conf, 1));
            memcpy(links, moved, sizeof links);
            gen_unref(gen);
            gen = now;
        }
        for (int i = 0; i < gen->count; i++) {
            char why[KS_DB_REASON_MAX];
            long long started = now_ms();
            int lag_s;
            ks_db_state_t state = check_node(&gen->conf, gen->nodes[i], &links[i].conn, &lag_s,
                                             why, sizeof why);
            node_checked(pool, gen->nodes[i], state, lag_s, why, started);
            if (LOAD(&pool->health_stop))
                break;
        }

        wake_ms = now_ms() + gen->conf.health_interval_ms;
        deadline.tv_sec = (time_t)(wake_ms / 1000);
        deadline.tv_nsec = (long)(wake_ms % 1000) * 1000000;
        pthread_mutex_lock(&pool->lock);
        while (!pool->health_stop && !pool->health_kick &&
               pthread_cond_timedwait(&pool->health_wake, &pool->lock, &deadline) != ETIMEDOUT)
            ;
        pool->health_kick = 0;
        if (pool->health_stop) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    for (int i = 0; i < gen->count; i++)
        if (links[i].conn)
            mysql_close(links[i].conn);
    gen_unref(gen);
    mysql_thread_end();
    return NULL;
}

ks_rc ks_db_pool_start_health(ks_db_pool_t *pool, ks_err_t *err)
{
    sigset_t all, old;
    int rc;

    if (LOAD(&pool->health_running))
        return KS_OK;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);    /* the thread inherits the mask */
    rc = pthread_create(&pool->health_thread, NULL, health_main, pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return ks_err(err, KS_ERROR, "pthread_create() of the database health thread failed (%d: %s)",
                      rc, strerror(rc));
    STORE(&pool->health_running, 1);
    return KS_OK;
}

/* ---- sessions ------------------------------------------------------------------------------ */

static uint64_t next_random(ks_db_session_t *s)
{
    uint64_t x = s->rng;                 /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

ks_db_session_t *ks_db_session_new(ks_db_pool_t *pool)
{
    static unsigned long long sessions;
    ks_db_session_t *s = calloc(1, sizeof *s);
    struct timespec ts;
    uint64_t seed;

    if (!s)
        return NULL;
    s->pool = pool;
    s->gen = gen_acquire(pool);
    s->call_reader = -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)s ^
           (__atomic_add_fetch(&sessions, 1, __ATOMIC_RELAXED) * 0x9E3779B97F4A7C15ULL);
    s->rng = seed ? seed : 1;
    return s;
}

ks_db_pool_t *ks_db_session_pool(ks_db_session_t *s)
{
    return s->pool;
}

static void close_retired(ks_db_session_t *s)
{
    for (int i = 0; i < s->retired_count; i++)
        mysql_close(s->retired[i].conn);
    s->retired_count = 0;
}

/* Keeps conn (which failed) until the call ends: the caller may still hold it. */
static void retire(ks_db_session_t *s, MYSQL *conn, int reader)
{
    if (s->retired_count == KS_DB_RETIRED_MAX) {
        mysql_close(conn);                /* cannot happen: a node fails once per call */
        return;
    }
    s->retired[s->retired_count].conn = conn;
    s->retired[s->retired_count].reader = reader;
    s->retired_count++;
}

void ks_db_session_free(ks_db_session_t *s)
{
    if (!s)
        return;
    close_retired(s);
    for (int i = 0; i < KS_DB_NODES_MAX; i++)
        if (s->readers[i].conn)
            mysql_close(s->readers[i].conn);
    if (s->writer.conn)
        mysql_close(s->writer.conn);
    gen_unref(s->gen);
    free(s);
}

void ks_db_session_begin(ks_db_session_t *s)
{
    close_retired(s);
    s->call_reader = -1;
    s->tried = 0;
    s->sticky = 0;
    s->writer_used = 0;
    if (LOAD(&s->pool->generation) != s->gen->number) {
        gen_t *now = gen_acquire(s->pool);
        link_t moved[KS_DB_NODES_MAX] = {{0}};
        int keep = same_login(&s->gen->conf, &now->conf, 0);

        links_remap(s->gen, s->readers, now, moved, keep);
        memcpy(s->readers, moved, sizeof s->readers);
        if (s->writer.conn && (!keep || now->nodes[0] != s->gen->nodes[0])) {
            mysql_close(s->writer.conn);
            s->writer.conn = NULL;
        }
        gen_unref(s->gen);
        s->gen = now;
    }
}

/* Weights of the nodes in state (and not failed during this call). */
static void weights_in_state(const ks_db_session_t *s, ks_db_state_t state, int *weights)
{
    for (int i = 0; i < s->gen->count; i++)
        weights[i] = !(s->tried & (1u << i)) && LOAD(&s->gen->nodes[i]->state) == (int)state
                         ? s->gen->weights[i] : 0;
}

/* The node for the call's reads, among those not failed during this call:
 * by weight among the healthy ones; else the master, unless it is known to
 * be down; else, by weight, a shunned replica (replicas whose master is gone
 * stop replicating: stale answers beat none, and a read that names a
 * version checks it); else the master all the same. -1 when none is left. */
static int pick_index(ks_db_session_t *s)
{
    int weights[KS_DB_NODES_MAX], index;
    int master_left = !(s->tried & 1u);

    weights_in_state(s, KS_DB_HEALTHY, weights);
    if ((index = ks_db_pick_weighted(weights, s->gen->count, next_random(s))) >= 0)
        return index;
    if (master_left && LOAD(&s->gen->nodes[0]->state) != KS_DB_DOWN)
        return 0;
    weights_in_state(s, KS_DB_SHUNNED, weights);
    weights[0] = 0;
    if ((index = ks_db_pick_weighted(weights, s->gen->count, next_random(s))) >= 0)
        return index;
    return master_left ? 0 : -1;
}

int ks__db_session_pick(ks_db_session_t *s)
{
    return pick_index(s);
}

int ks_db_pick_weighted(const int *weights, int count, uint64_t random)
{
    uint64_t total = 0, pick;

    for (int i = 0; i < count; i++)
        total += weights[i] > 0 ? (uint64_t)weights[i] : 0;
    if (total == 0)
        return -1;
    pick = random % total;
    for (int i = 0; i < count; i++) {
        if (weights[i] <= 0)
            continue;
        if (pick < (uint64_t)weights[i])
            return i;
        pick -= (uint64_t)weights[i];
    }
    return -1;                          /* not reached */
}

/* Makes link a live connection to node (reconnecting when the node went
 * down since it was made). On failure marks node down. */
static ks_rc link_connect(ks_db_session_t *s, node_t *node, link_t *link, ks_err_t *err)
{
    const ks_db_conf_t *conf = &s->gen->conf;
    unsigned incarnation = LOAD(&node->incarnation);
    ks_rc rc;

    if (link->conn && link->incarnation == incarnation)
        return KS_OK;
    if (link->conn) {
        mysql_close(link->conn);
        link->conn = NULL;
    }
    rc = open_conn(conf, node, (unsigned)conf->connect_timeout_s, (unsigned)conf->read_timeout_s,
                   (unsigned)conf->write_timeout_s, &link->conn, err);
    if (rc == KS_DBDOWN) {
        ks_log_error("%s", err->msg);
        node_failed(s->pool, node, err->msg);
    }
    if (rc == KS_OK)
        link->incarnation = incarnation;
    return rc;
}

/* Makes s->call_reader a connected node. */
static ks_rc ensure_reader(ks_db_session_t *s, ks_err_t *err)
{
    ks_err_t last;

    last.msg[0] = '\0';
    while (s->call_reader < 0) {
        int index = pick_index(s);
        if (index < 0)
            return ks_err(err, KS_DBDOWN, "no database server can serve reads%s%s",
                          last.msg[0] ? ": " : "", last.msg);
        if (link_connect(s, s->gen->nodes[index], &s->readers[index], &last) == KS_OK)
            s->call_reader = index;
        else
            s->tried |= 1u << index;
    }
    return KS_OK;
}

/* The master's connection for this call. Connected (or replaced, when the
 * master went down since) only at its first use in a call: a later
 * statement must run on the connection that holds the call's transaction,
 * or fail. */
static ks_rc ensure_writer(ks_db_session_t *s, ks_err_t *err)
{
    ks_rc rc;

    if (s->writer_used)
        return s->writer.conn ? KS_OK
                              : ks_err(err, KS_DBDOWN, "the connection to the database master "
                                       "was lost earlier in this call");
    if ((rc = link_connect(s, s->gen->nodes[0], &s->writer, err)) == KS_OK)
        s->writer_used = 1;
    return rc;
}

ks_rc ks_db_master(ks_db_session_t *s, MYSQL **out, ks_err_t *err)
{
    ks_rc rc;

    s->sticky = 1;
    *out = NULL;
    if ((rc = ensure_writer(s, err)) != KS_OK)
        return rc;
    *out = s->writer.conn;
    return KS_OK;
}

ks_rc ks_db_master_read(ks_db_session_t *s, MYSQL **out, ks_err_t *err)
{
    ks_rc rc;

    *out = NULL;
    if ((rc = ensure_writer(s, err)) != KS_OK)
        return rc;
    *out = s->writer.conn;
    return KS_OK;
}

void ks_db_use_master(ks_db_session_t *s)
{
    s->sticky = 1;
}

ks_rc ks_db_reader_fresh(ks_db_session_t *s, MYSQL **out, ks_err_t *err)
{
    if (ks_db_master(s, out, err) == KS_OK)
        return KS_OK;
    s->sticky = 0;
    return ks_db_reader(s, out, err);
}

ks_rc ks_db_reader(ks_db_session_t *s, MYSQL **out, ks_err_t *err)
{
    ks_rc rc;

    *out = NULL;
    if (s->sticky)
        return ks_db_master(s, out, err);
    if ((rc = ensure_reader(s, err)) != KS_OK)
        return rc;
    *out = s->readers[s->call_reader].conn;
    return KS_OK;
}

/* A statement on the master's write connection: never run twice. */
static ks_rc write_statement(ks_db_session_t *s, const char *sql, size_t len, MYSQL_RES **result,
                             int is_read, ks_err_t *err)
{
    node_t *master = s->gen->nodes[0];
    unsigned code;
    ks_rc rc;

    if ((rc = ensure_writer(s, err)) != KS_OK)
        return rc;
    rc = run_statement(s->writer.conn, master, sql, len, result, &code, err);
    if (rc == KS_OK) {
        if (is_read)
            __atomic_add_fetch(&master->reads, 1, __ATOMIC_RELAXED);
        return KS_OK;
    }
    if (rc != KS_CONFLICT)
        ks_log_error("%s", err->msg);
    if (rc == KS_DBDOWN) {
        node_failed(s->pool, master, err->msg);
        retire(s, s->writer.conn, 0);
        s->writer.conn = NULL;
    }
    return rc;
}

/* A read statement: on the call's reader, moving on while servers fail. */
static ks_rc read_statement(ks_db_session_t *s, const char *sql, size_t len, MYSQL_RES **result,
                            ks_err_t *err)
{
    for (;;) {
        node_t *node;
        unsigned code;
        int index;
        ks_rc rc;

        if (s->sticky)
            return write_statement(s, sql, len, result, 1, err);
        if ((rc = ensure_reader(s, err)) != KS_OK)
            return rc;
        index = s->call_reader;
        node = s->gen->nodes[index];
        rc = run_statement(s->readers[index].conn, node, sql, len, result, &code, err);
        if (rc == KS_OK) {
            __atomic_add_fetch(&node->reads, 1, __ATOMIC_RELAXED);
            return KS_OK;
        }
        if (rc != KS_DBDOWN) {
            if (rc != KS_CONFLICT)
                ks_log_error("%s", err->msg);
            return rc;
        }
        ks_log_warn("%s; reading from another server", err->msg);
        node_failed(s->pool, node, err->msg);
        retire(s, s->readers[index].conn, 1);
        s->readers[index].conn = NULL;
        s->tried |= 1u << index;
        s->call_reader = -1;
    }
}

ks_rc ks_db_query(ks_db_session_t *s, MYSQL *conn, const char *sql, size_t len,
                  MYSQL_RES **result, ks_err_t *err)
{
    unsigned code;
    ks_rc rc;

    if (result)
        *result = NULL;
    if (conn && conn == s->writer.conn)
        return write_statement(s, sql, len, result, 0, err);
    for (int i = 0; conn && i < s->gen->count; i++)
        if (conn == s->readers[i].conn)
            return read_statement(s, sql, len, result, err);
    for (int i = 0; conn && i < s->retired_count; i++) {
        if (conn != s->retired[i].conn)
            continue;
        if (s->retired[i].reader)
            return read_statement(s, sql, len, result, err);
        return ks_err(err, KS_DBDOWN, "the connection to the database master was lost earlier "
                      "in this call");
    }
    /* Not one of ours: run it as it is. */
    if (!conn)
        return ks_err(err, KS_ERROR, "query without a connection (%.60s)", sql);
    rc = run_statement(conn, NULL, sql, len, result, &code, err);
    if (rc != KS_OK && rc != KS_CONFLICT)
        ks_log_error("%s", err->msg);
    return rc;
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
