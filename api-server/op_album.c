/* op_album.c: album scenes and photos: RegisterScene, ListScenes,
 * CreateAlbumPhoto, ListAlbumPhotos, DeleteAlbumPhoto.
 *
 * A scene is a background PNG with up to KS_SCENE_SLOTS_MAX slots, each the
 * top-left corner of a whole avatar canvas inside the background; slot 0 is
 * the member's. The background is kept in the database as uploaded (after
 * decoding it under limits) and pushed to every active image server; one
 * that misses it gets it again when a photo needs it.
 *
 * A photo is composed in one master transaction that locks the member: the
 * rows recording it (the scene at its sha256, each avatar's user id, version
 * and layers with their sha256 and place) are written, then the member's
 * image server composes and stores the JPEG, then the transaction commits;
 * when the image server fails, nothing was recorded (ks_store_txn runs it
 * again on a deadlock). Avatars are drawn from the last slot to the first,
 * so the member stands in front; each avatar's layers keep their own drawing
 * order, and the photo's z-orders are simply the drawing sequence. Deleting a photo queues the deletion of its JPEG on
 * its server with the row's removal (deletion.c retries until it is gone).
 */
#include <string.h>
#include <time.h>
#include "op_common.h"
#include "deletion.h"
#include "log.h"
#include "png_codec.h"
#include "album.h"
#include "render.h"
#include "sha256.h"
#include "store_albums.h"
#include "store_deletion.h"

#define KS_SCENE_SIZE_MAX 2048
#define KS_SCENES_LISTED_MAX 1000
#define KS_CAPTION_MAX 200
#define KS_ALBUM_LAYERS_MAX 256        /* what an image server composes at once */

/* ---- RegisterScene -------------------------------------------------------------- */

/* Decodes the uploaded background under limits, checks the slots against
 * it, and fills info (but its id) to store. */
static ks_rc check_scene(ks_api_ctx_t *ctx, const struct xsd__base64Binary *png,
                         const struct ks__SceneSlot *slots, int slot_count, ks_scene_t *info)
{
    const ks_api_conf_t *conf = ctx->conf;
    ks_png_limits_t limits;
    ks_image_t image = {0};
    ks_err_t why;
    ks_rc rc;

    if (!png->__ptr || png->__size <= 0)
        return ks_err(&ctx->err, KS_INVALID, "png is required");
    if ((size_t)png->__size > conf->max_scene_bytes)
        return ks_err(&ctx->err, KS_TOOLARGE, "the scene PNG is %d bytes, over the %zu-byte limit",
                      png->__size, conf->max_scene_bytes);
    ks_png_limits_default(&limits);
    limits.max_width = KS_SCENE_SIZE_MAX;
    limits.max_height = KS_SCENE_SIZE_MAX;
    if ((rc = ks_png_decode(png->__ptr, (size_t)png->__size, &limits, &image, &why)) != KS_OK)
        return ks_err(&ctx->err, rc, "scene PNG: %s (at most %dx%d)", why.msg, KS_SCENE_SIZE_MAX,
                      KS_SCENE_SIZE_MAX);
    info->width = (int)image.width;
    info->height = (int)image.height;
    ks_image_free(&image);
    if (info->width < conf->canvas.width || info->height < conf->canvas.height)
        return ks_err(&ctx->err, KS_INVALID, "the scene is %dx%d, smaller than an avatar (%dx%d)",
                      info->width, info->height, conf->canvas.width, conf->canvas.height);
    for (int i = 0; i < slot_count; i++)
        if (slots[i].x < 0 || slots[i].y < 0 || slots[i].x > info->width - conf->canvas.width ||
            slots[i].y > info->height - conf->canvas.height)
            return ks_err(&ctx->err, KS_INVALID, "slot %d at %d,%d puts the %dx%d avatar outside "
                          "the %dx%d scene", i, slots[i].x, slots[i].y, conf->canvas.width,
                          conf->canvas.height, info->width, info->height);
    ks_sha256_hex(png->__ptr, (size_t)png->__size, info->sha256);
    info->slot_count = slot_count;
    memcpy(info->slots, slots, (size_t)slot_count * sizeof *slots);
    return KS_OK;
}

/* RegisterScene's transaction (ks_store_txn): what it stores, and the id
 * the scene gets. */
typedef struct {
    const char *name;
    const struct xsd__base64Binary *png;
    const ks_scene_t *info;
    int *scene_id;
} scene_new_t;

static ks_rc insert_scene(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const scene_new_t *n = arg;

    return ks_store_scene_insert(ctx, conn, n->name, n->info, n->png->__ptr,
                                 (size_t)n->png->__size, n->scene_id);
}

/* Pushes the background to every active image server; a failure is logged
 * (the server gets it when a photo needs it). */
