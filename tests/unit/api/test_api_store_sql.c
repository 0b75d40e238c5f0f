/* test_api_store_sql.c: unit tests of the escaping SQL builder of
 * api-server/store.h (ks_store_sqlf) and of row mapping (ks_store_map_row),
 * without a database: a MYSQL handle that never connected escapes with the
 * client's default character set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store.h"

static MYSQL *handle;

static int setup(void **state)
{
    (void)state;
    return (handle = mysql_init(NULL)) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mysql_close(handle);
    return 0;
}

/* sql built by ks_store_sqlf, as text ("" when it overflowed). */
static void check_sql(const ks_buf_t *sql, const char *expected)
{
    assert_false(sql->overflow);
    assert_string_equal(sql->data ? sql->data : "", expected);
}

static void numbers_as_printf(void **state)
{
    ks_buf_t sql;

    (void)state;
    ks_buf_init(&sql, 1024);
    ks_store_sqlf(&sql, handle, "SELECT %d, %u, %ld, %lu, %lld, %llu, %zu, 100%%", -1, 2u, -3L,
                  4UL, -5LL, 18446744073709551615ULL, (size_t)7);
    check_sql(&sql, "SELECT -1, 2, -3, 4, -5, 18446744073709551615, 7, 100%");
    ks_buf_free(&sql);
}

static void strings_escaped_and_null(void **state)
{
    /* NULL at run time: the compiler warns of a NULL it can see */
    const char *none = getenv("KS_TEST_NO_SUCH_VARIABLE");
    ks_buf_t sql;

    (void)state;
    ks_buf_init(&sql, 1024);
    ks_store_sqlf(&sql, handle, "WHERE a = %s AND b = %s AND c = %s", "it's", none,
                  "back\\slash");
    check_sql(&sql, "WHERE a = 'it\\'s' AND b = NULL AND c = 'back\\\\slash'");
    ks_buf_free(&sql);
}

static void appends_to_what_is_there(void **state)
{
    ks_buf_t sql;

    (void)state;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT 1 FROM t WHERE 1 = 1");
    ks_store_sqlf(&sql, handle, " AND name = %s", "x");
    ks_store_sqlf(&sql, handle, " LIMIT %d", 5);
    check_sql(&sql, "SELECT 1 FROM t WHERE 1 = 1 AND name = 'x' LIMIT 5");
    ks_buf_free(&sql);
}

static void past_its_maximum_overflows(void **state)
{
    ks_buf_t sql;

    (void)state;
    ks_buf_init(&sql, 16);
    ks_store_sqlf(&sql, handle, "SELECT %s", "a string longer than sixteen bytes");
    assert_true(sql.overflow);
    ks_buf_free(&sql);
}

static void other_conversions_refuse_the_statement(void **state)
{
    ks_buf_t sql;

    (void)state;
    ks_buf_init(&sql, 1024);
    ks_store_sqlf(&sql, handle, "SELECT %x", 255u);     /* logged, and the statement refused */
    assert_true(sql.overflow);
    ks_buf_free(&sql);
}

typedef struct {
    int i;
    unsigned u;
    long long ll;
    unsigned long long ull;
    double d;
    char s[4];
} row_t;

static void rows_map_by_table(void **state)
{
    static const ks_col_t cols[] = KS_COLUMNS(row_t, i, u, ll, ull, d, s);
    /* each column typed by its field */
    static const ks_col_type_t types[] = {KS_COL_INT, KS_COL_UINT, KS_COL_LLONG, KS_COL_ULLONG,
                                          KS_COL_DOUBLE, KS_COL_STR};
    char *values[] = {"-7", "8", "-9000000000", "18446744073709551615", "0.5", "abcdef"};
    char *nulls[] = {NULL, NULL, NULL, NULL, NULL, NULL};
    row_t row;

    (void)state;
    assert_int_equal(sizeof cols / sizeof cols[0], 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(cols[i].type, types[i]);
    assert_int_equal(cols[5].offset, offsetof(row_t, s));
    assert_int_equal(cols[5].size, sizeof row.s);
    ks_store_map_row(values, KS_COLS(cols), &row);
    assert_int_equal(row.i, -7);
    assert_int_equal(row.u, 8);
    assert_true(row.ll == -9000000000LL);
    assert_true(row.ull == 18446744073709551615ULL);
    assert_true(row.d == 0.5);
    assert_string_equal(row.s, "abc");               /* cut to fit */
    ks_store_map_row(nulls, KS_COLS(cols), &row);
    assert_int_equal(row.i, 0);
    assert_true(row.ull == 0);
    assert_string_equal(row.s, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_as_printf),
        cmocka_unit_test(strings_escaped_and_null),
        cmocka_unit_test(appends_to_what_is_there),
        cmocka_unit_test(past_its_maximum_overflows),
        cmocka_unit_test(other_conversions_refuse_the_statement),
        cmocka_unit_test(rows_map_by_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
