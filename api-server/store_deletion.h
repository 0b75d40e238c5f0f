/* store_deletion.h: the image_deletions table, the durable queue of the
 * images image servers must delete (migration 006). deletion.c works it
 * off. */
#ifndef KS_API_STORE_DELETION_H
#define KS_API_STORE_DELETION_H

#include "store.h"

typedef struct {
    long long id;
    int server_id;
    char user_id[KS_USER_ID_MAX + 1];
    unsigned photo_id;           /* 0: every image of the member */
    unsigned attempts;
} ks_deletion_t;

/* Queues the deletion of every image of member user_id on every image
 * server (those marked down, and those it left, included). */
ks_rc ks_store_deletion_queue_member(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id);

/* Queues the deletion of every image of member user_id on server_id only
 * (the files MoveAvatars leaves behind). */
ks_rc ks_store_deletion_queue_left(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                   const char *user_id);

/* Queues the deletion of album photo photo_id of user_id on server_id. */
ks_rc ks_store_deletion_queue_photo(ks_api_ctx_t *ctx, MYSQL *conn, int server_id,
                                    const char *user_id, unsigned photo_id);

/* Claims (locks until the transaction ends, skipping rows another API
 * server holds) up to max due deletions, of user_id only when it is not
 * NULL, into out[0..*count). */
ks_rc ks_store_deletion_claim(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id,
                              ks_deletion_t *out, int max, int *count);

/* *blocked is 1 when deleting every image of d's user on d's server would
 * take images still in use: a member of that user_id (moved back, or
 * created again) lives there or has album photos there. */
ks_rc ks_store_deletion_blocked(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                                int *blocked);

/* The deletion d is done: its row goes. */
ks_rc ks_store_deletion_done(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d);

/* d failed with error (or waits): tried again in delay_s seconds. */
ks_rc ks_store_deletion_later(ks_api_ctx_t *ctx, MYSQL *conn, const ks_deletion_t *d,
                              long delay_s, const char *error);

#endif
