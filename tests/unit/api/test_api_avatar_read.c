/* test_api_avatar_read.c: unit tests of api-server/avatar_read.c below the
 * database: the cache of members' avatar views (a hit gives back what was
 * put, keyed by the exact user id; it expires after avatar_cache_ms; a
 * forgotten member is a miss; a newer view takes a shared slot; no cache
 * when avatar_cache_ms or avatar_cache_entries is 0) and the answer built
 * from a view (URLs on the image server's public URL, the SOAP Avatar).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_conf.h"
#include "avatar_read.h"

static ks_api_conf_t conf;

/* A cache of entries views kept ttl_ms. */
static void cache_with(int ttl_ms, int entries)
{
    ks_err_t err;

    memset(&conf, 0, sizeof conf);
    conf.avatar_cache_ms = ttl_ms;
    conf.avatar_cache_entries = entries;
    assert_int_equal(ks_avatar_cache_init(&conf, &err), KS_OK);
}

static int teardown(void **state)
{
    (void)state;
    ks_avatar_cache_free();
    return 0;
}

static ks_avatar_view_t view_of(const char *user_id, long long id, unsigned version,
                                int worn_count)
{
    ks_avatar_view_t v;

    memset(&v, 0, sizeof v);
    v.member.id = id;
    snprintf(v.member.user_id, sizeof v.member.user_id, "%s", user_id);
    v.member.image_server_id = 3;
    v.member.version = version;
    v.worn_count = worn_count;
    for (int i = 0; i < worn_count; i++)
        v.worn[i] = 10 + i;
    return v;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_hit_gives_back_the_view(void **state)
{
    ks_avatar_view_t put = view_of("alice", 42, 7, 3), got;

    (void)state;
    cache_with(60000, 1024);
    memset(&got, 0, sizeof got);
    assert_false(ks_avatar_cache_get("alice", &got));
    ks_avatar_cache_put(&put);
    assert_true(ks_avatar_cache_get("alice", &got));
    assert_int_equal(got.member.id, 42);
    assert_string_equal(got.member.user_id, "alice");
    assert_int_equal(got.member.image_server_id, 3);
    assert_int_equal(got.member.version, 7);
    assert_int_equal(got.worn_count, 3);
    assert_memory_equal(got.worn, put.worn, 3 * sizeof(int));
    /* a newer view of the member replaces it */
    put = view_of("alice", 42, 8, 0);
    ks_avatar_cache_put(&put);
    assert_true(ks_avatar_cache_get("alice", &got));
    assert_int_equal(got.member.version, 8);
    assert_int_equal(got.worn_count, 0);
}

static void test_key_is_the_exact_user_id(void **state)
{
    ks_avatar_view_t put = view_of("bob", 1, 1, 1), got;

    (void)state;
    cache_with(60000, 1024);
    ks_avatar_cache_put(&put);
    assert_false(ks_avatar_cache_get("Bob", &got));
    assert_false(ks_avatar_cache_get("bob ", &got));
    assert_false(ks_avatar_cache_get("bo", &got));
    assert_false(ks_avatar_cache_get("", &got));
    assert_true(ks_avatar_cache_get("bob", &got));
}

static void test_expires_after_avatar_cache_ms(void **state)
{
    ks_avatar_view_t put = view_of("carol", 5, 2, 2), got;

    (void)state;
    cache_with(100, 1024);
    ks_avatar_cache_put(&put);
    assert_true(ks_avatar_cache_get("carol", &got));
    sleep_ms(150);
    assert_false(ks_avatar_cache_get("carol", &got));
    /* read again, kept again */
    ks_avatar_cache_put(&put);
    assert_true(ks_avatar_cache_get("carol", &got));
}

static void test_forget_drops_the_member_only(void **state)
{
    ks_avatar_view_t a = view_of("dave", 1, 1, 0), b = view_of("erin", 2, 1, 0), got;

    (void)state;
    cache_with(60000, 1024);
    ks_avatar_cache_put(&a);
    ks_avatar_cache_put(&b);
    ks_avatar_forget("dave");
    assert_false(ks_avatar_cache_get("dave", &got));
    assert_true(ks_avatar_cache_get("erin", &got));
    ks_avatar_forget("nobody");
    ks_avatar_forget(NULL);
    assert_true(ks_avatar_cache_get("erin", &got));
}

static void test_shared_slot_keeps_the_newer(void **state)
{
    ks_avatar_view_t a = view_of("frank", 1, 1, 0), b = view_of("grace", 2, 4, 0), got;

    (void)state;
    cache_with(60000, 1);                 /* every member in the one slot */
    ks_avatar_cache_put(&a);
    ks_avatar_cache_put(&b);
    assert_false(ks_avatar_cache_get("frank", &got));
    assert_true(ks_avatar_cache_get("grace", &got));
    assert_int_equal(got.member.version, 4);
    /* forgetting the one no longer there leaves the other */
    ks_avatar_forget("frank");
    assert_true(ks_avatar_cache_get("grace", &got));
}

static void test_oversized_outfit_is_not_kept(void **state)
{
    ks_avatar_view_t put = view_of("heidi", 1, 1, KS_OUTFIT_MAX + 1), got;

    (void)state;
    cache_with(60000, 1024);
    ks_avatar_cache_put(&put);
    assert_false(ks_avatar_cache_get("heidi", &got));
    put = view_of("heidi", 1, 1, KS_OUTFIT_MAX);
    ks_avatar_cache_put(&put);
    assert_true(ks_avatar_cache_get("heidi", &got));
    assert_int_equal(got.worn_count, KS_OUTFIT_MAX);
}

static void test_no_cache_when_disabled(void **state)
{
    ks_avatar_view_t put = view_of("ivan", 1, 1, 0), got;

    (void)state;
    cache_with(0, 1024);
    ks_avatar_cache_put(&put);
    assert_false(ks_avatar_cache_get("ivan", &got));
    ks_avatar_forget("ivan");
    ks_avatar_cache_free();
    cache_with(1000, 0);
    ks_avatar_cache_put(&put);
    assert_false(ks_avatar_cache_get("ivan", &got));
}

static void test_urls_and_soap_avatar(void **state)
{
    struct soap *soap = soap_new();
    ks_avatar_view_t view = view_of("judy", 9, 12, 2);
    char path[256], expected[300];
    struct ks__Avatar *a;
    char *url;

    (void)state;
    assert_non_null(soap);
    snprintf(view.server.name, sizeof view.server.name, "img2");
    snprintf(view.server.public_url, sizeof view.server.public_url, "https://img2.example//");
    assert_true(ks_avatar_path("judy", 12, path, sizeof path) > 0);
    snprintf(expected, sizeof expected, "https://img2.example/%s", path);
    url = ks_avatar_url(soap, &view, 0);
    assert_non_null(url);
    assert_string_equal(url, expected);
    assert_true(ks_avatar_thumb_path("judy", 12, path, sizeof path) > 0);
    snprintf(expected, sizeof expected, "https://img2.example/%s", path);
    assert_string_equal(ks_avatar_url(soap, &view, 1), expected);

    a = ks_avatar_soap(soap, &view);
    assert_non_null(a);
    assert_string_equal(a->userId, "judy");
    assert_int_equal(a->version, 12);
    assert_string_equal(a->imageServer, "img2");
    assert_string_equal(a->thumbUrl, expected);
    assert_int_equal(a->__sizewornItemId, 2);
    assert_int_equal(a->wornItemId[0], 10);
    assert_int_equal(a->wornItemId[1], 11);
    soap_destroy(soap);
    soap_end(soap);
    soap_free(soap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hit_gives_back_the_view, teardown),
        cmocka_unit_test_teardown(test_key_is_the_exact_user_id, teardown),
        cmocka_unit_test_teardown(test_expires_after_avatar_cache_ms, teardown),
        cmocka_unit_test_teardown(test_forget_drops_the_member_only, teardown),
        cmocka_unit_test_teardown(test_shared_slot_keeps_the_newer, teardown),
        cmocka_unit_test_teardown(test_oversized_outfit_is_not_kept, teardown),
        cmocka_unit_test_teardown(test_no_cache_when_disabled, teardown),
        cmocka_unit_test(test_urls_and_soap_avatar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
