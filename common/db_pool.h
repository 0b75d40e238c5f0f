/* db_pool.h: the avatar database as a master and weighted replicas.
 *
 * A pool (shared by every thread) knows the servers, their health and how
 * many reads each served; each worker thread owns a session holding its own
 * connections, so queries never wait on a lock.
 *
 * Health: a background thread of the pool checks every server each
 * interval, through connections of its own with short timeouts. A replica
 * that does not answer is down; one whose replication is stopped or broken
 * (a SQL or IO thread not running, Seconds_Behind_Master NULL) or lags more
 * than max_lag_s is shunned; either gets no reads until a check finds it
 * healthy again (but for the last resort below). A session that sees a
 * server fail marks it down at once, so the other sessions skip it without
 * each waiting for a timeout.
 *
 * Calls: a session serves one call (one SOAP request) at a time and
 * ks_db_session_begin() starts each. The call's reads go to one server,
 * picked by weight among the healthy replicas (and the master when its read
 * weight is above 0), or to the master when no replica is healthy; when the
 * master is known to be down too, to a shunned replica (whose master is
 * gone: stale beats nothing, and a read that names a version checks it),
 * and with none left to the master all the same. A read
 * statement that fails on its server for want of a connection (refused,
 * lost, timed out) is run again on the next server, and at last on the
 * master, within the same ks_db_query(): the caller sees the answer, not
 * the failure. Writes go to the master, and once a call has used the master
 * (or asked for it with ks_db_use_master()), its reads go there too: a read
 * after a write sees it.
 *
 * Configuration: ks_db_pool_reconfigure() (on SIGHUP) swaps in a new
 * generation of the configuration without stopping anything; calls under
 * way finish with the one they started with, and each session, at its next
 * call, drops its connections to the servers that left.
 */
#ifndef KS_DB_POOL_H
#define KS_DB_POOL_H

#include <stdint.h>
#include <mysql.h>
#include "buf.h"
#include "ks.h"

#define KS_DB_REPLICAS_MAX 16
#define KS_DB_NODES_MAX (1 + KS_DB_REPLICAS_MAX)
#define KS_DB_REASON_MAX 200

typedef struct {
    char host[128];
    int port;
    int weight;            /* share of the reads; 0 takes none (the master:
                              none while a replica is healthy) */
} ks_db_node_conf_t;

typedef struct {
    ks_db_node_conf_t master;
    ks_db_node_conf_t replicas[KS_DB_REPLICAS_MAX];
    int replica_count;
    char name[64];
    char user[64];
    char password[128];
    int connect_timeout_s;     /* every connection: MYSQL_OPT_CONNECT_TIMEOUT */
    int read_timeout_s;        /* MYSQL_OPT_READ_TIMEOUT */
    int write_timeout_s;       /* MYSQL_OPT_WRITE_TIMEOUT */
    int health_interval_ms;    /* between two checks of every server */
    int health_timeout_s;      /* the health thread's connect/read/write timeout */
    int max_lag_s;             /* a replica further behind is shunned */
} ks_db_conf_t;

/* Parses "host:port [weight]" and appends it to conf->replicas. */
ks_rc ks_db_conf_add_replica(ks_db_conf_t *conf, const char *value, ks_err_t *err);

/* Checks conf as a whole (no server listed twice). */
ks_rc ks_db_conf_check(const ks_db_conf_t *conf, ks_err_t *err);

typedef enum {
    KS_DB_PENDING,         /* not checked yet: no reads (the master: usable) */
    KS_DB_HEALTHY,
    KS_DB_SHUNNED,         /* answers, but its replication lags or is broken */
    KS_DB_DOWN             /* does not answer */
} ks_db_state_t;

/* "pending", "healthy", "shunned" or "down". */
const char *ks_db_state_name(ks_db_state_t state);

typedef struct ks_db_pool ks_db_pool_t;
typedef struct ks_db_session ks_db_session_t;

/* The pool copies conf (which ks_db_conf_check accepted). Returns NULL when
 * out of memory. Without ks_db_pool_start_health() no replica is ever
 * checked, so reads go to the master: that suits the one-shot commands. */
ks_db_pool_t *ks_db_pool_new(const ks_db_conf_t *conf);
/* Stops the health thread; free every session first. */
void ks_db_pool_free(ks_db_pool_t *pool);

/* Starts the health thread (with every signal blocked in it). */
ks_rc ks_db_pool_start_health(ks_db_pool_t *pool, ks_err_t *err);

/* Makes conf the pool's configuration (a new generation) if it is valid;
 * otherwise the pool keeps the one it has and err says why. A server still
 * listed keeps its health and read counter; a new one gets reads once the
 * health thread finds it healthy. */
ks_rc ks_db_pool_reconfigure(ks_db_pool_t *pool, const ks_db_conf_t *conf, ks_err_t *err);

typedef struct {
    int is_master;
    char host[128];
    int port;
    int weight;
    ks_db_state_t state;
    int lag_s;                 /* Seconds_Behind_Master; -1 unknown, or the master */
    unsigned long long reads;  /* read statements it served */
    char reason[KS_DB_REASON_MAX];   /* why it is not healthy, or "" */
} ks_db_node_status_t;

