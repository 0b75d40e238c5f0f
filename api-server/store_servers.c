/* store_servers.c: SQL of the image servers' settings, registrations,
 * heartbeats, member counts and replicas (store_servers.h). */
#include <stdio.h>
#include <string.h>
#include "store_servers.h"

/* The SET clause that gives a server the API marked down for its silence
 * back the mode it had (in the same statement that records a sign of life):
 * mode before the flags, as MariaDB assigns left to right. */
#define KS_NODE_REVIVE                                                                  \
    "mode = IF(down_by_silence, COALESCE(silenced_mode, 'active'), mode),"              \
    " down_by_silence = 0, silenced_mode = NULL"

ks_rc ks_store_image_server_list(struct soap *soap, MYSQL *conn, int limit,
                                 ks_image_server_t **servers, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, KS_SERVER_SELECT " ORDER BY id");
    if (limit > 0)
        ks_buf_addf(&sql, " LIMIT %d", limit);
    return ks_store_rows_arena(soap, conn, &sql, KS_SERVER_COLS, sizeof **servers,
                               (void **)servers, count);
}

/* Ends sql, an UPDATE of image_servers, with the WHERE of server name, and runs it. */
static ks_rc update_named(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const char *name)
{
    ks_buf_addf(sql, " WHERE name = ");
    ks_sql_str(sql, conn, name);
    return ks_store_run(ctx, conn, sql, NULL);
}

ks_rc ks_store_server_set(ks_api_ctx_t *ctx, MYSQL *conn, const char *name, const char *mode,
                          int weight)
{
    ks_buf_t sql;

    /* what is NULL (0 for weight) stays as it is; a mode set by hand
     * forgets what the silence sweep had set */
    ks_buf_init(&sql, KS_STORE_SQL_MAX);
    ks_store_sqlf(&sql, conn, "UPDATE image_servers SET mode = COALESCE(%s, mode),"
                  " down_by_silence = IF(%d, 0, down_by_silence),"
                  " silenced_mode = IF(%d, NULL, silenced_mode), weight = IF(%d, %d, weight)",
                  mode, mode != NULL, mode != NULL, weight != 0, weight);
    return update_named(ctx, conn, &sql, name);
}

ks_rc ks_store_server_urls_differ(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                  const char *internal_url, const char *public_url, int *differ)
{
    long long count;
    ks_rc rc = ks_store_intf(ctx, conn, &count, "SELECT COUNT(*) FROM image_servers WHERE"
                             " name = %s AND (internal_url <> %s OR public_url <> %s)", name,
                             internal_url, public_url);

    *differ = rc == KS_OK && count != 0;
    return rc;
}

ks_rc ks_store_server_register(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                               const char *internal_url, const char *public_url, int weight)
{
    /* a registered server keeps its URLs (the caller checked them) */
    return ks_store_execf(ctx, conn, "INSERT INTO image_servers (name, internal_url, public_url,"
                          " weight, last_heartbeat) VALUES (%s, %s, %s, %d, NOW(3))"
                          " ON DUPLICATE KEY UPDATE last_heartbeat = NOW(3), " KS_NODE_REVIVE,
                          name, internal_url, public_url, weight);
}

ks_rc ks_store_server_upsert(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                             const char *internal_url, const char *public_url, int weight)
{
    return ks_store_execf(ctx, conn, "INSERT INTO image_servers (name, internal_url, public_url,"
                          " weight) VALUES (%s, %s, %s, %d) ON DUPLICATE KEY UPDATE"
                          " internal_url = VALUES(internal_url), public_url = VALUES(public_url)",
                          name, internal_url, public_url, weight);
}

/* A heartbeat's transaction (ks_store_txn): what it asks and what it read. */
typedef struct {
    const char *name;
    const ks_server_beat_t *beat;
    int revived;
    ks_image_server_t server;
} heartbeat_t;

static const ks_col_t silence_cols[] = KS_COLUMNS(heartbeat_t, revived);

static ks_rc heartbeat(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    heartbeat_t *h = arg;
    ks_buf_t sql;
    ks_rc rc;

    h->revived = 0;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT down_by_silence FROM image_servers WHERE name = ");
    ks_sql_str(&sql, conn, h->name);
    ks_buf_addf(&sql, " FOR UPDATE");
    if ((rc = ks_store_one(ctx, conn, &sql, KS_COLS(silence_cols), h)) != KS_OK)
        return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "image server \"%s\" is not "
                                          "registered", h->name)
                                 : rc;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE image_servers SET last_heartbeat = NOW(3), items_stored = %lld,"
                     " avatars_composed = %lld, free_disk_bytes = %lld, " KS_NODE_REVIVE,
                h->beat->items_stored, h->beat->avatars_composed, h->beat->free_disk_bytes);
    if ((rc = update_named(ctx, conn, &sql, h->name)) != KS_OK)
        return rc;
    return ks_store_image_server_named(ctx, conn, h->name, &h->server);
}

