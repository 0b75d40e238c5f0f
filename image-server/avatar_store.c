/* avatar_store.c: writes a member's composed avatar and prunes old versions.
 *
 * Version files are named "<version>.png", "<version>-thumb.png" and (for an
 * animated avatar) "<version>-anim.png" in the member's folder. After a write
 * of version v, the newest existing version p < v is kept (pages rendered
 * before the change still show it) and every version below p is removed,
 * thumbnail and animation included. Files with other names
 * (temp files of a concurrent write) are not touched. Album photos live in
 * the member's albums/ folder, one JPEG per photo.
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

/* Parses "<digits>.png", "<digits>-thumb.png" or "<digits>-anim.png" (no
 * leading zeros, fits an unsigned) into *version and *suffix (the name's
 * part after the digits). Returns 0, or -1 for any other name. */
static int version_and_suffix(const char *name, unsigned *version, const char **suffix)
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
    if (strcmp(p, ".png") != 0 && strcmp(p, "-thumb.png") != 0 && strcmp(p, "-anim.png") != 0)
        return -1;
    *version = (unsigned)value;
    *suffix = p;
    return 0;
}

static int version_of(const char *name, unsigned *version)
{
    const char *suffix;

    return version_and_suffix(name, version, &suffix);
}

/* Removes the versions of the member in folder older than the newest one
 * below `written`. Errors are logged, not returned. */
