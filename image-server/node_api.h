/* node_api.h: the image server's calls to the API tier (role node), through
 * the gSOAP client stubs of wsdl/kisekae.h, with failover between API servers
 * (common/api_failover.h says when the next one is tried).
 *
 * ks_node_api_t is shared by every thread: the configuration and the failover
 * state built from its api_url, api_user, api_password and api_timeout_s.
 *
 * ks_node_api_client_t is one thread's gSOAP context (gSOAP contexts are not
 * shared between threads): the node agent has one, each FastCGI worker
 * another. What a call returns points into the client's arena and stays
 * valid until the next call on the same client.
 */
#ifndef KS_IMAGE_NODE_API_H
#define KS_IMAGE_NODE_API_H

#include <stddef.h>
#include "api_failover.h"
#include "image_conf.h"
#include "ks.h"
#include "sha256.h"

typedef struct {
    const ks_image_conf_t *conf;
    ks_failover_t failover;        /* conf's API URLs and credentials */
} ks_node_api_t;

typedef struct ks_node_api_client ks_node_api_client_t;

/* A layer of the catalog manifest. */
typedef struct {
    int item_id, layer_no;
    char sha256[KS_SHA256_HEX_SIZE];   /* "" when the API gave no valid one */
} ks_node_api_layer_t;

/* An image's recipe (GetImageRecipe); strings point into the client's arena. */
typedef struct {
    const char *image_server;      /* the image server that holds the image */
    const char *public_url;        /* that server's public base URL */
    int version;                   /* the member's current avatar version */
    const char *path;              /* the image's store path */
    const char *thumb_path;        /* the avatar's thumbnail path, "" for a photo */
    const char *route;             /* "compose" or "album" */
    const char *recipe;            /* the body of POST /internal/<route> */
} ks_node_api_recipe_t;

/* A PNG fetched from the API (an item layer or a scene's background). */
typedef struct {
    const unsigned char *png;      /* in the client's arena */
    size_t size;
    char sha256[KS_SHA256_HEX_SIZE];
} ks_node_api_png_t;

/* Prepares api for conf (which must outlive it and list at least one URL). */
void ks_node_api_init(ks_node_api_t *api, const ks_image_conf_t *conf);

/* A client of api for one thread; freed with ks_node_api_client_free. */
ks_rc ks_node_api_client_new(ks_node_api_t *api, ks_node_api_client_t **out, ks_err_t *err);

/* Frees the client and what its last call returned. NULL is ignored. */
void ks_node_api_client_free(ks_node_api_client_t *client);

/* The URL the client's last call went to (for logs). */
const char *ks_node_api_client_url(const ks_node_api_client_t *client);

/* Every call below returns KS_OK, KS_NOTFOUND for a NotFound fault,
 * KS_UNAVAILABLE when no API server answered (the message names each URL's
 * failure) and KS_ERROR for any other fault (its code and message in err). */

/* RegisterImageServer with conf's name, URLs and weight; *server_id and
 * mode (size 16) get the answer. */
ks_rc ks_node_api_register(ks_node_api_client_t *client, int *server_id, char *mode, ks_err_t *err);

/* Heartbeat. KS_NOTFOUND when the API does not know this server (register
 * again). */
ks_rc ks_node_api_heartbeat(ks_node_api_client_t *client, long long items_stored,
                       long long avatars_composed, long long store_free_bytes, ks_err_t *err);

/* One page of GetCatalogManifest: *layers (malloc'd, the caller frees it) gets
 * *count entries (0 at the end), *total the manifest's size. */
ks_rc ks_node_api_manifest_page(ks_node_api_client_t *client, int offset, int limit,
                           ks_node_api_layer_t **layers, int *count, long long *total,
                           ks_err_t *err);

/* GetItemLayer: the canonical PNG of a layer and its sha256; with sha256
 * (else NULL) the art of that sha256, current or old (KS_NOTFOUND when the
 * layer never had it). */
ks_rc ks_node_api_get_item_layer(ks_node_api_client_t *client, int item_id, int layer_no,
                            const char *sha256, ks_node_api_png_t *out, ks_err_t *err);

/* GetSceneBackground: a scene's background PNG and its sha256. */
ks_rc ks_node_api_get_scene_background(ks_node_api_client_t *client, int scene_id, ks_node_api_png_t *out,
                                  ks_err_t *err);

/* GetImageRecipe for the member's current avatar (photo_id 0) or one album
 * photo. min_version > 0 lets a replica answer that knows the member at
 * that version or newer (a browser's miss); 0 asks the master (a check that
 * must see a delete at once). Every string of *out is set (never NULL) when
 * KS_OK. */
ks_rc ks_node_api_get_image_recipe(ks_node_api_client_t *client, const char *user_id, int photo_id,
                              int min_version, ks_node_api_recipe_t *out, ks_err_t *err);

#endif
