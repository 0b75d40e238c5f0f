/* fsutil.h: files that are never seen half-written. */
#ifndef KS_FSUTIL_H
#define KS_FSUTIL_H

#include <stddef.h>
#include "ks.h"

/* Writes data to path atomically: creates the missing parent folders (0755),
 * writes a temp file beside it (".tmp-<name>-<pid>-<n>"), fsyncs it, renames
 * it over path and fsyncs the folder. The file is mode 0644. */
ks_rc ks_file_write_atomic(const char *path, const void *data, size_t size, ks_err_t *err);

/* Reads a whole file of at most max_size bytes; *out is malloc'd (owned by the
 * caller). KS_NOTFOUND when it does not exist, KS_TOOLARGE over max_size. */
ks_rc ks_file_read(const char *path, size_t max_size, unsigned char **out, size_t *out_size,
                   ks_err_t *err);

/* mkdir -p with mode 0755. */
ks_rc ks_mkdir_p(const char *path, ks_err_t *err);

#endif
