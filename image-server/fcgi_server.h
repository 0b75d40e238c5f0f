/* fcgi_server.h: the image server's FastCGI front (libfcgi), behind nginx.
 *
 * It listens on "host:port" or "unix:/path", runs `threads` workers that
 * each own one FCGX_Request, and routes PUT /internal/items/{id}/{layer},
 * POST /internal/compose, GET /health and so on as PROTOCOL.md describes,
 * and the GETs of lost avatars and album photos that nginx falls back with
 * (rebuild.h). It owns no state but counters; layers live in the item
 * store, avatars on disk.
 */
#ifndef KS_FCGI_SERVER_H
#define KS_FCGI_SERVER_H

#include <stddef.h>
#include "node_api.h"
#include "image_conf.h"
#include "item_store.h"
#include "ks.h"

typedef struct ks_fcgi_server ks_fcgi_server_t;
typedef struct ks_node_agent ks_node_agent_t;     /* node_agent.h */

/* Initialises libfcgi (and puts SIGTERM back to its default handler, which
 * libfcgi replaces), binds the listening socket and starts the workers, each
 * with a client of api (NULL without api_url) for rebuilding lost images.
 * conf, items, scenes (the scene backgrounds' store) and api must outlive
 * the server. Block the signals the caller wants to sigwait() for before
 * calling: the workers inherit the mask. */
ks_rc ks_fcgi_server_start(const ks_image_conf_t *conf, ks_item_store_t *items,
                           ks_item_store_t *scenes, ks_node_api_t *api, ks_fcgi_server_t **out,
                           ks_err_t *err);

/* Hands POST /internal/sync the node agent (NULL: none). Setting it waits
 * for the syncs under way through the previous one: set NULL before
 * stopping the agent. */
void ks_fcgi_server_set_agent(ks_fcgi_server_t *server, ks_node_agent_t *agent);

/* Avatars composed since the server started (for the heartbeat). */
unsigned long long ks_fcgi_server_avatars_composed(ks_fcgi_server_t *server);

/* Stops accepting, lets running requests finish, closes idle keep-alive
 * connections, joins the workers, closes (and for a unix socket removes) the
 * listening socket and frees the server. NULL is ignored. */
void ks_fcgi_server_stop(ks_fcgi_server_t *server);

#endif
