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
 * when the image server fails, nothing was recorded. Avatars are drawn from
 * the last slot to the first, so the member stands in front; each avatar's
 * layers keep their own drawing order, and the photo's z-orders are simply
 * the drawing sequence. Deleting a photo queues the deletion of its JPEG on
 * its server with the row's removal (deletion.c retries until it is gone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "deletion.h"
#include "log.h"
#include "png_codec.h"
#include "album.h"
#include "render.h"
#include "sha256.h"
#include "store_deletion.h"

#define KS_SCENE_SLOTS_MAX 5
#define KS_SCENE_SIZE_MAX 2048
#define KS_SCENES_LISTED_MAX 1000
#define KS_CAPTION_MAX 200
#define KS_ALBUM_LAYERS_MAX 256        /* what an image server composes at once */

/* ---- RegisterScene -------------------------------------------------------------- */

typedef struct {
    int width, height;
    char sha256[KS_SHA256_HEX_SIZE];
} scene_info_t;

/* Decodes the uploaded background under limits and checks the slots against it. */
static ks_rc check_scene(ks_api_ctx_t *ctx, const struct xsd__base64Binary *png,
                         const struct ks__SceneSlot *slots, int slot_count, scene_info_t *info)
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
    if (info->width < conf->canvas_width || info->height < conf->canvas_height)
        return ks_err(&ctx->err, KS_INVALID, "the scene is %dx%d, smaller than an avatar (%dx%d)",
                      info->width, info->height, conf->canvas_width, conf->canvas_height);
    for (int i = 0; i < slot_count; i++)
        if (slots[i].x < 0 || slots[i].y < 0 || slots[i].x > info->width - conf->canvas_width ||
            slots[i].y > info->height - conf->canvas_height)
            return ks_err(&ctx->err, KS_INVALID, "slot %d at %d,%d puts the %dx%d avatar outside "
                          "the %dx%d scene", i, slots[i].x, slots[i].y, conf->canvas_width,
                          conf->canvas_height, info->width, info->height);
    ks_sha256_hex(png->__ptr, (size_t)png->__size, info->sha256);
    return KS_OK;
}

/* RegisterScene's transaction (ks_store_txn): what it stores, and the id
 * the scene gets. */
typedef struct {
    const char *name;
    const struct xsd__base64Binary *png;
    const struct ks__SceneSlot *slots;
    int slot_count;
    const scene_info_t *info;
    int *scene_id;
} scene_new_t;

