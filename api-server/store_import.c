/* store_import.c: the SQL of ImportMembers (store_import.h).
 *
 * A call of 1,000 members is a handful of statements whatever its size: one
 * SELECT of those that exist (locked, for the comparison and so that two
 * calls cannot both create one), their items when there are any, the
 * tombstones of the new ones, the active servers, one UPDATE of
 * member_count per server used, one multi-row INSERT of the members, one
 * SELECT of their ids and multi-row INSERTs of inventory and outfit (split
 * at KS_IMPORT_SQL_FLUSH). Servers are read without a lock and their counts
 * raised only once everything is checked, so the server rows are locked
 * while the call writes, not while it reads and compares; two imports that
 * run at once may both see the same counts and give a server a few more
 * than its share for a moment, which the next assignments even out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_import.h"

#define KS_IMPORT_SQL_MAX ((size_t)4 << 20)      /* one statement's text */
#define KS_IMPORT_SQL_FLUSH ((size_t)512 << 10)  /* a multi-row INSERT is sent at this size */

static const ks_col_t import_item_cols[] = KS_COLUMNS(ks_import_item_t, id, category_id, draft);

static const ks_col_t import_category_cols[] = KS_COLUMNS(ks_import_category_t, id, exclusive,
    required, name);

ks_rc ks_store_import_catalog(struct soap *soap, MYSQL *conn, const int *ids, int count,
                              ks_import_item_t **items, int *item_count,
                              ks_import_category_t **categories, int *category_count)
{
    ks_buf_t sql;
    ks_rc rc;

    *items = NULL;
    *item_count = 0;
    if (count > 0) {
        ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
        ks_buf_addf(&sql, "SELECT id, category_id, status = 'draft' FROM items WHERE id IN (");
        for (int i = 0; i < count; i++)
            ks_buf_addf(&sql, "%s%d", i ? "," : "", ids[i]);
        ks_buf_addf(&sql, ") ORDER BY id");
        if ((rc = ks_store_rows_arena(soap, conn, &sql, KS_COLS(import_item_cols),
                                      sizeof **items, (void **)items, item_count)) != KS_OK)
            return rc;
    }
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, exclusive, required, name FROM categories ORDER BY id");
    return ks_store_rows_arena(soap, conn, &sql, KS_COLS(import_category_cols),
                               sizeof **categories, (void **)categories, category_count);
}

/* ---- the import ------------------------------------------------------------- */

/* What the transaction knows of each member of the call. */
typedef struct {
    long long id;                      /* 0 while it does not exist */
    int existed;
    int server_id;
    unsigned version;
    int db_owned, db_worn;             /* existing: items the database has */
    int mismatch;                      /* existing: an item the call does not give */
} import_state_t;

typedef struct {
    const char *user_id;
    int index;                         /* into the call's members */
} import_key_t;

typedef struct {
    const ks_import_member_t *members;
    import_state_t *state;
    import_key_t *order;               /* the members sorted by user id */
    int count;
    ks_import_result_t *result;
} import_t;

static int by_user_id(const void *a, const void *b)
{
    return strcmp(((const import_key_t *)a)->user_id, ((const import_key_t *)b)->user_id);
}

