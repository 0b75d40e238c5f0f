/* store_staff_manage.h: the staff table as owners manage it (page_staff.c):
 * the list, adding a member, changing a role, disabling and enabling,
 * unlocking. Passwords are set with ks_admin_store_staff_set_hash and sessions
 * ended with ks_admin_store_session_delete_staff (store_staff.h). Every function
 * writes its error into err and returns a ks_rc. */
#ifndef KS_ADMIN_STORE_STAFF_MANAGE_H
#define KS_ADMIN_STORE_STAFF_MANAGE_H

#include "admin.h"

typedef struct {
    ks_staff_t staff;
    long long created_at;
} ks_staff_row_t;

/* The staff with an id above after_id, by id, at most max, into rows;
 * *more says whether more follow. */
ks_rc ks_admin_store_staff_list(ks_db_session_t *db, long long after_id, int max,
                                ks_staff_row_t *rows, int *count, int *more, ks_err_t *err);

/* Adds name with role and hash; *id gets its id. KS_CONFLICT when the name
 * is taken (nothing changed). */
ks_rc ks_admin_store_staff_add(ks_db_session_t *db, const char *name, ks_staff_role_t role,
                               const char *hash, long long now, long long *id, ks_err_t *err);

ks_rc ks_admin_store_staff_set_role(ks_db_session_t *db, long long id, ks_staff_role_t role,
                                    ks_err_t *err);
ks_rc ks_admin_store_staff_set_disabled(ks_db_session_t *db, long long id, int disabled,
                                        ks_err_t *err);
/* Unlocks id and starts its failure count again. */
ks_rc ks_admin_store_staff_unlock(ks_db_session_t *db, long long id, ks_err_t *err);

#endif