static ks_rc insert_scene(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const scene_new_t *n = arg;
    const char *name = n->name;
    const struct xsd__base64Binary *png = n->png;
    const struct ks__SceneSlot *slots = n->slots;
    const scene_info_t *info = n->info;
    int slot_count = n->slot_count, *scene_id = n->scene_id;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, (size_t)png->__size * 2 + 4096);
    ks_buf_addf(&sql, "INSERT INTO scenes (name, width, height, sha256, png) VALUES (");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", %d, %d, '%s', ", info->width, info->height, info->sha256);
    ks_sql_blob(&sql, conn, png->__ptr, (size_t)png->__size);
    ks_buf_addf(&sql, ")");
    rc = ks_store_run(ctx, conn, &sql, NULL);
    if (rc == KS_CONFLICT)
        ks_err(&ctx->err, KS_CONFLICT, "a scene named \"%s\" already exists", name);
    if (rc != KS_OK)
        return rc;
    *scene_id = (int)mysql_insert_id(conn);
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO scene_slots (scene_id, slot_no, x, y) VALUES ");
    for (int i = 0; i < slot_count; i++)
        ks_buf_addf(&sql, "%s(%d, %d, %d, %d)", i ? ", " : "", *scene_id, i, slots[i].x,
                    slots[i].y);
    return ks_store_run(ctx, conn, &sql, NULL);
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
    scene_info_t info;
    struct ks__Scene *scene;
    int scene_id = 0;
    scene_new_t new_scene = {.name = name, .png = &png, .slots = slot, .slot_count = __sizeslot,
                             .info = &info, .scene_id = &scene_id};
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
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0;

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, name, width, height, sha256 FROM scenes ORDER BY id LIMIT %d",
                KS_SCENES_LISTED_MAX);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    response->scene = soap_new_ks__Scene(soap, (int)mysql_num_rows(res) + 1);
    if (!response->scene) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res))) {
        struct ks__Scene *s = &response->scene[n++];
        s->id = atoi(row[0]);
        s->name = soap_strdup(soap, row[1]);
        s->width = atoi(row[2]);
        s->height = atoi(row[3]);
        s->sha256 = soap_strdup(soap, row[4]);
        s->slot = soap_new_ks__SceneSlot(soap, KS_SCENE_SLOTS_MAX);
        if (!s->slot) {
            mysql_free_result(res);
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        }
    }
    response->__sizescene = n;
    mysql_free_result(res);
    if (n == 0)
        return KS_OK;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT scene_id, slot_no, x, y FROM scene_slots WHERE scene_id <= %d"
                " ORDER BY scene_id, slot_no", response->scene[n - 1].id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res))) {
        int id = atoi(row[0]);
        for (int i = 0; i < n; i++) {
            struct ks__Scene *s = &response->scene[i];
            if (s->id != id || s->__sizeslot >= KS_SCENE_SLOTS_MAX)
                continue;
            s->slot[s->__sizeslot].x = atoi(row[2]);
            s->slot[s->__sizeslot].y = atoi(row[3]);
            s->__sizeslot++;
            break;
        }
    }
    mysql_free_result(res);
    return KS_OK;
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

typedef struct {
    ks_member_t member;
    int slot, x, y;
} sitter_t;

typedef struct {
    int id, width, height, slot_count;
    char sha256[KS_SHA256_HEX_SIZE];
    struct ks__SceneSlot slots[KS_SCENE_SLOTS_MAX];
} scene_t;

static ks_rc load_scene(ks_api_ctx_t *ctx, MYSQL *conn, int scene_id, scene_t *scene)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT width, height, sha256 FROM scenes WHERE id = %d", scene_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (row) {
        scene->id = scene_id;
        scene->width = atoi(row[0]);
        scene->height = atoi(row[1]);
        snprintf(scene->sha256, sizeof scene->sha256, "%s", row[2]);
    }
    mysql_free_result(res);
    if (!row)
        return ks_err(&ctx->err, KS_NOTFOUND, "scene %d not found", scene_id);
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT x, y FROM scene_slots WHERE scene_id = %d ORDER BY slot_no",
                scene_id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    scene->slot_count = 0;
    while ((row = mysql_fetch_row(res)) && scene->slot_count < KS_SCENE_SLOTS_MAX) {
        scene->slots[scene->slot_count].x = atoi(row[0]);
        scene->slots[scene->slot_count].y = atoi(row[1]);
        scene->slot_count++;
    }
    mysql_free_result(res);
    return KS_OK;
}

/* The photo's layers: each sitter's worn layers moved to its slot, from the
 * last slot to the first, with z-orders in drawing sequence. */
static ks_rc photo_layers(struct soap *soap, MYSQL *conn, const sitter_t *sitters, int count,
                          ks_layer_row_t *out, int *slot_of, int *out_count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    *out_count = 0;
    for (int s = count - 1; s >= 0; s--) {
        ks_layer_row_t *layers;
        int n;
        if ((rc = ks_store_worn_layers(soap, conn, sitters[s].member.id, &layers, &n)) != KS_OK)
            return rc;
        if (*out_count + n > KS_ALBUM_LAYERS_MAX)
            return ks_err(&ctx->err, KS_TOOLARGE, "the photo would have more than %d layers; "
                          "take it with fewer friends", KS_ALBUM_LAYERS_MAX);
        for (int i = 0; i < n; i++) {
            ks_layer_row_t *l = &out[*out_count];
            *l = layers[i];
            l->x += sitters[s].x;
            l->y += sitters[s].y;
            l->z_order = *out_count;
            slot_of[(*out_count)++] = sitters[s].slot;
        }
    }
    return KS_OK;
}

