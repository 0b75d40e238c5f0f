/* store.c: the shared reads and writes of store.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "assign.h"
#include "log.h"
#include "store.h"

ks_rc ks_store_run(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, MYSQL_RES **result)
{
    ks_rc rc = ks_sql_run(sql, ctx->db, conn, result, &ctx->err);
    ks_buf_free(sql);
    return rc;
}

static void vsqlf(ks_buf_t *sql, MYSQL *conn, const char *fmt, va_list ap)
{
    while (*fmt) {
        const char *pct = strchr(fmt, '%');
        size_t size;

        if (!pct) {
            ks_buf_append(sql, fmt, strlen(fmt));
            return;
        }
        ks_buf_append(sql, fmt, (size_t)(pct - fmt));
        size = strspn(pct + 1, "lz");            /* the conversion's size */
        fmt = pct + 2 + size;
        switch (pct[1 + size]) {
        case '%':
            ks_buf_append(sql, "%", 1);
            continue;
        case 's':
            ks_sql_str(sql, conn, va_arg(ap, const char *));
            continue;
        case 'd':
            if (size == 0)
                ks_buf_addf(sql, "%d", va_arg(ap, int));
            else if (size == 1 && pct[1] == 'l')
                ks_buf_addf(sql, "%ld", va_arg(ap, long));
            else if (size == 2 && pct[1] == 'l' && pct[2] == 'l')
                ks_buf_addf(sql, "%lld", va_arg(ap, long long));
            else
                break;
            continue;
        case 'u':
            if (size == 0)
                ks_buf_addf(sql, "%u", va_arg(ap, unsigned));
            else if (size == 1 && pct[1] == 'l')
                ks_buf_addf(sql, "%lu", va_arg(ap, unsigned long));
            else if (size == 1 && pct[1] == 'z')
                ks_buf_addf(sql, "%zu", va_arg(ap, size_t));
            else if (size == 2 && pct[1] == 'l' && pct[2] == 'l')
                ks_buf_addf(sql, "%llu", va_arg(ap, unsigned long long));
            else
                break;
            continue;
        default:
            break;
        }
        ks_log_error("SQL format \"%s\": a conversion ks_store_sqlf does not take", pct);
        sql->overflow = 1;                 /* the statement is refused */
        return;
    }
}

void ks_store_sqlf(ks_buf_t *sql, MYSQL *conn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsqlf(sql, conn, fmt, ap);
    va_end(ap);
}

/* Initialises sql with the statement of the calling function's fmt and the
 * arguments after it (ks_store_sqlf). */
#define BUILD(sql, conn, fmt)                      \
    do {                                           \
        va_list ap_;                               \
        ks_buf_init(&(sql), KS_STORE_SQL_MAX);     \
        va_start(ap_, fmt);                        \
        vsqlf(&(sql), conn, fmt, ap_);             \
        va_end(ap_);                               \
    } while (0)

