/* tmpdir.h: a scratch folder per test, for the unit tests that touch files. */
#ifndef KS_TEST_TMPDIR_H
#define KS_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int ks_test_remove_entry(const char *path, const struct stat *st, int type,
                                struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* A new empty folder /tmp/ks-test-NAME-XXXXXX; malloc'd path, NULL on failure. */
static inline char *ks_test_mkdtemp(const char *name)
{
    char *dir = malloc(64);
    if (dir == NULL)
        return NULL;
    snprintf(dir, 64, "/tmp/ks-test-%s-XXXXXX", name);
    if (mkdtemp(dir) == NULL) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* A new scratch folder (ks_test_mkdtemp(tag)) holding text as the file
 * name, whose path goes into path. Returns the folder (ks_test_rmtree and
 * free it), NULL on failure. */
static inline char *ks_test_file(const char *tag, const char *name, const char *text, char *path,
                                 size_t size)
{
    char *dir = ks_test_mkdtemp(tag);
    FILE *f;

    if (dir == NULL)
        return NULL;
    snprintf(path, size, "%s/%s", dir, name);
    if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Removes the folder and everything in it. */
static inline void ks_test_rmtree(const char *dir)
{
    nftw(dir, ks_test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
