/* test_api_conf.c: unit tests of api-server/api_conf.c, kisekae-api's
 * configuration: the defaults, a good file read whole, and each kind of bad
 * value refused with a message naming the option (out of bounds, not of the
 * option's type, an unknown option, a required one missing, options that
 * disagree), -o overrides.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS (tmpdir.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "../tmpdir.h"

static ks_api_conf_t conf;      /* large: not on the stack */

/* Loads text as kisekae-api.conf (with the overrides) into conf. */
static ks_rc load_with(const char *text, const char *const *overrides, int count, ks_err_t *err)
{
    char path[128];
    char *dir = ks_test_file("api-conf", "kisekae-api.conf", text, path, sizeof path);
    ks_rc rc;

    assert_non_null(dir);
    if (!dir)
        return KS_ERROR;
    rc = ks_api_conf_load(&conf, path, overrides, count, err);
    ks_test_rmtree(dir);
    free(dir);
    return rc;
}

static ks_rc load(const char *text, ks_err_t *err)
{
    return load_with(text, NULL, 0, err);
}

/* text is refused with a message holding each of the NULL-ended words. */
static void refused(const char *text, ...)
{
    ks_err_t err = {{0}};
    va_list ap;
    const char *word;

    if (load(text, &err) == KS_OK)
        fail_msg("accepted: %s", text);
    va_start(ap, text);
    while ((word = va_arg(ap, const char *)))
        if (!strstr(err.msg, word))
            fail_msg("refusing \"%s\" says \"%s\", without \"%s\"", text, err.msg, word);
    va_end(ap);
}

static void test_defaults(void **state)
{
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(ks_api_conf_load(&conf, NULL, NULL, 0, &err), KS_OK);
    assert_int_equal(conf.mode, KS_API_STANDALONE);
    assert_string_equal(conf.listen, "127.0.0.1:17010");
    assert_int_equal(conf.workers, 8);
    assert_int_equal(conf.max_request_bytes, 16 << 20);
    assert_int_equal(conf.max_header_bytes, 16 << 10);
    assert_int_equal(conf.max_xml_depth, 32);
    assert_int_equal(conf.recv_timeout_s, 10);
    assert_int_equal(conf.keepalive_timeout_s, 15);
    assert_int_equal(conf.avatar_cache_ms, 1000);
    assert_int_equal(conf.avatar_cache_entries, 16384);
    assert_int_equal(conf.auth_recheck_ms, 1000);
    assert_string_equal(conf.db.master.host, "127.0.0.1");
    assert_int_equal(conf.db.master.port, 17030);
    assert_int_equal(conf.db.replica_count, 0);
    assert_string_equal(conf.db.name, "kisekae");
    assert_int_equal(conf.image_server_count, 0);
    assert_int_equal(conf.canvas.width, 240);
    assert_int_equal(conf.canvas.height, 320);
    assert_int_equal(conf.thumb_x, 30);
    assert_int_equal(conf.thumb_width, 180);
    assert_int_equal(conf.thumb_size.width, 96);
    assert_int_equal(conf.thumb_size.height, 96);
    assert_string_equal(conf.log_file, "-");
    assert_int_equal(conf.log_level, KS_LOG_INFO);
    /* cluster_secret has no default: serving refuses to start without it */
    assert_string_equal(conf.cluster_secret, "");
    assert_int_equal(ks_api_conf_check_secret(&conf, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "cluster_secret"));
}

static void test_good_file_read_whole(void **state)
{
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(load("# a comment\n"
                          "mode fastcgi\n"
                          "listen unix:/run/kisekae/api.sock\n"
                          "workers 4\n"
                          "max_request_bytes 1m\n"
                          "db_master 10.0.0.1:3306\n"
                          "db_replica 10.0.0.2:3306 2\n"
                          "db_replica 10.0.0.3:3307\n"
                          "db_password p#ss   # a '#' after a blank starts a comment\n"
                          "image_server img1 http://10.0.0.21:8081 https://img1.example/ 3\n"
                          "image_server img2 http://10.0.0.22:8081 https://img2.example/\n"
                          "cluster_secret 0123456789abcdef0123\n"
                          "canvas 100x200\n"
                          "thumb_crop 10,20,50,60\n"
                          "thumb_size 32x48\n"
                          "avatar_cache_ms 0\n"
                          "log_level debug\n", &err), KS_OK);
    assert_int_equal(conf.mode, KS_API_FASTCGI);
    assert_string_equal(conf.listen, "unix:/run/kisekae/api.sock");
    assert_int_equal(conf.workers, 4);
    assert_int_equal(conf.max_request_bytes, 1 << 20);
    assert_string_equal(conf.db.master.host, "10.0.0.1");
    assert_int_equal(conf.db.master.port, 3306);
    assert_int_equal(conf.db.replica_count, 2);
    assert_string_equal(conf.db.replicas[0].host, "10.0.0.2");
    assert_int_equal(conf.db.replicas[0].weight, 2);
    assert_int_equal(conf.db.replicas[1].port, 3307);
    assert_string_equal(conf.db.password, "p#ss");
    assert_int_equal(conf.image_server_count, 2);
    assert_string_equal(conf.image_servers[0].name, "img1");
    assert_string_equal(conf.image_servers[0].internal_url, "http://10.0.0.21:8081");
    assert_string_equal(conf.image_servers[0].public_url, "https://img1.example/");
    assert_int_equal(conf.image_servers[0].weight, 3);
    assert_int_equal(conf.image_servers[1].weight, 1);
    assert_int_equal(conf.canvas.width, 100);
    assert_int_equal(conf.canvas.height, 200);
    assert_int_equal(conf.thumb_y, 20);
    assert_int_equal(conf.thumb_height, 60);
    assert_int_equal(conf.thumb_size.height, 48);
    assert_int_equal(conf.avatar_cache_ms, 0);
    assert_int_equal(conf.log_level, KS_LOG_DEBUG);
    assert_int_equal(ks_api_conf_check_secret(&conf, &err), KS_OK);
    /* what the file leaves out keeps its default */
    assert_int_equal(conf.max_xml_depth, 32);
}

