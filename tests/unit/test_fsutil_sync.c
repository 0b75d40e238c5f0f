/* test_fsutil_sync.c: the durability of common/fsutil.c's folders.
 *
 * A new folder's entry lives in its parent: until the parent is fsynced, a
 * crash may lose the folder and every file stored in it, fsynced or not.
 * This test is linked with -Wl,--wrap=fsync (tests/CMakeLists.txt): every
 * fsync() of the library comes here first and records what it synced.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS (tmpdir.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "tmpdir.h"

#define SYNCED_MAX 64

static char synced[SYNCED_MAX][PATH_MAX];
static int synced_count;

int __real_fsync(int fd);
int __wrap_fsync(int fd);

int __wrap_fsync(int fd)
{
    char link[64];
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    if (synced_count < SYNCED_MAX &&
        (n = readlink(link, synced[synced_count], PATH_MAX - 1)) > 0) {
        synced[synced_count][n] = '\0';
        synced_count++;
    }
    return __real_fsync(fd);
}

static int was_synced(const char *path)
{
    for (int i = 0; i < synced_count; i++)
        if (strcmp(synced[i], path) == 0)
            return 1;
    return 0;
}

static void test_new_folders_are_fsynced_in_their_parents(void **state)
{
    char *dir = ks_test_mkdtemp("fsync");
    char path[256], parent[256];
    ks_err_t err = {{0}};

    (void)state;
    assert_non_null(dir);
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    synced_count = 0;
    assert_int_equal(ks_mkdir_p(path, &err), KS_OK);
    assert_true(was_synced(dir));                       /* holds a */
    snprintf(parent, sizeof parent, "%s/a", dir);
    assert_true(was_synced(parent));                    /* holds b */
    snprintf(parent, sizeof parent, "%s/a/b", dir);
    assert_true(was_synced(parent));                    /* holds c */

    /* Folders that were there already cost nothing. */
    synced_count = 0;
    assert_int_equal(ks_mkdir_p(path, &err), KS_OK);
    assert_int_equal(synced_count, 0);
    ks_test_rmtree(dir);
    free(dir);
}

static void test_a_stored_file_syncs_its_new_folders(void **state)
{
    char *dir = ks_test_mkdtemp("fsync");
    char path[256], parent[256];
    ks_err_t err = {{0}};

    (void)state;
    assert_non_null(dir);
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/x/y/file.png", dir);
    synced_count = 0;
    assert_int_equal(ks_file_write_atomic(path, "data", 4, &err), KS_OK);
    assert_true(was_synced(dir));
    snprintf(parent, sizeof parent, "%s/x", dir);
    assert_true(was_synced(parent));
    snprintf(parent, sizeof parent, "%s/x/y", dir);
    assert_true(was_synced(parent));                    /* the rename */
    ks_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_folders_are_fsynced_in_their_parents),
        cmocka_unit_test(test_a_stored_file_syncs_its_new_folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
