/* store.h: reads and writes of the avatar database that several operations
 * share. Every function takes the connection to use, writes its error into
 * ctx->err and returns a ks_rc. The caller decides: a read connection
 * (ks_db_reader) runs each statement on the server serving the call's reads
 * and, when that server fails, on another; the master's (ks_db_master) is
 * for writes and transactions, and never retried. */
#ifndef KS_API_STORE_H
#define KS_API_STORE_H

#include "api.h"
#include "paths.h"

#define KS_OUTFIT_MAX 64            /* items worn at once */
#define KS_LAYERS_PER_ITEM_MAX 8

typedef struct {
    long long id;
    char user_id[KS_USER_ID_MAX + 1];
    int image_server_id;
    unsigned version;
} ks_member_t;

/* An image server's weight, its share of new members, is 1..this. */
#define KS_IMAGE_SERVER_WEIGHT_MAX 1000

typedef struct {
    int id;
    char name[64];
    char internal_url[256];
    char public_url[256];
    char mode[16];               /* active | draining | down */
} ks_image_server_t;

typedef struct {
    int item_id, layer_no, z_order, x, y, width, height;
    char sha256[65];
} ks_layer_row_t;

ks_rc ks_store_begin(ks_api_ctx_t *ctx, MYSQL *conn);
ks_rc ks_store_commit(ks_api_ctx_t *ctx, MYSQL *conn);
void ks_store_rollback(ks_api_ctx_t *ctx, MYSQL *conn);

/* One write transaction: fn(ctx, conn, arg) runs between START TRANSACTION
 * and COMMIT, and everything rolls back when it (or the COMMIT) fails. The
 * whole is run again (up to KS_BUSY_ATTEMPTS times in all) while the
 * database gives it up: KS_BUSY (a deadlock, a lock wait) means it changed
 * nothing, so fn must not change anything outside the database before it
 * can fail with KS_BUSY, and must set its results afresh on each run.
 * Returns KS_OK once committed, else the error (message in ctx->err). */
#define KS_BUSY_ATTEMPTS 3
typedef ks_rc (*ks_store_txn_fn)(ks_api_ctx_t *ctx, MYSQL *conn, void *arg);
ks_rc ks_store_txn(ks_api_ctx_t *ctx, MYSQL *conn, ks_store_txn_fn fn, void *arg);

/* Runs sql (a ks_buf_t built with ks_buf_addf and ks_sql_str) and frees it. */
ks_rc ks_store_run(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result);

/* Runs sql, which selects one number (a COUNT, an id), into *value: 0 when
 * there is no row or the number is NULL. */
ks_rc ks_store_int(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, long long *value);

/* The rows of render_queue and of image_deletions (the queues every API
 * server works), read on a read connection of ctx->db in one statement: a
 * count over each table's smallest index, cheap while the queues are short
 * (GET /metrics, api_metrics.c). */
ks_rc ks_store_queue_depths(ks_api_ctx_t *ctx, long long *render_queue, long long *deletions);

/* The member user_id (KS_NOTFOUND when there is none); for_update locks its
 * row until the transaction ends. */
ks_rc ks_store_member(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id, int for_update,
                      ks_member_t *out);

/* The member of internal id (KS_NOTFOUND when there is none). */
ks_rc ks_store_member_by_id(ks_api_ctx_t *ctx, MYSQL *conn, long long id, int for_update,
                            ks_member_t *out);

ks_rc ks_store_image_server(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_image_server_t *out);

/* The image server called name (KS_NOTFOUND when there is none). */
ks_rc ks_store_image_server_named(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                  ks_image_server_t *out);

/* KS_UNAVAILABLE (with the message) when server is marked down. */
ks_rc ks_store_server_usable(ks_api_ctx_t *ctx, const ks_image_server_t *server);

/* The image server for a new member, read without a lock (the rows of
 * image_servers, on conn: the master's, so a mode set a moment ago counts):
 * the one named, which must be active (KS_NOTFOUND, KS_CONFLICT; and
 * KS_UNAVAILABLE when it is in exclude), or the one the process's picker
 * chooses (assign.c) among the active servers not in exclude[0..n_exclude),
 * the ids of servers this call already found dead (KS_UNAVAILABLE when none
 * is left). Counts a creation in flight on it: whatever happens next, end
 * it with ks_store_assigned. */
ks_rc ks_store_pick_image_server(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                 const int *exclude, int n_exclude, ks_image_server_t *out);

/* Ends the creation ks_store_pick_image_server counted on server_id. When
 * created (its transaction committed), adds it to the server's member_count
 * at once, in a statement of its own on conn (outside any transaction: the
 * member's INSERT took no lock on the server's row, so this waits for no
 * compose); when that fails the member stays counted in the picker and
 * ks_store_member_counts_flush adds it later. ctx->err is left as it was. */
void ks_store_assigned(ks_api_ctx_t *ctx, MYSQL *conn, int server_id, int created);

/* Adds to member_count the members the process's picker still holds (an
 * addition that failed); the renderer calls it each round, and at exit.
 * Returns the first failure (the rest are kept for the next round). */
ks_rc ks_store_member_counts_flush(ks_api_ctx_t *ctx, MYSQL *conn);

/* Every active image server, at most max. */
ks_rc ks_store_active_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out,
                                    int max, int *count);

/* The layers a member wears, in drawing order (z, item, layer). *layers is
 * allocated in the request's arena. */
ks_rc ks_store_worn_layers(struct soap *soap, MYSQL *conn, long long member_id,
                           ks_layer_row_t **layers, int *count);

/* The layers of the items ids[0..count), in drawing order (z, item, layer),
 * in the request's arena. */
ks_rc ks_store_item_layers(struct soap *soap, MYSQL *conn, const int *ids, int count,
                           ks_layer_row_t **layers, int *layer_count);

/* The canonical PNG of a layer; *png is malloc'd (owned by the caller).
 * With sha256 (else NULL), the art of that sha256: the current one, or old
 * art replaced since, from item_layer_archive (*archived, when not NULL,
 * says which). */
ks_rc ks_store_layer_png(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int layer_no,
                         const char *sha256, unsigned char **png, size_t *size, int *archived);

/* "<public_url>/<path>" in the request's arena (NULL when out of memory). */
char *ks_store_public_url(struct soap *soap, const ks_image_server_t *server, const char *path);

/* Fills avatar (allocated in the arena) for member on server: its version,
 * the URLs of that version's image and thumbnail and what it wears, read in
 * one statement (so they agree; the version may be newer than member's).
 * KS_NOTFOUND when the member is gone. */
ks_rc ks_store_avatar(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                      const ks_image_server_t *server, struct ks__Avatar **avatar);

/* The member user_id, read from a replica, or from the master when the
 * replica does not know it (yet). *conn is set to the connection that
 * answered, for the reads that follow. */
ks_rc ks_store_member_fresh(ks_api_ctx_t *ctx, MYSQL **conn, const char *user_id,
                            ks_member_t *out);

/* Every image server (at most KS_IMAGE_SERVERS_MAX), and the one of id among them. */
ks_rc ks_store_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out, int *count);
const ks_image_server_t *ks_store_find_server(const ks_image_server_t *servers, int count, int id);

#endif
