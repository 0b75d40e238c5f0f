/* deletion.h: deleting members' images from the image servers through the
 * durable queue of store_deletion.h. */
#ifndef KS_API_DELETION_H
#define KS_API_DELETION_H

#include "api.h"

/* Works off due deletions (at most a batch, in one transaction of their
 * own): each image server is asked to delete, a row goes when it confirms
 * and is otherwise tried again later (deletion_retry seconds times its
 * attempts, at most ten times). With user_id, only that user's rows, at
 * once, skipping servers marked down (the renderer tries those): what an
 * operation does right after it committed its deletions. *done counts the
 * rows finished. */
ks_rc ks_deletions_run(ks_api_ctx_t *ctx, const char *user_id, int *done);

/* ks_deletions_run for user_id, a failure only logged (the renderer tries
 * again): what an operation calls once it committed the deletions. */
void ks_deletions_try_now(ks_api_ctx_t *ctx, const char *user_id);

#endif
