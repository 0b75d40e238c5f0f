/* op_node.c: the calls of the image servers themselves (role node):
 * RegisterImageServer and Heartbeat, the catalog they must hold
 * (GetCatalogManifest, GetItemLayer, GetSceneBackground), and how to compose
 * again an image whose file went missing (GetImageRecipe).
 *
 * An image server registers at start and then beats every few seconds; the
 * background renderer of every API server marks an active or draining
 * server whose heartbeats stopped for image_server_timeout seconds down
 * (ks_node_mark_silent_down, node_health.c), flagging it down_by_silence
 * with the mode it had, so that its next heartbeat or registration gives
 * that mode back. A
 * server an admin set down (SetImageServerMode) stays down.
 *
 * The catalog is read from the database, the canonical copy: a server that
 * lost or spoiled a layer repairs it from there, never from a peer. All four
 * read and write the master: a node catching up must not miss a layer
 * registered a moment ago on a lagging replica. GetImageRecipe with
 * minVersion (a browser's miss) reads a replica that is not behind that
 * version, so a flood of misses does not land on the master.
 *
 * A node credential acts for the one image server it is bound to
 * (ks_auth_acts_for): it registers and beats for that server only, and a
 * registration never changes the URLs of a registered server (the API sends
 * that server's secret to its internal URL): only an admin does
 * (kisekae-api --set-image-server, or an image_server line of the
 * configuration).
 *
 * A recipe is the very body the API sends to compose the image
 * (image_client.c builds both), so an image server that rebuilds a missing
 * file from it writes the same bytes as the first time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "paths.h"
#include "album.h"
#include "render.h"
#include "sha256.h"
#include "cluster.h"
#include "store_catalog.h"
#include "store_servers.h"

#define KS_MANIFEST_LIMIT_MAX 1000
#define KS_MANIFEST_LIMIT_DEFAULT 500

/* An http:// or https:// URL of at most 255 bytes without spaces or
 * control characters. */
static int check_url(struct soap *soap, const char *field, const char *value)
{
    if (!value || !*value)
        return ks_fault(soap, "InvalidArgument", "%s is required", field);
    if (strlen(value) > 255)
        return ks_fault(soap, "InvalidArgument", "%s is longer than 255 bytes", field);
    if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
        return ks_fault(soap, "InvalidArgument", "%s must start with http:// or https://", field);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return ks_fault(soap, "InvalidArgument", "%s holds a space or control character",
                            field);
    return SOAP_OK;
}

int ks__RegisterImageServer(struct soap *soap, char *name, char *internalUrl, char *publicUrl,
                            int weight, struct ks__RegisterImageServerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t server;
    MYSQL *conn;
    int moved;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE) || ks_check_member_id(soap, "name", name) ||
        check_url(soap, "internalUrl", internalUrl) || check_url(soap, "publicUrl", publicUrl) ||
        ks_auth_acts_for(soap, name))
        return soap->error;
    if (weight < 1 || weight > KS_IMAGE_SERVER_WEIGHT_MAX)
        return ks_fault(soap, "InvalidArgument", "weight must be 1..%d",
                        KS_IMAGE_SERVER_WEIGHT_MAX);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_server_urls_differ(ctx, conn, name, internalUrl, publicUrl, &moved))
            != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (moved) {
        ks_log_warn("image server \"%s\" registering at other URLs (%s, %s): refused; only an"
                    " admin changes them", name, internalUrl, publicUrl);
        return ks_fault(soap, "Conflict", "image server \"%s\" is registered at other URLs;"
                        " only an admin changes them", name);
    }
    if ((rc = ks_store_server_register(ctx, conn, name, internalUrl, publicUrl, weight))
        != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    rc = ks_store_image_server_named(ctx, conn, name, &server);
    if (rc == KS_NOTFOUND)
        return ks_fault(soap, "Internal", "image server \"%s\" vanished while registering", name);
    if (rc != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    /* its weight is the row's: a registration again keeps it */
    if (!(response->server = soap_new_ks__ImageServer(soap, -1)) ||
        !KS_CLUSTER_SERVER_ANSWER(soap, response->server, &server))
        return soap->error = SOAP_EOM;
    ks_log_info("image server \"%s\" registered (%s, %s, weight %d): %s", name, internalUrl,
                publicUrl, weight, response->server->mode);
    return SOAP_OK;
}

int ks__Heartbeat(struct soap *soap, char *name, LONG64 itemsStored, LONG64 avatarsComposed,
                  LONG64 storeFreeBytes, struct ks__HeartbeatResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_server_beat_t beat = {itemsStored, avatarsComposed, storeFreeBytes};
    char mode[16];
    MYSQL *conn;
    int revived;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE) || ks_check_member_id(soap, "name", name) ||
        ks_auth_acts_for(soap, name))
        return soap->error;
    if (itemsStored < 0 || avatarsComposed < 0 || storeFreeBytes < 0)
        return ks_fault(soap, "InvalidArgument",
                        "itemsStored, avatarsComposed and storeFreeBytes must not be negative");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_server_heartbeat(ctx, conn, name, &beat, &revived, mode)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(response->mode = soap_strdup(soap, mode)))
        return soap->error = SOAP_EOM;
    if (revived)
        ks_log_info("image server \"%s\" beats again: %s", name, response->mode);
    return SOAP_OK;
}

