/* store_members.c: SQL of the members, outfit and inventory tables
 * (store_members.h). user_id is ascii_bin: SearchMembers' prefix LIKE and
 * keyset bound both use its unique index. */
#include "store_members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_albums.h"
#include "store_deletion.h"

/* Appends "a, b, c" of ids[0..count). */
static void add_ids(ks_buf_t *sql, const int *ids, int count)
{
    for (int i = 0; i < count; i++)
        ks_buf_addf(sql, "%s%d", i ? ", " : "", ids[i]);
}

/* A row of ks_store_search_members. */
typedef struct {
    char user_id[KS_USER_ID_MAX + 1];
    int version;
    char server[65];               /* image_servers.name: VARCHAR(64) of ascii */
} member_summary_row_t;

static const ks_col_t member_summary_cols[] = KS_COLUMNS(member_summary_row_t, user_id, version,
    server);

ks_rc ks_store_search_members(struct soap *soap, MYSQL *conn, const ks_member_search_t *search,
                              struct ks__MemberSummary **members, int *count, int *more)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    member_summary_row_t *rows;
    ks_buf_t sql;
    ks_rc rc;
    int n;

    *count = *more = 0;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT m.user_id, m.version, s.name FROM members m"
                " JOIN image_servers s ON s.id = m.image_server_id WHERE 1 = 1");
    if (search->prefix && *search->prefix) {
        ks_buf_addf(&sql, " AND m.user_id LIKE ");    /* '_' of a user id matches itself */
        ks_sql_like(&sql, conn, search->prefix, 0);
    }
    if (search->image_server_id)
        ks_buf_addf(&sql, " AND m.image_server_id = %d", search->image_server_id);
    if (search->after_user_id) {
        ks_buf_addf(&sql, " AND m.user_id > ");
        ks_sql_str(&sql, conn, search->after_user_id);
    }
    /* one row beyond the page says whether another page follows */
    ks_buf_addf(&sql, " ORDER BY m.user_id LIMIT %d", search->limit + 1);
    if ((rc = ks_store_rows_arena(soap, conn, &sql, KS_COLS(member_summary_cols), sizeof *rows,
                                  (void **)&rows, &n)) != KS_OK)
        return rc;
    *more = n > search->limit;
    if (*more)
        n = search->limit;
    if (!(*members = soap_new_ks__MemberSummary(soap, n + 1)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        (*members)[i].userId = soap_strdup(soap, rows[i].user_id);
        (*members)[i].version = rows[i].version;
        (*members)[i].imageServer = soap_strdup(soap, rows[i].server);
    }
    *count = n;
    return KS_OK;
}

/* ---- Members ------------------------------------------------------------------ */

