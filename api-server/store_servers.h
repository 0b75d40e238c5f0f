/* store_servers.h: SQL of the image_servers table beyond the lookups every
 * operation shares (those are in store.h): the staff's list and settings,
 * the image servers' registrations and heartbeats, the member counts and
 * the rows a move between servers reassigns (members, album photos), and
 * item_replicas, where each server's copy of the item layers is recorded.
 * Functions write their error into ctx->err and return a ks_rc. */
#ifndef KS_API_STORE_SERVERS_H
#define KS_API_STORE_SERVERS_H

#include "store.h"

/* Every image server by id, at most limit (0: all), into *servers (the
 * request's arena, never NULL on KS_OK). */
ks_rc ks_store_image_server_list(struct soap *soap, MYSQL *conn, int limit,
                                 ks_image_server_t **servers, int *count);

/* The admin's word on server name: its mode (active | draining | down,
 * checked by the caller; NULL: kept), after which a heartbeat no longer
 * revives a server set down, and its weight (0: kept). A name with no row
 * changes nothing (KS_OK). */
ks_rc ks_store_server_set(ks_api_ctx_t *ctx, MYSQL *conn, const char *name, const char *mode,
                          int weight);

/* *differ is 1 when server name is registered at other URLs. */
ks_rc ks_store_server_urls_differ(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                  const char *internal_url, const char *public_url, int *differ);

/* Registers server name (a new one with weight), or records a registered
 * one's sign of life (its URLs and weight stay) and gives a server marked
 * down for its silence the mode it had. */
ks_rc ks_store_server_register(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                               const char *internal_url, const char *public_url, int weight);

/* Records image server name as the configuration names it (an image_server
 * line, or an admin's change of one): a new one with weight, or a
 * registered one given these URLs (its weight stays). */
ks_rc ks_store_server_upsert(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                             const char *internal_url, const char *public_url, int weight);

/* What an image server reports in a heartbeat. */
typedef struct {
    long long items_stored, avatars_composed, free_disk_bytes;
} ks_server_beat_t;

/* Records beat for server name in one transaction (ks_store_txn), reviving
 * it as ks_store_server_register does; *revived says whether it was down
 * for its silence, mode (16 bytes) is its mode now. KS_NOTFOUND when the
 * server is not registered. */
ks_rc ks_store_server_heartbeat(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                const ks_server_beat_t *beat, int *revived, char *mode);

/* ---- members and album photos on a server (MoveAvatars) ---------------------------- */

/* The smallest id of a member on server_id (0: none), and how many there are. */
ks_rc ks_store_server_first_member(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   long long *member_id);
ks_rc ks_store_server_member_total(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   long long *count);

/* Assigns member member_id to server_id, and moves one member of the count
 * of from_id to that of to_id. */
ks_rc ks_store_member_set_server(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 int server_id);
ks_rc ks_store_servers_count_move(ks_api_ctx_t *ctx, MYSQL *conn, int from_id, int to_id);

/* The ids of member_id's album photos kept on server_id above after, by
 * id, at most max, into ids; how many photos are there in all. */
ks_rc ks_store_server_photo_page(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 int server_id, unsigned after, unsigned *ids, int max,
                                 int *count);
ks_rc ks_store_server_photo_total(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                  int server_id, long long *count);

/* *missing counts the art album photo photo_id was drawn with that the
 * database no longer has (layers in neither item_layers nor the archive, a
 * scene changed since): 0 when it can be composed again. */
ks_rc ks_store_photo_art_missing(ks_api_ctx_t *ctx, MYSQL *conn, unsigned photo_id,
                                 long long *missing);

/* Album photo photo_id is kept on server_id. */
ks_rc ks_store_photo_set_server(ks_api_ctx_t *ctx, MYSQL *conn, unsigned photo_id,
                                int server_id);

/* ---- item_replicas ---------------------------------------------------------------- */

/* Records the push of layer item_id/layer_no at sha256 to server_id: done
 * (error NULL) or failed with error. */
ks_rc ks_store_replica_record(ks_api_ctx_t *ctx, MYSQL *conn, int server_id, int item_id,
                              int layer_no, const char *sha256, const char *error);

/* Forgets every push of item_id's layers (its art was replaced). */
ks_rc ks_store_replicas_forget(ks_api_ctx_t *ctx, MYSQL *conn, int item_id);


/* A failed push to retry (replicate.c), with the layer's current sha256. */
typedef struct {
    int server_id, item_id, layer_no;
    unsigned attempts;
    char sha256[65];
} ks_replica_row_t;

/* The failed pushes to active servers whose wait (retry_s times their
 * attempts, at most backoff_max times) is over, oldest first, at most max. */
ks_rc ks_store_replicas_due(ks_api_ctx_t *ctx, MYSQL *conn, int retry_s, int backoff_max,
                            ks_replica_row_t *rows, int max, int *count);

/* Records the outcome of a retried push: done (error NULL) or failed. A
 * row forgotten meanwhile (new art) stays forgotten. */
ks_rc ks_store_replica_retried(ks_api_ctx_t *ctx, MYSQL *conn, const ks_replica_row_t *row,
                               const char *error);

/* ---- silent servers (node_health.c) -------------------------------------------------- */

typedef struct {
    char name[65];
} ks_server_name_t;

/* The active or draining servers whose last heartbeat is older than
 * timeout_s seconds (servers that never beat are not judged), at most max. */
ks_rc ks_store_servers_silent(ks_api_ctx_t *ctx, MYSQL *conn, int timeout_s,
                              ks_server_name_t *names, int max, int *count);

/* Marks those servers down for their silence, keeping the mode they had. */
ks_rc ks_store_servers_mark_silent(ks_api_ctx_t *ctx, MYSQL *conn, int timeout_s);

/* ---- PurgeImageServer ---------------------------------------------------------------- */

/* A purge: the server it removes, and what it removed besides its row. */
typedef struct {
    const char *name;
    int replicas, deletions;       /* item_replicas, image_deletions rows */
} ks_server_purge_t;

/* Removes image server purge->name with its item_replicas and
 * image_deletions rows, in a transaction of its own (ks_store_txn), and
 * counts those rows in *purge. KS_NOTFOUND for an unknown name;
 * KS_CONFLICT, saying why, when it is active or still holds members or
 * album photos. */
ks_rc ks_store_server_purge(ks_api_ctx_t *ctx, MYSQL *conn, ks_server_purge_t *purge);

#endif
