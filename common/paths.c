/* paths.c: member ids and the store paths the API tier and the image servers
 * agree on (see paths.h). A member's folder is spread by the FNV-1a 32-bit
 * hash of its user_id: "avatars/<hex 0-1>/<hex 2-3>/<user_id>/". Changing the
 * hash moves every stored avatar, so it is fixed here and tested by value. */
#include "paths.h"

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

static uint32_t ks__fnv1a32(const char *s)
{
    uint32_t hash = 2166136261u;

    for (; *s != '\0'; s++) {
        hash ^= (unsigned char)*s;
        hash *= 16777619u;
    }
    return hash;
}

/* "<top>/ab/cd/<user_id>/<leaf>" for a valid user_id, or -1. */
static int ks__member_path(const char *top, const char *user_id, const char *leaf, char *buf,
                           size_t size)
{
    char hex[9];
    int length;

    /* An invalid id never becomes a path: it could climb out of the store. */
    if (!ks_user_id_valid(user_id))
        return -1;
    snprintf(hex, sizeof hex, "%08x", (unsigned)ks__fnv1a32(user_id));
    length = snprintf(buf, size, "%s/%.2s/%.2s/%s/%s", top, hex, hex + 2, user_id, leaf);
    if (length < 0 || (size_t)length >= size)
        return -1;
    return length;
}

int ks_avatar_path(const char *user_id, unsigned version, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u.png", version);
    return ks__member_path("avatars", user_id, leaf, buf, size);
}

int ks_avatar_thumb_path(const char *user_id, unsigned version, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u-thumb.png", version);
    return ks__member_path("avatars", user_id, leaf, buf, size);
}

int ks_album_path(const char *user_id, unsigned photo_id, char *buf, size_t size)
{
    char leaf[32];

    snprintf(leaf, sizeof leaf, "%u.jpg", photo_id);
    return ks__member_path("albums", user_id, leaf, buf, size);
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
