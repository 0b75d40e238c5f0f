/* store_members.h: SQL of the members table for the operations that list
 * members for staff (SearchMembers). Functions write their error into
 * ctx->err and return a ks_rc; results are allocated in the request's arena. */
#ifndef KS_API_STORE_MEMBERS_H
#define KS_API_STORE_MEMBERS_H

#include "store.h"

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

#endif
