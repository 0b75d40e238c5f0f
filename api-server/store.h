/* store.h: reads and writes of the avatar database that several operations
 * share. Every function takes the connection to use, writes its error into
 * ctx->err and returns a ks_rc. The caller decides: a read connection
 * (ks_db_reader) runs each statement on the server serving the call's reads
 * and, when that server fails, on another; the master's (ks_db_master) is
 * for writes and transactions, and never retried. */
#ifndef KS_API_STORE_H
#define KS_API_STORE_H

#include <stddef.h>
#include "api.h"
#include "paths.h"

#define KS_OUTFIT_MAX 64            /* items worn at once */
#define KS_LAYERS_PER_ITEM_MAX 8
#define KS_LAYER_ROLE_MAX 16        /* bytes of a layer's role */
#define KS_HIDES_PER_ITEM_MAX 16    /* hide rules of an item */

typedef struct {
    long long id;
    char user_id[KS_USER_ID_MAX + 1];
    int image_server_id;
    unsigned version;
} ks_member_t;

/* An image server's weight, its share of new members, is 1..this. */
#define KS_IMAGE_SERVER_WEIGHT_MAX 1000



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

/* ---- Mapping rows -------------------------------------------------------------
 * The one way rows become C values, in the style of the config tables: each
 * column of the SELECT, in order, names the field it fills (its type, offset
 * and size). A NULL column leaves 0 or "". String fields are char arrays and
 * are cut to fit. */
typedef enum {
    KS_COL_INT, KS_COL_UINT, KS_COL_LLONG, KS_COL_ULLONG, KS_COL_DOUBLE, KS_COL_STR
} ks_col_type_t;

typedef struct {
    ks_col_type_t type;
    size_t offset, size;
} ks_col_t;

/* A table's initializer, its columns in SELECT order, each typed by its
 * field (int, unsigned, long long, unsigned long long, double, or a char
 * array for a string; any other type does not compile):
 *     static const ks_col_t client_cols[] =
 *         KS_COLUMNS(ks_client_row_t, secret_hash, role, version);
 * Up to 16 columns. KS_COLS(table) passes a table and its length. */
#define KS_COLUMNS(st, ...) {KS_COL_CAT_(KS_COL_EACH_, KS_COL_COUNT_(__VA_ARGS__))(st, __VA_ARGS__)}
#define KS_COLS(cols) (cols), (int)(sizeof(cols) / sizeof((cols)[0]))

#define KS_COL_TYPE_(x)                                                                      \
    _Generic((x), int: KS_COL_INT, unsigned: KS_COL_UINT, long long: KS_COL_LLONG,          \
             unsigned long long: KS_COL_ULLONG, double: KS_COL_DOUBLE, char *: KS_COL_STR)
#define KS_COL_(st, f) {KS_COL_TYPE_(((st *)0)->f), offsetof(st, f), sizeof(((st *)0)->f)}
#define KS_COL_CAT_(a, n) KS_COL_CAT2_(a, n)
#define KS_COL_CAT2_(a, n) a##n
#define KS_COL_COUNT_(...) \
    KS_COL_NTH_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define KS_COL_NTH_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, \
                    ...) n
/* KS_COL_EACH_n(st, f1..fn): the columns of fields f1..fn of st */
#define KS_COL_EACH_1(st, f) KS_COL_(st, f)
#define KS_COL_EACH_2(st, f, ...) KS_COL_(st, f), KS_COL_EACH_1(st, __VA_ARGS__)
#define KS_COL_EACH_3(st, f, ...) KS_COL_(st, f), KS_COL_EACH_2(st, __VA_ARGS__)
#define KS_COL_EACH_4(st, f, ...) KS_COL_(st, f), KS_COL_EACH_3(st, __VA_ARGS__)
#define KS_COL_EACH_5(st, f, ...) KS_COL_(st, f), KS_COL_EACH_4(st, __VA_ARGS__)
#define KS_COL_EACH_6(st, f, ...) KS_COL_(st, f), KS_COL_EACH_5(st, __VA_ARGS__)
#define KS_COL_EACH_7(st, f, ...) KS_COL_(st, f), KS_COL_EACH_6(st, __VA_ARGS__)
#define KS_COL_EACH_8(st, f, ...) KS_COL_(st, f), KS_COL_EACH_7(st, __VA_ARGS__)
#define KS_COL_EACH_9(st, f, ...) KS_COL_(st, f), KS_COL_EACH_8(st, __VA_ARGS__)
#define KS_COL_EACH_10(st, f, ...) KS_COL_(st, f), KS_COL_EACH_9(st, __VA_ARGS__)
#define KS_COL_EACH_11(st, f, ...) KS_COL_(st, f), KS_COL_EACH_10(st, __VA_ARGS__)
#define KS_COL_EACH_12(st, f, ...) KS_COL_(st, f), KS_COL_EACH_11(st, __VA_ARGS__)
#define KS_COL_EACH_13(st, f, ...) KS_COL_(st, f), KS_COL_EACH_12(st, __VA_ARGS__)
#define KS_COL_EACH_14(st, f, ...) KS_COL_(st, f), KS_COL_EACH_13(st, __VA_ARGS__)
#define KS_COL_EACH_15(st, f, ...) KS_COL_(st, f), KS_COL_EACH_14(st, __VA_ARGS__)
#define KS_COL_EACH_16(st, f, ...) KS_COL_(st, f), KS_COL_EACH_15(st, __VA_ARGS__)

