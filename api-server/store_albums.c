/* store_albums.c: SQL of the scenes, scene_slots and album_photo* tables
 * (store_albums.h). */
#include "store_albums.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- Scenes ------------------------------------------------------------------- */

ks_rc ks_store_scene_insert(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                            const ks_scene_t *scene, const void *png, size_t size, int *scene_id)
{
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, size * 2 + 4096);
    ks_buf_addf(&sql, "INSERT INTO scenes (name, width, height, sha256, png) VALUES (");
    ks_sql_str(&sql, conn, name);
    ks_buf_addf(&sql, ", %d, %d, '%s', ", scene->width, scene->height, scene->sha256);
    ks_sql_blob(&sql, conn, png, size);
    ks_buf_addf(&sql, ")");
    rc = ks_store_run(ctx, conn, &sql, NULL);
    if (rc == KS_CONFLICT)
        ks_err(&ctx->err, KS_CONFLICT, "a scene named \"%s\" already exists", name);
    if (rc != KS_OK)
        return rc;
    *scene_id = (int)mysql_insert_id(conn);
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "INSERT INTO scene_slots (scene_id, slot_no, x, y) VALUES ");
    for (int i = 0; i < scene->slot_count; i++)
        ks_buf_addf(&sql, "%s(%d, %d, %d, %d)", i ? ", " : "", *scene_id, i, scene->slots[i].x,
                    scene->slots[i].y);
    return ks_store_run(ctx, conn, &sql, NULL);
}

static const ks_col_t scene_cols[] = KS_COLUMNS(ks_scene_t, width, height, sha256);

static const ks_col_t slot_cols[] = KS_COLUMNS(struct ks__SceneSlot, x, y);

ks_rc ks_store_scene(ks_api_ctx_t *ctx, MYSQL *conn, int scene_id, ks_scene_t *out)
{
    ks_buf_t sql;
    ks_rc rc;

    if ((rc = ks_store_onef(ctx, conn, KS_COLS(scene_cols), out,
                            "SELECT width, height, sha256 FROM scenes WHERE id = %d",
                            scene_id)) != KS_OK)
        return rc == KS_NOTFOUND ? ks_err(&ctx->err, KS_NOTFOUND, "scene %d not found", scene_id)
                                 : rc;
    out->id = scene_id;
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT x, y FROM scene_slots WHERE scene_id = %d ORDER BY slot_no",
                scene_id);
    return ks_store_rows(ctx, conn, &sql, KS_COLS(slot_cols), out->slots, sizeof out->slots[0],
                         KS_SCENE_SLOTS_MAX, &out->slot_count);
}

/* ks_store_scenes' rows into the answer (room made by the caller). */
typedef struct {
    struct soap *soap;
    struct ks__Scene *scenes;
    int count;
} scene_list_t;

/* The index of id among the count ints read stride bytes apart from first
 * (the ids of a list of answers), or -1. */
static int index_of(const int *first, size_t stride, int count, int id)
{
    for (int i = 0; i < count; i++)
        if (*(const int *)((const char *)first + stride * (size_t)i) == id)
            return i;
    return -1;
}

/* SELECT id, width, height, name, sha256 FROM scenes */
static const ks_col_t scene_list_cols[] = KS_COLUMNS(struct ks__Scene, id, width, height);

static ks_rc add_scene(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    scene_list_t *l = arg;
    struct ks__Scene *s = &l->scenes[l->count++];

    (void)lengths;
    ks_store_map_row(row, KS_COLS(scene_list_cols), s);
    s->name = soap_strdup(l->soap, row[3]);
    s->sha256 = soap_strdup(l->soap, row[4]);
    s->slot = soap_new_ks__SceneSlot(l->soap, KS_SCENE_SLOTS_MAX);
    return s->slot ? KS_OK : ks_err(&ks_api_ctx(l->soap)->err, KS_NOMEM, "out of memory");
}

/* SELECT scene_id, x, y FROM scene_slots ... ORDER BY scene_id, slot_no */
static ks_rc add_slot(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    scene_list_t *l = arg;
    int i = index_of(&l->scenes->id, sizeof *l->scenes, l->count, atoi(row[0]));
    struct ks__Scene *s = i < 0 ? NULL : &l->scenes[i];

    (void)lengths;
    if (s && s->__sizeslot < KS_SCENE_SLOTS_MAX)
        ks_store_map_row(row + 1, KS_COLS(slot_cols), &s->slot[s->__sizeslot++]);
    return KS_OK;
}

