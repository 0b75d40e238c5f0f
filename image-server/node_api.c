/* node_api.c: the node-role calls of an image server (node_api.h).
 *
 * Every operation is a small function that makes the one gSOAP call with
 * its arguments; ks_failover_call (common/api_failover.h) runs it against
 * each API URL in turn, starting from the one that answered last. Every
 * node call may reach the API twice without harm (reads, registrations and
 * heartbeats set rather than add), so each is resend-safe.
 */
#include "node_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "Kisekae.nsmap"
#include "log.h"

struct ks_node_api_client {
    ks_node_api_t *api;
    struct soap *soap;
    const char *url;               /* where the last call went */
};

_Static_assert(KS_NODE_API_URLS_MAX <= KS_FAILOVER_URLS_MAX, "api_url entries beyond the failover list");

void ks_node_api_init(ks_node_api_t *api, const ks_image_conf_t *conf)
{
    api->conf = conf;
    ks_failover_init(&api->failover, conf->api_user, conf->api_password, conf->api_timeout_s);
    /* main.c checked each URL and their count. */
    for (int i = 0; i < conf->api_url_count; i++)
        ks_failover_add_url(&api->failover, conf->api_urls[i], NULL);
}

ks_rc ks_node_api_client_new(ks_node_api_t *api, ks_node_api_client_t **out, ks_err_t *err)
{
    ks_node_api_client_t *client = calloc(1, sizeof *client);

    *out = NULL;
    if (!client)
        return ks_err(err, KS_NOMEM, "out of memory for an API client");
    if (!(client->soap = ks_failover_soap_new(&api->failover, err))) {
        free(client);
        return KS_NOMEM;
    }
    client->api = api;
    client->url = api->conf->api_url_count > 0 ? api->conf->api_urls[0] : "";
    *out = client;
    return KS_OK;
}

void ks_node_api_client_free(ks_node_api_client_t *client)
{
    if (!client)
        return;
    ks_failover_soap_free(client->soap);
    free(client);
}

const char *ks_node_api_client_url(const ks_node_api_client_t *client)
{
    return client->url;
}

static ks_rc call(ks_node_api_client_t *client, const char *operation,
                      ks_failover_attempt_fn attempt, void *args, ks_err_t *err)
{
    return ks_failover_call(&client->api->failover, client->soap, operation, 1, attempt, args,
                            &client->url, err);
}

/* ---- RegisterImageServer ----------------------------------------------------- */

typedef struct {
    const ks_image_conf_t *conf;
    struct ks__RegisterImageServerResponse response;
} register_call_t;

static int attempt_register(struct soap *soap, const char *url, void *p)
{
    register_call_t *a = p;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__RegisterImageServer(soap, url, NULL, (char *)a->conf->name,
                                             (char *)a->conf->internal_url,
                                             (char *)a->conf->public_url, a->conf->weight,
                                             &a->response);
}

ks_rc ks_node_api_register(ks_node_api_client_t *client, int *server_id, char *mode, ks_err_t *err)
{
    register_call_t a = {.conf = client->api->conf};
    ks_rc rc = call(client, "RegisterImageServer", attempt_register, &a, err);

    *server_id = 0;
    snprintf(mode, 16, "?");
    if (rc != KS_OK)
        return rc;
    if (a.response.server) {
        *server_id = a.response.server->id;
        if (a.response.server->mode)
            snprintf(mode, 16, "%s", a.response.server->mode);
    }
    return KS_OK;
}

/* ---- Heartbeat ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    LONG64 items_stored, avatars_composed, store_free_bytes;
} heartbeat_t;

static int attempt_heartbeat(struct soap *soap, const char *url, void *p)
{
    heartbeat_t *a = p;
    struct ks__HeartbeatResponse response = {0};

    return soap_call_ks__Heartbeat(soap, url, NULL, (char *)a->name, a->items_stored,
                                   a->avatars_composed, a->store_free_bytes, &response);
}

ks_rc ks_node_api_heartbeat(ks_node_api_client_t *client, long long items_stored,
                       long long avatars_composed, long long store_free_bytes, ks_err_t *err)
{
    heartbeat_t a = {client->api->conf->name, items_stored, avatars_composed,
                         store_free_bytes};

    return call(client, "Heartbeat", attempt_heartbeat, &a, err);
}

/* ---- GetCatalogManifest ------------------------------------------------------------ */

typedef struct {
    int offset, limit;
    struct ks__GetCatalogManifestResponse response;
} manifest_t;

static int attempt_manifest(struct soap *soap, const char *url, void *p)
{
    manifest_t *a = p;
    int offset = a->offset, limit = a->limit;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__GetCatalogManifest(soap, url, NULL, &offset, &limit, &a->response);
}