int ks__GetCatalogManifest(struct soap *soap, int *offset, int *limit,
                           struct ks__GetCatalogManifestResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int page_offset = offset ? *offset : 0;
    int page_limit = limit ? *limit : KS_MANIFEST_LIMIT_DEFAULT;
    ks_layer_row_t *layers;
    long long total;
    MYSQL *conn;
    int count;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE))
        return soap->error;
    if (page_offset < 0 || page_offset > KS_PAGE_OFFSET_MAX)
        return ks_fault(soap, "InvalidArgument", "offset must be 0..%d", KS_PAGE_OFFSET_MAX);
    if (page_limit < 1 || page_limit > KS_MANIFEST_LIMIT_MAX)
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_MANIFEST_LIMIT_MAX);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_layer_manifest(soap, conn, page_offset, page_limit, &layers, &count,
                                      &total)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->total = (LONG64)total;
    if (!(response->layer = soap_new_ks__ManifestLayer(soap, count + 1)))
        return soap->error = SOAP_EOM;
    for (int i = 0; i < count; i++) {
        struct ks__ManifestLayer *l = &response->layer[i];
        l->itemId = layers[i].item_id;
        l->layerNo = layers[i].layer_no;
        l->sha256 = layers[i].sha256;        /* in the arena, with layers */
    }
    response->__sizelayer = count;
    return SOAP_OK;
}

int ks__GetItemLayer(struct soap *soap, int itemId, int layerNo, char *sha256,
                     struct ks__GetItemLayerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE | KS_ROLE_ADMIN))   /* admin: the UI's thumbnails */
        return soap->error;
    if (itemId < 1)
        return ks_fault(soap, "InvalidArgument", "itemId must be positive");
    if (layerNo < 0 || layerNo > KS_FRAME_LAYER_NO(KS_FRAMES_MAX - 1, KS_LAYERS_PER_ITEM_MAX - 1))
        return ks_fault(soap, "InvalidArgument", "layerNo must be 0..%d (frames included)",
                        KS_FRAME_LAYER_NO(KS_FRAMES_MAX - 1, KS_LAYERS_PER_ITEM_MAX - 1));
    if (sha256 && !ks_sha256_hex_valid(sha256))
        return ks_fault(soap, "InvalidArgument", "sha256 must be 64 lowercase hex digits");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->itemId = itemId;
    response->layerNo = layerNo;
    rc = ks_store_layer_art(soap, conn, itemId, layerNo, sha256, &response->sha256,
                            &response->png);
    if (rc == KS_NOTFOUND)
        return ks_fault(soap, "NotFound", "layer %d/%d%s%s not found", itemId, layerNo,
                        sha256 ? " at sha256 " : "", sha256 ? sha256 : "");
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

int ks__GetSceneBackground(struct soap *soap, int sceneId,
                           struct ks__GetSceneBackgroundResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE | KS_ROLE_ADMIN))   /* admin: the UI's scene list */
        return soap->error;
    if (sceneId < 1)
        return ks_fault(soap, "InvalidArgument", "sceneId must be positive");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->sceneId = sceneId;
    rc = ks_store_scene_art(soap, conn, sceneId, &response->sha256, &response->png);
    if (rc == KS_NOTFOUND)
        return ks_fault(soap, "NotFound", "scene %d not found", sceneId);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* Fills the recipe of member's current avatar: the compose body of its
 * version from what it wears now. */