static void prune(const char *folder, unsigned written)
{
    DIR *dir = opendir(folder);
    struct dirent *entry;
    unsigned previous = 0, version;

    if (dir == NULL) {
        ks_log_warn("opendir() \"%s\" failed (%d: %s)", folder, errno, strerror(errno));
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (version_of(entry->d_name, &version) == 0 && version < written
            && version > previous)
            previous = version;
    }
    rewinddir(dir);
    while ((entry = readdir(dir)) != NULL) {
        char path[PATH_MAX];
        if (version_of(entry->d_name, &version) != 0 || version >= previous)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", folder, entry->d_name) >= (int)sizeof path)
            continue;
        if (unlink(path) != 0 && errno != ENOENT)
            ks_log_warn("unlink() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
    }
    closedir(dir);
}

/* Writes data atomically at <store_dir>/<relative path made by make_path>. */
static ks_rc write_member_file(const char *store_dir, const char *user_id, unsigned number,
                                   int (*make_path)(const char *, unsigned, char *, size_t),
                                   const void *data, size_t data_size, char *relative_path,
                                   size_t size, char *path, ks_err_t *err)
{
    int length;

    if (number == 0)
        return ks_err(err, KS_INVALID, "image of \"%s\": number must be >= 1", user_id);
    if (make_path(user_id, number, relative_path, size) < 0)
        return ks_err(err, KS_INVALID, "image: invalid user_id or path too long \"%.64s\"",
                      user_id);
    length = snprintf(path, PATH_MAX, "%s/%s", store_dir, relative_path);
    if (length < 0 || (size_t)length >= PATH_MAX)
        return ks_err(err, KS_INVALID, "image of \"%s\": store path too long", user_id);
    return ks_file_write_atomic(path, data, data_size, err);
}

ks_rc ks_avatar_store_write(const char *store_dir, const char *user_id, unsigned version,
                            const void *png, size_t png_size, char *relative_path, size_t size,
                            ks_err_t *err)
{
    char path[PATH_MAX];
    ks_rc rc = write_member_file(store_dir, user_id, version, ks_avatar_path, png, png_size,
                                     relative_path, size, path, err);

    if (rc != KS_OK)
        return rc;
    *strrchr(path, '/') = '\0';
    prune(path, version);
    return KS_OK;
}

ks_rc ks_avatar_store_write_thumb(const char *store_dir, const char *user_id, unsigned version,
                                  const void *png, size_t png_size, char *relative_path,
                                  size_t size, ks_err_t *err)
{
    char path[PATH_MAX];

    return write_member_file(store_dir, user_id, version, ks_avatar_thumb_path, png,
                                 png_size, relative_path, size, path, err);
}

ks_rc ks_avatar_store_write_anim(const char *store_dir, const char *user_id, unsigned version,
                                 const void *png, size_t png_size, char *relative_path,
                                 size_t size, ks_err_t *err)
{
    char path[PATH_MAX];

    return write_member_file(store_dir, user_id, version, ks_avatar_anim_path, png, png_size,
                             relative_path, size, path, err);
}

ks_rc ks_album_store_write(const char *store_dir, const char *user_id, unsigned photo,
                           const void *jpeg, size_t jpeg_size, char *relative_path, size_t size,
                           ks_err_t *err)
{
    char path[PATH_MAX];

    return write_member_file(store_dir, user_id, photo, ks_album_path, jpeg, jpeg_size,
                                 relative_path, size, path, err);
}

/* The member's folder under top: "<store>/<top>/ab/cd/<user_id>". */
static ks_rc member_folder(const char *store_dir, const char *user_id, int album,
                               char *folder, ks_err_t *err)
{
    char relative[PATH_MAX];
    int length = album ? ks_album_path(user_id, 1, relative, sizeof relative)
                       : ks_avatar_path(user_id, 1, relative, sizeof relative);

    if (length < 0)
        return ks_err(err, KS_INVALID, "invalid user_id \"%.64s\"", user_id);
    *strrchr(relative, '/') = '\0';
    length = snprintf(folder, PATH_MAX, "%s/%s", store_dir, relative);
    if (length < 0 || length >= PATH_MAX)
        return ks_err(err, KS_INVALID, "images of \"%s\": store path too long", user_id);
    return KS_OK;
}

ks_rc ks_album_store_remove(const char *store_dir, const char *user_id, unsigned photo,
                            ks_err_t *err)
{
    char relative[PATH_MAX], path[PATH_MAX];

    if (photo == 0 || ks_album_path(user_id, photo, relative, sizeof relative) < 0)
        return ks_err(err, KS_INVALID, "album photo %u of \"%.64s\": invalid", photo, user_id);
    if (snprintf(path, sizeof path, "%s/%s", store_dir, relative) >= (int)sizeof path)
        return ks_err(err, KS_INVALID, "album photo of \"%s\": store path too long", user_id);
    if (unlink(path) != 0 && errno != ENOENT)
        return ks_err(err, KS_ERROR, "unlink() \"%s\" failed (%d: %s)", path, errno,
                      strerror(errno));
    return KS_OK;
}

ks_rc ks_avatar_store_remove_member(const char *store_dir, const char *user_id, ks_err_t *err)
{
    for (int album = 0; album <= 1; album++) {
        char folder[PATH_MAX];
        ks_rc rc = member_folder(store_dir, user_id, album, folder, err);
        if (rc != KS_OK)
            return rc;
        DIR *dir = opendir(folder);
        if (dir == NULL) {
            if (errno == ENOENT)
                continue;
            return ks_err(err, KS_ERROR, "opendir() \"%s\" failed (%d: %s)", folder, errno,
                          strerror(errno));
        }
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            char path[PATH_MAX];
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                continue;
            if (snprintf(path, sizeof path, "%s/%s", folder, entry->d_name) >= (int)sizeof path)
                continue;
            if (unlink(path) != 0 && errno != ENOENT) {
                int error = errno;
                closedir(dir);
                return ks_err(err, KS_ERROR, "unlink() \"%s\" failed (%d: %s)", path, error,
                              strerror(error));
            }
        }
        closedir(dir);
        if (rmdir(folder) != 0 && errno != ENOENT)
            return ks_err(err, KS_ERROR, "rmdir() \"%s\" failed (%d: %s)", folder, errno,
                          strerror(errno));
    }
    return KS_OK;
}

unsigned ks_avatar_store_last_good(const char *store_dir, const char *user_id,
                                   ks_image_kind_t kind, unsigned below)
{
    const char *want = kind == KS_IMAGE_THUMB ? "-thumb.png"
                       : kind == KS_IMAGE_ANIM ? "-anim.png" : ".png";
    char folder[PATH_MAX];
    unsigned best = 0, version;
    const char *suffix;
    struct dirent *entry;
    DIR *dir;
    ks_err_t err;

    if (kind == KS_IMAGE_ALBUM || member_folder(store_dir, user_id, 0, folder, &err) != KS_OK ||
        (dir = opendir(folder)) == NULL)
        return 0;
    while ((entry = readdir(dir)) != NULL) {
        if (version_and_suffix(entry->d_name, &version, &suffix) == 0 && version < below &&
            version > best && strcmp(suffix, want) == 0)
            best = version;
    }
    closedir(dir);
    return best;
}