static void push_scene(ks_api_ctx_t *ctx, MYSQL *conn, int scene_id,
                       const struct xsd__base64Binary *png, const char *sha256)
{
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count;

    if (ks_store_active_image_servers(ctx, conn, servers, KS_IMAGE_SERVERS_MAX, &server_count))
        return;
    for (int s = 0; s < server_count; s++)
        if (ks_image_put_scene(ctx, &servers[s], scene_id, png->__ptr, (size_t)png->__size,
                               sha256) != KS_OK)
            ks_log_warn("scene %d not pushed to image server \"%s\" (it gets it when a photo "
                        "needs it): %s", scene_id, servers[s].name, ctx->err.msg);
}

int ks__RegisterScene(struct soap *soap, char *name, struct xsd__base64Binary png,
                      int __sizeslot, struct ks__SceneSlot *slot,
                      struct ks__RegisterSceneResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_scene_t info;
    struct ks__Scene *scene;
    int scene_id = 0;
    scene_new_t new_scene = {.name = name, .png = &png, .info = &info, .scene_id = &scene_id};
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64))
        return soap->error;
    if (__sizeslot < 1 || __sizeslot > KS_SCENE_SLOTS_MAX)
        return ks_fault(soap, "InvalidArgument", "a scene has 1..%d slots, not %d",
                        KS_SCENE_SLOTS_MAX, __sizeslot);
    if ((rc = check_scene(ctx, &png, slot, __sizeslot, &info)) != KS_OK ||
        (rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, insert_scene, &new_scene)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("scene %d \"%s\" (%dx%d, %d slots) registered", scene_id, name, info.width,
                info.height, __sizeslot);
    push_scene(ctx, conn, scene_id, &png, info.sha256);

    response->scene = scene = soap_new_ks__Scene(soap, -1);
    if (!scene)
        return soap->error = SOAP_EOM;
    scene->id = scene_id;
    scene->name = name;
    scene->width = info.width;
    scene->height = info.height;
    scene->sha256 = soap_strdup(soap, info.sha256);
    scene->__sizeslot = __sizeslot;
    scene->slot = slot;
    return SOAP_OK;
}

/* ---- ListScenes ----------------------------------------------------------------- */

static ks_rc list_scenes(struct soap *soap, struct ks__ListScenesResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    return ks_store_scenes(soap, conn, KS_SCENES_LISTED_MAX, &response->scene,
                           &response->__sizescene);
}