ks_rc ks_store_scenes(struct soap *soap, MYSQL *conn, int max, struct ks__Scene **scenes,
                      int *count)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    scene_list_t list = {.soap = soap};
    ks_buf_t sql;
    ks_rc rc;

    *count = 0;
    if (!(*scenes = list.scenes = soap_new_ks__Scene(soap, max + 1)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT id, width, height, name, sha256 FROM scenes ORDER BY id LIMIT %d",
                max);
    if ((rc = ks_store_each(ctx, conn, &sql, add_scene, &list)) != KS_OK ||
        (*count = list.count) == 0)
        return rc;
    /* the slots of every scene listed: those up to the last one's id */
    ks_buf_init(&sql, 256);
    ks_buf_addf(&sql, "SELECT scene_id, x, y FROM scene_slots WHERE scene_id <= %d"
                " ORDER BY scene_id, slot_no", list.scenes[list.count - 1].id);
    return ks_store_each(ctx, conn, &sql, add_slot, &list);
}

/* ---- Photos ------------------------------------------------------------------- */

ks_rc ks_store_album_photo_insert(ks_api_ctx_t *ctx, MYSQL *conn, const ks_album_photo_new_t *photo,
                                  unsigned *photo_id)
{
    const ks_scene_t *scene = photo->scene;
    ks_buf_t sql;
    ks_rc rc;

    ks_buf_init(&sql, 2048);
    ks_buf_addf(&sql, "INSERT INTO album_photos (member_id, image_server_id, scene_id,"
                " scene_sha256, width, height, quality, caption) VALUES (%lld, %d, %d, '%s', %d,"
                " %d, %d, ", photo->member->id, photo->image_server_id, scene->id, scene->sha256,
                scene->width, scene->height, photo->quality);
    ks_sql_str(&sql, conn, photo->caption);
    ks_buf_addf(&sql, ")");
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;
    *photo_id = (unsigned)mysql_insert_id(conn);

    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "INSERT INTO album_photo_members (photo_id, slot_no, member_id, user_id,"
                " avatar_version, x, y) VALUES ");
    for (int i = 0; i < photo->sitter_count; i++) {
        const ks_album_sitter_t *s = &photo->sitters[i];
        ks_buf_addf(&sql, "%s(%u, %d, %lld, ", i ? ", " : "", *photo_id, s->slot, s->member.id);
        ks_sql_str(&sql, conn, s->member.user_id);
        ks_buf_addf(&sql, ", %u, %d, %d)", s->member.version, s->x, s->y);
    }
    if ((rc = ks_store_run(ctx, conn, &sql, NULL)) != KS_OK)
        return rc;

    if (photo->layer_count == 0)
        return KS_OK;
    ks_buf_init(&sql, 64 * 1024);
    ks_buf_addf(&sql, "INSERT INTO album_photo_layers (photo_id, seq, slot_no, item_id, layer_no,"
                " z_order, x, y, sha256, tint) VALUES ");
    for (int i = 0; i < photo->layer_count; i++) {
        const ks_layer_row_t *l = &photo->layers[i];
        ks_buf_addf(&sql, "%s(%u, %d, %d, %d, %d, %d, %d, %d, '%s', '%s')", i ? ", " : "",
                    *photo_id, i, photo->slot_of[i], l->item_id, l->layer_no, l->z_order, l->x,
                    l->y, l->sha256, l->tint);
    }
    return ks_store_run(ctx, conn, &sql, NULL);
}

ks_rc ks_store_album_photo_count(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                                 long long *count)
{
    return ks_store_intf(ctx, conn, count, "SELECT COUNT(*) FROM album_photos WHERE member_id = %lld",
                         member_id);
}

/* ks_store_album_photos' rows into the answer (room made by the caller). */
typedef struct {
    struct soap *soap;
    struct ks__AlbumPhoto *photos;
    int *server_ids;
    int count;
} photo_list_t;

static ks_rc add_photo(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    photo_list_t *l = arg;
    struct ks__AlbumPhoto *p = &l->photos[l->count];

    (void)lengths;
    p->id = (int)strtoul(row[0], NULL, 10);
    p->sceneId = atoi(row[1]);
    p->caption = row[2] ? soap_strdup(l->soap, row[2]) : NULL;
    p->createdAt = (time_t)atoll(row[3]);
    l->server_ids[l->count++] = atoi(row[4]);
    p->member = soap_new_ks__AlbumMember(l->soap, KS_SCENE_SLOTS_MAX);
    if (!p->member || (row[2] && !p->caption))
        return ks_err(&ks_api_ctx(l->soap)->err, KS_NOMEM, "out of memory");
    return KS_OK;
}

