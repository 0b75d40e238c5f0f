/* test_avatar_store.c: unit tests of image-server/avatar_store.c: where an
 * avatar lands, and which versions of a member survive a write.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avatar_store.h"
#include "fsutil.h"
#include "tmpdir.h"

static int setup(void **state)
{
    *state = ks_test_mkdtemp("avatars");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ks_test_rmtree(*state);
    free(*state);
    return 0;
}

/* The sorted names in folder, joined with spaces. */
static void list_folder(const char *folder, char *out, size_t size)
{
    struct dirent **names;
    int count = scandir(folder, &names, NULL, alphasort);
    size_t used = 0;

    assert_true(count >= 0);
    out[0] = '\0';
    for (int i = 0; i < count; i++) {
        if (names[i]->d_name[0] != '.' || strncmp(names[i]->d_name, ".tmp-", 5) == 0)
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? " " : "",
                                     names[i]->d_name);
        free(names[i]);
    }
    free(names);
}

static void write_version(const char *dir, unsigned version)
{
    char relative[128], expected[64];
    ks_err_t err = {{0}};

    assert_int_equal(ks_avatar_store_write(dir, "alice", version, "png", 3, relative,
                                           sizeof relative, &err), KS_OK);
    snprintf(expected, sizeof expected, "avatars/87/22/alice/%u.png", version);
    assert_string_equal(relative, expected);
}

static void test_keeps_previous_version(void **state)
{
    const char *dir = *state;
    char folder[256], names[512], other[300];
    ks_err_t err = {{0}};

    snprintf(folder, sizeof folder, "%s/avatars/87/22/alice", dir);
    write_version(dir, 1);
    list_folder(folder, names, sizeof names);
    assert_string_equal(names, "1.png");
    write_version(dir, 2);
    write_version(dir, 3);
    list_folder(folder, names, sizeof names);
    assert_string_equal(names, "2.png 3.png");

    /* Names that are not versions are left alone. */
    snprintf(other, sizeof other, "%s/thumb.png", folder);
    assert_int_equal(ks_file_write_atomic(other, "x", 1, &err), KS_OK);
    snprintf(other, sizeof other, "%s/.tmp-9.png-1-1", folder);
    assert_int_equal(ks_file_write_atomic(other, "x", 1, &err), KS_OK);
    snprintf(other, sizeof other, "%s/01.png", folder);
    assert_int_equal(ks_file_write_atomic(other, "x", 1, &err), KS_OK);

    /* A gap: the newest version below is kept, whatever its number. */
    write_version(dir, 7);
    list_folder(folder, names, sizeof names);
    assert_string_equal(names, ".tmp-9.png-1-1 01.png 3.png 7.png thumb.png");

    /* Out of order: newer versions stay, the one just below stays. */
    write_version(dir, 5);
    list_folder(folder, names, sizeof names);
    assert_string_equal(names, ".tmp-9.png-1-1 01.png 3.png 5.png 7.png thumb.png");
    write_version(dir, 6);
    list_folder(folder, names, sizeof names);
    assert_string_equal(names, ".tmp-9.png-1-1 01.png 5.png 6.png 7.png thumb.png");

    /* Writing the same version again replaces it. */
    write_version(dir, 6);
    list_folder(folder, names, sizeof names);
    assert_string_equal(names, ".tmp-9.png-1-1 01.png 5.png 6.png 7.png thumb.png");
}

/* The last good image: the newest older version of the same kind. */
static void test_last_good(void **state)
{
    const char *dir = *state;
    char relative[128];
    ks_err_t err = {{0}};

    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_AVATAR, 9), 0);  /* none */
    assert_int_equal(ks_avatar_store_write_thumb(dir, "alice", 3, "png", 3, relative,
                                                 sizeof relative, &err), KS_OK);
    write_version(dir, 3);
    write_version(dir, 4);
    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_AVATAR, 5), 4);
    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_AVATAR, 4), 3);
    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_AVATAR, 3), 0);
    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_THUMB, 5), 3);
    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_ANIM, 5), 0);
    assert_int_equal(ks_avatar_store_last_good(dir, "alice", KS_IMAGE_ALBUM, 5), 0);
    assert_int_equal(ks_avatar_store_last_good(dir, "bob", KS_IMAGE_AVATAR, 5), 0);
    assert_int_equal(ks_avatar_store_last_good(dir, "../x", KS_IMAGE_AVATAR, 5), 0);
}

static void test_rejects(void **state)
{
    const char *dir = *state;
    char relative[128], small[8], names[512];
    ks_err_t err = {{0}};

    assert_int_equal(ks_avatar_store_write(dir, "../x", 1, "png", 3, relative, sizeof relative,
                                           &err), KS_INVALID);
    assert_int_equal(ks_avatar_store_write(dir, "bob", 0, "png", 3, relative, sizeof relative,
                                           &err), KS_INVALID);
    assert_int_equal(ks_avatar_store_write(dir, "bob", 1, "png", 3, small, sizeof small, &err),
                     KS_INVALID);
    list_folder(dir, names, sizeof names);
    assert_string_equal(names, "");   /* nothing written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keeps_previous_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
