/* test_buf.c: unit tests of common/buf.c, the bounded growing buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "buf.h"

static void test_appends_and_grows(void **state)
{
    ks_buf_t buf;
    (void)state;
    ks_buf_init(&buf, 100000);
    for (int i = 0; i < 1000; i++)
        ks_buf_addf(&buf, "%d,", i % 10);
    assert_int_equal(buf.len, 2000);
    assert_false(buf.overflow);
    assert_int_equal(strlen(buf.data), 2000);
    assert_memory_equal(buf.data, "0,1,2,", 6);
    ks_buf_append(&buf, "xyz", 3);
    assert_string_equal(buf.data + 2000, "xyz");
    ks_buf_free(&buf);
    assert_null(buf.data);
}

static void test_maximum_is_exact(void **state)
{
    ks_buf_t buf;
    (void)state;
    ks_buf_init(&buf, 10);
    ks_buf_append(&buf, "0123456789", 10);          /* exactly the maximum fits */
    assert_false(buf.overflow);
    assert_string_equal(buf.data, "0123456789");
    ks_buf_append(&buf, "a", 1);                   /* one more does not */
    assert_true(buf.overflow);
    assert_int_equal(buf.len, 10);
    assert_string_equal(buf.data, "0123456789");   /* left as it was */
    ks_buf_free(&buf);
}

static void test_overflow_sticks_until_reset(void **state)
{
    ks_buf_t buf;
    (void)state;
    ks_buf_init(&buf, 8);
    ks_buf_addf(&buf, "%s", "far too long for eight");
    assert_true(buf.overflow);
    assert_int_equal(buf.len, 0);
    ks_buf_addf(&buf, "ok");                       /* ignored after an overflow */
    assert_int_equal(buf.len, 0);
    assert_null(ks_buf_reserve(&buf, 1));
    ks_buf_reset(&buf);
    ks_buf_addf(&buf, "ok");
    assert_false(buf.overflow);
    assert_string_equal(buf.data, "ok");
    ks_buf_free(&buf);
}

static void test_huge_reserve_does_not_wrap(void **state)
{
    ks_buf_t buf;
    (void)state;
    ks_buf_init(&buf, 1024);
    ks_buf_addf(&buf, "x");
    assert_null(ks_buf_reserve(&buf, (size_t)-1));  /* len + extra would wrap */
    assert_true(buf.overflow);
    ks_buf_free(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_and_grows),
        cmocka_unit_test(test_maximum_is_exact),
        cmocka_unit_test(test_overflow_sticks_until_reset),
        cmocka_unit_test(test_huge_reserve_does_not_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