ks_rc ks_store_server_heartbeat(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                const ks_server_beat_t *beat, int *revived, char *mode)
{
    heartbeat_t h = {.name = name, .beat = beat};
    ks_rc rc;

    if ((rc = ks_store_txn(ctx, conn, heartbeat, &h)) != KS_OK)
        return rc;
    *revived = h.revived;
    snprintf(mode, 16, "%s", h.server.mode);
    return KS_OK;
}

/* ---- members and album photos on a server --------------------------------------------- */

/* Runs "SELECT aggregate FROM members" of the members on server_id. */
static ks_rc server_members(ks_api_ctx_t *ctx, MYSQL *conn, int server_id, const char *aggregate,
                            long long *value)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT %s FROM members WHERE image_server_id = %d", aggregate, server_id);
    return ks_store_int(ctx, conn, &sql, value);
}

ks_rc ks_store_server_first_member(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   long long *member_id)
{
    return server_members(ctx, conn, server_id, "MIN(id)", member_id);
}

ks_rc ks_store_server_member_total(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   long long *count)
{
    return server_members(ctx, conn, server_id, "COUNT(*)", count);
}

/* Keeps row id of table (members, album_photos) on server_id. */
static ks_rc set_server_of(ks_api_ctx_t *ctx, MYSQL *conn, const char *table, long long id,
                           int server_id)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE %s SET image_server_id = %d WHERE id = %lld", table, server_id, id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_member_set_server(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 int server_id)
{
    return set_server_of(ctx, conn, "members", member_id, server_id);
}

ks_rc ks_store_servers_count_move(ks_api_ctx_t *ctx, MYSQL *conn, int from_id, int to_id)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE image_servers SET member_count = IF(id = %d, member_count + 1,"
                " GREATEST(member_count, 1) - 1) WHERE id IN (%d, %d)", to_id, to_id, from_id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

static const ks_col_t photo_id_cols[] = {{KS_COL_UINT, 0, sizeof(unsigned)}};

ks_rc ks_store_server_photo_page(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 int server_id, unsigned after, unsigned *ids, int max,
                                 int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id FROM album_photos WHERE member_id = %lld AND image_server_id = %d"
                " AND id > %u ORDER BY id LIMIT %d", member_id, server_id, after, max);
    return ks_store_rows(ctx, conn, &sql, KS_COLS(photo_id_cols), ids, sizeof *ids, max, count);
}

ks_rc ks_store_server_photo_total(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                  int server_id, long long *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM album_photos WHERE member_id = %lld AND"
                " image_server_id = %d", member_id, server_id);
    return ks_store_int(ctx, conn, &sql, count);
}

ks_rc ks_store_photo_art_missing(ks_api_ctx_t *ctx, MYSQL *conn, unsigned photo_id,
                                 long long *missing)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT (SELECT COUNT(*) FROM album_photo_layers p WHERE p.photo_id = %u"
                " AND NOT EXISTS (SELECT 1 FROM item_layers l WHERE l.item_id = p.item_id"
                " AND l.layer_no = p.layer_no AND l.sha256 = p.sha256) AND NOT EXISTS"
                " (SELECT 1 FROM item_layer_archive l WHERE l.item_id = p.item_id"
                " AND l.layer_no = p.layer_no AND l.sha256 = p.sha256)) + (SELECT COUNT(*)"
                " FROM album_photos a JOIN scenes s ON s.id = a.scene_id WHERE a.id = %u"
                " AND s.sha256 <> a.scene_sha256)", photo_id, photo_id);
    return ks_store_int(ctx, conn, &sql, missing);
}

ks_rc ks_store_photo_set_server(ks_api_ctx_t *ctx, MYSQL *conn, unsigned photo_id,
                                int server_id)
{
    return set_server_of(ctx, conn, "album_photos", photo_id, server_id);
}

/* ---- item_replicas -------------------------------------------------------------------- */

ks_rc ks_store_replica_record(ks_api_ctx_t *ctx, MYSQL *conn, int server_id, int item_id,
                              int layer_no, const char *sha256, const char *error)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO item_replicas (image_server_id, item_id, layer_no, sha256,"
                     " state, last_error) VALUES (%d, %d, %d, ", server_id, item_id, layer_no);
    ks_sql_str(&sql, conn, sha256);
    ks_buf_addf(&sql, ", '%s', ", error ? "failed" : "ok");
    ks_sql_str(&sql, conn, error);
    ks_buf_addf(&sql, ") ON DUPLICATE KEY UPDATE sha256 = VALUES(sha256), state = VALUES(state),"
                     " attempts = attempts + 1, last_error = VALUES(last_error)");
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_replicas_forget(ks_api_ctx_t *ctx, MYSQL *conn, int item_id)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM item_replicas WHERE item_id = %d", item_id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

static const ks_col_t replica_cols[] = KS_COLUMNS(ks_replica_row_t, server_id, item_id, layer_no,
    attempts, sha256);

