/* image_conf.h: the image server's configuration (kisekae-image.conf; the
 * option table is in main.c, kisekae-image.conf.sample its commented copy).
 * Loaded once at start; every module keeps a const pointer to it.
 */
#ifndef KS_IMAGE_CONF_H
#define KS_IMAGE_CONF_H

#include <stddef.h>
#include "config.h"
#include "log.h"

#define KS_NODE_API_URLS_MAX 8          /* api_url entries (KS_FAILOVER_URLS_MAX) */
#define KS_NODE_API_URL_SIZE 512

typedef struct {
    char listen[256];              /* "host:port" or "unix:/path" */
    int threads;
    char store[1024];              /* made absolute at start */
    char cluster_secret[256];
    size_t max_layer_bytes;
    int max_canvas_width, max_canvas_height;
    size_t layer_cache_bytes;
    char log_file[1024];
    ks_log_level_t log_level;
    /* The API tier (api_client.c, node_agent.c, rebuild.c). No api_url leaves
     * registration to the API's image_server lines, and nothing is synced or
     * rebuilt. */
    char api_urls[KS_NODE_API_URLS_MAX][KS_NODE_API_URL_SIZE];   /* tried in this order */
    int api_url_count;
    char api_user[64];
    char api_password[128];
    int api_timeout_s;
    char name[65];                 /* this server's name in image_servers */
    char internal_url[256];        /* where the API reaches /internal/ */
    char public_url[256];          /* where browsers fetch the stored images */
    int weight;
    int heartbeat_interval_s;
    int sync_interval_s;           /* seconds between re-syncs of the item store; 0: at start only */
    int max_rebuilds;              /* lost images rebuilt at once (rebuild.c) */
    int max_batches;               /* batch requests composed at once (fcgi_server.c) */
    int miss_cache_ms;             /* how long a rebuild's 404 or 302 is kept (miss_cache.h) */
    int miss_cache_entries;        /* how many are kept at most */
    /* The picture answered for an image that can't be served (fcgi_server.c):
     * a PNG file, or ("") the built-in silhouette of that size. */
    char placeholder_png[512];
    ks_wxh_t placeholder_size;
    char placeholder_thumb_png[512];
    ks_wxh_t placeholder_thumb_size;
} ks_image_conf_t;

#endif
