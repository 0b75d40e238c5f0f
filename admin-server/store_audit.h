/* store_audit.h: the admin database's audit_log table: one row for every
 * state change and every failed sign-in, never updated or deleted. */
#ifndef KS_ADMIN_STORE_AUDIT_H
#define KS_ADMIN_STORE_AUDIT_H

#include "admin.h"

typedef struct {
    long long at;
    long long staff_id;            /* 0: nobody signed in */
    const char *staff_name;
    const char *address;
    const char *action;            /* "item.register", "login.failed", ... */
    const char *target;            /* "item 12", or NULL */
    const char *before;            /* the state before, or NULL */
    const char *after;             /* the state after, or NULL */
} ks_audit_entry_t;

/* Appends entry to the audit log. */
ks_rc ks_store_audit_add(ks_db_session_t *db, const ks_audit_entry_t *entry, ks_err_t *err);

/* What the audit log page filters by; NULL fields filter nothing. */
typedef struct {
    const char *staff_name;        /* exactly */
    const char *action;            /* the action, or its beginning ("member.") */
    const char *target;            /* the target, or its beginning ("member bob") */
    long long before_id;           /* the page starts below this id (0: the newest) */
    int limit;
} ks_audit_filter_t;

/* One entry as read back; every string is malloc'd (ks_store_audit_rows_free). */
typedef struct {
    long long id, at;
    char *staff_name, *address, *action, *target, *before, *after;   /* before/after may be NULL */
} ks_audit_row_t;

/* The entries matching filter, newest first, at most filter->limit, into
 * *rows (malloc'd) / *count; *more says whether older ones follow. */
ks_rc ks_store_audit_list(ks_db_session_t *db, const ks_audit_filter_t *filter,
                          ks_audit_row_t **rows, int *count, int *more, ks_err_t *err);
void ks_store_audit_rows_free(ks_audit_row_t *rows, int count);

#endif
