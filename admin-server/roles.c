/* roles.c: the role x action table (roles.h). Change what a role may do
 * here and nowhere else; tests/unit/test_admin_roles.c checks every cell. */
#include "roles.h"

#include <string.h>

static const char *const role_names[KS_STAFF_ROLE_COUNT] = {"owner", "editor", "operator",
                                                            "viewer"};

static const char *const action_names[KS_ACT_COUNT] = {
    [KS_ACT_VIEW] = "view",
    [KS_ACT_CATALOG_EDIT] = "catalog_edit",
    [KS_ACT_MEMBER_ITEMS] = "member_items",
    [KS_ACT_MEMBER_REGENERATE] = "member_regenerate",
    [KS_ACT_MEMBER_MOVE] = "member_move",
    [KS_ACT_MEMBER_DELETE] = "member_delete",
    [KS_ACT_SERVER_EDIT] = "server_edit",
    [KS_ACT_AUDIT_VIEW] = "audit_view",
    [KS_ACT_STAFF_MANAGE] = "staff_manage",
    [KS_ACT_OWN_PASSWORD] = "own_password",
    [KS_ACT_WEBHOOKS] = "webhooks",
};

/* Rows: roles; columns: actions. A cell left out is 0: denied. */
static const unsigned char allowed[KS_STAFF_ROLE_COUNT][KS_ACT_COUNT] = {
    [KS_STAFF_OWNER] = {
        [KS_ACT_VIEW] = 1, [KS_ACT_CATALOG_EDIT] = 1, [KS_ACT_MEMBER_ITEMS] = 1,
        [KS_ACT_MEMBER_REGENERATE] = 1, [KS_ACT_MEMBER_MOVE] = 1, [KS_ACT_MEMBER_DELETE] = 1,
        [KS_ACT_SERVER_EDIT] = 1, [KS_ACT_AUDIT_VIEW] = 1, [KS_ACT_STAFF_MANAGE] = 1,
        [KS_ACT_OWN_PASSWORD] = 1, [KS_ACT_WEBHOOKS] = 1,
    },
    [KS_STAFF_EDITOR] = {
        [KS_ACT_VIEW] = 1, [KS_ACT_CATALOG_EDIT] = 1, [KS_ACT_MEMBER_ITEMS] = 1,
        [KS_ACT_OWN_PASSWORD] = 1,
    },
    [KS_STAFF_OPERATOR] = {
        [KS_ACT_VIEW] = 1, [KS_ACT_MEMBER_REGENERATE] = 1, [KS_ACT_MEMBER_MOVE] = 1,
        [KS_ACT_SERVER_EDIT] = 1, [KS_ACT_AUDIT_VIEW] = 1, [KS_ACT_OWN_PASSWORD] = 1,
    },
    [KS_STAFF_VIEWER] = {
        [KS_ACT_VIEW] = 1, [KS_ACT_OWN_PASSWORD] = 1,
    },
};

int ks_staff_role_allows(int role, int action)
{
    if (role < 0 || role >= KS_STAFF_ROLE_COUNT || action < 0 || action >= KS_ACT_COUNT)
        return 0;
    return allowed[role][action];
}

const char *ks_staff_role_name(int role)
{
    return role >= 0 && role < KS_STAFF_ROLE_COUNT ? role_names[role] : NULL;
}

int ks_staff_role_parse(const char *name)
{
    for (int role = 0; name && role < KS_STAFF_ROLE_COUNT; role++)
        if (strcmp(name, role_names[role]) == 0)
            return role;
    return -1;
}

const char *ks_action_name(int action)
{
    return action >= 0 && action < KS_ACT_COUNT ? action_names[action] : NULL;
}
