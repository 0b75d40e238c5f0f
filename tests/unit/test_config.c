/* test_config.c: unit tests of common/config.c, the table-driven reader of
 * every binary's configuration file.
 *
 * A '#' starts a comment only at the start of a line (after blanks) or after
 * a blank: a secret or a URL holding '#' is read whole, where it was once cut
 * there without a word.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS (tmpdir.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "tmpdir.h"

typedef struct {
    char secret[64];
    char url[128];
    int count;
    ks_wxh_t size;
    ks_log_level_t level;
} conf_t;

static const ks_cfg_option_t options[] = {
    {"secret", KS_CFG_STRING, 0, 64, "", offsetof(conf_t, secret), NULL, "a secret"},
    {"url", KS_CFG_STRING, 0, 128, "", offsetof(conf_t, url), NULL, "a URL"},
    {"count", KS_CFG_INT, 0, 100, "1", offsetof(conf_t, count), NULL, "a number"},
    {"size", KS_CFG_WXH, 1, 4096, "240x320", offsetof(conf_t, size), NULL, "a size"},
    {"level", KS_CFG_LOG_LEVEL, 0, 0, "info", offsetof(conf_t, level), NULL, "a log level"},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL}
};

/* Loads text as a configuration file into *conf; returns the rc. */
static ks_rc load(const char *text, conf_t *conf, ks_err_t *err)
{
    char path[128];
    char *dir = ks_test_file("config", "test.conf", text, path, sizeof path);
    ks_rc rc;

    assert_non_null(dir);
    if (!dir)
        return KS_ERROR;
    memset(conf, 0, sizeof *conf);
    rc = ks_config_load(path, options, conf, err);
    ks_test_rmtree(dir);
    free(dir);
    return rc;
}

static void test_sizes_and_log_levels(void **state)
{
    static const char *const bad_sizes[] = {"240", "240x", "x320", "240x320x1", "0x320",
                                            "240x4097", "-1x5", "240 x 320", "24ax320",
                                            "99999999999999999999x1"};
    conf_t conf;
    ks_err_t err = {{0}};
    char text[64];

    (void)state;
    assert_int_equal(load("count 2\n", &conf, &err), KS_OK);
    assert_int_equal(conf.size.width, 240);
    assert_int_equal(conf.size.height, 320);
    assert_int_equal(conf.level, KS_LOG_INFO);
    assert_int_equal(load("size 1x4096\nlevel debug\n", &conf, &err), KS_OK);
    assert_int_equal(conf.size.width, 1);
    assert_int_equal(conf.size.height, 4096);
    assert_int_equal(conf.level, KS_LOG_DEBUG);
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        snprintf(text, sizeof text, "size %s\n", bad_sizes[i]);
        assert_int_equal(load(text, &conf, &err), KS_INVALID);
        assert_non_null(strstr(err.msg, "WIDTHxHEIGHT"));
    }
    assert_int_equal(load("level loud\n", &conf, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "error, warn, info or debug"));
}

static void test_hash_inside_a_value_is_kept(void **state)
{
    conf_t conf;
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(load("secret s3cr#t#x\nurl http://h/p#frag\n", &conf, &err), KS_OK);
    assert_string_equal(conf.secret, "s3cr#t#x");
    assert_string_equal(conf.url, "http://h/p#frag");
}

static void test_comments_start_at_a_line_or_after_a_blank(void **state)
{
    conf_t conf;
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(load("# a comment\n   # an indented one\n"
                          "secret abc # after a blank\n"
                          "url http://h/\t# after a tab\n"
                          "count 7 #\n", &conf, &err), KS_OK);
    assert_string_equal(conf.secret, "abc");
    assert_string_equal(conf.url, "http://h/");
    assert_int_equal(conf.count, 7);
}

static void test_a_value_that_is_only_a_comment_is_missing(void **state)
{
    conf_t conf;
    ks_err_t err = {{0}};

    (void)state;
    assert_int_equal(load("secret #nothing\n", &conf, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "needs a value"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_log_levels),
        cmocka_unit_test(test_hash_inside_a_value_is_kept),
        cmocka_unit_test(test_comments_start_at_a_line_or_after_a_blank),
        cmocka_unit_test(test_a_value_that_is_only_a_comment_is_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
