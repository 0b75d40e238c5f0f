/* fcgi_server.h: the image server's FastCGI front (libfcgi), behind nginx.
 *
 * It listens on "host:port" or "unix:/path", runs `threads` workers that
 * each own one FCGX_Request, and routes PUT /internal/items/{id}/{layer},
 * POST /internal/compose and GET /health as PROTOCOL.md describes. It owns
 * no state but counters; layers live in the item store, avatars on disk.
 */
#ifndef KS_FCGI_SERVER_H
#define KS_FCGI_SERVER_H

#include <stddef.h>
#include "item_store.h"
#include "ks.h"

/* The image server's configuration (kisekae-image.conf; table in main.c). */
typedef struct {
    char listen[256];              /* "host:port" or "unix:/path" */
    int threads;
    char store[1024];              /* made absolute at start */
    char cluster_secret[256];
    size_t max_layer_bytes;
    int max_canvas_width, max_canvas_height;
    size_t layer_cache_bytes;
    char log_file[1024];
    int log_level;                 /* ks_log_level_t */
    /* The API tier (node_agent.c); api_url "" leaves registration to the
     * API's image_server lines. */
    char api_url[512];
    char api_user[64];
    char api_password[128];
    int api_timeout_s;
    char name[65];                 /* this server's name in image_servers */
    char internal_url[256];        /* where the API reaches /internal/ */
    char public_url[256];          /* where browsers fetch the stored images */
    int weight;
    int heartbeat_interval_s;
} ks_image_conf_t;

typedef struct ks_fcgi_server ks_fcgi_server_t;

/* Initialises libfcgi (and puts SIGTERM back to its default handler, which
 * libfcgi replaces), binds the listening socket and starts the workers.
 * conf, items and scenes (the scene backgrounds' store) must outlive the
 * server. Block the signals the caller wants
 * to sigwait() for before calling: the workers inherit the mask. */
ks_rc ks_fcgi_server_start(const ks_image_conf_t *conf, ks_item_store_t *items,
                           ks_item_store_t *scenes, ks_fcgi_server_t **out, ks_err_t *err);

/* Avatars composed since the server started (for the heartbeat). */
unsigned long long ks_fcgi_server_avatars_composed(ks_fcgi_server_t *server);

/* Stops accepting, lets running requests finish, closes idle keep-alive
 * connections, joins the workers, closes (and for a unix socket removes) the
 * listening socket and frees the server. NULL is ignored. */
void ks_fcgi_server_stop(ks_fcgi_server_t *server);

#endif