typedef struct {
    unsigned generation;       /* 1, then +1 per ks_db_pool_reconfigure */
    int health_interval_ms;
    int max_lag_s;
    int node_count;
    ks_db_node_status_t nodes[KS_DB_NODES_MAX];   /* [0] is the master */
} ks_db_pool_status_t;

/* A snapshot of the current generation's servers. */
void ks_db_pool_status(ks_db_pool_t *pool, ks_db_pool_status_t *out);

/* A session belongs to one thread at a time; free it before its pool. */
ks_db_session_t *ks_db_session_new(ks_db_pool_t *pool);
void ks_db_session_free(ks_db_session_t *session);
ks_db_pool_t *ks_db_session_pool(ks_db_session_t *session);

/* Starts a call: its reads may go to any server again and it is no longer
 * bound to the master; adopts the pool's newest generation, closing the
 * connections to servers no longer configured. Also worth calling on an
 * idle session now and then, so it lets such connections go. */
void ks_db_session_begin(ks_db_session_t *session);

/* The master's connection; from now on the call's reads go to the master
 * too. It is (re)connected when a call first asks for it, and stays the
 * same connection until the call ends, so a transaction is never moved: if
 * it fails, the call's later statements on the master fail too. KS_DBDOWN
 * when the master does not answer. Owned by the session. */
ks_rc ks_db_master(ks_db_session_t *session, MYSQL **out, ks_err_t *err);

/* The master's connection for one read that must see the latest write (a
 * credential revoked a moment ago), without sending the call's other reads
 * to the master as ks_db_master does. KS_DBDOWN when the master does not
 * answer. Owned by the session. */
ks_rc ks_db_master_read(ks_db_session_t *session, MYSQL **out, ks_err_t *err);

/* Sends the rest of the call's reads to the master (a read that must see
 * a write, e.g. a version the caller already saw). */
void ks_db_use_master(ks_db_session_t *session);

/* The master's connection when the master answers (and, as with
 * ks_db_master, the call's reads go there from now on); else the call's
 * reader. For reads that should see every acknowledged write but still
 * answer while the master is down. */
ks_rc ks_db_reader_fresh(ks_db_session_t *session, MYSQL **out, ks_err_t *err);

/* A connection for the call's reads: statements run on it go to the server
 * serving the call's reads, and move to another when that one fails (see
 * the top of this file). Use it for reads only. Owned by the session and
 * valid until the call ends. KS_DBDOWN when no server answers. */
ks_rc ks_db_reader(ks_db_session_t *session, MYSQL **out, ks_err_t *err);

/* Runs one statement on conn and stores its result in *result (NULL for
 * statements without rows; free with mysql_free_result). A read connection
 * is retried as said above. On failure writes "what failed: [errno]
 * message" to err and returns KS_DBDOWN when no server could answer (the
 * failed one is marked down), KS_CONFLICT on a duplicate key, KS_ERROR
 * otherwise. */
ks_rc ks_db_query(ks_db_session_t *session, MYSQL *conn, const char *sql, size_t len,
                  MYSQL_RES **result, ks_err_t *err);

/* SQL statements are built in a ks_buf_t (buf.h), whose maximum bounds them.
 * Caller input goes in only through ks_sql_str/ks_sql_blob, which escape it;
 * ks_buf_addf is for trusted text alone. Every connection of the pool uses
 * utf8mb4, so a statement escaped for one is right for any other. */

/* Appends 'escaped s' (or NULL when s is NULL). */
void ks_sql_str(ks_buf_t *sql, MYSQL *conn, const char *s);
void ks_sql_blob(ks_buf_t *sql, MYSQL *conn, const void *data, size_t size);
/* Runs the statement built so far (KS_TOOLARGE when it overflowed). */
ks_rc ks_sql_run(ks_buf_t *sql, ks_db_session_t *session, MYSQL *conn, MYSQL_RES **result,
                 ks_err_t *err);

/* ---- the pieces of policy, apart so unit tests reach them ---------------- */

/* Picks an index by weight: i with probability weights[i] / sum, from a
 * uniform random number. -1 when every weight is 0. */
int ks_db_pick_weighted(const int *weights, int count, uint64_t random);

/* The health of a replica from its SHOW SLAVE STATUS fields (NULL for SQL
 * NULL): KS_DB_HEALTHY, or KS_DB_SHUNNED with the reason in why. *lag_s gets
 * Seconds_Behind_Master, or -1 when NULL. */
ks_db_state_t ks_db_replica_verdict(const char *io_running, const char *sql_running,
                                    const char *seconds_behind, int max_lag_s, int *lag_s,
                                    char *why, size_t why_size);

/* For unit tests: sets the health of node index (0 the master) of the
 * current generation, as the health thread would; and the index the next
 * call's reads would go to (-1: none can). */
void ks__db_pool_set_state(ks_db_pool_t *pool, int index, ks_db_state_t state, int lag_s);
int ks__db_session_pick(ks_db_session_t *session);

#endif