int ks__ListScenes(struct soap *soap, struct ks__ListScenesResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE))
        return soap->error;
    rc = list_scenes(soap, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- CreateAlbumPhoto ----------------------------------------------------------- */

/* The photo's layers: each sitter's worn layers moved to its slot, from the
 * last slot to the first, with z-orders in drawing sequence. A photo is
 * still: frame 0 of animated layers (their frame rows are left out). */
static ks_rc photo_layers(struct soap *soap, MYSQL *conn, const ks_album_sitter_t *sitters,
                          int count, ks_layer_row_t *out, int *slot_of, int *out_count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    *out_count = 0;
    for (int s = count - 1; s >= 0; s--) {
        ks_layer_row_t *layers;
        int n;
        if ((rc = ks_store_worn_layers(soap, conn, sitters[s].member.id, &layers, &n)) != KS_OK)
            return rc;
        for (int i = 0; i < n; i++) {
            ks_layer_row_t *l = &out[*out_count];
            if (layers[i].layer_no >= KS_FRAME_STEP)
                continue;
            if (*out_count == KS_ALBUM_LAYERS_MAX)
                return ks_err(&ctx->err, KS_TOOLARGE, "the photo would have more than %d "
                              "layers; take it with fewer friends", KS_ALBUM_LAYERS_MAX);
            *l = layers[i];
            l->delay_ms = 0;
            l->x += sitters[s].x;
            l->y += sitters[s].y;
            l->z_order = *out_count;
            slot_of[(*out_count)++] = sitters[s].slot;
        }
    }
    return KS_OK;
}

/* What CreateAlbumPhoto asks. */
typedef struct {
    const char *user_id;
    int scene_id;
    char **friends;
    int friend_count;
    const char *caption;
} photo_order_t;

/* CreateAlbumPhoto's transaction (ks_store_txn): the order, room for the
 * layers (in the arena), and what it sets afresh on each run: who sat, the
 * member's image server, the photo's id. */
typedef struct {
    struct soap *soap;
    const photo_order_t *order;
    ks_layer_row_t *layers;
    int *slot_of;
    ks_album_sitter_t *sitters;
    int *sitter_count;
    ks_image_server_t *server;
    unsigned *photo_id;
} photo_take_t;

static ks_rc take_photo(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const photo_take_t *t = arg;
    const photo_order_t *order = t->order;
    ks_album_sitter_t *sitters = t->sitters;
    ks_member_t *member = &sitters[0].member;
    ks_image_server_t *server = t->server;
    int layer_count;
    long long photos;
    ks_album_request_t album;
    ks_album_photo_new_t photo;
    ks_scene_t scene;
    ks_rc rc;

    *t->sitter_count = 0;
    *t->photo_id = 0;
    if ((rc = ks_store_member(ctx, conn, order->user_id, 1, member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, member->image_server_id, server)) != KS_OK ||
        (rc = ks_store_server_usable(ctx, server)) != KS_OK ||
        (rc = ks_store_scene(ctx, conn, order->scene_id, &scene)) != KS_OK)
        return rc;
    if (1 + order->friend_count > scene.slot_count)
        return ks_err(&ctx->err, KS_INVALID, "scene %d has %d slots: the member and at most %d "
                      "friends", scene.id, scene.slot_count, scene.slot_count - 1);
    if ((rc = ks_store_album_photo_count(ctx, conn, member->id, &photos)) != KS_OK)
        return rc;
    if (photos >= ctx->conf->max_album_photos)
        return ks_err(&ctx->err, KS_CONFLICT, "the album of \"%s\" is full (%lld photos): delete "
                      "one first", order->user_id, photos);
    for (int i = 0; i < order->friend_count; i++)
        if ((rc = ks_store_member(ctx, conn, order->friends[i], 0,
                                  &sitters[1 + i].member)) != KS_OK)
            return rc;
    *t->sitter_count = 1 + order->friend_count;
    for (int i = 0; i < *t->sitter_count; i++) {
        sitters[i].slot = i;
        sitters[i].x = scene.slots[i].x;
        sitters[i].y = scene.slots[i].y;
    }
    if ((rc = photo_layers(t->soap, conn, sitters, *t->sitter_count, t->layers, t->slot_of,
                           &layer_count)) != KS_OK)
        return rc;
    photo = (ks_album_photo_new_t){.member = member, .image_server_id = server->id,
                                   .scene = &scene, .quality = ctx->conf->album_quality,
                                   .caption = order->caption, .sitters = sitters,
                                   .sitter_count = *t->sitter_count, .layers = t->layers,
                                   .slot_of = t->slot_of, .layer_count = layer_count};
    if ((rc = ks_store_album_photo_insert(ctx, conn, &photo, t->photo_id)) != KS_OK)
        return rc;
    /* The image server stores the JPEG last: nothing after it but the COMMIT. */
    album = (ks_album_request_t){.user_id = member->user_id, .photo_id = *t->photo_id,
                                 .width = scene.width, .height = scene.height,
                                 .scene_id = scene.id, .scene_sha256 = scene.sha256,
                                 .quality = ctx->conf->album_quality, .layers = t->layers,
                                 .layer_count = layer_count};
    return ks_album_compose(ctx, conn, server, &album);
}

/* Fills what the store leaves of photo p: its member user_id and the URL of
 * its JPEG on server. 0, or -1 when out of memory. */
static int photo_place(struct soap *soap, struct ks__AlbumPhoto *p, const ks_image_server_t *server,
                       const char *user_id)
{
    char path[256];

    p->userId = soap_strdup(soap, user_id);
    ks_album_path(user_id, (unsigned)p->id, path, sizeof path);
    p->url = ks_store_public_url(soap, server, path);
    return p->userId && p->url ? 0 : -1;
}

int ks__CreateAlbumPhoto(struct soap *soap, char *userId, int sceneId, int __sizefriendUserId,
                         char **friendUserId, char *caption,
                         struct ks__CreateAlbumPhotoResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    photo_order_t order = {userId, sceneId, friendUserId, __sizefriendUserId, caption};
    ks_album_sitter_t sitters[KS_SCENE_SLOTS_MAX];
    int sitter_count = 0;
    ks_image_server_t server;
    struct ks__AlbumPhoto *photo;
    unsigned photo_id = 0;
    photo_take_t take;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId) ||
        (caption && ks_check_text(soap, "caption", caption, KS_CAPTION_MAX)))
        return soap->error;
    if (__sizefriendUserId < 0 || __sizefriendUserId > KS_SCENE_SLOTS_MAX - 1)
        return ks_fault(soap, "InvalidArgument", "a photo takes at most %d friends, not %d",
                        KS_SCENE_SLOTS_MAX - 1, __sizefriendUserId);
    for (int i = 0; i < __sizefriendUserId; i++) {
        if (ks_check_member_id(soap, "friendUserId", friendUserId[i]))
            return soap->error;
        if (strcmp(friendUserId[i], userId) == 0)
            return ks_fault(soap, "InvalidArgument", "the member cannot be its own friend on a "
                            "photo: it stands in slot 0 already");
        for (int j = 0; j < i; j++)
            if (strcmp(friendUserId[i], friendUserId[j]) == 0)
                return ks_fault(soap, "InvalidArgument", "friend \"%s\" is named twice",
                                friendUserId[i]);
    }
    take = (photo_take_t){.soap = soap, .order = &order,
                          .layers = soap_malloc(soap, KS_ALBUM_LAYERS_MAX * sizeof *take.layers),
                          .slot_of = soap_malloc(soap, KS_ALBUM_LAYERS_MAX * sizeof *take.slot_of),
                          .sitters = sitters, .sitter_count = &sitter_count, .server = &server,
                          .photo_id = &photo_id};
    if (!take.layers || !take.slot_of)
        return ks_fault_rc(soap, ks_err(&ctx->err, KS_NOMEM, "out of memory"), &ctx->err);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, take_photo, &take)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("member \"%s\" took album photo %u on scene %d with %d friends", userId, photo_id,
                sceneId, __sizefriendUserId);

    response->photo = photo = soap_new_ks__AlbumPhoto(soap, -1);
    if (!photo)
        return soap->error = SOAP_EOM;
    photo->id = (int)photo_id;
    photo->sceneId = sceneId;
    photo->caption = caption;
    photo->createdAt = time(NULL);
    if (photo_place(soap, photo, &server, userId) ||
        !(photo->member = soap_new_ks__AlbumMember(soap, sitter_count)))
        return soap->error = SOAP_EOM;
    photo->__sizemember = sitter_count;
    for (int i = 0; i < sitter_count; i++) {
        photo->member[i].slot = sitters[i].slot;
        photo->member[i].userId = soap_strdup(soap, sitters[i].member.user_id);
        photo->member[i].avatarVersion = (int)sitters[i].member.version;
    }
    return SOAP_OK;
}

