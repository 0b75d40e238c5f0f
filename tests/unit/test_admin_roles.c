/* test_admin_roles.c: every cell of the admin server's role x action table
 * (admin-server/roles.c), against the expected table written out here, and
 * default deny for values outside it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "roles.h"

/* The policy of issue 10: owner everything; editor catalog, scenes and
 * members' items; operator image servers, moves, regeneration, system
 * status (and the audit log); viewer reads only. Webhooks (issue 16): the
 * API's admin role, so the owner only. */
static const int expected[KS_STAFF_ROLE_COUNT][KS_ACT_COUNT] = {
    /*             view cat  items regen move del  srv  audit staff ownpw hooks */
    [KS_STAFF_OWNER]    = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    [KS_STAFF_EDITOR]   = {1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0},
    [KS_STAFF_OPERATOR] = {1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0},
    [KS_STAFF_VIEWER]   = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
};

static void test_every_cell(void **state)
{
    (void)state;
    assert_int_equal(KS_ACT_COUNT, 11);    /* a new action needs a new column above */
    for (int role = 0; role < KS_STAFF_ROLE_COUNT; role++)
        for (int action = 0; action < KS_ACT_COUNT; action++) {
            if (ks_staff_role_allows(role, action) != expected[role][action])
                fail_msg("role %s, action %s: %d, expected %d", ks_staff_role_name(role),
                         ks_action_name(action), ks_staff_role_allows(role, action),
                         expected[role][action]);
        }
}

static void test_default_deny(void **state)
{
    (void)state;
    assert_int_equal(ks_staff_role_allows(-1, KS_ACT_VIEW), 0);
    assert_int_equal(ks_staff_role_allows(KS_STAFF_ROLE_COUNT, KS_ACT_VIEW), 0);
    assert_int_equal(ks_staff_role_allows(KS_STAFF_OWNER, -1), 0);
    assert_int_equal(ks_staff_role_allows(KS_STAFF_OWNER, KS_ACT_COUNT), 0);
    assert_int_equal(ks_staff_role_allows(1000, 1000), 0);
}

static void test_viewer_changes_nothing(void **state)
{
    (void)state;
    for (int action = 0; action < KS_ACT_COUNT; action++)
        if (action != KS_ACT_VIEW && action != KS_ACT_OWN_PASSWORD)
            assert_int_equal(ks_staff_role_allows(KS_STAFF_VIEWER, action), 0);
}

static void test_names(void **state)
{
    (void)state;
    for (int role = 0; role < KS_STAFF_ROLE_COUNT; role++)
        assert_int_equal(ks_staff_role_parse(ks_staff_role_name(role)), role);
    assert_int_equal(ks_staff_role_parse("root"), -1);
    assert_int_equal(ks_staff_role_parse(""), -1);
    assert_int_equal(ks_staff_role_parse(NULL), -1);
    assert_null(ks_staff_role_name(KS_STAFF_ROLE_COUNT));
    for (int action = 0; action < KS_ACT_COUNT; action++)
        assert_non_null(ks_action_name(action));
    assert_string_equal(ks_action_name(KS_ACT_STAFF_MANAGE), "staff_manage");
    assert_null(ks_action_name(KS_ACT_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell),
        cmocka_unit_test(test_default_deny),
        cmocka_unit_test(test_viewer_changes_nothing),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
