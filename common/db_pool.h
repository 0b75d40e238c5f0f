/* db_pool.h: the avatar database as a master and weighted replicas.
 *
 * A pool (shared by every thread) knows the servers and their health; each
 * worker thread owns a session holding its own connections, so queries never
 * wait on a lock. Writes, and reads that must see them, use the master;
 * other reads go to a replica picked by weight. A server whose connection
 * fails is shunned for a moment and retried later; with no replica left,
 * reads go to the master.
 */
#ifndef KS_DB_POOL_H
#define KS_DB_POOL_H

#include <mysql.h>
#include "buf.h"
#include "ks.h"

#define KS_DB_REPLICAS_MAX 16

typedef struct {
    char host[128];
    int port;
    int weight;            /* share of the reads; 0 takes none */
} ks_db_node_conf_t;

typedef struct {
    ks_db_node_conf_t master;
    ks_db_node_conf_t replicas[KS_DB_REPLICAS_MAX];
    int replica_count;
    char name[64];
    char user[64];
    char password[128];
    int connect_timeout_s;
    int read_timeout_s;
} ks_db_conf_t;

/* Parses "host:port [weight]" and appends it to conf->replicas. */
ks_rc ks_db_conf_add_replica(ks_db_conf_t *conf, const char *value, ks_err_t *err);

typedef struct ks_db_pool ks_db_pool_t;
typedef struct ks_db_session ks_db_session_t;

/* The pool copies conf. Returns NULL when out of memory. */
ks_db_pool_t *ks_db_pool_new(const ks_db_conf_t *conf);
void ks_db_pool_free(ks_db_pool_t *pool);

/* A session belongs to one thread at a time; free it before its pool. */
ks_db_session_t *ks_db_session_new(ks_db_pool_t *pool);
void ks_db_session_free(ks_db_session_t *session);

/* The master's connection, connected on first use and again after a failure.
 * KS_DBDOWN when the master does not answer. The connection stays owned by
 * the session. */
ks_rc ks_db_master(ks_db_session_t *session, MYSQL **out, ks_err_t *err);

/* A connection for reads: a live replica picked by weight, or the master when
 * no replica answers. */
ks_rc ks_db_reader(ks_db_session_t *session, MYSQL **out, ks_err_t *err);

/* Runs one statement on conn and stores its result in *result (NULL for
 * statements without rows; free with mysql_free_result). On failure writes
 * "what failed: [errno] message" to err and returns KS_DBDOWN when the server
 * is gone (the connection is dropped and the server shunned), KS_CONFLICT on
 * a duplicate key, KS_ERROR otherwise. */
ks_rc ks_db_query(ks_db_session_t *session, MYSQL *conn, const char *sql, size_t len,
                  MYSQL_RES **result, ks_err_t *err);

/* SQL statements are built in a ks_buf_t (buf.h), whose maximum bounds them.
 * Caller input goes in only through ks_sql_str/ks_sql_blob, which escape it;
 * ks_buf_addf is for trusted text alone. */

/* Appends 'escaped s' (or NULL when s is NULL). */
void ks_sql_str(ks_buf_t *sql, MYSQL *conn, const char *s);
void ks_sql_blob(ks_buf_t *sql, MYSQL *conn, const void *data, size_t size);
/* Runs the statement built so far (KS_TOOLARGE when it overflowed). */
ks_rc ks_sql_run(ks_buf_t *sql, ks_db_session_t *session, MYSQL *conn, MYSQL_RES **result,
                 ks_err_t *err);

#endif
