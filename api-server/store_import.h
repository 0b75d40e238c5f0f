/* store_import.h: the database side of ImportMembers (op_import.c): the
 * catalog facts its checks need and the import itself, a handful of
 * multi-row statements in one master transaction. */
#ifndef KS_API_STORE_IMPORT_H
#define KS_API_STORE_IMPORT_H

#include "store.h"

#define KS_IMPORT_MEMBERS_MAX 1000     /* members per call */
#define KS_IMPORT_OWNED_MAX 1000       /* items owned per member */

/* One member to import; the lists are checked by op_import.c (distinct
 * items, worn ones owned). owned is sorted ascending. */
typedef struct {
    const char *user_id;
    const int *owned;
    int owned_count;
    const int *worn;
    int worn_count;
} ks_import_member_t;

/* Both start with their id: op_import.c bsearches them by it. */
typedef struct {
    int id, category_id;
    int draft;                         /* status 'draft': not yet released */
} ks_import_item_t;

typedef struct {
    int id, exclusive, required;
    char name[65];
} ks_import_category_t;

/* The items among ids[0..count) (ascending, distinct) that exist, ascending
 * by id, and every category, ascending by id; both arrays in the request's
 * arena. */
ks_rc ks_store_import_catalog(struct soap *soap, MYSQL *conn, const int *ids, int count,
                              ks_import_item_t **items, int *item_count,
                              ks_import_category_t **categories, int *category_count);

typedef struct {
    int imported;                      /* members created */
    int unchanged;                     /* members that existed with the same items */
} ks_import_result_t;

/* Imports members[0..count) (distinct user ids) in one transaction on the
 * master conn: members that exist must have exactly the items given
 * (KS_CONFLICT naming the first that does not; nothing changes); the others
 * are assigned to active image servers by the fewest members per unit of
 * weight, counting this call's, and inserted at their first version (above
 * a deleted namesake's last) with their inventory and outfit, without
 * composing. Each server's member_count rises by its share in one UPDATE,
 * made once the call is checked and before its rows are written: no server
 * row is locked while the call reads and compares.
 * KS_BUSY (nothing changed, run it again) when a concurrent call took a
 * user id first or the database gave up on a lock. */
ks_rc ks_store_import(struct soap *soap, MYSQL *conn, const ks_import_member_t *members,
                      int count, ks_import_result_t *result);

#endif