ks_rc ks_store_execf(ks_api_ctx_t *ctx, MYSQL *conn, const char *fmt, ...)
{
    ks_buf_t sql;

    BUILD(sql, conn, fmt);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_intf(ks_api_ctx_t *ctx, MYSQL *conn, long long *value, const char *fmt, ...)
{
    ks_buf_t sql;

    BUILD(sql, conn, fmt);
    return ks_store_int(ctx, conn, &sql, value);
}

ks_rc ks_store_onef(ks_api_ctx_t *ctx, MYSQL *conn, const ks_col_t *cols, int ncols, void *out,
                    const char *fmt, ...)
{
    ks_buf_t sql;

    BUILD(sql, conn, fmt);
    return ks_store_one(ctx, conn, &sql, cols, ncols, out);
}

static ks_rc exec(ks_api_ctx_t *ctx, MYSQL *conn, const char *statement)
{
    return ks_db_query(ctx->db, conn, statement, strlen(statement), NULL, &ctx->err);
}

ks_rc ks_store_begin(ks_api_ctx_t *ctx, MYSQL *conn)
{
    return exec(ctx, conn, "START TRANSACTION");
}

ks_rc ks_store_commit(ks_api_ctx_t *ctx, MYSQL *conn)
{
    return exec(ctx, conn, "COMMIT");
}

void ks_store_rollback(ks_api_ctx_t *ctx, MYSQL *conn)
{
    ks_err_t ignored;
    ks_db_query(ctx->db, conn, "ROLLBACK", 8, NULL, &ignored);
}

ks_rc ks_store_txn(ks_api_ctx_t *ctx, MYSQL *conn, ks_store_txn_fn fn, void *arg)
{
    ks_rc rc;

    for (int attempt = 1;; attempt++) {
        if ((rc = ks_store_begin(ctx, conn)) == KS_OK) {
            if ((rc = fn(ctx, conn, arg)) == KS_OK && (rc = ks_store_commit(ctx, conn)) == KS_OK)
                return KS_OK;
            ks_store_rollback(ctx, conn);
        }
        if (rc != KS_BUSY || attempt >= KS_BUSY_ATTEMPTS)
            return rc;
    }
}

void ks_store_map_row(MYSQL_ROW row, const ks_col_t *cols, int ncols, void *out)
{
    for (int i = 0; i < ncols; i++) {
        const char *v = row[i];
        void *field = (char *)out + cols[i].offset;

        switch (cols[i].type) {
        case KS_COL_INT:
            *(int *)field = v ? (int)strtol(v, NULL, 10) : 0;
            break;
        case KS_COL_UINT:
            *(unsigned *)field = v ? (unsigned)strtoul(v, NULL, 10) : 0;
            break;
        case KS_COL_LLONG:
            *(long long *)field = v ? strtoll(v, NULL, 10) : 0;
            break;
        case KS_COL_ULLONG:
            *(unsigned long long *)field = v ? strtoull(v, NULL, 10) : 0;
            break;
        case KS_COL_DOUBLE:
            *(double *)field = v ? strtod(v, NULL) : 0;
            break;
        case KS_COL_STR:
            snprintf(field, cols[i].size, "%s", v ? v : "");
            break;
        }
    }
}

ks_rc ks_store_one(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const ks_col_t *cols,
                   int ncols, void *out)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;

    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    if ((row = mysql_fetch_row(res)) != NULL)
        ks_store_map_row(row, cols, ncols, out);
    mysql_free_result(res);
    return row ? KS_OK : ks_err(&ctx->err, KS_NOTFOUND, "no such row");
}

ks_rc ks_store_rows(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const ks_col_t *cols,
                    int ncols, void *rows, size_t elem, int max, int *count)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;

    *count = 0;
    memset(rows, 0, elem * (size_t)max);
    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    while (*count < max && (row = mysql_fetch_row(res)) != NULL)
        ks_store_map_row(row, cols, ncols, (char *)rows + elem * (size_t)(*count)++);
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_rows_arena(struct soap *soap, MYSQL *conn, ks_buf_t *sql, const ks_col_t *cols,
                          int ncols, size_t elem, void **rows, int *count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t n;
    ks_rc rc;

    *count = 0;
    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    n = (size_t)mysql_num_rows(res);
    if (!(*rows = soap_malloc(soap, elem * (n + 1)))) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for %zu rows", n);
    }
    memset(*rows, 0, elem * (n + 1));
    while ((row = mysql_fetch_row(res)) != NULL)
        ks_store_map_row(row, cols, ncols, (char *)*rows + elem * (size_t)(*count)++);
    mysql_free_result(res);
    return KS_OK;
}

ks_rc ks_store_each(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, ks_store_row_fn fn, void *arg)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;

    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    while (rc == KS_OK && (row = mysql_fetch_row(res)) != NULL)
        rc = fn(row, mysql_fetch_lengths(res), arg);
    mysql_free_result(res);
    return rc;
}

