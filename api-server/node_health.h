/* node_health.h: image servers judged by their heartbeats (node_health.c). */
#ifndef KS_API_NODE_HEALTH_H
#define KS_API_NODE_HEALTH_H

#include "api.h"

/* Marks down every active or draining image server whose last
 * heartbeat is older than image_server_timeout (flagging it down_by_silence
 * with its mode, which its next heartbeat gives back). The renderer thread
 * calls it between rounds. */
ks_rc ks_node_mark_silent_down(ks_api_ctx_t *ctx);

#endif