ks_rc ks_store_member_create(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                             const ks_image_server_t *server, ks_member_t *member)
{
    long long last;
    ks_buf_t sql;
    ks_rc rc;

    /* The version starts above the last one a deleted member of that id
     * reached (no tombstone: 1), so no image URL is ever used twice. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT last_version FROM member_tombstones WHERE user_id = ");
    ks_sql_str(&sql, conn, user_id);
    if ((rc = ks_store_int(ctx, conn, &sql, &last)) != KS_OK)
        return rc;
    member->version = (unsigned)last + 1;
    /* Without the foreign key's check, which would hold a shared lock on the
     * server's row across the compose and make member_count's update
     * (ks_store_assigned, after the COMMIT) wait: the server was read a
     * moment ago, and image servers are never deleted. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SET STATEMENT foreign_key_checks = 0 FOR"
                " INSERT INTO members (user_id, image_server_id, version) VALUES (");
    ks_sql_str(&sql, conn, user_id);
    ks_buf_addf(&sql, ", %d, %u)", server->id, member->version);
    rc = ks_store_run(ctx, conn, &sql, NULL);
    if (rc == KS_CONFLICT)
        ks_err(&ctx->err, KS_CONFLICT, "member \"%s\" already exists", user_id);
    if (rc != KS_OK)
        return rc;
    member->id = (long long)mysql_insert_id(conn);
    snprintf(member->user_id, sizeof member->user_id, "%s", user_id);
    member->image_server_id = server->id;

    /* New members own and wear the default item of each required category. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO inventory (member_id, item_id) SELECT %lld, default_item_id"
                     " FROM categories WHERE required = 1 AND default_item_id IS NOT NULL",
               member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO outfit (member_id, item_id) SELECT member_id, item_id"
                     " FROM inventory WHERE member_id = %lld", member->id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_member_next_version(ks_api_ctx_t *ctx, MYSQL *conn, ks_member_t *member)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE members SET version = version + 1 WHERE id = %lld", member->id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) == KS_OK)
        member->version++;
    return rc;
}

ks_rc ks_store_member_delete(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                             ks_member_t *deleted, int *photos)
{
    ks_member_t member;
    long long photo_count;
    ks_buf_t sql;
    ks_rc rc;

    /* The render queue row first: the renderer locks it before the member. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "DELETE q FROM render_queue q JOIN members m ON m.id = q.member_id"
                " WHERE m.user_id = ");
    ks_sql_str(&sql, conn, user_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK ||
        (rc = ks_store_member(ctx, conn, user_id, 1, &member)) != KS_OK ||
        (rc = ks_store_album_photo_count(ctx, conn, member.id, &photo_count)) != KS_OK)
        return rc;
    *photos = (int)photo_count;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "INSERT INTO member_tombstones (user_id, last_version) VALUES (");
    ks_sql_str(&sql, conn, user_id);
    ks_buf_addf(&sql, ", %u) ON DUPLICATE KEY UPDATE last_version = GREATEST(last_version,"
                " VALUES(last_version)), deleted_at = NOW(3)", member.version);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    /* inventory, outfit, album photos go with the member (ON DELETE CASCADE). */
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM members WHERE id = %lld", member.id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE image_servers SET member_count = member_count - 1"
                " WHERE id = %d AND member_count > 0", member.image_server_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *deleted = member;
    /* Every server, the one the member left and those marked down too: the
     * queue retries until each has deleted (deletion.c). */
    return ks_store_deletion_queue_member(ctx, conn, user_id);
}

/* A row of ks_store_members_worn: a member and one item it wears (0: none). */
typedef struct {
    ks_member_t member;
    int item_id;
    char tint[8];                  /* its colour, or "" */
    int animated;
} member_worn_row_t;

static const ks_col_t member_worn_cols[] =
    KS_COLUMNS(member_worn_row_t, member.id, member.image_server_id, member.version,
               member.user_id, item_id, tint, animated);

ks_rc ks_store_members_worn(struct soap *soap, MYSQL *conn, char **user_ids, int n,
                            ks_member_worn_t *found, int *count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    member_worn_row_t *rows;
    int row_count;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 16 * 1024);
    ks_buf_addf(&sql, "SELECT m.id, m.image_server_id, m.version, m.user_id, o.item_id, o.tint, "
                KS_SQL_HAS_FRAMES("o.item_id")
                " FROM members m LEFT JOIN outfit o ON o.member_id = m.id WHERE m.user_id IN (");
    for (int i = 0; i < n; i++) {
        ks_buf_addf(&sql, "%s", i ? ", " : "");
        ks_sql_str(&sql, conn, user_ids[i]);
    }
    ks_buf_addf(&sql, ") ORDER BY m.id, o.item_id");
    *count = 0;
    if ((rc = ks_store_rows_arena(soap, conn, &sql, KS_COLS(member_worn_cols), sizeof *rows,
                                  (void **)&rows, &row_count)) != KS_OK)
        return rc;
    for (int r = 0; r < row_count; r++) {
        ks_member_worn_t *f = *count ? &found[*count - 1] : NULL;
        if (!f || f->member.id != rows[r].member.id) {   /* rows come grouped by member */
            if (*count == n)
                break;
            f = &found[(*count)++];
            f->member = rows[r].member;
            f->animated = 0;
            f->worn = soap_malloc(soap, KS_OUTFIT_MAX * 2 * sizeof(int));
            f->worn_count = 0;
            f->tints = soap_malloc(soap, KS_OUTFIT_MAX * 2 * sizeof *f->tints);
            f->tint_count = 0;
            if (!f->worn || !f->tints)
                return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        }
        if (rows[r].item_id && f->worn_count < KS_OUTFIT_MAX * 2) {
            f->worn[f->worn_count++] = rows[r].item_id;
            if (rows[r].tint[0]) {
                f->tints[f->tint_count].item_id = rows[r].item_id;
                memcpy(f->tints[f->tint_count++].tint, rows[r].tint, sizeof rows[r].tint);
            }
        }
        f->animated |= rows[r].animated;
    }
    return KS_OK;
}

