/* avatar_store.h: composed avatars on disk, at
 * <store>/avatars/ab/cd/<user_id>/<version>.png (paths.h), served by nginx.
 *
 * A member keeps the version just written and the one before it (a page
 * rendered a moment ago may still point at it); older versions are removed.
 */
#ifndef KS_AVATAR_STORE_H
#define KS_AVATAR_STORE_H

#include <stddef.h>
#include "ks.h"

/* Writes png atomically as version `version` of user_id under store_dir, then
 * removes that member's versions older than the newest one below `version`
 * (versions above it are left alone). The store-relative path
 * ("avatars/ab/cd/alice/3.png") goes to relative_path (size bytes). A failed
 * clean-up is only logged: the avatar is stored. */
ks_rc ks_avatar_store_write(const char *store_dir, const char *user_id, unsigned version,
                            const void *png, size_t png_size, char *relative_path, size_t size,
                            ks_err_t *err);

#endif