ks_rc ks_store_int(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, long long *value)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_rc rc;

    if ((rc = ks_store_run(ctx, conn, sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    *value = row && row[0] ? atoll(row[0]) : 0;
    mysql_free_result(res);
    return KS_OK;
}

/* The depths of the queues (ks_store_queue_depths). */
typedef struct {
    long long render_queue, deletions;
} queue_depths_t;

static const ks_col_t queue_depth_cols[] = KS_COLUMNS(queue_depths_t, render_queue, deletions);

ks_rc ks_store_queue_depths(ks_api_ctx_t *ctx, long long *render_queue, long long *deletions)
{
    queue_depths_t depths;
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_onef(ctx, conn, KS_COLS(queue_depth_cols), &depths,
                            "SELECT (SELECT COUNT(*) FROM render_queue),"
                            " (SELECT COUNT(*) FROM image_deletions)")) != KS_OK)
        return rc;
    *render_queue = depths.render_queue;
    *deletions = depths.deletions;
    return KS_OK;
}

static const ks_col_t counts_cols[] = KS_COLUMNS(ks_store_counts_t, members, items, categories);

ks_rc ks_store_counts(ks_api_ctx_t *ctx, MYSQL *conn, ks_store_counts_t *out)
{
    /* Members: the image servers' member_count (each assignment, import,
     * move and deletion keeps it), not COUNT(*) of members, a full scan of
     * the largest table (tests/explain). */
    return ks_store_onef(ctx, conn, KS_COLS(counts_cols), out,
                         "SELECT (SELECT COALESCE(SUM(member_count), 0) FROM image_servers),"
                         " (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM categories)");
}

/* members rows as ks_member_t: MEMBER_SELECT " WHERE ..." */
#define MEMBER_SELECT "SELECT id, image_server_id, version, user_id FROM members"
static const ks_col_t member_cols[] = KS_COLUMNS(ks_member_t, id, image_server_id, version,
    user_id);

/* The member row of the statement fmt (as ks_store_sqlf: MEMBER_SELECT
 * " WHERE ..."), locked until the transaction ends when for_update. */
static ks_rc member_onef(ks_api_ctx_t *ctx, MYSQL *conn, int for_update, ks_member_t *out,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static ks_rc member_onef(ks_api_ctx_t *ctx, MYSQL *conn, int for_update, ks_member_t *out,
                         const char *fmt, ...)
{
    ks_buf_t sql;

    BUILD(sql, conn, fmt);
    if (for_update)
        ks_buf_addf(&sql, " FOR UPDATE");
    return ks_store_one(ctx, conn, &sql, KS_COLS(member_cols), out);
}

ks_rc ks_store_member(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id, int for_update,
                      ks_member_t *out)
{
    ks_rc rc = member_onef(ctx, conn, for_update, out, MEMBER_SELECT " WHERE user_id = %s",
                           user_id);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, rc, "member \"%s\" not found", user_id) : rc;
}

ks_rc ks_store_member_by_id(ks_api_ctx_t *ctx, MYSQL *conn, long long id, int for_update,
                            ks_member_t *out)
{
    ks_rc rc = member_onef(ctx, conn, for_update, out, MEMBER_SELECT " WHERE id = %lld", id);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, rc, "member %lld not found", id) : rc;
}

ks_rc ks_store_server_usable(ks_api_ctx_t *ctx, const ks_image_server_t *server)
{
    if (strcmp(server->mode, "down") == 0)
        return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" is marked down",
                      server->name);
    return KS_OK;
}

const ks_col_t ks_store_server_cols[12] = KS_COLUMNS(ks_image_server_t, id, name, internal_url,
    public_url, mode, weight, member_count, down_by_silence, last_heartbeat, free_disk_bytes,
    items_stored, avatars_composed);

ks_rc ks_store_image_server(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_image_server_t *out)
{
    ks_rc rc = ks_store_onef(ctx, conn, KS_SERVER_COLS, out, KS_SERVER_SELECT " WHERE id = %d", id);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_ERROR, "image server %d is in no row of "
                                      "image_servers", id)
                             : rc;
}

ks_rc ks_store_image_server_named(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                  ks_image_server_t *out)
{
    ks_rc rc = ks_store_onef(ctx, conn, KS_SERVER_COLS, out, KS_SERVER_SELECT " WHERE name = %s",
                             name);

    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "image server \"%s\" not found",
                                      name)
                             : rc;
}