/* ---- Outfits ------------------------------------------------------------------ */

static const ks_col_t outfit_item_cols[] = KS_COLUMNS(ks_outfit_item_t, item_id, category_id,
                                                      exclusive, owned, status, tintable, tint);

/* The column saying whether item i has a tintable layer. */
#define ITEM_TINTABLE "EXISTS (SELECT 1 FROM item_layers tl WHERE tl.item_id = i.id AND tl.tintable)"

ks_rc ks_store_outfit(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, ks_outfit_item_t *out,
                      int max, int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT o.item_id, i.category_id, c.exclusive, 1, i.status, "
                     ITEM_TINTABLE ", IFNULL(o.tint, '') FROM outfit o"
                     " JOIN items i ON i.id = o.item_id JOIN categories c ON c.id = i.category_id"
                     " WHERE o.member_id = %lld", member_id);
    return ks_store_rows(ctx, conn, &sql, KS_COLS(outfit_item_cols), out, sizeof *out, max,
                         count);
}

ks_rc ks_store_outfit_items(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, const int *ids,
                            int count, ks_outfit_item_t *out, int *found)
{
    ks_buf_t sql;

    *found = 0;
    if (count == 0)
        return KS_OK;
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT i.id, i.category_id, c.exclusive, inv.item_id IS NOT NULL, i.status,"
                     " " ITEM_TINTABLE ", '' FROM items i JOIN categories c ON c.id = i.category_id"
                     " LEFT JOIN inventory inv ON inv.item_id = i.id AND inv.member_id = %lld"
                     " WHERE i.id IN (", member_id);
    add_ids(&sql, ids, count);
    ks_buf_addf(&sql, ")");
    return ks_store_rows(ctx, conn, &sql, KS_COLS(outfit_item_cols), out, sizeof *out, count,
                         found);
}

ks_rc ks_store_outfit_write(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, const int *off,
                            int off_count, const int *on, int on_count)
{
    ks_buf_t sql;
    ks_rc rc;

    if (off_count) {
        ks_buf_init(&sql, 4096);
        ks_buf_addf(&sql, "DELETE FROM outfit WHERE member_id = %lld AND item_id IN (", member_id);
        add_ids(&sql, off, off_count);
        ks_buf_addf(&sql, ")");
        if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
            return rc;
    }
    if (on_count) {
        ks_buf_init(&sql, 4096);
        ks_buf_addf(&sql, "INSERT INTO outfit (member_id, item_id) VALUES ");
        for (int i = 0; i < on_count; i++)
            ks_buf_addf(&sql, "%s(%lld, %d)", i ? ", " : "", member_id, on[i]);
        if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

ks_rc ks_store_outfit_tint(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, int item_id,
                           const char *tint)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "UPDATE outfit SET tint = ");
    if (tint[0])
        ks_sql_str(&sql, conn, tint);
    else
        ks_buf_addf(&sql, "NULL");
    ks_buf_addf(&sql, " WHERE member_id = %lld AND item_id = %d", member_id, item_id);
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_outfit_count_others(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                   int category_id, int item_id, long long *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM outfit o JOIN items i ON i.id = o.item_id"
                " WHERE o.member_id = %lld AND i.category_id = %d AND o.item_id <> %d",
                member_id, category_id, item_id);
    return ks_store_int(ctx, conn, &sql, count);
}

static const ks_col_t required_cols[] = KS_COLUMNS(ks_required_category_t, id, name);

ks_rc ks_store_required_categories(struct soap *soap, MYSQL *conn, ks_required_category_t **rows,
                                   int *count)
{
    ks_buf_t sql;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, name FROM categories WHERE required = 1");
    return ks_store_rows_arena(soap, conn, &sql, KS_COLS(required_cols), sizeof **rows,
                               (void **)rows, count);
}

/* ---- Inventory ---------------------------------------------------------------- */

ks_rc ks_store_inventory_grant(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, int item_id,
                               int *granted)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "INSERT IGNORE INTO inventory (member_id, item_id) VALUES (%lld, %d)",
               member_id, item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *granted = mysql_affected_rows(conn) > 0;
    return KS_OK;
}

