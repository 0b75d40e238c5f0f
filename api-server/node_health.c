/* node_health.c: judging image servers by their heartbeats (a service, below
 * the handlers). The background renderer (render.c) calls
 * ks_node_mark_silent_down between rounds; the heartbeats themselves arrive
 * through op_node.c, whose next Heartbeat gives a server marked down for its
 * silence back the mode it had.
 */
#include "log.h"
#include "node_health.h"
#include "store.h"

ks_rc ks_node_mark_silent_down(ks_api_ctx_t *ctx)
{
    MYSQL *conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    if (ctx->conf->image_server_timeout_s <= 0)
        return KS_OK;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    /* Only servers that ever beat: one configured by an image_server line
     * and never heard of is not judged by heartbeats. The SELECT names them
     * for the log; the UPDATE repeats the condition, so a beat in between
     * keeps its server active. */
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "SELECT name FROM image_servers WHERE mode IN ('active', 'draining') AND"
                     " last_heartbeat < NOW(3) - INTERVAL %d SECOND LIMIT 100",
                ctx->conf->image_server_timeout_s);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    while ((row = mysql_fetch_row(res)))
        ks_log_warn("image server \"%s\": no heartbeat for %d s: marking it down", row[0],
                    ctx->conf->image_server_timeout_s);
    mysql_free_result(res);
    ks_buf_init(&sql, 512);
    ks_buf_addf(&sql, "UPDATE image_servers SET silenced_mode = mode, mode = 'down',"
                     " down_by_silence = 1 WHERE mode IN ('active', 'draining')"
                     " AND last_heartbeat < NOW(3) - INTERVAL %d SECOND",
                ctx->conf->image_server_timeout_s);
    return ks_store_run(ctx, conn, &sql, NULL);
}
