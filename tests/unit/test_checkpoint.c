/* test_checkpoint.c: unit tests of batch/checkpoint.c, the checkpoint file
 * of kisekae-batch: what is saved loads back the same, ranges cover exactly
 * their members, and a file that is not a whole checkpoint is refused.
 *
 * Every test works in its own mkdtemp() folder, removed at the end.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "tmpdir.h"

static int setup(void **state)
{
    *state = ks_test_mkdtemp("checkpoint");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ks_test_rmtree(*state);
    free(*state);
    return 0;
}

static void path_in(void **state, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", (const char *)*state, name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip(void **state)
{
    ks_checkpoint_t ck, back;
    char path[256];
    ks_err_t err;

    path_in(state, "regenerate-img1.checkpoint", path, sizeof path);
    ks_checkpoint_init(&ck, "regenerate", "img1");
    snprintf(ck.low, sizeof ck.low, "m-0100");
    assert_int_equal(ks_checkpoint_add_range(&ck, "m-0151", "m-0200", &err), KS_OK);
    assert_int_equal(ks_checkpoint_add_range(&ck, "m-0301", "m-0350", &err), KS_OK);
    ck.counts[KS_STATUS_WRITTEN] = 180;
    ck.counts[KS_STATUS_UNCHANGED] = 19;
    ck.counts[KS_STATUS_FAILED] = 1;
    ck.images_written = 361;
    ck.elapsed_s = 12.5;
    /* a message with a newline and a control character stays one line */
    assert_int_equal(ks_checkpoint_add_note(&ck, "m-0042", KS_STATUS_FAILED,
                                            "ImageServerUnavailable",
                                            "img1 did not answer\nat all\x01", &err), KS_OK);
    assert_int_equal(ks_checkpoint_save(path, &ck, &err), KS_OK);

    assert_int_equal(ks_checkpoint_load(path, &back, &err), KS_OK);
    assert_string_equal(back.command, "regenerate");
    assert_string_equal(back.server, "img1");
    assert_string_equal(back.low, "m-0100");
    assert_int_equal(back.range_count, 2);
    assert_string_equal(back.ranges[1].first, "m-0301");
    assert_string_equal(back.ranges[1].last, "m-0350");
    assert_int_equal(ks_checkpoint_done(&back), 200);
    assert_int_equal(back.images_written, 361);
    assert_int_equal(back.note_count, 1);
    assert_string_equal(back.notes[0].user_id, "m-0042");
    assert_int_equal(back.notes[0].status, KS_STATUS_FAILED);
    assert_string_equal(back.notes[0].code, "ImageServerUnavailable");
    assert_string_equal(back.notes[0].message, "img1 did not answer at all ");
    assert_true(back.elapsed_s > 12.4 && back.elapsed_s < 12.6);
    assert_int_equal(back.listed_all, 0);
    ks_checkpoint_free(&ck);
    ks_checkpoint_free(&back);
}

static void test_nothing_done_yet(void **state)
{
    ks_checkpoint_t ck, back;
    char path[256];
    ks_err_t err;

    path_in(state, "audit-img2.checkpoint", path, sizeof path);
    ks_checkpoint_init(&ck, "audit", "img2");
    assert_int_equal(ks_checkpoint_save(path, &ck, &err), KS_OK);
    assert_int_equal(ks_checkpoint_load(path, &back, &err), KS_OK);
    assert_string_equal(back.low, "");
    assert_int_equal(back.range_count, 0);
    assert_int_equal(ks_checkpoint_done(&back), 0);
    ks_checkpoint_free(&ck);
    ks_checkpoint_free(&back);
}

static void test_covers_exactly_the_ranges(void **state)
{
    ks_checkpoint_t ck;
    ks_err_t err;

    (void)state;
    ks_checkpoint_init(&ck, "regenerate", "img1");
    assert_int_equal(ks_checkpoint_add_range(&ck, "b", "d", &err), KS_OK);
    assert_int_equal(ks_checkpoint_add_range(&ck, "m-10", "m-19", &err), KS_OK);
    assert_true(ks_checkpoint_covers(&ck, "b"));
    assert_true(ks_checkpoint_covers(&ck, "c-999"));
    assert_true(ks_checkpoint_covers(&ck, "d"));
    assert_true(ks_checkpoint_covers(&ck, "m-15"));
    assert_false(ks_checkpoint_covers(&ck, "a"));
    assert_false(ks_checkpoint_covers(&ck, "d0"));       /* after "d" in byte order */
    assert_false(ks_checkpoint_covers(&ck, "B"));        /* upper case sorts first */
    assert_false(ks_checkpoint_covers(&ck, "m-2"));
    ks_checkpoint_free(&ck);
}

static void test_refuses_what_is_not_a_checkpoint(void **state)
{
    static const char *const bad[] = {
        "",                                                      /* empty */
        "format 1\ncommand regenerate\n",                        /* no server */
        "format 2\ncommand regenerate\nserver img1\n",           /* unknown format */
        "format 1\ncommand regenerate\nserver img1\nlow a\nrange b\n", /* range without last */
        "format 1\ncommand regenerate\nserver img1\ncount lost 3\n",   /* unknown status */
        "format 1\ncommand regenerate\nserver img1\nwhatever 1\n",     /* unknown key */
        "format 1\ncommand regenerate\nserver img1\nlow a",       /* last line cut off */
    };
    ks_checkpoint_t ck;
    char path[256];
    ks_err_t err;

    path_in(state, "bad.checkpoint", path, sizeof path);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i]);
        assert_int_equal(ks_checkpoint_load(path, &ck, &err), KS_INVALID);
        assert_non_null(strstr(err.msg, "bad.checkpoint"));
    }
    path_in(state, "none.checkpoint", path, sizeof path);
    assert_int_equal(ks_checkpoint_load(path, &ck, &err), KS_NOTFOUND);
}

static void test_status_names(void **state)
{
    (void)state;
    for (int i = 0; i < KS_STATUS_COUNT; i++)
        assert_int_equal(ks_status_parse(ks_status_name(i)), i);
    assert_int_equal(ks_status_parse("written"), KS_STATUS_WRITTEN);
    assert_int_equal(ks_status_parse("lost"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_done_yet, setup, teardown),
        cmocka_unit_test(test_covers_exactly_the_ranges),
        cmocka_unit_test_setup_teardown(test_refuses_what_is_not_a_checkpoint, setup, teardown),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