/* Deletes item_id of member_id from table; *deleted says whether a row went. */
static ks_rc delete_item(ks_api_ctx_t *ctx, MYSQL *conn, const char *table, long long member_id,
                         int item_id, int *deleted)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM %s WHERE member_id = %lld AND item_id = %d", table, member_id,
                item_id);
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *deleted = mysql_affected_rows(conn) > 0;
    return KS_OK;
}

ks_rc ks_store_inventory_revoke(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, int item_id,
                                int *was_owned, int *was_worn)
{
    ks_rc rc;

    if ((rc = delete_item(ctx, conn, "inventory", member_id, item_id, was_owned)) != KS_OK)
        return rc;
    return delete_item(ctx, conn, "outfit", member_id, item_id, was_worn);
}

static const ks_col_t rule_cols[] = KS_COLUMNS(ks_item_rule_t, category_id, required,
    default_item_id, category);

ks_rc ks_store_item_rule(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, ks_item_rule_t *out)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT i.category_id, c.required, c.default_item_id, c.name FROM items i"
                " JOIN categories c ON c.id = i.category_id WHERE i.id = %d", item_id);
    rc = ks_store_one(ctx, conn, &sql, KS_COLS(rule_cols), out);
    return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "item %d not found", item_id) : rc;
}

/* A row of ks_store_member_items. */
typedef struct {
    int item_id, category_id, worn;
    long long granted_at;
    char status[16];
    char name[128 * 4 + 1];        /* VARCHAR(128) of utf8mb4 */
} member_item_row_t;

static const ks_col_t member_item_cols[] = KS_COLUMNS(member_item_row_t, item_id, category_id,
                                                      worn, granted_at, status, name);