/* The index of the member user_id, or -1. */
static int find_member(const import_t *im, const char *user_id)
{
    int lo = 0, hi = im->count - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(im->order[mid].user_id, user_id);
        if (c == 0)
            return im->order[mid].index;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int int_in(const int *sorted, int n, int value)
{
    int lo = 0, hi = n - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (sorted[mid] == value)
            return 1;
        if (sorted[mid] < value)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

static int int_in_list(const int *list, int n, int value)
{
    for (int i = 0; i < n; i++)
        if (list[i] == value)
            return 1;
    return 0;
}

/* Appends the quoted user ids of the members that exist (existing 1) or not
 * (0), comma-separated, to sql; how many. */
static int add_user_ids(const import_t *im, MYSQL *conn, ks_buf_t *sql, int existing)
{
    int n = 0;

    for (int i = 0; i < im->count; i++) {
        if ((im->state[i].id != 0) != existing)
            continue;
        if (n++)
            ks_buf_addf(sql, ",");
        ks_sql_str(sql, conn, im->members[i].user_id);
    }
    return n;
}

/* A row of read_ids, and what it reads into. */
typedef struct {
    import_t *im;
    int mark_existing;
} id_rows_t;

static ks_rc id_row(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    id_rows_t *r = arg;
    int i = find_member(r->im, row[1]);

    (void)lengths;
    if (i >= 0) {
        r->im->state[i].id = atoll(row[0]);
        r->im->state[i].existed = r->mark_existing;
    }
    return KS_OK;
}

/* Reads "SELECT id, user_id ..." rows into the members' ids; with
 * mark_existing, marks them as having existed. */
static ks_rc read_ids(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, import_t *im,
                      int mark_existing)
{
    id_rows_t rows = {im, mark_existing};

    return ks_store_each(ctx, conn, sql, id_row, &rows);
}

/* Compares the existing members' inventory and outfit with the call's:
 * KS_CONFLICT naming the first that differs. */
/* Appends the ids of the members that existed: "0,id,id...". */
static void add_existing_ids(const import_t *im, ks_buf_t *sql)
{
    ks_buf_addf(sql, "0");
    for (int i = 0; i < im->count; i++)
        if (im->state[i].existed)
            ks_buf_addf(sql, ",%lld", im->state[i].id);
}

/* A row of compare_existing: user id, 0 (owned) or 1 (worn), item id. */
static ks_rc existing_item_row(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    import_t *im = arg;
    int i = find_member(im, row[0]), item = atoi(row[2]);
    const ks_import_member_t *m;

    (void)lengths;
    if (i < 0)
        return KS_OK;
    m = &im->members[i];
    if (atoi(row[1]) == 0) {
        im->state[i].db_owned++;
        im->state[i].mismatch |= !int_in(m->owned, m->owned_count, item);
    } else {
        im->state[i].db_worn++;
        im->state[i].mismatch |= !int_in_list(m->worn, m->worn_count, item);
    }
    return KS_OK;
}

static ks_rc compare_existing(ks_api_ctx_t *ctx, MYSQL *conn, import_t *im)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(&sql, "SELECT m.user_id, 0, inv.item_id FROM inventory inv"
                     " JOIN members m ON m.id = inv.member_id WHERE inv.member_id IN (");
    add_existing_ids(im, &sql);
    ks_buf_addf(&sql, ") UNION ALL SELECT m.user_id, 1, o.item_id FROM outfit o"
                     " JOIN members m ON m.id = o.member_id WHERE o.member_id IN (");
    add_existing_ids(im, &sql);
    ks_buf_addf(&sql, ")");
    if ((rc = ks_store_each(ctx, conn, &sql, existing_item_row, im)) != KS_OK)
        return rc;
    for (int i = 0; i < im->count; i++) {
        const import_state_t *s = &im->state[i];
        if (s->existed && (s->mismatch || s->db_owned != im->members[i].owned_count ||
                           s->db_worn != im->members[i].worn_count))
            return ks_err(&ctx->err, KS_CONFLICT,
                          "member[%d]: \"%s\" already exists with other items (ImportMembers "
                          "creates members; change one with GrantItem, RevokeItem and "
                          "ChangeOutfit)", i, im->members[i].user_id);
    }
    return KS_OK;
}

/* A row of read_versions: a tombstone's last version and user id. */
static ks_rc tombstone_row(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    import_t *im = arg;
    int i = find_member(im, row[1]);

    (void)lengths;
    if (i >= 0)
        im->state[i].version = (unsigned)strtoul(row[0], NULL, 10) + 1;
    return KS_OK;
}

/* The first version of each new member: above a deleted namesake's last. */
static ks_rc read_versions(ks_api_ctx_t *ctx, MYSQL *conn, import_t *im)
{
    ks_buf_t sql;

    for (int i = 0; i < im->count; i++)
        im->state[i].version = 1;
    ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(&sql, "SELECT last_version, user_id FROM member_tombstones WHERE user_id IN (");
    add_user_ids(im, conn, &sql, 0);
    ks_buf_addf(&sql, ")");
    return ks_store_each(ctx, conn, &sql, tombstone_row, im);
}

typedef struct {
    int id;
    long long weight, members;         /* members: the count, plus this call's */
    int assigned;
} import_server_t;

static const ks_col_t import_server_cols[] = KS_COLUMNS(import_server_t, id, weight, members);

/* Assigns each new member to the active server with the fewest members per
 * unit of weight (ties: the lowest id), as ks_store_pick_image_server does
 * one at a time, counting the members already assigned by this call. */
static ks_rc assign_servers(ks_api_ctx_t *ctx, MYSQL *conn, import_t *im,
                            import_server_t *servers, int *server_count)
{
    ks_buf_t sql;
    ks_rc rc;
    int n;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, weight, member_count FROM image_servers"
                     " WHERE mode = 'active' AND weight > 0 ORDER BY id");
    if ((rc = ks_store_rows(ctx, conn, &sql, KS_COLS(import_server_cols), servers,
                            sizeof *servers, KS_IMAGE_SERVERS_MAX, &n)) != KS_OK)
        return rc;
    *server_count = n;
    if (n == 0)
        return ks_err(&ctx->err, KS_UNAVAILABLE, "no active image server");
    for (int i = 0; i < im->count; i++) {
        int best = 0;
        if (im->state[i].id != 0)
            continue;
        for (int s = 1; s < n; s++)       /* members/weight, compared without division */
            if (servers[s].members * servers[best].weight <
                servers[best].members * servers[s].weight)
                best = s;
        servers[best].members++;
        servers[best].assigned++;
        im->state[i].server_id = servers[best].id;
    }
    return KS_OK;
}