/* An image_servers row. The figures a server last reported are -1 while it
 * has reported none (NULL). */
typedef struct {
    int id;
    char name[65];
    char internal_url[256];
    char public_url[256];
    char mode[16];               /* active | draining | down */
    int weight, member_count;
    int down_by_silence;         /* 1: the API marked it down for its silence */
    long long last_heartbeat;    /* Unix time */
    long long free_disk_bytes, items_stored, avatars_composed;
} ks_image_server_t;

/* The one way image_servers rows are read: KS_SERVER_SELECT " WHERE ..."
 * mapped with KS_SERVER_COLS (ks_store_one, ks_store_rows...). */
#define KS_SERVER_SELECT                                                                  \
    "SELECT id, name, internal_url, public_url, mode, weight, member_count,"              \
    " down_by_silence, IFNULL(UNIX_TIMESTAMP(last_heartbeat), -1),"                       \
    " IFNULL(free_disk_bytes, -1), IFNULL(items_stored, -1), IFNULL(avatars_composed, -1)" \
    " FROM image_servers"
extern const ks_col_t ks_store_server_cols[12];
#define KS_SERVER_COLS KS_COLS(ks_store_server_cols)

/* An item_layers row without its PNG, read the one way: KS_LAYER_SELECT
 * " FROM item_layers l ..." mapped with KS_LAYER_COLS. A worn layer (of
 * outfit o) also selects KS_LAYER_TINT, mapped with KS_WORN_LAYER_COLS. */
typedef struct {
    int item_id, layer_no, z_order, x, y, width, height;
    char sha256[65];
    int tintable;                /* recoloured when its item is worn with a colour */
    char role[KS_LAYER_ROLE_MAX + 1];   /* what hide rules name; "" for none */
    int delay_ms;                /* an animated layer's frame: its delay; 0 when still */
    char tint[8];                /* "#RRGGBB" it is drawn with, or "" (as drawn) */
} ks_layer_row_t;
#define KS_LAYER_SELECT "SELECT l.item_id, l.layer_no, l.z_order, l.x, l.y, l.width, l.height," \
                        " l.sha256, l.tintable, l.role, l.delay_ms"
#define KS_LAYER_TINT "IF(l.tintable AND o.tint IS NOT NULL, o.tint, '')"
extern const ks_col_t ks_store_layer_cols[12];
#define KS_LAYER_COLS ks_store_layer_cols, 11
#define KS_WORN_LAYER_COLS ks_store_layer_cols, 12

/* Animated layers (sql/migrations/012_item_frames.sql): frame 0 of a layer
 * is its own row, frame f > 0 of layer L the row of layer_no
 * KS_FRAME_LAYER_NO(f, L), and each row of an animated layer carries its
 * delay. */