ks_rc ks_store_pick_image_server(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                                 const int *exclude, int n_exclude, ks_image_server_t *out)
{
    ks_image_server_t rows[KS_IMAGE_SERVERS_MAX];
    ks_assign_server_t candidates[KS_IMAGE_SERVERS_MAX];
    ks_assign_t *picker = ks_assign_process();
    int n, chosen = -1;
    ks_rc rc;

    if (!picker)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for the image server picker");
    /* A plain read: no lock, and on the master, so a mode set a moment ago
     * counts from this call on. */
    if ((rc = ks_store_image_servers(ctx, conn, rows, &n)) != KS_OK)
        return rc;
    for (int i = 0; i < n; i++)
        candidates[i] = (ks_assign_server_t){.id = rows[i].id, .weight = rows[i].weight,
                                             .member_count = rows[i].member_count,
                                             .active = strcmp(rows[i].mode, "active") == 0};
    if (name) {
        for (int i = 0; i < n && chosen < 0; i++)
            if (strcmp(rows[i].name, name) == 0)
                chosen = i;
        if (chosen < 0)
            return ks_err(&ctx->err, KS_NOTFOUND, "image server \"%s\" not found", name);
        if (!candidates[chosen].active)
            return ks_err(&ctx->err, KS_CONFLICT, "image server \"%s\" is %s and takes no new"
                          " members", name, rows[chosen].mode);
        for (int i = 0; i < n_exclude; i++)
            if (exclude[i] == rows[chosen].id)
                return ks_err(&ctx->err, KS_UNAVAILABLE, "image server \"%s\" failed this"
                              " call already", name);
        ks_assign_hold(picker, rows[chosen].id);
    } else if ((chosen = ks_assign_pick(picker, candidates, n, exclude, n_exclude)) < 0) {
        return ks_err(&ctx->err, KS_UNAVAILABLE, n_exclude ? "no other active image server"
                                                           : "no active image server");
    }
    *out = rows[chosen];
    return KS_OK;
}

/* Adds count members to server id's member_count (a statement of its own). */
static ks_rc add_member_count(ks_api_ctx_t *ctx, MYSQL *conn, int id, long long count)
{
    return ks_store_execf(ctx, conn, "UPDATE image_servers SET member_count = member_count + %lld"
                          " WHERE id = %d", count, id);
}

void ks_store_assigned(ks_api_ctx_t *ctx, MYSQL *conn, int server_id, int created)
{
    ks_assign_t *picker = ks_assign_process();
    long long count;
    ks_err_t saved = ctx->err;           /* the call's own error, if any, stays */

    if (!picker)
        return;
    ks_assign_finish(picker, server_id, created);
    if ((count = ks_assign_take_pending(picker, server_id)) == 0)
        return;
    if (add_member_count(ctx, conn, server_id, count) != KS_OK) {
        ks_log_warn("adding %lld to image server %d's member_count failed (the renderer tries"
                    " again): %s", count, server_id, ctx->err.msg);
        ks_assign_give_back(picker, server_id, count);
    }
    ctx->err = saved;
}

ks_rc ks_store_member_counts_flush(ks_api_ctx_t *ctx, MYSQL *conn)
{
    ks_assign_t *picker = ks_assign_process();
    int ids[KS_IMAGE_SERVERS_MAX];
    long long counts[KS_IMAGE_SERVERS_MAX];
    ks_rc first = KS_OK;
    int n;

    if (!picker)
        return KS_OK;
    n = ks_assign_take_all_pending(picker, ids, counts, KS_IMAGE_SERVERS_MAX);
    for (int i = 0; i < n; i++) {
        ks_rc rc = add_member_count(ctx, conn, ids[i], counts[i]);
        if (rc != KS_OK) {
            ks_assign_give_back(picker, ids[i], counts[i]);
            if (first == KS_OK)
                first = rc;               /* its message stays in ctx->err */
        }
    }
    return first;
}