/* Sends sql when it has grown past the flush size (or when last and it
 * holds rows), then starts the next statement with head. */
static ks_rc flush_rows(ks_api_ctx_t *ctx, MYSQL *conn, ks_buf_t *sql, const char *head,
                        int *rows, int last)
{
    ks_rc rc;

    if (*rows == 0 || (!last && sql->len < KS_IMPORT_SQL_FLUSH))
        return KS_OK;
    rc = ks_store_run(ctx, conn, sql, NULL);
    *rows = 0;
    ks_buf_init(sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(sql, "%s", head);
    return rc;
}

/* Inserts the new members' inventory (worn 0) or outfit (worn 1). */
static ks_rc insert_items(ks_api_ctx_t *ctx, MYSQL *conn, const import_t *im, int worn)
{
    const char *head = worn ? "INSERT INTO outfit (member_id, item_id) VALUES "
                            : "INSERT INTO inventory (member_id, item_id) VALUES ";
    ks_buf_t sql;
    ks_rc rc = KS_OK;
    int rows = 0;

    ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(&sql, "%s", head);
    for (int i = 0; i < im->count && rc == KS_OK; i++) {
        const ks_import_member_t *m = &im->members[i];
        const int *items = worn ? m->worn : m->owned;
        int n = worn ? m->worn_count : m->owned_count;
        if (im->state[i].existed)
            continue;
        for (int k = 0; k < n; k++)
            ks_buf_addf(&sql, "%s(%lld,%d)", rows++ ? "," : "", im->state[i].id, items[k]);
        rc = flush_rows(ctx, conn, &sql, head, &rows, 0);
    }
    if (rc == KS_OK)
        rc = flush_rows(ctx, conn, &sql, head, &rows, 1);
    ks_buf_free(&sql);
    return rc;
}

/* The import's transaction (ks_store_txn). */
static ks_rc import_txn(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    import_t *im = arg;
    ks_import_result_t *result = im->result;
    import_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count = 0, existing = 0, fresh;
    ks_buf_t sql;
    ks_rc rc;

    memset(im->state, 0, sizeof *im->state * (size_t)im->count);
    ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(&sql, "SELECT id, user_id FROM members WHERE user_id IN (");
    add_user_ids(im, conn, &sql, 0);
    ks_buf_addf(&sql, ") FOR UPDATE");
    if ((rc = read_ids(ctx, conn, &sql, im, 1)) != KS_OK)
        return rc;
    for (int i = 0; i < im->count; i++)
        existing += im->state[i].existed;
    if (existing > 0 && (rc = compare_existing(ctx, conn, im)) != KS_OK)
        return rc;
    fresh = im->count - existing;
    result->imported = fresh;
    result->unchanged = existing;
    if (fresh == 0)
        return KS_OK;

    if ((rc = read_versions(ctx, conn, im)) != KS_OK ||
        (rc = assign_servers(ctx, conn, im, servers, &server_count)) != KS_OK)
        return rc;
    /* The counts first: the members' INSERT takes a shared lock on each
     * server row (the foreign key), and two imports that both held one
     * would deadlock on this UPDATE's exclusive lock. Taken here, after
     * every check and read, the rows are locked only while the call writes. */
    for (int s = 0; s < server_count; s++) {
        if (servers[s].assigned == 0)
            continue;
        ks_buf_init(&sql, 256);
        ks_buf_addf(&sql, "UPDATE image_servers SET member_count = member_count + %d"
                         " WHERE id = %d", servers[s].assigned, servers[s].id);
        if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
            return rc;
    }
    ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(&sql, "INSERT INTO members (user_id, image_server_id, version) VALUES ");
    for (int i = 0, n = 0; i < im->count; i++) {
        if (im->state[i].existed)
            continue;
        ks_buf_addf(&sql, "%s(", n++ ? "," : "");
        ks_sql_str(&sql, conn, im->members[i].user_id);
        ks_buf_addf(&sql, ",%d,%u)", im->state[i].server_id, im->state[i].version);
    }
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK) {
        /* A concurrent call created one of them first: run again, and
         * compare it then. */
        if (rc == KS_CONFLICT)
            rc = ks_err(&ctx->err, KS_BUSY, "a member of the call was created meanwhile");
        return rc;
    }
    ks_buf_init(&sql, KS_IMPORT_SQL_MAX);
    ks_buf_addf(&sql, "SELECT id, user_id FROM members WHERE user_id IN (");
    add_user_ids(im, conn, &sql, 0);   /* the new ones: still without an id */
    ks_buf_addf(&sql, ")");
    if ((rc = read_ids(ctx, conn, &sql, im, 0)) != KS_OK)
        return rc;
    for (int i = 0; i < im->count; i++)
        if (im->state[i].id == 0)
            return ks_err(&ctx->err, KS_ERROR, "member \"%s\" vanished during its import",
                          im->members[i].user_id);
    if ((rc = insert_items(ctx, conn, im, 0)) != KS_OK)
        return rc;
    return insert_items(ctx, conn, im, 1);
}

ks_rc ks_store_import(struct soap *soap, MYSQL *conn, const ks_import_member_t *members,
                      int count, ks_import_result_t *result)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    import_t im = { .members = members, .count = count, .result = result };

    memset(result, 0, sizeof *result);
    im.state = soap_malloc(soap, sizeof *im.state * (size_t)count);
    im.order = soap_malloc(soap, sizeof *im.order * (size_t)count);
    if (!im.state || !im.order)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < count; i++) {
        im.order[i].user_id = members[i].user_id;
        im.order[i].index = i;
    }
    qsort(im.order, (size_t)count, sizeof *im.order, by_user_id);
    return ks_store_txn(ctx, conn, import_txn, &im);
}
