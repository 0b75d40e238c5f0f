/* store_albums.h: SQL of the album tables: scenes and their slots
 * (RegisterScene, ListScenes), album photos with who sat where and every
 * layer drawn (CreateAlbumPhoto, ListAlbumPhotos, DeleteAlbumPhoto,
 * DeleteAvatar's count). Functions write their error into ctx->err and
 * return a ks_rc; results are allocated in the request's arena. */
#ifndef KS_API_STORE_ALBUMS_H
#define KS_API_STORE_ALBUMS_H

#include "sha256.h"
#include "store.h"

#define KS_SCENE_SLOTS_MAX 5

/* ---- Scenes ------------------------------------------------------------------- */

/* A scene as a photo needs it. */
typedef struct {
    int id, width, height, slot_count;
    char sha256[KS_SHA256_HEX_SIZE];
    struct ks__SceneSlot slots[KS_SCENE_SLOTS_MAX];
} ks_scene_t;

/* Stores scene (its id is not read) with its background png[0..size) and
 * sets *scene_id. KS_CONFLICT when a scene has that name. */
ks_rc ks_store_scene_insert(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                            const ks_scene_t *scene, const void *png, size_t size, int *scene_id);

/* Scene scene_id with its slots (KS_NOTFOUND when there is none). */
ks_rc ks_store_scene(ks_api_ctx_t *ctx, MYSQL *conn, int scene_id, ks_scene_t *out);

/* The first max scenes (by id) with their slots, in the arena. */
ks_rc ks_store_scenes(struct soap *soap, MYSQL *conn, int max, struct ks__Scene **scenes,
                      int *count);

/* ---- Photos ------------------------------------------------------------------- */

/* A member on a photo: in which slot, drawn where. */
typedef struct {
    ks_member_t member;
    int slot, x, y;
} ks_album_sitter_t;

/* What records a new photo: who took it on which server and scene, who sat
 * where, and every layer drawn (slot_of[i]: the slot of layers[i]). */
typedef struct {
    const ks_member_t *member;
    int image_server_id;
    const ks_scene_t *scene;
    int quality;
    const char *caption;           /* NULL: none */
    const ks_album_sitter_t *sitters;
    int sitter_count;
    const ks_layer_row_t *layers;
    const int *slot_of;
    int layer_count;
} ks_album_photo_new_t;

/* Records photo and sets *photo_id. */
ks_rc ks_store_album_photo_insert(ks_api_ctx_t *ctx, MYSQL *conn, const ks_album_photo_new_t *photo,
                                  unsigned *photo_id);

/* How many photos member_id's album holds. */
ks_rc ks_store_album_photo_count(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 long long *count);

/* A page of member_id's photos, the newest first, with who sat on each,
 * into *photos / *count (in the arena; userId and url are left for the
 * caller, server_ids[i] is the image server of photos[i]); *total counts
 * every page. */
ks_rc ks_store_album_photos(struct soap *soap, MYSQL *conn, long long member_id, int offset,
                            int limit, struct ks__AlbumPhoto **photos, int **server_ids,
                            int *count, long long *total);

/* Deletes photo_id of member (KS_NOTFOUND when the member has no such
 * photo) and sets *server_id, the image server holding its JPEG. */
ks_rc ks_store_album_photo_delete(ks_api_ctx_t *ctx, MYSQL *conn, const ks_member_t *member,
                                  int photo_id, int *server_id);

/* A recorded album photo, as composing it again needs it. */
typedef struct {
    int image_server_id, scene_id, width, height, quality;
    char scene_sha256[65];
} ks_album_photo_row_t;

/* Album photo photo_id of member member_id (KS_NOTFOUND, without a message,
 * when it has none of that id). */
ks_rc ks_store_album_photo(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                           unsigned photo_id, ks_album_photo_row_t *out);

/* The layers photo_id was drawn with, in drawing order, into *layers (the
 * request's arena; width and height left 0). */
ks_rc ks_store_album_photo_layers(struct soap *soap, MYSQL *conn, unsigned photo_id,
                                  ks_layer_row_t **layers, int *count);

#endif