ks_rc ks_store_active_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out,
                                    int max, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, KS_SERVER_SELECT " WHERE mode = 'active' ORDER BY id");
    return ks_store_rows(ctx, conn, &sql, KS_SERVER_COLS, out, sizeof *out, max, count);
}

const ks_col_t ks_store_layer_cols[12] = KS_COLUMNS(ks_layer_row_t, item_id, layer_no, z_order, x,
    y, width, height, sha256, tintable, role, delay_ms, tint);

void ks_store_add_layer_shown(ks_buf_t *sql, const char *worn)
{
    ks_buf_addf(sql, " " KS_SQL_LAYER_SHOWN("%s"), worn);
}

ks_rc ks_store_worn_layers(struct soap *soap, MYSQL *conn, long long member_id,
                           ks_layer_row_t **layers, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, KS_LAYER_SELECT ", " KS_LAYER_TINT " FROM outfit o JOIN item_layers l"
                " ON l.item_id = o.item_id WHERE o.member_id = %lld AND", member_id);
    ks_store_add_layer_shown(&sql, "SELECT ho.item_id FROM outfit ho WHERE ho.member_id = "
                                   "o.member_id");
    ks_buf_addf(&sql, " ORDER BY l.z_order, l.item_id, l.layer_no LOCK IN SHARE MODE");
    return ks_store_rows_arena(soap, conn, &sql, KS_WORN_LAYER_COLS, sizeof **layers,
                               (void **)layers, count);
}

ks_rc ks_store_item_layers(struct soap *soap, MYSQL *conn, const int *ids, int count,
                           const ks_item_tint_t *tints, int tint_count,
                           ks_layer_row_t **layers, int *layer_count)
{
    ks_buf_t sql, worn;
    ks_rc rc;

    ks_buf_init(&worn, 1024);
    ks_buf_addf(&worn, "0");
    for (int i = 0; i < count; i++)
        ks_buf_addf(&worn, ", %d", ids[i]);
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, KS_LAYER_SELECT " FROM item_layers l WHERE l.item_id IN (%s) AND",
                worn.data ? worn.data : "0");
    ks_store_add_layer_shown(&sql, worn.data ? worn.data : "0");
    ks_buf_free(&worn);
    ks_buf_addf(&sql, " ORDER BY l.z_order, l.item_id, l.layer_no");
    if ((rc = ks_store_rows_arena(soap, conn, &sql, KS_LAYER_COLS, sizeof **layers,
                                  (void **)layers, layer_count)) != KS_OK)
        return rc;
    for (int i = 0; i < *layer_count; i++)         /* as KS_LAYER_TINT does for worn ones */
        for (int t = 0; t < tint_count; t++)
            if ((*layers)[i].tintable && tints[t].item_id == (*layers)[i].item_id)
                snprintf((*layers)[i].tint, sizeof (*layers)[i].tint, "%s", tints[t].tint);
    return KS_OK;
}

/* The member's version and the items it wears (ascending), in one statement:
 * both come from the same snapshot, even on a replica applying a change. */
static ks_rc read_version_and_outfit(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                                     unsigned *version, int **ids, int *count,
                                     ks_item_tint_t *tints, int *tint_count, int *animated)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0, rows;

    *animated = 0;
    ks_buf_init(&sql, 1024);
    *tint_count = 0;
    ks_buf_addf(&sql, "SELECT m.version, o.item_id, o.tint, " KS_SQL_HAS_FRAMES("o.item_id")
                " FROM members m LEFT JOIN outfit o ON o.member_id = m.id WHERE m.id = %lld"
                " ORDER BY o.item_id", member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    rows = (int)mysql_num_rows(res);
    *ids = soap_malloc(soap, (size_t)(rows + 1) * sizeof **ids);
    if (!*ids) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res))) {
        *version = (unsigned)strtoul(row[0], NULL, 10);
        *animated |= row[3] && row[3][0] == '1';
        if (row[1])
            (*ids)[n++] = atoi(row[1]);
        if (row[1] && row[2] && *tint_count < KS_OUTFIT_MAX) {
            tints[*tint_count].item_id = atoi(row[1]);
            snprintf(tints[(*tint_count)++].tint, sizeof tints->tint, "%s", row[2]);
        }
    }
    *count = n;
    mysql_free_result(res);
    return rows ? KS_OK : ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" not found",
                                 member->user_id);
}

