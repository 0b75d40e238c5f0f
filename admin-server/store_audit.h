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
ks_rc ks_admin_store_audit_add(ks_db_session_t *db, const ks_audit_entry_t *entry, ks_err_t *err);

/* A row read back. */
typedef struct {
    long long id, at;
    char staff_name[65];
    char address[65];
    char action[65];
    char target[256];
    char *before, *after;          /* malloc'd or NULL; ks_admin_store_audit_free frees them */
} ks_audit_row_t;

/* Which rows to read, newest first; a NULL or 0 field filters nothing. */
typedef struct {
    const char *target;            /* exactly this target ("item 12") */
    const char *target_prefix;     /* targets starting so ("member bob", "staff ") */
    const char *staff_name;        /* exactly this staff member */
    const char *action_prefix;     /* actions starting so ("item.", "login.failed") */
    long long before_id;           /* a page by key: rows with an id below */
    int limit;                     /* rows at most (1..200) */
} ks_audit_filter_t;

/* The rows matching filter, newest first, into rows[0..*count) (room for
 * filter->limit); *more says whether older ones follow (the next page:
 * before_id = the last row's id). */
ks_rc ks_admin_store_audit_list(ks_db_session_t *db, const ks_audit_filter_t *filter,
                                ks_audit_row_t *rows, int *count, int *more, ks_err_t *err);

/* Frees what ks_admin_store_audit_list allocated in rows[0..count). */
void ks_admin_store_audit_free(ks_audit_row_t *rows, int count);

/* "2026-12-06 08:15:02 UTC" of a row's time into out (size 32). */
void ks_admin_audit_time(long long at, char out[32]);

#endif