static ks_rc avatar_recipe(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                           ks_buf_t *body, struct ks__GetImageRecipeResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_layer_row_t *layers;
    char path[256], thumb[256];
    int count;
    ks_rc rc;

    if ((rc = ks_store_worn_layers(soap, conn, member->id, &layers, &count)) != KS_OK)
        return rc;
    ks_image_compose_body(ctx->conf, member->user_id, member->version, layers, count, body);
    ks_avatar_path(member->user_id, member->version, path, sizeof path);
    ks_avatar_thumb_path(member->user_id, member->version, thumb, sizeof thumb);
    response->route = "compose";
    response->path = soap_strdup(soap, path);
    response->thumbPath = soap_strdup(soap, thumb);
    return KS_OK;
}

static ks_rc photo_recipe(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                          unsigned photo_id, ks_buf_t *body, int *server_id,
                          struct ks__GetImageRecipeResponse *response)
{
    ks_album_request_t album;
    char path[256];
    ks_rc rc;

    if ((rc = ks_album_load(soap, conn, member, photo_id, &album, server_id)) != KS_OK)
        return rc;
    ks_image_album_body(&album, body);
    ks_album_path(member->user_id, photo_id, path, sizeof path);
    response->route = "album";
    response->path = soap_strdup(soap, path);
    response->thumbPath = "";
    return KS_OK;
}

/* The recipe as the server behind conn knows it; KS_CONFLICT when it
 * knows the member at a version below min_version (0: any). */
static ks_rc recipe_on(struct soap *soap, MYSQL *conn, const char *user_id, const int *photo_id,
                       unsigned min_version, struct ks__GetImageRecipeResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    ks_buf_t body;
    ks_rc rc;
    int server_id;

    if ((rc = ks_store_member(ctx, conn, user_id, 0, &member)) != KS_OK)
        return rc;
    if (member.version < min_version)
        return ks_err(&ctx->err, KS_CONFLICT, "member \"%s\" is at version %u here, under %u",
                      user_id, member.version, min_version);
    server_id = member.image_server_id;
    rc = photo_id ? photo_recipe(soap, conn, &member, (unsigned)*photo_id, &body, &server_id,
                                 response)
                  : avatar_recipe(soap, conn, &member, &body, response);
    if (rc != KS_OK)
        return rc;
    if (body.overflow) {
        ks_buf_free(&body);
        return ks_err(&ctx->err, KS_TOOLARGE, "the recipe of \"%s\" is larger than an image "
                      "server takes", user_id);
    }
    if ((rc = ks_store_image_server(ctx, conn, server_id, &server)) != KS_OK) {
        ks_buf_free(&body);
        return rc;
    }
    /* The recipe (what the member wears, who sits in the photo) only to the
     * server that holds the image; another learns where it is (to redirect
     * to it), not how to draw it: a node credential acts for one server. */
    response->recipe = soap_strdup(soap, body.data && strcmp(server.name, ctx->image_server) == 0
                                             ? body.data : "");
    ks_buf_free(&body);
    response->imageServer = soap_strdup(soap, server.name);
    response->publicUrl = soap_strdup(soap, server.public_url);
    response->version = (int)member.version;
    if (!response->recipe || !response->imageServer || !response->publicUrl ||
        !response->path || !response->thumbPath)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    return KS_OK;
}

/* Without min_version (a rebuild's check before it stores, which must see
 * a delete or a move at once): the master. With it (a browser's miss): the
 * call's reader when it knows the member at min_version or newer, and the
 * photo; else the master, through the same connection (ks_db_use_master),
 * because the file may be missing only because the member just changed. */
static ks_rc image_recipe(struct soap *soap, const char *user_id, const int *photo_id,
                          unsigned min_version, struct ks__GetImageRecipeResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    ks_rc rc;

    if (!min_version) {
        if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
            return rc;
        return recipe_on(soap, conn, user_id, photo_id, 0, response);
    }
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    rc = recipe_on(soap, conn, user_id, photo_id, min_version, response);
    if (rc == KS_NOTFOUND || rc == KS_CONFLICT) {
        ks_db_use_master(ctx->db);
        rc = recipe_on(soap, conn, user_id, photo_id, 0, response);
    }
    return rc;
}

int ks__GetImageRecipe(struct soap *soap, char *userId, int *photoId, int *minVersion,
                       struct ks__GetImageRecipeResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_NODE) || ks_check_user_id(soap, userId))
        return soap->error;
    if (photoId && *photoId < 1)
        return ks_fault(soap, "InvalidArgument", "photoId must be positive");
    if (minVersion && *minVersion < 1)
        return ks_fault(soap, "InvalidArgument", "minVersion must be at least 1");
    rc = image_recipe(soap, userId, photoId, minVersion ? (unsigned)*minVersion : 0, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}
