/* test_miss_cache.c: the image server's memory of recent misses
 * (image-server/miss_cache.h): what is kept, for how long, what is not
 * kept, and that the table stays bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "miss_cache.h"

static void test_404_and_302_are_kept_for_the_ttl(void **state)
{
    ks_miss_cache_t *cache = ks_miss_cache_new(64, 5000);
    char location[KS_MISS_LOCATION_MAX + 1];
    int status = 0;

    (void)state;
    assert_non_null(cache);
    assert_int_equal(ks_miss_cache_get(cache, "avatars/ab/cd/alice/9.png", 1000, &status,
                                       location, sizeof location), 0);
    ks_miss_cache_put(cache, "avatars/ab/cd/alice/9.png", 404, "", 1000);
    ks_miss_cache_put(cache, "avatars/ab/cd/alice/1.png", 302,
                      "http://img2.example/avatars/ab/cd/alice/3.png", 1000);
    assert_int_equal(ks_miss_cache_get(cache, "avatars/ab/cd/alice/9.png", 5999, &status,
                                       location, sizeof location), 1);
    assert_int_equal(status, 404);
    assert_string_equal(location, "");
    assert_int_equal(ks_miss_cache_get(cache, "avatars/ab/cd/alice/1.png", 2000, &status,
                                       location, sizeof location), 1);
    assert_int_equal(status, 302);
    assert_string_equal(location, "http://img2.example/avatars/ab/cd/alice/3.png");
    assert_int_equal(ks_miss_cache_hits(cache), 2);
    /* expired: forgotten, and not counted */
    assert_int_equal(ks_miss_cache_get(cache, "avatars/ab/cd/alice/9.png", 6000, &status,
                                       location, sizeof location), 0);
    assert_int_equal(ks_miss_cache_get(cache, "avatars/ab/cd/alice/9.png", 1001, &status,
                                       location, sizeof location), 0);
    assert_int_equal(ks_miss_cache_hits(cache), 2);
    ks_miss_cache_free(cache);
}

static void test_other_answers_are_not_kept(void **state)
{
    ks_miss_cache_t *cache = ks_miss_cache_new(64, 5000);
    ks_miss_cache_t *off = ks_miss_cache_new(64, 0);
    char location[KS_MISS_LOCATION_MAX + 1], long_path[400];
    int status = 0;

    (void)state;
    ks_miss_cache_put(cache, "a", 200, "", 0);
    ks_miss_cache_put(cache, "b", 503, "", 0);
    ks_miss_cache_put(cache, "c", 500, "", 0);
    ks_miss_cache_put(cache, "d", 302, "", 0);          /* a 302 needs its location */
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    ks_miss_cache_put(cache, long_path, 404, "", 0);
    ks_miss_cache_put(off, "e", 404, "", 0);           /* miss_cache_ms 0 */
    assert_int_equal(ks_miss_cache_get(cache, "a", 1, &status, location, sizeof location), 0);
    assert_int_equal(ks_miss_cache_get(cache, "b", 1, &status, location, sizeof location), 0);
    assert_int_equal(ks_miss_cache_get(cache, "c", 1, &status, location, sizeof location), 0);
    assert_int_equal(ks_miss_cache_get(cache, "d", 1, &status, location, sizeof location), 0);
    assert_int_equal(ks_miss_cache_get(cache, long_path, 1, &status, location, sizeof location),
                     0);
    assert_int_equal(ks_miss_cache_get(off, "e", 1, &status, location, sizeof location), 0);
    ks_miss_cache_free(cache);
    ks_miss_cache_free(off);
}

static void test_the_table_is_bounded(void **state)
{
    ks_miss_cache_t *cache = ks_miss_cache_new(8, 5000);
    char location[KS_MISS_LOCATION_MAX + 1], path[64];
    int status = 0, kept = 0;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        snprintf(path, sizeof path, "avatars/ab/cd/u%d/1.png", i);
        ks_miss_cache_put(cache, path, 404, NULL, 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(path, sizeof path, "avatars/ab/cd/u%d/1.png", i);
        kept += ks_miss_cache_get(cache, path, 1, &status, location, sizeof location);
    }
    assert_true(kept >= 1 && kept <= 8);
    ks_miss_cache_free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_404_and_302_are_kept_for_the_ttl),
        cmocka_unit_test(test_other_answers_are_not_kept),
        cmocka_unit_test(test_the_table_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