/* Records the photo: its row, who sat where, every layer drawn. */
static ks_rc record_photo(ks_api_ctx_t *ctx, MYSQL *conn, const ks_member_t *member,
                          const ks_image_server_t *server, const scene_t *scene,
                          const char *caption, const sitter_t *sitters, int sitter_count,
                          const ks_layer_row_t *layers, const int *slot_of, int layer_count,
                          unsigned *photo_id)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 2048);
    ks_buf_addf(&sql, "INSERT INTO album_photos (member_id, image_server_id, scene_id,"
                " scene_sha256, width, height, quality, caption) VALUES (%lld, %d, %d, '%s', %d,"
                " %d, %d, ", member->id, server->id, scene->id, scene->sha256, scene->width,
                scene->height, ctx->conf->album_quality);
    ks_sql_str(&sql, conn, caption);
    ks_buf_addf(&sql, ")");
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *photo_id = (unsigned)mysql_insert_id(conn);

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "INSERT INTO album_photo_members (photo_id, slot_no, member_id, user_id,"
                " avatar_version, x, y) VALUES ");
    for (int i = 0; i < sitter_count; i++) {
        const sitter_t *s = &sitters[i];
        ks_buf_addf(&sql, "%s(%u, %d, %lld, ", i ? ", " : "", *photo_id, s->slot, s->member.id);
        ks_sql_str(&sql, conn, s->member.user_id);
        ks_buf_addf(&sql, ", %u, %d, %d)", s->member.version, s->x, s->y);
    }
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;

    if (layer_count == 0)
        return KS_OK;
    ks_buf_init(&sql, 64 * 1024);
    ks_buf_addf(&sql, "INSERT INTO album_photo_layers (photo_id, seq, slot_no, item_id, layer_no,"
                " z_order, x, y, sha256) VALUES ");
    for (int i = 0; i < layer_count; i++) {
        const ks_layer_row_t *l = &layers[i];
        ks_buf_addf(&sql, "%s(%u, %d, %d, %d, %d, %d, %d, %d, '%s')", i ? ", " : "", *photo_id, i,
                    slot_of[i], l->item_id, l->layer_no, l->z_order, l->x, l->y, l->sha256);
    }
    return ks_store_run(ctx, conn, &sql, NULL);
}

typedef struct {
    const char *user_id;
    int scene_id;
    char **friends;
    int friend_count;
    const char *caption;
} photo_order_t;

