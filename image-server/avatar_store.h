/* avatar_store.h: a member's images on disk, served by nginx (paths.h):
 * <store>/avatars/ab/cd/<user_id>/<version>.png and <version>-thumb.png, and
 * <store>/albums/ab/cd/<user_id>/<photo>.jpg.
 *
 * A member keeps the version just written and the one before it (a page
 * rendered a moment ago may still point at it); older versions are removed.
 */
#ifndef KS_AVATAR_STORE_H
#define KS_AVATAR_STORE_H

#include <stddef.h>
#include "ks.h"
#include "paths.h"

/* Writes png atomically as version `version` of user_id under store_dir, then
 * removes that member's versions older than the newest one below `version`
 * (versions above it are left alone). The store-relative path
 * ("avatars/ab/cd/alice/3.png") goes to relative_path (size bytes). A failed
 * clean-up is only logged: the avatar is stored. */
ks_rc ks_avatar_store_write(const char *store_dir, const char *user_id, unsigned version,
                            const void *png, size_t png_size, char *relative_path, size_t size,
                            ks_err_t *err);

/* Writes the thumbnail of version `version` (before the avatar itself, whose
 * write prunes old versions and their thumbnails). */
ks_rc ks_avatar_store_write_thumb(const char *store_dir, const char *user_id, unsigned version,
                                  const void *png, size_t png_size, char *relative_path,
                                  size_t size, ks_err_t *err);

/* Writes the animation (APNG) of version `version`, before the avatar too. */
ks_rc ks_avatar_store_write_anim(const char *store_dir, const char *user_id, unsigned version,
                                 const void *png, size_t png_size, char *relative_path,
                                 size_t size, ks_err_t *err);

/* Writes album photo `photo` (>= 1) of user_id atomically. */
ks_rc ks_album_store_write(const char *store_dir, const char *user_id, unsigned photo,
                           const void *jpeg, size_t jpeg_size, char *relative_path, size_t size,
                           ks_err_t *err);

/* Removes one album photo; one that is not there is not an error. */
ks_rc ks_album_store_remove(const char *store_dir, const char *user_id, unsigned photo,
                            ks_err_t *err);

/* The newest version below `below` of user_id's image of kind (an avatar,
 * its thumbnail or its animation; never an album photo) in store_dir, or 0
 * when there is none: the member's last good image while the one asked for
 * can't be made. */
unsigned ks_avatar_store_last_good(const char *store_dir, const char *user_id,
                                   ks_image_kind_t kind, unsigned below);

/* Removes every image of the member (avatar versions, thumbnails, album
 * photos) and their folders. */
ks_rc ks_avatar_store_remove_member(const char *store_dir, const char *user_id, ks_err_t *err);

#endif
