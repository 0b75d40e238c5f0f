/* fsutil.c: atomic file writes, bounded file reads and mkdir -p.
 *
 * A stored file is either the old one or the whole new one: the data goes to
 * a temp file beside the target (".tmp-<name>-<pid>-<n>", which the image
 * server sweeps at start), is fsynced, renamed over the target, and the folder
 * is fsynced so the rename survives a crash; a folder made on the way is
 * fsynced in its parent, or a crash could lose it with every file stored in
 * it. Files are 0644 and folders 0755
 * whatever the umask is not, because nginx (as another user) serves them.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static atomic_uint temp_counter;

/* fsyncs folder dir, so the entries made in it last. */
static ks_rc fsync_dir(const char *dir, ks_err_t *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int error;

    if (fd < 0 || fsync(fd) != 0) {
        error = errno;
        if (fd >= 0)
            close(fd);
        return ks_err(err, KS_ERROR, "fsync() folder \"%s\" failed (%d: %s)", dir, error,
                      strerror(error));
    }
    close(fd);
    return KS_OK;
}

/* fsyncs the parent of the folder just made at path (a prefix ending at
 * its last '/'). */
static ks_rc fsync_parent(char *path, ks_err_t *err)
{
    char *slash = strrchr(path, '/');
    ks_rc rc;

    if (!slash)
        return fsync_dir(".", err);
    if (slash == path)
        return fsync_dir("/", err);
    *slash = '\0';
    rc = fsync_dir(path, err);
    *slash = '/';
    return rc;
}

ks_rc ks_mkdir_p(const char *path, ks_err_t *err)
{
    char buf[PATH_MAX];
    size_t length = strlen(path);
    struct stat st;

    if (length == 0)
        return ks_err(err, KS_INVALID, "mkdir: empty path");
    if (length >= sizeof buf)
        return ks_err(err, KS_INVALID, "mkdir: path too long \"%.64s...\"", path);
    memcpy(buf, path, length + 1);
    while (length > 1 && buf[length - 1] == '/')
        buf[--length] = '\0';

    /* Create each prefix in turn; one that exists must be a folder. */
    for (size_t i = 1; i <= length; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        if (buf[i - 1] == '/')
            continue;   /* "a//b" */
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0) {
            int error = errno;
            if (error != EEXIST) {
                ks_rc rc = ks_err(err, KS_ERROR, "mkdir() \"%s\" failed (%d: %s)", buf, error,
                                  strerror(error));
                return rc;
            }
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
                return ks_err(err, KS_ERROR, "mkdir() \"%s\" failed: not a folder", buf);
        } else {
            ks_rc rc = fsync_parent(buf, err);
            if (rc != KS_OK)
                return rc;
        }
        buf[i] = saved;
    }
    return KS_OK;
}

/* Writes all of data to fd, resuming after short writes and EINTR. */
static int write_all(int fd, const unsigned char *data, size_t size)
{
    while (size > 0) {
        ssize_t written = write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += written;
        size -= (size_t)written;
    }
    return 0;
}