ks_rc ks_store_replicas_due(ks_api_ctx_t *ctx, MYSQL *conn, int retry_s, int backoff_max,
                            ks_replica_row_t *rows, int max, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT r.image_server_id, r.item_id, r.layer_no, r.attempts, l.sha256"
                     " FROM item_replicas r"
                     " JOIN item_layers l ON l.item_id = r.item_id AND l.layer_no = r.layer_no"
                     " JOIN image_servers s ON s.id = r.image_server_id AND s.mode = 'active'"
                     " WHERE r.state = 'failed' AND r.updated_at <= NOW(3) - INTERVAL"
                     " (%d * LEAST(r.attempts, %d)) SECOND"
                     " ORDER BY r.updated_at LIMIT %d", retry_s, backoff_max, max);
    return ks_store_rows(ctx, conn, &sql, KS_COLS(replica_cols), rows, sizeof *rows, max, count);
}

ks_rc ks_store_replica_retried(ks_api_ctx_t *ctx, MYSQL *conn, const ks_replica_row_t *row,
                               const char *error)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "UPDATE item_replicas SET sha256 = ");
    ks_sql_str(&sql, conn, row->sha256);
    ks_buf_addf(&sql, ", state = '%s', attempts = attempts + 1, last_error = LEFT(",
                error ? "failed" : "ok");
    ks_sql_str(&sql, conn, error);
    ks_buf_addf(&sql, ", 255) WHERE image_server_id = %d AND item_id = %d AND layer_no = %d",
                row->server_id, row->item_id, row->layer_no);
    return ks_store_run(ctx, conn, &sql, NULL);
}

/* ---- silent servers ------------------------------------------------------------------- */

/* Appends the condition of a server silent for timeout_s seconds. */
static void silent_where(ks_buf_t *sql, int timeout_s)
{
    ks_buf_addf(sql, " WHERE mode IN ('active', 'draining') AND last_heartbeat < NOW(3)"
                " - INTERVAL %d SECOND", timeout_s);
}

static const ks_col_t name_cols[] = KS_COLUMNS(ks_server_name_t, name);

ks_rc ks_store_servers_silent(ks_api_ctx_t *ctx, MYSQL *conn, int timeout_s,
                              ks_server_name_t *names, int max, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT name FROM image_servers");
    silent_where(&sql, timeout_s);
    ks_buf_addf(&sql, " LIMIT %d", max);
    return ks_store_rows(ctx, conn, &sql, KS_COLS(name_cols), names, sizeof *names, max, count);
}

ks_rc ks_store_servers_mark_silent(ks_api_ctx_t *ctx, MYSQL *conn, int timeout_s)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE image_servers SET silenced_mode = mode, mode = 'down',"
                " down_by_silence = 1");
    silent_where(&sql, timeout_s);
    return ks_store_run(ctx, conn, &sql, NULL);
}

/* ---- PurgeImageServer ---------------------------------------------------------------- */

/* DELETE FROM table WHERE image_server_id = id, counting the rows in *rows. */
static ks_rc delete_of_server(ks_api_ctx_t *ctx, MYSQL *conn, const char *table, int id,
                              int *rows)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM %s WHERE image_server_id = %d", table, id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *rows = (int)mysql_affected_rows(conn);
    return KS_OK;
}

/* ks_store_server_purge's transaction (ks_store_txn). */
static ks_rc purge_server(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    ks_server_purge_t *purge = arg;
    const char *name = purge->name;
    ks_image_server_t server;
    long long members, photos;
    ks_buf_t sql;
    ks_rc rc;

    purge->replicas = purge->deletions = 0;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, KS_SERVER_SELECT " WHERE name = ");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, " FOR UPDATE");
    if ((rc = ks_store_one(ctx, conn, &sql, KS_SERVER_COLS, &server)) != KS_OK)
        return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "image server \"%s\" not found",
                                          name) : rc;
    if (strcmp(server.mode, "active") == 0)
        return ks_err(&ctx->err, KS_CONFLICT, "image server \"%s\" is active: set it draining or"
                      " down (and move its members away) before purging it", name);
    /* locking reads: a member or photo put there meanwhile is waited for */
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM members WHERE image_server_id = %d LOCK IN SHARE MODE",
                server.id);
    if ((rc = ks_store_int(ctx, conn, &sql, &members)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM album_photos WHERE image_server_id = %d"
                " LOCK IN SHARE MODE", server.id);
    if ((rc = ks_store_int(ctx, conn, &sql, &photos)) != KS_OK)
        return rc;
    if (members > 0 || photos > 0)
        return ks_err(&ctx->err, KS_CONFLICT, "image server \"%s\" still holds %lld members and"
                      " %lld album photos: move them away first (MoveAvatars)", name, members,
                      photos);
    if ((rc = delete_of_server(ctx, conn, "item_replicas", server.id,
                               &purge->replicas)) != KS_OK ||
        (rc = delete_of_server(ctx, conn, "image_deletions", server.id,
                               &purge->deletions)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM image_servers WHERE id = %d", server.id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_server_purge(ks_api_ctx_t *ctx, MYSQL *conn, ks_server_purge_t *purge)
{
    return ks_store_txn(ctx, conn, purge_server, purge);
}