/* SELECT photo_id, slot_no, avatar_version, user_id FROM album_photo_members */
static const ks_col_t photo_member_cols[] = KS_COLUMNS(struct ks__AlbumMember, slot,
                                                       avatarVersion);

static ks_rc add_photo_member(MYSQL_ROW row, unsigned long *lengths, void *arg)
{
    photo_list_t *l = arg;
    int i = index_of(&l->photos->id, sizeof *l->photos, l->count, atoi(row[0]));
    struct ks__AlbumPhoto *p = i < 0 ? NULL : &l->photos[i];
    struct ks__AlbumMember *m;

    (void)lengths;
    if (!p || p->__sizemember >= KS_SCENE_SLOTS_MAX)
        return KS_OK;
    m = &p->member[p->__sizemember++];
    ks_store_map_row(row + 1, KS_COLS(photo_member_cols), m);
    m->userId = soap_strdup(l->soap, row[3]);
    return KS_OK;
}

ks_rc ks_store_album_photos(struct soap *soap, MYSQL *conn, long long member_id, int offset,
                            int limit, struct ks__AlbumPhoto **photos, int **server_ids,
                            int *count, long long *total)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    photo_list_t list = {.soap = soap};
    ks_buf_t sql;
    ks_rc rc;

    *count = 0;
    if ((rc = ks_store_album_photo_count(ctx, conn, member_id, total)) != KS_OK)
        return rc;
    *photos = list.photos = soap_new_ks__AlbumPhoto(soap, limit + 1);
    *server_ids = list.server_ids = soap_malloc(soap, (size_t)(limit + 1) * sizeof(int));
    if (!list.photos || !list.server_ids)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT id, scene_id, caption, UNIX_TIMESTAMP(created_at), image_server_id"
                " FROM album_photos WHERE member_id = %lld ORDER BY id DESC LIMIT %d OFFSET %d",
                member_id, limit, offset);
    if ((rc = ks_store_each(ctx, conn, &sql, add_photo, &list)) != KS_OK ||
        (*count = list.count) == 0)
        return rc;
    /* who sat on each photo of the page */
    ks_buf_init(&sql, 4096);
    ks_buf_addf(&sql, "SELECT photo_id, slot_no, avatar_version, user_id FROM album_photo_members"
                " WHERE photo_id IN (");
    for (int i = 0; i < list.count; i++)
        ks_buf_addf(&sql, "%s%d", i ? ", " : "", list.photos[i].id);
    ks_buf_addf(&sql, ") ORDER BY photo_id, slot_no");
    return ks_store_each(ctx, conn, &sql, add_photo_member, &list);
}

ks_rc ks_store_album_photo_delete(ks_api_ctx_t *ctx, MYSQL *conn, const ks_member_t *member,
                                  int photo_id, int *server_id)
{
    long long number;
    ks_rc rc;

    if ((rc = ks_store_intf(ctx, conn, &number, "SELECT image_server_id FROM album_photos"
                            " WHERE id = %d AND member_id = %lld", photo_id, member->id)) != KS_OK)
        return rc;
    if (number == 0)
        return ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" has no album photo %d",
                      member->user_id, photo_id);
    *server_id = (int)number;
    return ks_store_execf(ctx, conn, "DELETE FROM album_photos WHERE id = %d", photo_id);
}

static const ks_col_t album_photo_cols[] = KS_COLUMNS(ks_album_photo_row_t, image_server_id,
    scene_id, scene_sha256, width, height, quality);

ks_rc ks_store_album_photo(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id,
                           unsigned photo_id, ks_album_photo_row_t *out)
{
    return ks_store_onef(ctx, conn, KS_COLS(album_photo_cols), out, "SELECT image_server_id,"
                         " scene_id, scene_sha256, width, height, quality FROM album_photos"
                         " WHERE id = %u AND member_id = %lld", photo_id, member_id);
}

ks_rc ks_store_album_photo_layers(struct soap *soap, MYSQL *conn, unsigned photo_id,
                                  ks_layer_row_t **layers, int *count)
{
    ks_buf_t sql;

    /* as worn layers are read (KS_WORN_LAYER_COLS), without what a photo
     * does not keep: size, tintability, role and delay */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT item_id, layer_no, z_order, x, y, 0, 0, sha256, 0, '', 0,"
                " IFNULL(tint, '') FROM album_photo_layers WHERE photo_id = %u ORDER BY seq",
                photo_id);
    return ks_store_rows_arena(soap, conn, &sql, KS_WORN_LAYER_COLS, sizeof **layers,
                               (void **)layers, count);
}
