/* paths.c: member ids and the store paths the API tier and the image servers
 * agree on (see paths.h). A member's folder is spread by the FNV-1a 32-bit
 * hash of its user_id: "avatars/<hex 0-1>/<hex 2-3>/<user_id>/". Changing the
 * hash moves every stored avatar, so it is fixed here and tested by value. */
#include "paths.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int ks_user_id_valid(const char *user_id)
{
    size_t length;

    if (user_id == NULL || user_id[0] == '\0' || user_id[0] == '.')
        return 0;
    for (length = 0; user_id[length] != '\0'; length++) {
        char c = user_id[length];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                 || c == '.' || c == '_' || c == '-';
        if (!ok || length >= KS_USER_ID_MAX)
            return 0;
    }
    return 1;
}

static uint32_t fnv1a32(const char *s)
{
    uint32_t hash = 2166136261u;

    for (; *s != '\0'; s++) {
        hash ^= (unsigned char)*s;
        hash *= 16777619u;
    }
    return hash;
}

/* "<top>/ab/cd/<user_id>/<leaf>" for a valid user_id, or -1. */
static int member_path(const char *top, const char *user_id, const char *leaf, char *buf,
                           size_t size)
{
    char hex[9];
    int length;

    /* An invalid id never becomes a path: it could climb out of the store. */
    if (!ks_user_id_valid(user_id))
        return -1;
    snprintf(hex, sizeof hex, "%08x", (unsigned)fnv1a32(user_id));
    length = snprintf(buf, size, "%s/%.2s/%.2s/%s/%s", top, hex, hex + 2, user_id, leaf);
    if (length < 0 || (size_t)length >= size)
        return -1;
    return length;
}

int ks_avatar_path(const char *user_id, unsigned version, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u.png", version);
    return member_path("avatars", user_id, leaf, buf, size);
}

int ks_avatar_thumb_path(const char *user_id, unsigned version, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u-thumb.png", version);
    return member_path("avatars", user_id, leaf, buf, size);
}

int ks_avatar_anim_path(const char *user_id, unsigned version, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u-anim.png", version);
    return member_path("avatars", user_id, leaf, buf, size);
}

int ks_album_path(const char *user_id, unsigned photo_id, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u.jpg", photo_id);
    return member_path("albums", user_id, leaf, buf, size);
}

int ks_scene_path(int scene_id, char *buf, size_t size)
{
    int length;

    if (scene_id < 0)
        return -1;
    length = snprintf(buf, size, "scenes/%d/0.png", scene_id);
    if (length < 0 || (size_t)length >= size)
        return -1;
    return length;
}

int ks_item_layer_path(int item_id, int layer_no, char *buf, size_t size)
{
    int length;

    if (item_id < 0 || layer_no < 0)
        return -1;
    length = snprintf(buf, size, "items/%d/%d.png", item_id, layer_no);
    if (length < 0 || (size_t)length >= size)
        return -1;
    return length;
}

/* Reads the leaf "<n>.png", "<n>-thumb.png", "<n>-anim.png" or "<n>.jpg". */
static ks_rc parse_leaf(const char *leaf, int album, ks_member_image_t *out, ks_err_t *err)
{
    const char *p = leaf;
    unsigned long long value = 0;

    if (*p < '1' || *p > '9')
        return ks_err(err, KS_INVALID, "\"%.80s\": not a version or photo number", leaf);
    for (; *p >= '0' && *p <= '9'; p++) {
        value = value * 10 + (unsigned)(*p - '0');
        if (value > INT_MAX)
            return ks_err(err, KS_INVALID, "\"%.80s\": number out of range", leaf);
    }
    out->number = (unsigned)value;
    if (album && strcmp(p, ".jpg") == 0)
        out->kind = KS_IMAGE_ALBUM;
    else if (!album && strcmp(p, ".png") == 0)
        out->kind = KS_IMAGE_AVATAR;
    else if (!album && strcmp(p, "-thumb.png") == 0)
        out->kind = KS_IMAGE_THUMB;
    else if (!album && strcmp(p, "-anim.png") == 0)
        out->kind = KS_IMAGE_ANIM;
    else
        return ks_err(err, KS_INVALID, "\"%.80s\": not a file name of %s", leaf,
                      album ? "an album photo (<photo>.jpg)"
                            : "an avatar (<version>.png, <version>-thumb.png or"
                              " <version>-anim.png)");
    return KS_OK;
}

ks_rc ks_member_image_parse(const char *path, ks_member_image_t *out, ks_err_t *err)
{
    const char *rest, *slash;
    char again[KS_USER_ID_MAX + 64];
    int album, length;
    size_t id_length;
    ks_rc rc;

    memset(out, 0, sizeof *out);
    if (strncmp(path, "avatars/", 8) == 0) {
        album = 0;
        rest = path + 8;
    } else if (strncmp(path, "albums/", 7) == 0) {
        album = 1;
        rest = path + 7;
    } else {
        return ks_err(err, KS_INVALID, "not under avatars/ or albums/");
    }
    /* ab/cd/<user_id>/<leaf> */
    if (strlen(rest) < 6 || rest[2] != '/' || rest[5] != '/')
        return ks_err(err, KS_INVALID, "expected %s/ab/cd/<member>/...", album ? "albums"
                                                                                 : "avatars");
    slash = strchr(rest + 6, '/');
    if (!slash)
        return ks_err(err, KS_INVALID, "no file name after the member id");
    id_length = (size_t)(slash - (rest + 6));
    if (id_length == 0 || id_length > KS_USER_ID_MAX)
        return ks_err(err, KS_INVALID, "the member id is not 1..%d characters", KS_USER_ID_MAX);
    memcpy(out->user_id, rest + 6, id_length);
    out->user_id[id_length] = '\0';
    if (!ks_user_id_valid(out->user_id))
        return ks_err(err, KS_INVALID, "\"%s\" is not a valid member id", out->user_id);
    if (strchr(slash + 1, '/'))
        return ks_err(err, KS_INVALID, "too many folders");
    rc = parse_leaf(slash + 1, album, out, err);
    if (rc != KS_OK)
        return rc;
    length = album ? ks_album_path(out->user_id, out->number, again, sizeof again)
         : out->kind == KS_IMAGE_THUMB ? ks_avatar_thumb_path(out->user_id, out->number, again,
                                                               sizeof again)
         : out->kind == KS_IMAGE_ANIM ? ks_avatar_anim_path(out->user_id, out->number, again,
                                                             sizeof again)
                                      : ks_avatar_path(out->user_id, out->number, again,
                                                       sizeof again);
    if (length < 0)
        return ks_err(err, KS_INVALID, "path too long");
    if (strcmp(again, path) != 0)
        return ks_err(err, KS_INVALID, "folders %.5s do not match the member id (%.5s)", rest,
                      again + (album ? 7 : 8));
    return KS_OK;
}
