/* paths.h: names that the API tier and the image servers must agree on:
 * valid member ids and where a member's images and the item layers live under
 * an image server's store (and so under its public URL). */
#ifndef KS_PATHS_H
#define KS_PATHS_H

#include <stddef.h>
#include "ks.h"

#define KS_USER_ID_MAX 64

/* 1 when user_id is 1..64 characters of [A-Za-z0-9._-] and does not start
 * with '.', so it is safe in a path and a URL as it is. */
int ks_user_id_valid(const char *user_id);

/* "avatars/ab/cd/<user_id>/<version>.png": ab/cd are the first four hex
 * digits of the FNV-1a hash of user_id, which spreads members over 65536
 * folders. Returns the length, or -1 when it does not fit in size. */
int ks_avatar_path(const char *user_id, unsigned version, char *buf, size_t size);

/* "avatars/ab/cd/<user_id>/<version>-thumb.png", the bust-up thumbnail. */
int ks_avatar_thumb_path(const char *user_id, unsigned version, char *buf, size_t size);

/* "avatars/ab/cd/<user_id>/<version>-anim.png", the animated avatar (an
 * APNG) of a version that wears animated items. */
int ks_avatar_anim_path(const char *user_id, unsigned version, char *buf, size_t size);

/* "albums/ab/cd/<user_id>/<photo_id>.jpg", an album photo (same ab/cd). */
int ks_album_path(const char *user_id, unsigned photo_id, char *buf, size_t size);

/* "scenes/<scene_id>/0.png", a scene's background (stored as the image
 * servers store item layers). Returns the length or -1. */
int ks_scene_path(int scene_id, char *buf, size_t size);

/* "items/<item_id>/<layer_no>.png". Returns the length or -1. */
int ks_item_layer_path(int item_id, int layer_no, char *buf, size_t size);

typedef enum { KS_IMAGE_AVATAR, KS_IMAGE_THUMB, KS_IMAGE_ALBUM, KS_IMAGE_ANIM } ks_image_kind_t;

/* A member's image named by its store path (without a leading '/'). */
typedef struct {
    ks_image_kind_t kind;
    char user_id[KS_USER_ID_MAX + 1];
    unsigned number;               /* the avatar version or the photo id, 1..INT_MAX */
} ks_member_image_t;

/* Parses a path that ks_avatar_path, ks_avatar_thumb_path, ks_avatar_anim_path
 * or ks_album_path
 * makes back into its parts, strictly: KS_OK only when making the path again
 * from them gives the very same string (the ab/cd folders of the user id's
 * hash, a valid id, a number without sign or leading zeros), otherwise
 * KS_INVALID with the reason in err ("folders 00/00 do not match the member
 * id (c3/4b)"). */
ks_rc ks_member_image_parse(const char *path, ks_member_image_t *out, ks_err_t *err);

#endif