ks_rc ks_file_write_atomic(const char *path, const void *data, size_t size, ks_err_t *err)
{
    char dir[PATH_MAX], temp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    int fd, length, error;
    ks_rc rc;

    if (*name == '\0')
        return ks_err(err, KS_INVALID, "write: \"%s\" names no file", path);
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        if ((size_t)(slash - path) >= sizeof dir)
            return ks_err(err, KS_INVALID, "write: path too long \"%.64s...\"", path);
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    rc = ks_mkdir_p(dir, err);
    if (rc != KS_OK)
        return rc;

    length = snprintf(temp, sizeof temp, "%s/.tmp-%s-%ld-%u", dir, name, (long)getpid(),
                      atomic_fetch_add(&temp_counter, 1));
    if (length < 0 || (size_t)length >= sizeof temp)
        return ks_err(err, KS_INVALID, "write: path too long \"%.64s...\"", path);

    fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = errno;
        return ks_err(err, KS_ERROR, "open() \"%s\" failed (%d: %s)", temp, error,
                      strerror(error));
    }
    if (fchmod(fd, 0644) != 0) {
        error = errno;
        rc = ks_err(err, KS_ERROR, "fchmod() \"%s\" failed (%d: %s)", temp, error,
                    strerror(error));
        goto fail;
    }
    if (write_all(fd, data, size) != 0) {
        error = errno;
        rc = ks_err(err, KS_ERROR, "write() \"%s\" failed (%d: %s)", temp, error,
                    strerror(error));
        goto fail;
    }
    if (fsync(fd) != 0) {
        error = errno;
        rc = ks_err(err, KS_ERROR, "fsync() \"%s\" failed (%d: %s)", temp, error,
                    strerror(error));
        goto fail;
    }
    if (close(fd) != 0) {
        error = errno;
        fd = -1;
        rc = ks_err(err, KS_ERROR, "close() \"%s\" failed (%d: %s)", temp, error,
                    strerror(error));
        goto fail;
    }
    fd = -1;
    if (rename(temp, path) != 0) {
        error = errno;
        rc = ks_err(err, KS_ERROR, "rename() \"%s\" to \"%s\" failed (%d: %s)", temp, path,
                    error, strerror(error));
        goto fail;
    }

    /* The rename is durable once the folder is. */
    return fsync_dir(dir, err);

fail:
    if (fd >= 0)
        close(fd);
    unlink(temp);
    return rc;
}

ks_rc ks_file_read(const char *path, size_t max_size, unsigned char **out, size_t *out_size,
                   ks_err_t *err)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t capacity, used = 0;
    int fd, error;

    *out = NULL;
    *out_size = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = errno;
        if (error == ENOENT || error == ENOTDIR)
            return ks_err(err, KS_NOTFOUND, "\"%s\" not found", path);
        return ks_err(err, KS_ERROR, "open() \"%s\" failed (%d: %s)", path, error,
                      strerror(error));
    }
    if (fstat(fd, &st) != 0) {
        error = errno;
        close(fd);
        return ks_err(err, KS_ERROR, "fstat() \"%s\" failed (%d: %s)", path, error,
                      strerror(error));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ks_err(err, KS_ERROR, "read: \"%s\" is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max_size) {
        close(fd);
        return ks_err(err, KS_TOOLARGE, "\"%s\" is %lld bytes, over the limit of %zu", path,
                      (long long)st.st_size, max_size);
    }

    /* Read to EOF, one byte past the size seen, so a file that grew since
     * fstat() is noticed; never hold more than max_size + 1 bytes. */
    capacity = (size_t)st.st_size + 1;
    buf = malloc(capacity);
    if (buf == NULL) {
        close(fd);
        return ks_err(err, KS_NOMEM, "read: out of memory for \"%s\" (%zu bytes)", path,
                      capacity);
    }
    for (;;) {
        ssize_t got;
        if (used == capacity) {
            size_t bigger = capacity * 2;
            if (capacity > max_size) {
                free(buf);
                close(fd);
                return ks_err(err, KS_TOOLARGE, "\"%s\" is over the limit of %zu bytes", path,
                              max_size);
            }
            if (bigger > max_size || bigger < capacity)
                bigger = max_size < SIZE_MAX ? max_size + 1 : SIZE_MAX;
            unsigned char *grown = realloc(buf, bigger);
            if (grown == NULL) {
                free(buf);
                close(fd);
                return ks_err(err, KS_NOMEM, "read: out of memory for \"%s\"", path);
            }
            buf = grown;
            capacity = bigger;
        }
        got = read(fd, buf + used, capacity - used);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            error = errno;
            free(buf);
            close(fd);
            return ks_err(err, KS_ERROR, "read() \"%s\" failed (%d: %s)", path, error,
                          strerror(error));
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    if (used > max_size) {
        free(buf);
        return ks_err(err, KS_TOOLARGE, "\"%s\" is over the limit of %zu bytes", path, max_size);
    }
    *out = buf;
    *out_size = used;
    return KS_OK;
}
