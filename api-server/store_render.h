/* store_render.h: the render_queue table, the members whose avatars must be
 * composed again (an item's new art), which the renderer threads work off
 * (render.c). Functions write their error into ctx->err and return a ks_rc. */
#ifndef KS_API_STORE_RENDER_H
#define KS_API_STORE_RENDER_H

#include "store.h"

/* Queues every member wearing item_id (reason: its new art); *queued is how
 * many wear it. The wearers' outfit rows are read locked, so a member who
 * puts the item on in a transaction still open is waited for and queued;
 * one who puts it on after reads the new art (ks_store_worn_layers reads
 * locked too, and waits for this transaction). */
ks_rc ks_store_render_queue_item(ks_api_ctx_t *ctx, MYSQL *conn, int item_id, int *queued);

/* A queued member. */
typedef struct {
    long long member_id;
    unsigned attempts;
    char reason[160];
} ks_render_job_t;

/* Claims the next due row (locked until the transaction ends, skipping rows
 * another renderer holds). KS_NOTFOUND when none is due. */
ks_rc ks_store_render_claim(ks_api_ctx_t *ctx, MYSQL *conn, ks_render_job_t *job);

/* The member's avatar was composed again: its row goes. */
ks_rc ks_store_render_done(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id);

/* Composing the member failed with error: tried again in delay_s seconds. */
ks_rc ks_store_render_later(ks_api_ctx_t *ctx, MYSQL *conn, long long member_id, long delay_s,
                            const char *error);

/* Queues the wearers of items whose window has ended (time-limited items)
 * who are not queued yet, claiming at most max of their outfit rows (FOR
 * UPDATE SKIP LOCKED: the API servers running this share the work); *queued
 * is how many rows it claimed (max: more may be due). The renderer takes the
 * ended items off as it composes each member (ks_render_next_version). */
ks_rc ks_store_render_queue_ended(ks_api_ctx_t *ctx, MYSQL *conn, int max, int *queued);

#endif
