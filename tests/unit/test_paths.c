/* test_paths.c: unit tests of common/paths.c.
 *
 * The hashed folders are checked against FNV-1a values worked out apart from
 * the code (the published FNV-1a 32-bit vectors "a" -> e40c292c and "foobar"
 * -> bf9cf968, and values computed with a few lines of Python): the API tier
 * and every image server must agree on them forever.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "paths.h"

static void test_user_id_valid(void **state)
{
    static const char *valid[] = {"a", "alice", "A-b_c.9", "0", "a.", "a..b", "_x", "-x"};
    static const char *invalid[] = {"", ".", "..", ".hidden", "a/b", "a b", "a\tb", "a%2e",
                                    "caf\xc3\xa9", "a\\b", "a:b", "a?b", "a#b", "a+b"};
    char longest[KS_USER_ID_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        assert_true(ks_user_id_valid(valid[i]));
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_false(ks_user_id_valid(invalid[i]));
    assert_false(ks_user_id_valid(NULL));

    memset(longest, 'x', KS_USER_ID_MAX);
    longest[KS_USER_ID_MAX] = '\0';
    assert_true(ks_user_id_valid(longest));
    longest[KS_USER_ID_MAX] = 'x';
    longest[KS_USER_ID_MAX + 1] = '\0';
    assert_false(ks_user_id_valid(longest));
}

static void test_avatar_path_known_hashes(void **state)
{
    static const struct {
        const char *user_id;
        unsigned version;
        const char *path;
    } cases[] = {
        {"a", 1, "avatars/e4/0c/a/1.png"},                 /* FNV-1a("a") = e40c292c */
        {"foobar", 7, "avatars/bf/9c/foobar/7.png"},       /* bf9cf968 */
        {"alice", 3, "avatars/87/22/alice/3.png"},         /* 872213e7 */
        {"bob", 4294967295u, "avatars/86/c6/bob/4294967295.png"},   /* 86c6a0d4 */
        {"A-b_c.9", 12, "avatars/51/c3/A-b_c.9/12.png"},   /* 51c35b88 */
    };
    char buf[160];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int length = ks_avatar_path(cases[i].user_id, cases[i].version, buf, sizeof buf);
        assert_string_equal(buf, cases[i].path);
        assert_int_equal(length, (int)strlen(cases[i].path));
    }
}

static void test_avatar_path_limits(void **state)
{
    const char *expected = "avatars/87/22/alice/3.png";
    size_t size = strlen(expected) + 1;
    char buf[64];

    (void)state;
    assert_int_equal(ks_avatar_path("alice", 3, buf, size), (int)size - 1);
    assert_string_equal(buf, expected);
    assert_int_equal(ks_avatar_path("alice", 3, buf, size - 1), -1);
    assert_int_equal(ks_avatar_path("alice", 3, buf, 0), -1);

    /* An id that is not valid never becomes a path. */
    assert_int_equal(ks_avatar_path("../x", 1, buf, sizeof buf), -1);
    assert_int_equal(ks_avatar_path("a/b", 1, buf, sizeof buf), -1);
    assert_int_equal(ks_avatar_path("", 1, buf, sizeof buf), -1);
    assert_int_equal(ks_avatar_path(NULL, 1, buf, sizeof buf), -1);
}

static void test_item_layer_path(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(ks_item_layer_path(12, 0, buf, sizeof buf), 14);
    assert_string_equal(buf, "items/12/0.png");
    assert_int_equal(ks_item_layer_path(2147483647, 255, buf, sizeof buf), 24);
    assert_string_equal(buf, "items/2147483647/255.png");
    assert_int_equal(ks_item_layer_path(12, 0, buf, 14), -1);
    assert_int_equal(ks_item_layer_path(12, 0, buf, 15), 14);
    assert_int_equal(ks_item_layer_path(-1, 0, buf, sizeof buf), -1);
    assert_int_equal(ks_item_layer_path(1, -1, buf, sizeof buf), -1);
}

