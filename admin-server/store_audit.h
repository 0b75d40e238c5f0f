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

#endif