#define KS_FRAME_STEP 1000
#define KS_FRAME_LAYER_NO(frame, layer) (KS_FRAME_STEP * (frame) + (layer))
#define KS_FRAMES_MAX 64             /* of a layer, and of an avatar (the image servers' limit) */
#define KS_ITEM_FRAMES_MAX 64        /* frame rows (frames after the first) of an item */
#define KS_ITEM_ROWS_MAX (KS_LAYERS_PER_ITEM_MAX + KS_ITEM_FRAMES_MAX)
#define KS_FRAME_DELAY_MIN 20
#define KS_FRAME_DELAY_MAX 65535
#define KS_FRAME_DELAY_DEFAULT 100
#define KS_ANIM_PIXELS_MAX (16u << 20)   /* frames x canvas pixels (the image servers' limit) */
/* SQL: the condition that layer l (of item_layers) is shown while the items
 * of worn (an SQL list or subquery of item ids) are worn: no other of them
 * has a hide rule (item_hides) for its item's category and its role, or for
 * the whole category. */
#define KS_SQL_LAYER_SHOWN(worn)                                                            \
    "NOT EXISTS (SELECT 1 FROM item_hides h JOIN items hi ON hi.id = l.item_id"            \
    " WHERE h.item_id IN (" worn ") AND h.item_id <> l.item_id"                            \
    " AND h.category_id = hi.category_id AND (h.role IS NULL OR h.role = l.role))"
/* SQL: 1 when the item of id `item` (an SQL expression, NULL allowed), worn
 * by member m (members m in the query), shows frames: a member wearing one
 * has an APNG (ks_avatar_anim_path). Frames hidden by a hide rule of
 * another worn item, as their layer is, do not count. A range of
 * item_layers' primary key; 1000 is KS_FRAME_STEP. */
#define KS_SQL_HAS_FRAMES(item)                                                             \
    "EXISTS (SELECT 1 FROM item_layers l WHERE l.item_id = " item                          \
    " AND l.layer_no >= 1000 AND "                                                         \
    KS_SQL_LAYER_SHOWN("SELECT ho.item_id FROM outfit ho WHERE ho.member_id = m.id") ")"
/* Appends KS_SQL_LAYER_SHOWN(worn) to sql. */
void ks_store_add_layer_shown(ks_buf_t *sql, const char *worn);

/* Fills the fields of out from row by cols. */
void ks_store_map_row(MYSQL_ROW row, const ks_col_t *cols, int ncols, void *out);

/* Runs sql and maps its first row into *out. KS_NOTFOUND (message "no such
 * row": callers say what was missing) when there is none. */
ks_rc ks_store_one(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const ks_col_t *cols,
                   int ncols, void *out);

/* Runs sql and maps its rows, at most max, into rows (an array of max
 * elements of elem bytes, zeroed first); *count is how many. */
ks_rc ks_store_rows(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const ks_col_t *cols,
                    int ncols, void *rows, size_t elem, int max, int *count);

/* The same into an array allocated in the request's arena (as many rows as
 * the statement returns, plus a zeroed one, so never NULL on KS_OK). */
ks_rc ks_store_rows_arena(struct soap *soap, MYSQL *conn, ks_buf_t *sql, const ks_col_t *cols,
                          int ncols, size_t elem, void **rows, int *count);

/* Runs sql and calls fn(row, lengths, arg) on each row, in order, until it
 * returns other than KS_OK (which is then returned): for rows that build
 * more than a flat struct (gSOAP answers, blobs). */
typedef ks_rc (*ks_store_row_fn)(MYSQL_ROW row, unsigned long *lengths, void *arg);
ks_rc ks_store_each(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, ks_store_row_fn fn, void *arg);

/* Runs sql, which selects one number (a COUNT, an id), into *value: 0 when
 * there is no row or the number is NULL. */
ks_rc ks_store_int(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, long long *value);

/* ---- Building statements -----------------------------------------------------
 * The one escaping builder: printf's format, where every %s is a string
 * from outside, appended quoted and escaped (ks_sql_str; NULL is NULL).
 * SQL text is written in the format itself, never passed through %s. The
 * other conversions are numbers: %d %u %ld %lu %lld %llu %zu (no flags,
 * width or precision), and %% is a percent sign. A statement is at most
 * KS_STORE_SQL_MAX bytes (KS_TOOLARGE when it runs). */
