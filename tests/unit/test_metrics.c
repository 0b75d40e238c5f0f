/* test_metrics.c: unit tests of image-server/metrics.c.
 *
 * The exposition is checked line by line for what the recorded requests
 * must produce: counts by route and status (unknown statuses counted as
 * 500), a duration on a bucket's bound counted in that bucket, buckets
 * cumulative up to +Inf = _count, _sum in seconds, the composed images by
 * kind, and the gauges as given. tests/integration/test_metrics.py parses
 * a live server's answer with a strict reader of the format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* Whether the exposition has this exact line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

/* Every line of expected is in the exposition (printed when one is not). */
static void assert_lines(const char *text, const char *const *expected, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!has_line(text, expected[i]))
            fail_msg("missing line: %s\n--- exposition ---\n%s", expected[i], text);
    }
}

static char *render(ks_metrics_t *metrics, const ks_metrics_gauges_t *gauges, ks_buf_t *out)
{
    ks_buf_init(out, 1u << 20);
    ks_metrics_render(metrics, gauges, out);
    assert_false(out->overflow);
    assert_non_null(out->data);
    return out->data;
}

static void test_requests_and_histogram(void **state)
{
    static const char *const expected[] = {
        "# TYPE kisekae_image_requests_total counter",
        "kisekae_image_requests_total{route=\"compose\",status=\"200\"} 2",
        "kisekae_image_requests_total{route=\"compose\",status=\"409\"} 1",
        "kisekae_image_requests_total{route=\"item\",status=\"403\"} 1",
        "kisekae_image_requests_total{route=\"item\",status=\"500\"} 1",
        "kisekae_image_requests_total{route=\"other\",status=\"404\"} 1",
        "# TYPE kisekae_image_request_duration_seconds histogram",
        "kisekae_image_request_duration_seconds_bucket{route=\"compose\",le=\"0.001\"} 1",
        "kisekae_image_request_duration_seconds_bucket{route=\"compose\",le=\"0.0025\"} 2",
        "kisekae_image_request_duration_seconds_bucket{route=\"compose\",le=\"10\"} 2",
        "kisekae_image_request_duration_seconds_bucket{route=\"compose\",le=\"+Inf\"} 3",
        "kisekae_image_request_duration_seconds_count{route=\"compose\"} 3",
        "kisekae_image_request_duration_seconds_sum{route=\"compose\"} 30.002100000",
    };
    ks_metrics_t *metrics = ks_metrics_new();
    ks_metrics_gauges_t gauges = {0};
    ks_buf_t out;
    const char *text;

    (void)state;
    assert_non_null(metrics);
    ks_metrics_request(metrics, KS_ROUTE_COMPOSE, 200, 0.001);    /* on the first bound */
    ks_metrics_request(metrics, KS_ROUTE_COMPOSE, 200, 0.0011);
    ks_metrics_request(metrics, KS_ROUTE_COMPOSE, 409, 30.0);     /* beyond the last bound */
    ks_metrics_request(metrics, KS_ROUTE_ITEM, 403, 0.0);
    ks_metrics_request(metrics, KS_ROUTE_ITEM, 999, 0.0);         /* no such status: 500 */
    ks_metrics_request(metrics, KS_ROUTE_OTHER, 404, 0.0);
    text = render(metrics, &gauges, &out);
    assert_lines(text, expected, sizeof expected / sizeof expected[0]);
    assert_null(strstr(text, "route=\"health\""));              /* nothing counted: not written */
    ks_buf_free(&out);
    ks_metrics_free(metrics);
}

static void test_composed_and_gauges(void **state)
{
    static const char *const expected[] = {
        "kisekae_image_composed_total{kind=\"avatar\"} 2",
        "kisekae_image_composed_total{kind=\"album\"} 1",
        "kisekae_image_composed_total{kind=\"preview\"} 1",
        "kisekae_image_rebuilt_total 5",
        "kisekae_image_miss_cache_hits_total 7",
        "kisekae_image_layer_cache_hits_total 340",
        "kisekae_image_layer_cache_misses_total 12",
        "kisekae_image_layer_cache_evictions_total 1",
        "kisekae_image_layer_cache_capacity_bytes 67108864",
        "kisekae_image_items_stored 42",
        "# TYPE kisekae_image_store_free_bytes gauge",
        "kisekae_image_store_free_bytes 123456789012",
        "kisekae_image_threads 4",
    };
    ks_metrics_t *metrics = ks_metrics_new();
    ks_metrics_gauges_t gauges = {
        .store_free_bytes = 123456789012ULL, .items_stored = 42, .layer_cache_entries = 3,
        .layer_cache_bytes = 4096, .layer_cache_capacity = 67108864, .layer_cache_hits = 340,
        .layer_cache_misses = 12, .layer_cache_evictions = 1, .images_rebuilt = 5, .threads = 4,
        .miss_cache_hits = 7,
    };
    ks_buf_t out;
    const char *text;

    (void)state;
    ks_metrics_composed(metrics, KS_COMPOSED_AVATAR);
    ks_metrics_composed(metrics, KS_COMPOSED_AVATAR);
    ks_metrics_composed(metrics, KS_COMPOSED_ALBUM);
    ks_metrics_composed(metrics, KS_COMPOSED_PREVIEW);
    assert_int_equal(ks_metrics_stored_total(metrics), 3);       /* previews are not stored */
    text = render(metrics, &gauges, &out);
    assert_lines(text, expected, sizeof expected / sizeof expected[0]);
    assert_string_equal(ks_metrics_route_name(KS_ROUTE_DELETE_PHOTO), "delete_photo");
    ks_buf_free(&out);
    ks_metrics_free(metrics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_histogram),
        cmocka_unit_test(test_composed_and_gauges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