void ks_store_layer_art_sql(ks_buf_t *sql, MYSQL *conn, int item_id, int layer_no,
                            const char *sha256, const char *current, const char *archived)
{
    ks_buf_init(sql, 512);
    ks_buf_addf(sql, "SELECT %s FROM item_layers WHERE item_id = %d AND layer_no = %d", current,
                item_id, layer_no);
    if (sha256) {
        ks_buf_addf(sql, " AND sha256 = ");
        ks_sql_str(sql, conn, sha256);
        ks_buf_addf(sql, " UNION ALL SELECT %s FROM item_layer_archive WHERE item_id = %d"
                    " AND layer_no = %d AND sha256 = ", archived, item_id, layer_no);
        ks_sql_str(sql, conn, sha256);
        ks_buf_addf(sql, " LIMIT 1");
    }
}

/* The PNG of a layer, malloc'd (ks_store_layer_png): ks_store_each's callback. */
typedef struct {
    ks_api_ctx_t *ctx;
    unsigned char *png;
    size_t size;
    int archived, found;
} layer_png_t;

static ks_rc layer_png_row(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    layer_png_t *l = arg;

    if (l->found)                /* one row at most (LIMIT 1) */
        return KS_OK;
    if (!(l->png = malloc(lengths[0] ? lengths[0] : 1)))
        return ks_err(&l->ctx->err, KS_NOMEM, "out of memory for a %lu-byte layer", lengths[0]);
    memcpy(l->png, row[0], lengths[0]);
    l->size = lengths[0];
    l->archived = row[1] && row[1][0] == '1';
    l->found = 1;
    return KS_OK;
}

ks_rc ks_store_layer_png(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int layer_no,
                         const char *sha256, unsigned char **png, size_t *size, int *archived)
{
    layer_png_t found = {.ctx = ctx};
    ks_buf_t sql;
    ks_rc rc;

    ks_store_layer_art_sql(&sql, conn, item_id, layer_no, sha256, "png, 0", "png, 1");
    if ((rc = ks_store_each(ctx, conn, &sql, layer_png_row, &found)) != KS_OK)
        return rc;
    if (!found.found)
        return ks_err(&ctx->err, KS_NOTFOUND, "layer %d/%d%s%s not found", item_id, layer_no,
                      sha256 ? " at sha256 " : "", sha256 ? sha256 : "");
    if (archived)
        *archived = found.archived;
    *png = found.png;
    *size = found.size;
    return KS_OK;
}

ks_rc ks_store_scene_png(ks_api_ctx_t *ctx, MYSQL *conn, int scene_id, const char *sha256,
                         unsigned char **png, size_t *size)
{
    layer_png_t found = {.ctx = ctx};       /* its archived: another background now */
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT png, sha256 <> ");
    ks_sql_str(&sql, conn, sha256);
    ks_buf_addf(&sql, " FROM scenes WHERE id = %d", scene_id);
    if ((rc = ks_store_each(ctx, conn, &sql, layer_png_row, &found)) != KS_OK)
        return rc;
    if (!found.found)
        return ks_err(&ctx->err, KS_NOTFOUND, "scene %d not found", scene_id);
    if (found.archived) {
        free(found.png);
        return ks_err(&ctx->err, KS_CONFLICT, "scene %d has another background now", scene_id);
    }
    *png = found.png;
    *size = found.size;
    return KS_OK;
}