/* ---- ListAlbumPhotos ------------------------------------------------------------ */

static ks_rc list_photos(struct soap *soap, const char *user_id, int offset, int limit,
                         struct ks__ListAlbumPhotosResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count, *server_ids;
    long long total;
    ks_member_t member;
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_store_member_fresh(ctx, &conn, user_id, &member)) != KS_OK ||
        (rc = ks_store_image_servers(ctx, conn, servers, &server_count)) != KS_OK ||
        (rc = ks_store_album_photos(soap, conn, member.id, offset, limit, &response->photo,
                                    &server_ids, &response->__sizephoto,
                                    &total)) != KS_OK)
        return rc;
    response->total = (int)total;
    for (int i = 0; i < response->__sizephoto; i++) {
        const ks_image_server_t *server = ks_store_find_server(servers, server_count,
                                                               server_ids[i]);
        if (!server)
            return ks_err(&ctx->err, KS_ERROR, "image server %d is in no row of image_servers",
                          server_ids[i]);
        if (photo_place(soap, &response->photo[i], server, user_id))
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    return KS_OK;
}

int ks__ListAlbumPhotos(struct soap *soap, char *userId, int *offset, int *limit,
                        struct ks__ListAlbumPhotosResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int page_offset, page_limit;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId) ||
        ks_check_page(soap, offset, limit, &page_offset, &page_limit))
        return soap->error;
    rc = list_photos(soap, userId, page_offset, page_limit, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- DeleteAlbumPhoto ----------------------------------------------------------- */

/* DeleteAlbumPhoto's transaction (ks_store_txn). */
typedef struct {
    const char *user_id;
    int photo_id;
} photo_delete_t;

static ks_rc delete_photo(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const photo_delete_t *d = arg;
    ks_member_t member;
    int server_id = 0;
    ks_rc rc;

    /* the queue retries until the server deleted it, down or not (deletion.c) */
    if ((rc = ks_store_member(ctx, conn, d->user_id, 1, &member)) != KS_OK ||
        (rc = ks_store_album_photo_delete(ctx, conn, &member, d->photo_id, &server_id)) != KS_OK)
        return rc;
    return ks_store_deletion_queue_photo(ctx, conn, server_id, d->user_id, (unsigned)d->photo_id);
}

int ks__DeleteAlbumPhoto(struct soap *soap, char *userId, int photoId,
                         struct ks__DeleteAlbumPhotoResponse *response)
{
    photo_delete_t deletion = {.user_id = userId, .photo_id = photoId};

    if (ks_op_member_txn(soap, userId, delete_photo, &deletion, NULL))
        return soap->error;
    ks_log_info("album photo %d of member \"%s\" deleted", photoId, userId);
    ks_deletions_try_now(ks_api_ctx(soap), userId);
    response->photoId = photoId;
    return SOAP_OK;
}
