/* store_members.h: SQL of the members, outfit and inventory tables: a
 * member's creation and deletion (CreateAvatar, DeleteAvatar), what members
 * wear (GetAvatars, ChangeOutfit, PreviewAvatar), what they own (GrantItem,
 * RevokeItem, ListMemberItems) and the staff's SearchMembers. Functions write
 * their error into ctx->err and return a ks_rc; results are allocated in the
 * request's arena. */
#ifndef KS_API_STORE_MEMBERS_H
#define KS_API_STORE_MEMBERS_H

#include <stdint.h>
#include "store.h"

/* What a page needs to show a member's avatar (avatar_read.h). */
typedef struct {
    ks_member_t member;
    ks_image_server_t server;
    int worn[KS_OUTFIT_MAX * 2];       /* item ids, ascending */
    int worn_count;
    uint32_t worn_tint[KS_OUTFIT_MAX * 2];   /* each one's colour: 0x1RRGGBB, or 0 for none */
    int animated;                      /* wears animated items: the version has an APNG */
} ks_avatar_view_t;

/* The view of member user_id but its image server (out->server is left
 * as it was), what it wears in no particular order, read in one round trip.
 * KS_NOTFOUND when there is no such member. */
ks_rc ks_store_member_view(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                           ks_avatar_view_t *out);

/* What SearchMembers filters by; a NULL or 0 field filters nothing. */
typedef struct {
    const char *prefix;            /* of the user id (checked by the caller) */
    int image_server_id;
    const char *after_user_id;     /* the page starts after it (byte order) */
    int limit;
} ks_member_search_t;

/* The members matching search (at most search->limit, by user id) into
 * *members / *count; *more says whether more follow. */
ks_rc ks_store_search_members(struct soap *soap, MYSQL *conn, const ks_member_search_t *search,
                              struct ks__MemberSummary **members, int *count, int *more);

/* ---- Members ------------------------------------------------------------------ */

/* Creates member user_id on server (inside the caller's transaction): its
 * version starts above the last one a deleted member of that id reached (so
 * no image URL is used twice), and it owns and wears the default item of
 * each required category. The server's member_count is the caller's to
 * raise after the COMMIT (ks_store_assigned): the member's row takes no lock
 * on the server's. Fills *out. KS_CONFLICT when the member exists. */
ks_rc ks_store_member_create(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                             const ks_image_server_t *server, ks_member_t *out);

/* Raises member's version by one (inside the caller's transaction), in the
 * row and in *member. */
ks_rc ks_store_member_next_version(ks_api_ctx_t *ctx, MYSQL *conn, ks_member_t *member);

/* Deletes member user_id (inside the caller's transaction): its render
 * queue row, a tombstone keeping its last version, the row (inventory,
 * outfit and album photos go with it), one member less on its server, and
 * the deletion of its images queued on every server. *deleted is the member
 * as it was; *photos says how many album photos went. KS_NOTFOUND when there
 * is no such member. */
ks_rc ks_store_member_delete(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                             ks_member_t *deleted, int *photos);

/* A member with the items it wears (ascending, in the arena). */
typedef struct {
    ks_member_t member;
    int *worn;
    int worn_count;
    ks_item_tint_t *tints;         /* the colours of those worn with one (tints) */
    int tint_count;
    int animated;                  /* wears animated items (KS_SQL_HAS_FRAMES) */
} ks_member_worn_t;

/* The members among user_ids[0..n) with what each wears, in one statement
 * (one snapshot: each version agrees with its outfit), into found (room for
 * n); *count is how many exist. */
ks_rc ks_store_members_worn(struct soap *soap, MYSQL *conn, char **user_ids, int n,
                            ks_member_worn_t *found, int *count);

/* ---- Outfits ------------------------------------------------------------------ */

/* An item as the outfit rules see it. */
typedef struct {
    int item_id, category_id, exclusive;
    int owned;                     /* by the member asked about */
    char status[16];               /* draft | published | retired */
    int tintable;                  /* it has a tintable layer */
    char tint[8];                  /* "#RRGGBB" it is worn with, or "" */
} ks_outfit_item_t;

/* The items member_id wears, at most max (owned is not read). */
ks_rc ks_store_outfit(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, ks_outfit_item_t *out,
                      int max, int *count);

/* The items among ids[0..count) that exist, into out (room for count), with
 * whether member_id owns each; *found is how many. */
ks_rc ks_store_outfit_items(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, const int *ids,
                            int count, ks_outfit_item_t *out, int *found);

/* Takes the items off[0..off_count) off member_id and puts on[0..on_count) on. */
ks_rc ks_store_outfit_write(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, const int *off,
                            int off_count, const int *on, int on_count);

/* Sets the colour member_id wears item_id with: "#RRGGBB", or "" for none. */
ks_rc ks_store_outfit_tint(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, int item_id,
                           const char *tint);

/* How many items of category_id member_id wears besides item_id. */
ks_rc ks_store_outfit_count_others(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                   int category_id, int item_id, long long *count);

/* A required category. */
typedef struct {
    int id;
    char name[65];
} ks_required_category_t;

/* Every required category, in the arena. */
ks_rc ks_store_required_categories(struct soap *soap, MYSQL *conn, ks_required_category_t **rows,
                                   int *count);

/* ---- Inventory ---------------------------------------------------------------- */

/* Gives item_id to member_id; *granted is 0 when it owned it already. */
ks_rc ks_store_inventory_grant(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, int item_id,
                               int *granted);

/* Takes item_id from member_id, and off it: *was_owned, *was_worn say what changed. */
ks_rc ks_store_inventory_revoke(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, int item_id,
                                int *was_owned, int *was_worn);

/* What RevokeItem must know of an item's category. */
typedef struct {
    int category_id;
    int required;
    int default_item_id;           /* 0: none */
    char category[65];
} ks_item_rule_t;

/* The category rule of item_id (KS_NOTFOUND when there is no such item). */
ks_rc ks_store_item_rule(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, ks_item_rule_t *out);

/* A page of what member_id owns (of category_id alone, when not NULL), the
 * last granted first, into *items / *count (in the arena); *total counts
 * every page. */
ks_rc ks_store_member_items(struct soap *soap, MYSQL *conn, long long member_id,
                            const int *category_id, int offset, int limit,
                            struct ks__MemberItem **items, int *count, long long *total);

/* ---- Time-limited items ------------------------------------------------------------- */

/* Takes off member_id every worn item whose window has ended (*dropped says
 * how many), putting on the default item of a required category left with
 * nothing worn (granting it when not owned). The caller holds the member's
 * row locked, raises the version and composes it in the same transaction
 * (render.c). */
ks_rc ks_store_outfit_drop_ended(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 int *dropped);

#endif