static void test_out_of_bounds(void **state)
{
    (void)state;
    refused("workers 0\n", "workers", "1..256", NULL);
    refused("workers 257\n", "workers", NULL);
    refused("max_request_bytes 512\n", "max_request_bytes", NULL);
    refused("max_xml_depth 1001\n", "max_xml_depth", NULL);
    refused("avatar_cache_ms 60001\n", "avatar_cache_ms", NULL);
    refused("auth_recheck_ms -1\n", "auth_recheck_ms", NULL);
    refused("canvas 8x8\n", "canvas", "16..2048", NULL);
    refused("canvas 240x4096\n", "canvas", NULL);
    refused("thumb_size 4x96\n", "thumb_size", NULL);
    refused("image_server img1 http://a:1 http://b:2 1001\n", "weight", "0..1000", NULL);
}

static void test_too_long_string(void **state)
{
    char text[400];

    (void)state;
    snprintf(text, sizeof text, "db_name %070d\n", 1);
    refused(text, "db_name", "longer than 63", NULL);
}

static void test_bad_type(void **state)
{
    (void)state;
    refused("workers many\n", "workers", "number", NULL);
    refused("workers 4x\n", "workers", NULL);
    refused("max_request_bytes 12q\n", "max_request_bytes", "size", NULL);
    refused("mode cgi\n", "mode", "standalone or fastcgi", NULL);
    refused("canvas big\n", "canvas", "WIDTHxHEIGHT", NULL);
    refused("thumb_crop 1,2,3\n", "thumb_crop", NULL);
    refused("db_master nowhere\n", "nowhere", NULL);
    refused("image_server img1 ftp://a:1 http://b:2\n", "http://", NULL);
    refused("image_server img1 http://a:1\n", "NAME INTERNAL_URL PUBLIC_URL", NULL);
    refused("workers\n", "workers", "needs a value", NULL);
}

static void test_unknown_option(void **state)
{
    (void)state;
    refused("workers 4\ncolour red\n", "unknown option", "colour", ":2:", NULL);
    refused("Workers 4\n", "unknown option", NULL);
}

static void test_set_twice(void **state)
{
    (void)state;
    refused("workers 4\nworkers 5\n", "workers", "twice", NULL);
}

static void test_options_that_disagree(void **state)
{
    (void)state;
    /* the crop must lie inside the canvas */
    refused("canvas 100x100\nthumb_crop 50,50,60,10\n", "thumb_crop", "canvas", NULL);
    refused("canvas 100x100\nthumb_crop 0,95,10,10\n", "thumb_crop", NULL);
}

static void test_too_many_image_servers(void **state)
{
    char *text = calloc(KS_IMAGE_SERVERS_MAX + 1, 80);
    size_t at = 0;

    (void)state;
    assert_non_null(text);
    for (int i = 0; i <= KS_IMAGE_SERVERS_MAX; i++)
        at += (size_t)sprintf(text + at, "image_server img%d http://a:%d http://b:%d\n", i,
                              1000 + i, 1000 + i);
    refused(text, "more than 64 image servers", NULL);
    free(text);
}

static void test_overrides_win_over_the_file(void **state)
{
    const char *overrides[] = {"workers=3", "mode=fastcgi"};
    const char *bad[] = {"workers"};
    const char *unknown[] = {"colour=red"};
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(load_with("workers 4\n", overrides, 2, &err), KS_OK);
    assert_int_equal(conf.workers, 3);
    assert_int_equal(conf.mode, KS_API_FASTCGI);
    assert_int_not_equal(load_with("workers 4\n", bad, 1, &err), KS_OK);
    assert_non_null(strstr(err.msg, "name=value"));
    assert_int_not_equal(load_with("workers 4\n", unknown, 1, &err), KS_OK);
    assert_non_null(strstr(err.msg, "colour"));
}

static void test_missing_file(void **state)
{
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(ks_api_conf_load(&conf, "/nonexistent/kisekae-api.conf", NULL, 0, &err),
                     KS_NOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/kisekae-api.conf"));
}

static void test_short_secret_is_refused(void **state)
{
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(load("cluster_secret short\n", &err), KS_OK);
    assert_int_equal(ks_api_conf_check_secret(&conf, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "at least 16"));
}

static void test_every_option_is_documented(void **state)
{
    const ks_cfg_option_t *o;
    int count = 0;

    (void)state;
    for (o = ks_api_conf_options(); o->name; o++) {
        assert_non_null(o->help);
        count++;
    }
    assert_true(count > 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good_file_read_whole),
        cmocka_unit_test(test_out_of_bounds),
        cmocka_unit_test(test_too_long_string),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_set_twice),
        cmocka_unit_test(test_options_that_disagree),
        cmocka_unit_test(test_too_many_image_servers),
        cmocka_unit_test(test_overrides_win_over_the_file),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_short_secret_is_refused),
        cmocka_unit_test(test_every_option_is_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