static ks_rc take_photo(struct soap *soap, MYSQL *conn, const photo_order_t *order,
                        sitter_t *sitters, int *sitter_count, ks_image_server_t *server,
                        unsigned *photo_id)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_layer_row_t *layers = soap_malloc(soap, KS_ALBUM_LAYERS_MAX * sizeof *layers);
    int *slot_of = soap_malloc(soap, KS_ALBUM_LAYERS_MAX * sizeof *slot_of);
    int layer_count, photos;
    ks_album_request_t album;
    scene_t scene;
    ks_buf_t sql;
    ks_rc rc;
    long long number;

    if (!layers || !slot_of)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    if ((rc = ks_store_begin(ctx, conn)) != KS_OK)
        return rc;
    if ((rc = ks_store_member(ctx, conn, order->user_id, 1, &sitters[0].member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, sitters[0].member.image_server_id, server)) != KS_OK ||
        (rc = ks_store_server_usable(ctx, server)) != KS_OK ||
        (rc = load_scene(ctx, conn, order->scene_id, &scene)) != KS_OK)
        goto fail;
    if (1 + order->friend_count > scene.slot_count) {
        rc = ks_err(&ctx->err, KS_INVALID, "scene %d has %d slots: the member and at most %d "
                    "friends", scene.id, scene.slot_count, scene.slot_count - 1);
        goto fail;
    }
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM album_photos WHERE member_id = %lld",
                sitters[0].member.id);
    if ((rc = ks_store_int(ctx, conn, &sql, &number)) != KS_OK)
        goto fail;
    photos = (int)number;
    if (photos >= ctx->conf->max_album_photos) {
        rc = ks_err(&ctx->err, KS_CONFLICT, "the album of \"%s\" is full (%d photos): delete one "
                    "first", order->user_id, photos);
        goto fail;
    }
    for (int i = 0; i < order->friend_count; i++)
        if ((rc = ks_store_member(ctx, conn, order->friends[i], 0, &sitters[1 + i].member)) != KS_OK)
            goto fail;
    *sitter_count = 1 + order->friend_count;
    for (int i = 0; i < *sitter_count; i++) {
        sitters[i].slot = i;
        sitters[i].x = scene.slots[i].x;
        sitters[i].y = scene.slots[i].y;
    }
    if ((rc = photo_layers(soap, conn, sitters, *sitter_count, layers, slot_of,
                           &layer_count)) != KS_OK ||
        (rc = record_photo(ctx, conn, &sitters[0].member, server, &scene, order->caption, sitters,
                           *sitter_count, layers, slot_of, layer_count, photo_id)) != KS_OK)
        goto fail;
    album = (ks_album_request_t){.user_id = sitters[0].member.user_id, .photo_id = *photo_id,
                                 .width = scene.width, .height = scene.height,
                                 .scene_id = scene.id, .scene_sha256 = scene.sha256,
                                 .quality = ctx->conf->album_quality, .layers = layers,
                                 .layer_count = layer_count};
    if ((rc = ks_album_compose(ctx, conn, server, &album)) != KS_OK ||
        (rc = ks_store_commit(ctx, conn)) != KS_OK)
        goto fail;
    return KS_OK;
fail:
    ks_store_rollback(ctx, conn);
    return rc;
}

static struct ks__AlbumPhoto *photo_reply(struct soap *soap, const ks_image_server_t *server,
                                          const char *user_id, unsigned id, int scene_id,
                                          const char *caption, time_t created_at)
{
    struct ks__AlbumPhoto *p = soap_new_ks__AlbumPhoto(soap, -1);
    char path[256];

    if (!p)
        return NULL;
    p->id = (int)id;
    p->userId = soap_strdup(soap, user_id);
    p->sceneId = scene_id;
    p->caption = caption ? soap_strdup(soap, caption) : NULL;
    ks_album_path(user_id, id, path, sizeof path);
    p->url = ks_store_public_url(soap, server, path);
    p->createdAt = created_at;
    return p->userId && p->url ? p : NULL;
}

int ks__CreateAlbumPhoto(struct soap *soap, char *userId, int sceneId, int __sizefriendUserId,
                         char **friendUserId, char *caption,
                         struct ks__CreateAlbumPhotoResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    photo_order_t order = {userId, sceneId, friendUserId, __sizefriendUserId, caption};
    sitter_t sitters[KS_SCENE_SLOTS_MAX];
    int sitter_count = 0;
    ks_image_server_t server;
    struct ks__AlbumPhoto *photo;
    unsigned photo_id = 0;
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
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = take_photo(soap, conn, &order, sitters, &sitter_count, &server, &photo_id)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("member \"%s\" took album photo %u on scene %d with %d friends", userId, photo_id,
                sceneId, __sizefriendUserId);

    response->photo = photo = photo_reply(soap, &server, userId, photo_id, sceneId, caption,
                                          time(NULL));
    if (!photo || !(photo->member = soap_new_ks__AlbumMember(soap, sitter_count)))
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

/* Fills the members of the listed photos with one query. */
static ks_rc load_photo_members(struct soap *soap, MYSQL *conn, struct ks__AlbumPhoto *photos,
                                int count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (count == 0)
        return KS_OK;
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT photo_id, slot_no, user_id, avatar_version FROM album_photo_members"
                " WHERE photo_id IN (");
    for (int i = 0; i < count; i++) {
        ks_buf_addf(&sql, "%s%d", i ? ", " : "", photos[i].id);
        photos[i].member = soap_new_ks__AlbumMember(soap, KS_SCENE_SLOTS_MAX);
        if (!photos[i].member) {
            ks_buf_free(&sql);
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        }
    }
    ks_buf_addf(&sql, ") ORDER BY photo_id, slot_no");
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res))) {
        int id = atoi(row[0]);
        for (int i = 0; i < count; i++) {
            struct ks__AlbumPhoto *p = &photos[i];
            if (p->id != id || p->__sizemember >= KS_SCENE_SLOTS_MAX)
                continue;
            p->member[p->__sizemember].slot = atoi(row[1]);
            p->member[p->__sizemember].userId = soap_strdup(soap, row[2]);
            p->member[p->__sizemember].avatarVersion = atoi(row[3]);
            p->__sizemember++;
            break;
        }
    }
    mysql_free_result(res);
    return KS_OK;
}