ks_rc ks_store_member_items(struct soap *soap, MYSQL *conn, long long member_id,
                            const int *category_id, int offset, int limit,
                            struct ks__MemberItem **items, int *count, long long *total)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    member_item_row_t *rows;
    char where[128];
    ks_buf_t sql;
    ks_rc rc;
    int n;

    *count = 0;
    snprintf(where, sizeof where, "inv.member_id = %lld", member_id);
    if (category_id)
        snprintf(where + strlen(where), sizeof where - strlen(where), " AND i.category_id = %d",
                 *category_id);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM inventory inv JOIN items i ON i.id = inv.item_id"
                " WHERE %s", where);
    if ((rc = ks_store_int(ctx, conn, &sql, total)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT i.id, i.category_id, o.item_id IS NOT NULL,"
                " UNIX_TIMESTAMP(inv.granted_at), i.status, i.name FROM inventory inv"
                " JOIN items i ON i.id = inv.item_id"
                " LEFT JOIN outfit o ON o.member_id = inv.member_id AND o.item_id = inv.item_id"
                " WHERE %s ORDER BY inv.granted_at DESC, i.id DESC LIMIT %d OFFSET %d",
                where, limit, offset);
    if ((rc = ks_store_rows_arena(soap, conn, &sql, KS_COLS(member_item_cols), sizeof *rows,
                                  (void **)&rows, &n)) != KS_OK)
        return rc;
    if (!(*items = soap_new_ks__MemberItem(soap, n + 1)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        struct ks__MemberItem *item = &(*items)[i];
        item->itemId = rows[i].item_id;
        item->categoryId = rows[i].category_id;
        item->name = soap_strdup(soap, rows[i].name);
        item->status = soap_strdup(soap, rows[i].status);
        item->worn = rows[i].worn ? true_ : false_;
        item->grantedAt = (time_t)rows[i].granted_at;
    }
    *count = n;
    return KS_OK;
}

/* ---- Time-limited items ------------------------------------------------------------- */

/* A worn item whose window has ended, with its category's rule. */
typedef struct {
    int item_id, category_id, required, default_item_id;
} ended_row_t;

static const ks_col_t ended_cols[] = KS_COLUMNS(ended_row_t, item_id, category_id, required,
    default_item_id);

/* Puts the default of ended[at]'s category on when it is required and the
 * member wears nothing else of it (unless the default is among the ended). */
static ks_rc wear_default(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                          const ended_row_t *ended, int count, int at)
{
    const ended_row_t *e = &ended[at];
    long long others;
    int granted;
    ks_rc rc;

    if (!e->required || !e->default_item_id)
        return KS_OK;
    for (int i = 0; i < count; i++)
        if (ended[i].item_id == e->default_item_id ||
            (i < at && ended[i].category_id == e->category_id))
            return KS_OK;       /* it ended too, or this category was seen */
    if ((rc = ks_store_outfit_count_others(ctx, conn, member_id, e->category_id, 0,
                                           &others)) != KS_OK || others > 0)
        return rc;
    if ((rc = ks_store_inventory_grant(ctx, conn, member_id, e->default_item_id,
                                       &granted)) != KS_OK)
        return rc;
    return ks_store_outfit_write(ctx, conn, member_id, NULL, 0, &e->default_item_id, 1);
}

ks_rc ks_store_outfit_drop_ended(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 int *dropped)
{
    ended_row_t ended[KS_OUTFIT_MAX];
    int off[KS_OUTFIT_MAX], count;
    ks_buf_t sql;
    ks_rc rc;

    *dropped = 0;
    /* A plain read: the caller holds the member's row, which every change of
     * its outfit locks first; locking here would hold the ended item's and
     * the category's rows through the compose, making the renderers of
     * their other wearers wait. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT o.item_id, i.category_id, c.required, IFNULL(c.default_item_id, 0)"
                " FROM outfit o JOIN items i ON i.id = o.item_id"
                " JOIN categories c ON c.id = i.category_id WHERE o.member_id = %lld"
                " AND i.available_until <= NOW() ORDER BY o.item_id", member_id);
    if ((rc = ks_store_rows(ctx, conn, &sql, KS_COLS(ended_cols), ended, sizeof ended[0],
                            KS_OUTFIT_MAX, &count)) != KS_OK || count == 0)
        return rc;
    for (int i = 0; i < count; i++)
        off[i] = ended[i].item_id;
    if ((rc = ks_store_outfit_write(ctx, conn, member_id, off, count, NULL, 0)) != KS_OK)
        return rc;
    for (int i = 0; i < count; i++)
        if ((rc = wear_default(ctx, conn, member_id, ended, count, i)) != KS_OK)
            return rc;
    *dropped = count;
    return KS_OK;
}

/* ---- GetAvatar's view (avatar_read.c) ----------------------------------------------- */

/* A row of the view: the member, and one item it wears (or none). */
static ks_rc view_row(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    ks_avatar_view_t *out = arg;

    (void)lengths;
    out->member.id = atoll(row[0]);
    out->member.image_server_id = atoi(row[1]);
    out->member.version = (unsigned)strtoul(row[2], NULL, 10);
    if (row[3] && out->worn_count < KS_OUTFIT_MAX * 2) {
        /* a colour "#RRGGBB" when worn with one (tints) */
        out->worn_tint[out->worn_count] =
            row[4] && row[4][0] == '#' ? 0x1000000u | (uint32_t)strtoul(row[4] + 1, NULL, 16) : 0;
        out->worn[out->worn_count++] = atoi(row[3]);
    }
    out->animated |= row[5] && row[5][0] == '1';
    return KS_OK;
}

/* The member and the ids of what it wears, in one round trip: a plain join,
 * a row per worn item (one with a NULL item when it wears nothing). Measured
 * under bench/api's GetAvatar load, the earlier form (a correlated
 * GROUP_CONCAT subquery inside SET STATEMENT) spent a quarter of the
 * replica's time optimising the subquery; this one is a const lookup on
 * members_user_id and a range of outfit's primary key (and, for each item,
 * a range of item_layers' primary key: is it animated?). */
ks_rc ks_store_member_view(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                           ks_avatar_view_t *out)
{
    ks_buf_t sql;
    ks_rc rc;

    out->member.id = 0;                  /* no row: no member */
    out->animated = 0;
    out->worn_count = 0;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT m.id, m.image_server_id, m.version, o.item_id, o.tint, "
                     KS_SQL_HAS_FRAMES("o.item_id") " FROM members m"
                     " LEFT JOIN outfit o ON o.member_id = m.id WHERE m.user_id = ");
    ks_sql_str(&sql, conn, user_id);
    if ((rc = ks_store_each(ctx, conn, &sql, view_row, out)) != KS_OK)
        return rc;
    if (!out->member.id)
        return ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" not found", user_id);
    snprintf(out->member.user_id, sizeof out->member.user_id, "%s", user_id);
    return KS_OK;
}
