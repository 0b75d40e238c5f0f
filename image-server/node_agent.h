/* node_agent.h: the image server's side of the API tier's node role.
 *
 * A thread that registers this server with the API (RegisterImageServer),
 * brings the item store level with the catalog (GetCatalogManifest, then
 * GetItemLayer for every layer missing or stale here), does so again every
 * sync_interval seconds, and sends a Heartbeat every heartbeat_interval
 * seconds; a pass can also be asked for now (POST /internal/sync). While
 * the API cannot be reached it tries again with a growing
 * delay; the server serves all along. Calls go through node_api.h, which
 * fails over between the configured API URLs.
 */
#ifndef KS_NODE_AGENT_H
#define KS_NODE_AGENT_H

#include "node_api.h"
#include "fcgi_server.h"
#include "item_store.h"
#include "ks.h"

typedef struct ks_node_agent ks_node_agent_t;

/* Starts the thread with a client of its own on api. conf, api, items and
 * server must outlive the agent. *out is stopped and freed with
 * ks_node_agent_stop. */
ks_rc ks_node_agent_start(const ks_image_conf_t *conf, ks_node_api_t *api, ks_item_store_t *items,
                          ks_fcgi_server_t *server, ks_node_agent_t **out, ks_err_t *err);

/* What a sync pass found: layers of the manifest checked (and archived art
 * files, in a pass asked for now), missing and stale ones (each fetched, or
 * failed), layer files the manifest does not name (extra; only in a pass
 * asked for now). */
typedef struct {
    long long checked, missing, stale, extra, fetched, failed;
} ks_node_sync_counts_t;

/* Has the agent's thread run a full sync pass now (after the one under way,
 * if any) and waits for it, at most timeout_s seconds: KS_OK with *counts;
 * KS_UNAVAILABLE when the manifest could not be read, the pass did not end
 * in time (it goes on) or the agent is stopping. Thread-safe. */
ks_rc ks_node_agent_sync_now(ks_node_agent_t *agent, int timeout_s,
                             ks_node_sync_counts_t *counts, ks_err_t *err);

/* Stops the thread (a call under way ends within api_timeout per API URL)
 * and frees the agent. NULL is ignored. */
void ks_node_agent_stop(ks_node_agent_t *agent);

#endif
