/* test_prom.c: unit tests of common/prom.c, the exposition helpers every
 * daemon's /metrics uses (test_metrics.c checks the image server's whole
 * exposition through them): label values escaped as the format wants, an
 * empty histogram written as nothing, an observation counted in the first
 * bucket whose bound it does not exceed, negative durations as 0, and the
 * family header of one-series counters and gauges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prom.h"

static void test_label_value_escaped(void **state)
{
    ks_buf_t out;

    (void)state;
    ks_buf_init(&out, 1024);
    ks_prom_label_value(&out, "db\"1\\x\nend");
    ks_buf_append(&out, "", 1);
    assert_string_equal(out.data, "db\\\"1\\\\x\\nend");
    ks_buf_free(&out);
}

static void test_histogram(void **state)
{
    static const char expected[] =
        "h_bucket{op=\"a\",le=\"0.001\"} 2\n"
        "h_bucket{op=\"a\",le=\"0.0025\"} 2\n"
        "h_bucket{op=\"a\",le=\"0.005\"} 3\n"
        "h_bucket{op=\"a\",le=\"0.01\"} 3\n"
        "h_bucket{op=\"a\",le=\"0.025\"} 3\n"
        "h_bucket{op=\"a\",le=\"0.05\"} 3\n"
        "h_bucket{op=\"a\",le=\"0.1\"} 3\n"
        "h_bucket{op=\"a\",le=\"0.25\"} 3\n"
        "h_bucket{op=\"a\",le=\"0.5\"} 3\n"
        "h_bucket{op=\"a\",le=\"1\"} 3\n"
        "h_bucket{op=\"a\",le=\"2.5\"} 3\n"
        "h_bucket{op=\"a\",le=\"5\"} 3\n"
        "h_bucket{op=\"a\",le=\"10\"} 3\n"
        "h_bucket{op=\"a\",le=\"+Inf\"} 4\n"
        "h_sum{op=\"a\"} 11.004000000\n"
        "h_count{op=\"a\"} 4\n";
    ks_prom_histogram_t h = {0};
    ks_buf_t out;

    (void)state;
    ks_buf_init(&out, 1 << 16);
    ks_prom_histogram(&out, "h", "op=\"a\"", &h);
    assert_int_equal(out.len, 0);                     /* empty: nothing written */
    ks_prom_observe(&h, -1.0);                        /* counts as 0 */
    ks_prom_observe(&h, 0.001);                       /* on a bound: that bucket */
    ks_prom_observe(&h, 0.003);
    ks_prom_observe(&h, 11.0);                        /* past the last bound: +Inf only */
    ks_prom_histogram(&out, "h", "op=\"a\"", &h);
    ks_buf_append(&out, "", 1);
    assert_false(out.overflow);
    assert_string_equal(out.data, expected);
    ks_buf_free(&out);
}

static void test_counter_and_gauge(void **state)
{
    ks_buf_t out;

    (void)state;
    ks_buf_init(&out, 4096);
    ks_prom_counter(&out, "c_total", "Things counted.", 7);
    ks_prom_gauge(&out, "g", "A level.", 18446744073709551615ULL);
    ks_buf_append(&out, "", 1);
    assert_string_equal(out.data, "# HELP c_total Things counted.\n# TYPE c_total counter\n"
                                  "c_total 7\n# HELP g A level.\n# TYPE g gauge\n"
                                  "g 18446744073709551615\n");
    ks_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_value_escaped),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_counter_and_gauge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