#define KS_STORE_SQL_MAX 65536
void ks_store_sqlf(ks_buf_t *sql, MYSQL *conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Builds the statement of fmt (as ks_store_sqlf) and runs it: without a
 * result; into *value (as ks_store_int); its first row into out (as
 * ks_store_one). */
ks_rc ks_store_execf(ks_api_ctx_t *ctx, MYSQL *conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ks_rc ks_store_intf(ks_api_ctx_t *ctx, MYSQL *conn, long long *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ks_rc ks_store_onef(ks_api_ctx_t *ctx, MYSQL *conn, const ks_col_t *cols, int ncols,
                    void *out, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The rows of render_queue and of image_deletions (the queues every API
 * server works), read on a read connection of ctx->db in one statement: a
 * count over each table's smallest index, cheap while the queues are short
 * (GET /metrics, api_metrics.c). */
ks_rc ks_store_queue_depths(ks_api_ctx_t *ctx, long long *render_queue, long long *deletions);

/* The rows of members, items and categories (GetSystemStatus). */
typedef struct {
    long long members, items, categories;
} ks_store_counts_t;
ks_rc ks_store_counts(ks_api_ctx_t *ctx, MYSQL *conn, ks_store_counts_t *out);

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
 * addition that failed); the renderer calls it each round.
 * Returns the first failure (the rest are kept for the next round). */
ks_rc ks_store_member_counts_flush(ks_api_ctx_t *ctx, MYSQL *conn);

/* Every active image server, at most max. */
ks_rc ks_store_active_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out,
                                    int max, int *count);

/* The layers a member wears and shows (ks_store_add_layer_shown), with
 * their tints, in drawing order (z, item, layer). *layers is
 * allocated in the request's arena. The read locks the rows (shared) until
 * the transaction ends, and so reads the newest art: a compose never draws
 * art an UpdateItem still open is replacing, which then waits, and queues
 * the member (store_render.h). */
ks_rc ks_store_worn_layers(struct soap *soap, MYSQL *conn, long long member_id,
                           ks_layer_row_t **layers, int *count);

/* A colour an item is worn with: "#RRGGBB" (uppercase). */
typedef struct {
    int item_id;
    char tint[8];
} ks_item_tint_t;

/* The layers of the items ids[0..count) worn together, in drawing order (z,
 * item, layer), in the request's arena: without those their hide rules
 * hide, the tintable ones of items in tints[0..tint_count) tinted. */
ks_rc ks_store_item_layers(struct soap *soap, MYSQL *conn, const int *ids, int count,
                           const ks_item_tint_t *tints, int tint_count,
                           ks_layer_row_t **layers, int *layer_count);

/* Initialises sql with the SELECT of the art of layer item_id/layer_no:
 * columns current of item_layers, or with sha256 (else NULL) the row of
 * that sha256, from item_layers or else (columns archived) from
 * item_layer_archive. */
void ks_store_layer_art_sql(ks_buf_t *sql, MYSQL *conn, int item_id, int layer_no,
                            const char *sha256, const char *current, const char *archived);

/* The canonical PNG of a layer; *png is malloc'd (owned by the caller).
 * With sha256 (else NULL), the art of that sha256: the current one, or old
 * art replaced since, from item_layer_archive (*archived, when not NULL,
 * says which). */
ks_rc ks_store_layer_png(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int layer_no,
                         const char *sha256, unsigned char **png, size_t *size, int *archived);

/* The background of scene scene_id, which must still be the art of sha256
 * (KS_CONFLICT when it was replaced, KS_NOTFOUND when there is no such
 * scene); *png is malloc'd (owned by the caller). */
ks_rc ks_store_scene_png(ks_api_ctx_t *ctx, MYSQL *conn, int scene_id, const char *sha256,
                         unsigned char **png, size_t *size);

/* The colours tints[0..count) as the SOAP list (in the arena; *out_count
 * set): Avatar.wornColour and PreviewAvatar's. */
ks_rc ks_store_soap_colours(struct soap *soap, const ks_item_tint_t *tints, int count,
                            struct ks__ItemColour **out, int *out_count);

/* "<public_url>/<path>" in the request's arena (NULL when out of memory). */
char *ks_store_public_url(struct soap *soap, const ks_image_server_t *server, const char *path);

/* The public URL of the APNG of user_id's version on server (Avatar.animUrl),
 * in the request's arena; NULL when out of memory. */
char *ks_store_anim_url(struct soap *soap, const ks_image_server_t *server, const char *user_id,
                        unsigned version);

/* Fills avatar (allocated in the arena) for member on server: its version,
 * the URLs of that version's image and thumbnail (and APNG, when it wears
 * animated items) and what it wears, read in one statement (so they agree; the version may be newer than member's).
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