ks_rc ks_store_soap_colours(struct soap *soap, const ks_item_tint_t *tints, int count,
                            struct ks__ItemColour **out, int *out_count)
{
    *out_count = 0;
    if (!(*out = soap_new_ks__ItemColour(soap, count + 1)))
        return ks_err(&ks_api_ctx(soap)->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < count; i++) {           /* by item id, as wornItemId */
        int at = i;
        char *colour = soap_strdup(soap, tints[i].tint);
        if (!colour)
            return ks_err(&ks_api_ctx(soap)->err, KS_NOMEM, "out of memory");
        for (; at > 0 && (*out)[at - 1].itemId > tints[i].item_id; at--)
            (*out)[at] = (*out)[at - 1];
        (*out)[at].itemId = tints[i].item_id;
        (*out)[at].colour = colour;
    }
    *out_count = count;
    return KS_OK;
}

char *ks_store_public_url(struct soap *soap, const ks_image_server_t *server, const char *path)
{
    size_t base_len = strlen(server->public_url);
    char *url;

    while (base_len > 0 && server->public_url[base_len - 1] == '/')
        base_len--;
    url = soap_malloc(soap, base_len + strlen(path) + 2);
    if (url)
        sprintf(url, "%.*s/%s", (int)base_len, server->public_url, path);
    return url;
}

ks_rc ks_store_avatar(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                      const ks_image_server_t *server, struct ks__Avatar **avatar)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    struct ks__Avatar *a = soap_new_ks__Avatar(soap, -1);
    char path[256];
    ks_item_tint_t tints[KS_OUTFIT_MAX];
    int tint_count;
    unsigned version = member->version;
    int animated = 0;
    ks_rc rc;

    *avatar = a;
    if (!a)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    /* The version read with the outfit wins: it is never older than member's. */
    if ((rc = read_version_and_outfit(soap, conn, member, &version, &a->wornItemId,
                                      &a->__sizewornItemId, tints, &tint_count,
                                      &animated)) != KS_OK ||
        (rc = ks_store_soap_colours(soap, tints, tint_count, &a->wornColour,
                                    &a->__sizewornColour)) != KS_OK)
        return rc;
    a->userId = soap_strdup(soap, member->user_id);
    a->version = (int)version;
    a->imageServer = soap_strdup(soap, server->name);
    ks_avatar_path(member->user_id, version, path, sizeof path);
    a->url = ks_store_public_url(soap, server, path);
    ks_avatar_thumb_path(member->user_id, version, path, sizeof path);
    a->thumbUrl = ks_store_public_url(soap, server, path);
    if (animated)
        a->animUrl = ks_store_anim_url(soap, server, member->user_id, version);
    if (!a->userId || !a->imageServer || !a->url || !a->thumbUrl || (animated && !a->animUrl))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    return KS_OK;
}

char *ks_store_anim_url(struct soap *soap, const ks_image_server_t *server, const char *user_id,
                        unsigned version)
{
    char path[256];

    if (ks_avatar_anim_path(user_id, version, path, sizeof path) < 0)
        return NULL;
    return ks_store_public_url(soap, server, path);
}

ks_rc ks_store_member_fresh(ks_api_ctx_t *ctx, MYSQL **conn, const char *user_id,
                            ks_member_t *out)
{
    ks_rc rc;

    if ((rc = ks_db_reader(ctx->db, conn, &ctx->err)) != KS_OK)
        return rc;
    rc = ks_store_member(ctx, *conn, user_id, 0, out);
    if (rc == KS_NOTFOUND && (rc = ks_db_master(ctx->db, conn, &ctx->err)) == KS_OK)
        rc = ks_store_member(ctx, *conn, user_id, 0, out);
    return rc;
}

ks_rc ks_store_image_servers(ks_api_ctx_t *ctx, MYSQL *conn, ks_image_server_t *out, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, KS_SERVER_SELECT " ORDER BY id LIMIT %d", KS_IMAGE_SERVERS_MAX);
    return ks_store_rows(ctx, conn, &sql, KS_SERVER_COLS, out, sizeof *out, KS_IMAGE_SERVERS_MAX,
                         count);
}

const ks_image_server_t *ks_store_find_server(const ks_image_server_t *servers, int count, int id)
{
    for (int i = 0; i < count; i++)
        if (servers[i].id == id)
            return &servers[i];
    return NULL;
}