static ks_rc list_photos(struct soap *soap, const char *user_id, int offset, int limit,
                         struct ks__ListAlbumPhotosResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count;
    ks_member_t member;
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    long long number;

    if ((rc = ks_store_member_fresh(ctx, &conn, user_id, &member)) != KS_OK ||
        (rc = ks_store_image_servers(ctx, conn, servers, &server_count)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT COUNT(*) FROM album_photos WHERE member_id = %lld", member.id);
    if ((rc = ks_store_int(ctx, conn, &sql, &number)) != KS_OK)
        return rc;
    response->total = (int)number;

    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, scene_id, caption, UNIX_TIMESTAMP(created_at), image_server_id"
                " FROM album_photos WHERE member_id = %lld ORDER BY id DESC LIMIT %d OFFSET %d",
                member.id, limit, offset);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    response->photo = soap_new_ks__AlbumPhoto(soap, (int)mysql_num_rows(res) + 1);
    if (!response->photo) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    while ((row = mysql_fetch_row(res))) {
        const ks_image_server_t *server = ks_store_find_server(servers, server_count, atoi(row[4]));
        struct ks__AlbumPhoto *p;
        if (!server) {
            mysql_free_result(res);
            return ks_err(&ctx->err, KS_ERROR, "image server %s is in no row of image_servers",
                          row[4]);
        }
        p = photo_reply(soap, server, user_id, (unsigned)strtoul(row[0], NULL, 10), atoi(row[1]),
                        row[2], (time_t)atoll(row[3]));
        if (!p) {
            mysql_free_result(res);
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        }
        response->photo[response->__sizephoto++] = *p;
    }
    mysql_free_result(res);
    return load_photo_members(soap, conn, response->photo, response->__sizephoto);
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
    const char *user_id = d->user_id;
    int photo_id = d->photo_id;
    ks_member_t member;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    int server_id = 0;
    ks_rc rc;

    if ((rc = ks_store_member(ctx, conn, user_id, 1, &member)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT image_server_id FROM album_photos WHERE id = %d AND member_id = %lld",
                photo_id, member.id);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    row = mysql_fetch_row(res);
    if (row)
        server_id = atoi(row[0]);
    mysql_free_result(res);
    if (!row)
        return ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" has no album photo %d", user_id,
                      photo_id);
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "DELETE FROM album_photos WHERE id = %d", photo_id);
    /* the queue retries until the server deleted it, down or not (deletion.c) */
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    return ks_store_deletion_queue_photo(ctx, conn, server_id, user_id, (unsigned)photo_id);
}

int ks__DeleteAlbumPhoto(struct soap *soap, char *userId, int photoId,
                         struct ks__DeleteAlbumPhotoResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    photo_delete_t deletion = {.user_id = userId, .photo_id = photoId};
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, delete_photo, &deletion)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("album photo %d of member \"%s\" deleted", photoId, userId);
    ks_deletions_try_now(ctx, userId);
    response->photoId = photoId;
    return SOAP_OK;
}
