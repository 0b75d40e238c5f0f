/* test_fsutil.c: unit tests of common/fsutil.c (and common/sha256.c, whose
 * digests are checked against the FIPS 180-2 vectors).
 *
 * Every test works in its own mkdtemp() folder, removed at the end.
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

#include "fsutil.h"
#include "tmpdir.h"
#include "sha256.h"

static int setup(void **state)
{
    *state = ks_test_mkdtemp("fsutil");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ks_test_rmtree(*state);
    free(*state);
    return 0;
}

/* Number of entries in folder other than "." and "..". */
static int count_entries(const char *folder)
{
    DIR *dir = opendir(folder);
    struct dirent *entry;
    int count = 0;

    assert_non_null(dir);
    while ((entry = readdir(dir)) != NULL)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            count++;
    closedir(dir);
    return count;
}

static void test_write_creates_parents_and_mode(void **state)
{
    const char *dir = *state;
    char path[256], folder[256];
    unsigned char *data;
    size_t size;
    struct stat st;
    ks_err_t err = {{0}};
    mode_t old_umask = umask(077);   /* nginx must still be able to read the file */

    snprintf(path, sizeof path, "%s/a/b/c/file.png", dir);
    assert_int_equal(ks_file_write_atomic(path, "hello", 5, &err), KS_OK);
    umask(old_umask);

    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(ks_file_read(path, 100, &data, &size, &err), KS_OK);
    assert_int_equal(size, 5);
    assert_memory_equal(data, "hello", 5);
    free(data);

    snprintf(folder, sizeof folder, "%s/a/b/c", dir);
    assert_int_equal(count_entries(folder), 1);   /* no temp file left */
}

static void test_write_replaces(void **state)
{
    const char *dir = *state;
    char path[256];
    unsigned char *data;
    size_t size;
    ks_err_t err = {{0}};

    snprintf(path, sizeof path, "%s/f", dir);
    assert_int_equal(ks_file_write_atomic(path, "first version", 13, &err), KS_OK);
    assert_int_equal(ks_file_write_atomic(path, "2nd", 3, &err), KS_OK);
    assert_int_equal(ks_file_read(path, 100, &data, &size, &err), KS_OK);
    assert_int_equal(size, 3);
    assert_memory_equal(data, "2nd", 3);
    free(data);
    assert_int_equal(ks_file_write_atomic(path, "", 0, &err), KS_OK);
    assert_int_equal(ks_file_read(path, 100, &data, &size, &err), KS_OK);
    assert_int_equal(size, 0);
    free(data);
    assert_int_equal(count_entries(dir), 1);
}

static void test_write_failure_leaves_nothing(void **state)
{
    const char *dir = *state;
    char path[256], blocker[256];
    ks_err_t err = {{0}};

    /* The parent is a file: nothing can be created under it. */
    snprintf(blocker, sizeof blocker, "%s/blocker", dir);
    assert_int_equal(ks_file_write_atomic(blocker, "x", 1, &err), KS_OK);
    snprintf(path, sizeof path, "%s/blocker/f", dir);
    assert_int_equal(ks_file_write_atomic(path, "x", 1, &err), KS_ERROR);
    assert_non_null(strstr(err.msg, "blocker"));

    /* The target is a folder: the rename fails and the temp file goes. */
    snprintf(path, sizeof path, "%s/folder", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/folder/", dir);
    assert_int_equal(ks_file_write_atomic(path, "x", 1, &err), KS_INVALID);
    snprintf(path, sizeof path, "%s/folder", dir);
    assert_int_equal(ks_file_write_atomic(path, "x", 1, &err), KS_ERROR);
    assert_non_null(strstr(err.msg, "rename()"));
    assert_int_equal(count_entries(dir), 2);   /* blocker and folder */
    assert_int_equal(count_entries(path), 0);
}

static void test_read_limits(void **state)
{
    const char *dir = *state;
    char path[256];
    unsigned char *data = (unsigned char *)"untouched";
    size_t size = 99;
    ks_err_t err = {{0}};

    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(ks_file_read(path, 100, &data, &size, &err), KS_NOTFOUND);
    assert_null(data);
    assert_int_equal(size, 0);
    snprintf(path, sizeof path, "%s/missing/deeper", dir);
    assert_int_equal(ks_file_read(path, 100, &data, &size, &err), KS_NOTFOUND);

    snprintf(path, sizeof path, "%s/ten", dir);
    assert_int_equal(ks_file_write_atomic(path, "0123456789", 10, &err), KS_OK);
    assert_int_equal(ks_file_read(path, 9, &data, &size, &err), KS_TOOLARGE);
    assert_null(data);
    assert_int_equal(ks_file_read(path, 10, &data, &size, &err), KS_OK);
    assert_int_equal(size, 10);
    free(data);

    /* A folder is not a file. */
    assert_int_equal(ks_file_read(dir, 100, &data, &size, &err), KS_ERROR);
}

static void test_mkdir_p(void **state)
{
    const char *dir = *state;
    char path[256];
    struct stat st;
    ks_err_t err = {{0}};

    snprintf(path, sizeof path, "%s/x//y/z/", dir);
    assert_int_equal(ks_mkdir_p(path, &err), KS_OK);
    assert_int_equal(ks_mkdir_p(path, &err), KS_OK);   /* existing is fine */
    snprintf(path, sizeof path, "%s/x/y/z", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    snprintf(path, sizeof path, "%s/x/y/z/file", dir);
    assert_int_equal(ks_file_write_atomic(path, "x", 1, &err), KS_OK);
    assert_int_equal(ks_mkdir_p(path, &err), KS_ERROR);
    snprintf(path, sizeof path, "%s/x/y/z/file/below", dir);
    assert_int_equal(ks_mkdir_p(path, &err), KS_ERROR);
    assert_int_equal(ks_mkdir_p("", &err), KS_INVALID);
}

static void test_sha256_vectors(void **state)
{
    char hex[KS_SHA256_HEX_SIZE];
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    (void)state;
    ks_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ks_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ks_sha256_hex(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    assert_true(ks_sha256_hex_valid(hex));
    assert_false(ks_sha256_hex_valid(NULL));
    assert_false(ks_sha256_hex_valid(""));
    hex[63] = '\0';
    assert_false(ks_sha256_hex_valid(hex));   /* 63 digits */
    hex[63] = '1';
    hex[0] = 'A';
    assert_false(ks_sha256_hex_valid(hex));   /* uppercase */
    hex[0] = 'g';
    assert_false(ks_sha256_hex_valid(hex));
    char longer[70];
    memset(longer, 'a', 65);
    longer[65] = '\0';
    assert_false(ks_sha256_hex_valid(longer));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_creates_parents_and_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
        cmocka_unit_test(test_sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
