/* node_health.c: judging image servers by their heartbeats (a service, below
 * the handlers). The background renderer (render.c) calls
 * ks_node_mark_silent_down between rounds; the heartbeats themselves arrive
 * through op_node.c, whose next Heartbeat gives a server marked down for its
 * silence back the mode it had.
 */
#include "log.h"
#include "node_health.h"
#include "store_servers.h"

#define KS_SILENT_LOGGED_MAX 100     /* servers named in the log per sweep */

ks_rc ks_node_mark_silent_down(ks_api_ctx_t *ctx)
{
    ks_server_name_t silent[KS_SILENT_LOGGED_MAX];
    int timeout_s = ctx->conf->image_server_timeout_s, count;
    MYSQL *conn;
    ks_rc rc;

    if (timeout_s <= 0)
        return KS_OK;
    /* Only servers that ever beat: one configured by an image_server line
     * and never heard of is not judged by heartbeats. The SELECT names them
     * for the log; the UPDATE repeats the condition, so a beat in between
     * keeps its server active. */
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_servers_silent(ctx, conn, timeout_s, silent, KS_SILENT_LOGGED_MAX,
                                      &count)) != KS_OK)
        return rc;
    for (int i = 0; i < count; i++)
        ks_log_warn("image server \"%s\": no heartbeat for %d s: marking it down",
                    silent[i].name, timeout_s);
    return ks_store_servers_mark_silent(ctx, conn, timeout_s);
}