ks_rc ks_node_api_manifest_page(ks_node_api_client_t *client, int offset, int limit,
                           ks_node_api_layer_t **layers, int *count, long long *total,
                           ks_err_t *err)
{
    manifest_t a = {.offset = offset, .limit = limit};
    ks_rc rc;

    *layers = NULL;
    *count = 0;
    *total = 0;
    rc = call(client, "GetCatalogManifest", attempt_manifest, &a, err);
    if (rc != KS_OK)
        return rc;
    if (a.response.__sizelayer < 0 || a.response.__sizelayer > limit ||
        (a.response.__sizelayer > 0 && !a.response.layer))
        return ks_err(err, KS_ERROR, "GetCatalogManifest at %s: %d layers in a page of %d",
                      client->url, a.response.__sizelayer, limit);
    *total = (long long)a.response.total;
    if (a.response.__sizelayer == 0)
        return KS_OK;
    *layers = calloc((size_t)a.response.__sizelayer, sizeof **layers);
    if (!*layers)
        return ks_err(err, KS_NOMEM, "out of memory for a manifest page");
    for (int i = 0; i < a.response.__sizelayer; i++) {
        const struct ks__ManifestLayer *layer = &a.response.layer[i];
        (*layers)[i].item_id = layer->itemId;
        (*layers)[i].layer_no = layer->layerNo;
        if (layer->sha256 && ks_sha256_hex_valid(layer->sha256))
            memcpy((*layers)[i].sha256, layer->sha256, KS_SHA256_HEX_SIZE);
    }
    *count = a.response.__sizelayer;
    return KS_OK;
}

/* ---- GetItemLayer, GetSceneBackground -------------------------------------------------- */

typedef struct {
    int id, layer_no;
    char *want;                    /* GetItemLayer's sha256 argument, or NULL */
    const char *sha256;
    struct xsd__base64Binary png;
} png_t;

static int attempt_item_layer(struct soap *soap, const char *url, void *p)
{
    png_t *a = p;
    struct ks__GetItemLayerResponse response = {0};
    int status = soap_call_ks__GetItemLayer(soap, url, NULL, a->id, a->layer_no, a->want,
                                            &response);

    a->sha256 = response.sha256;
    a->png = response.png;
    return status;
}

static int attempt_scene(struct soap *soap, const char *url, void *p)
{
    png_t *a = p;
    struct ks__GetSceneBackgroundResponse response = {0};
    int status = soap_call_ks__GetSceneBackground(soap, url, NULL, a->id, &response);

    a->sha256 = response.sha256;
    a->png = response.png;
    return status;
}

/* Checks and hands out what a PNG call answered. */
static ks_rc png_answer(ks_node_api_client_t *client, const char *operation, const png_t *a,
                            ks_node_api_png_t *out, ks_err_t *err)
{
    if (!a->sha256 || !ks_sha256_hex_valid(a->sha256) || !a->png.__ptr || a->png.__size <= 0)
        return ks_err(err, KS_ERROR, "%s %d/%d at %s: empty or malformed answer", operation,
                      a->id, a->layer_no, client->url);
    out->png = a->png.__ptr;
    out->size = (size_t)a->png.__size;
    memcpy(out->sha256, a->sha256, KS_SHA256_HEX_SIZE);
    return KS_OK;
}

ks_rc ks_node_api_get_item_layer(ks_node_api_client_t *client, int item_id, int layer_no,
                            const char *sha256, ks_node_api_png_t *out, ks_err_t *err)
{
    png_t a = {.id = item_id, .layer_no = layer_no, .want = (char *)sha256};
    ks_rc rc = call(client, "GetItemLayer", attempt_item_layer, &a, err);

    if (rc != KS_OK)
        return rc;
    rc = png_answer(client, "GetItemLayer", &a, out, err);
    if (rc == KS_OK && sha256 && strcmp(out->sha256, sha256) != 0)
        return ks_err(err, KS_ERROR, "GetItemLayer %d/%d at %s: asked for sha256 %s, got %s",
                      item_id, layer_no, client->url, sha256, out->sha256);
    return rc;
}

ks_rc ks_node_api_get_scene_background(ks_node_api_client_t *client, int scene_id, ks_node_api_png_t *out,
                                  ks_err_t *err)
{
    png_t a = {.id = scene_id, .layer_no = 0};
    ks_rc rc = call(client, "GetSceneBackground", attempt_scene, &a, err);

    if (rc != KS_OK)
        return rc;
    return png_answer(client, "GetSceneBackground", &a, out, err);
}

/* ---- GetImageRecipe --------------------------------------------------------------------- */

typedef struct {
    const char *user_id;
    int photo_id;                  /* 0: the avatar */
    int min_version;               /* 0: none (the master answers) */
    struct ks__GetImageRecipeResponse response;
} recipe_t;

static int attempt_recipe(struct soap *soap, const char *url, void *p)
{
    recipe_t *a = p;
    int photo_id = a->photo_id, min_version = a->min_version;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__GetImageRecipe(soap, url, NULL, (char *)a->user_id,
                                        a->photo_id > 0 ? &photo_id : NULL,
                                        a->min_version > 0 ? &min_version : NULL, &a->response);
}

ks_rc ks_node_api_get_image_recipe(ks_node_api_client_t *client, const char *user_id, int photo_id,
                              int min_version, ks_node_api_recipe_t *out, ks_err_t *err)
{
    recipe_t a = {.user_id = user_id, .photo_id = photo_id, .min_version = min_version};
    struct ks__GetImageRecipeResponse *r = &a.response;
    ks_rc rc = call(client, "GetImageRecipe", attempt_recipe, &a, err);

    if (rc != KS_OK)
        return rc;
    if (!r->imageServer || !r->publicUrl || !r->path || !r->route || !r->recipe)
        return ks_err(err, KS_ERROR, "GetImageRecipe \"%s\" at %s: incomplete answer", user_id,
                      client->url);
    out->image_server = r->imageServer;
    out->public_url = r->publicUrl;
    out->version = r->version;
    out->path = r->path;
    out->thumb_path = r->thumbPath ? r->thumbPath : "";
    out->route = r->route;
    out->recipe = r->recipe;
    return KS_OK;
}