static void test_member_paths_share_the_folder(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(ks_avatar_thumb_path("alice", 3, buf, sizeof buf), 31);
    assert_string_equal(buf, "avatars/87/22/alice/3-thumb.png");
    assert_int_equal(ks_album_path("alice", 17, buf, sizeof buf), 25);
    assert_string_equal(buf, "albums/87/22/alice/17.jpg");
    assert_int_equal(ks_album_path("../x", 1, buf, sizeof buf), -1);
    assert_int_equal(ks_avatar_thumb_path("a/b", 1, buf, sizeof buf), -1);
    assert_int_equal(ks_album_path("alice", 17, buf, 25), -1);
}

static void test_scene_path(void **state)
{
    char buf[32];

    (void)state;
    assert_int_equal(ks_scene_path(3, buf, sizeof buf), 14);
    assert_string_equal(buf, "scenes/3/0.png");
    assert_int_equal(ks_scene_path(-1, buf, sizeof buf), -1);
    assert_int_equal(ks_scene_path(3, buf, 14), -1);
}

static void test_member_image_parse(void **state)
{
    static const struct {
        const char *path;
        ks_image_kind_t kind;
        const char *user_id;
        unsigned number;
    } good[] = {
        {"avatars/87/22/alice/3.png", KS_IMAGE_AVATAR, "alice", 3},
        {"avatars/87/22/alice/3-thumb.png", KS_IMAGE_THUMB, "alice", 3},
        {"albums/87/22/alice/17.jpg", KS_IMAGE_ALBUM, "alice", 17},
        {"avatars/e4/0c/a/2147483647.png", KS_IMAGE_AVATAR, "a", 2147483647u},
    };
    static const char *bad[] = {
        "", "avatars/", "items/1/0.png", "avatars/00/00/alice/3.png", "avatars/87/22/bob/3.png",
        "avatars/87/22/alice/03.png", "avatars/87/22/alice/0.png", "avatars/87/22/alice/+3.png",
        "avatars/87/22/alice/3.jpg", "albums/87/22/alice/3.png", "albums/87/22/alice/3-thumb.jpg",
        "avatars/87/22/alice/3.png/", "avatars/87/22/alice/x/3.png", "avatars/87/22/alice/",
        "avatars/87/22/alice", "avatars/87/22//3.png", "avatars/87/22/../3.png",
        "avatars/87/22/alice/../3.png", "avatars/8/722/alice/3.png", "avatars/87/22/alice/3.PNG",
        "avatars/87/22/alice/2147483648.png", "avatars/87/22/alice/99999999999999999999.png",
        "avatars/87/22/alice/3.png?x", "/avatars/87/22/alice/3.png", "avatars/87/22/.x/3.png",
    };
    char longest[KS_USER_ID_MAX + 2], path[256];
    ks_member_image_t image;
    ks_err_t err;

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(ks_member_image_parse(good[i].path, &image, &err), KS_OK);
        assert_int_equal(image.kind, good[i].kind);
        assert_string_equal(image.user_id, good[i].user_id);
        assert_int_equal(image.number, good[i].number);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        assert_int_equal(ks_member_image_parse(bad[i], &image, &err), KS_INVALID);
        assert_true(err.msg[0] != '\0');
    }
    assert_int_equal(ks_member_image_parse("avatars/00/00/alice/3.png", &image, &err),
                     KS_INVALID);
    assert_non_null(strstr(err.msg, "87/22"));

    /* 64 characters is the longest id; one more is refused before hashing. */
    memset(longest, 'x', KS_USER_ID_MAX);
    longest[KS_USER_ID_MAX] = '\0';
    assert_true(ks_avatar_path(longest, 1, path, sizeof path) > 0);
    assert_int_equal(ks_member_image_parse(path, &image, &err), KS_OK);
    assert_string_equal(image.user_id, longest);
    snprintf(path, sizeof path, "avatars/00/00/%sx/1.png", longest);
    assert_int_equal(ks_member_image_parse(path, &image, &err), KS_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_id_valid),
        cmocka_unit_test(test_avatar_path_known_hashes),
        cmocka_unit_test(test_avatar_path_limits),
        cmocka_unit_test(test_item_layer_path),
        cmocka_unit_test(test_member_paths_share_the_folder),
        cmocka_unit_test(test_scene_path),
        cmocka_unit_test(test_member_image_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
