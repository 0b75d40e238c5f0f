/* roles.h: staff roles and the one role x action table that decides what
 * each may do. Default deny: an action a role's row does not grant is
 * refused, and an unknown role or action is refused.
 *
 *   owner     everything, including staff management and webhooks
 *   editor    the catalog, scenes, members' items
 *   operator  image servers, moves, regeneration, system status
 *   viewer    reads only
 */
#ifndef KS_ADMIN_ROLES_H
#define KS_ADMIN_ROLES_H

typedef enum {
    KS_STAFF_OWNER,
    KS_STAFF_EDITOR,
    KS_STAFF_OPERATOR,
    KS_STAFF_VIEWER,
    KS_STAFF_ROLE_COUNT
} ks_staff_role_t;

typedef enum {
    KS_ACT_VIEW,              /* dashboard, catalog, members, servers: read */
    KS_ACT_CATALOG_EDIT,      /* categories, items, scenes: create, change, publish, retire */
    KS_ACT_MEMBER_ITEMS,      /* grant and revoke members' items */
    KS_ACT_MEMBER_REGENERATE, /* compose a member's avatar again */
    KS_ACT_MEMBER_MOVE,       /* move a member to another image server */
    KS_ACT_MEMBER_DELETE,     /* delete a member */
    KS_ACT_SERVER_EDIT,       /* image servers: mode, weight, move members off */
    KS_ACT_AUDIT_VIEW,        /* read the audit log */
    KS_ACT_STAFF_MANAGE,      /* add staff, change roles, disable, unlock, reset passwords */
    KS_ACT_OWN_PASSWORD,      /* change one's own password */
    KS_ACT_WEBHOOKS,          /* webhooks: list, register, delete, deliveries, redeliver */
    KS_ACT_COUNT
} ks_action_t;

/* 1 when role may do action, else 0 (also for values out of range). */
int ks_staff_role_allows(int role, int action);

/* "owner", ...; NULL for a value out of range. */
const char *ks_staff_role_name(int role);
/* The role named name, or -1. */
int ks_staff_role_parse(const char *name);

/* "catalog_edit", ...; NULL for a value out of range. */
const char *ks_action_name(int action);

#endif
