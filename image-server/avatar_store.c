/* avatar_store.c: writes a member's composed avatar and prunes old versions.
 *
 * Version files are named "<version>.png" in the member's folder. After a
 * write of version v, the newest existing version p < v is kept (pages
 * rendered before the change still show it) and every version below p is
 * removed. Files with other names (temp files of a concurrent write, future
 * thumbnails) are not touched.
 */
#include "avatar_store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "paths.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Parses "<digits>.png" (no leading zeros, fits an unsigned) into *version.
 * Returns 0, or -1 for any other name. */
static int ks__version_of(const char *name, unsigned *version)
{
    unsigned long long value = 0;
    const char *p = name;

    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        value = value * 10 + (unsigned)(*p - '0');
        if (value > UINT_MAX)
            return -1;
    }
    if (strcmp(p, ".png") != 0)
        return -1;
    *version = (unsigned)value;
    return 0;
}

/* Removes the versions of the member in folder older than the newest one
 * below `written`. Errors are logged, not returned. */
static void ks__prune(const char *folder, unsigned written)
{
    DIR *dir = opendir(folder);
    struct dirent *entry;
    unsigned previous = 0, version;

    if (dir == NULL) {
        ks_log_warn("opendir() \"%s\" failed (%d: %s)", folder, errno, strerror(errno));
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (ks__version_of(entry->d_name, &version) == 0 && version < written
            && version > previous)
            previous = version;
    }
    rewinddir(dir);
    while ((entry = readdir(dir)) != NULL) {
        char path[PATH_MAX];
        if (ks__version_of(entry->d_name, &version) != 0 || version >= previous)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", folder, entry->d_name) >= (int)sizeof path)
            continue;
        if (unlink(path) != 0 && errno != ENOENT)
            ks_log_warn("unlink() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
    }
    closedir(dir);
}

ks_rc ks_avatar_store_write(const char *store_dir, const char *user_id, unsigned version,
                            const void *png, size_t png_size, char *relative_path, size_t size,
                            ks_err_t *err)
{
    char path[PATH_MAX];
    char *slash;
    int length;
    ks_rc rc;

    if (version == 0)
        return ks_err(err, KS_INVALID, "avatar of \"%s\": version must be >= 1", user_id);
    length = ks_avatar_path(user_id, version, relative_path, size);
    if (length < 0)
        return ks_err(err, KS_INVALID, "avatar: invalid user_id or path too long \"%.64s\"",
                      user_id);
    length = snprintf(path, sizeof path, "%s/%s", store_dir, relative_path);
    if (length < 0 || (size_t)length >= sizeof path)
        return ks_err(err, KS_INVALID, "avatar of \"%s\": store path too long", user_id);

    rc = ks_file_write_atomic(path, png, png_size, err);
    if (rc != KS_OK)
        return rc;

    slash = strrchr(path, '/');
    *slash = '\0';
    ks__prune(path, version);
    return KS_OK;
}
