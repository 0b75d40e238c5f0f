/* webhook.h: signed webhooks. Operations record an avatar's events in their
 * transactions (ks_webhook_avatar_event); the sender job of every API server
 * delivers them (ks_webhooks_start): at least once, a member's events in
 * order, retried with exponential backoff until webhook_give_up hours. The
 * contract a site sees is in wsdl/kisekae.h (RegisterWebhook). */
#ifndef KS_API_WEBHOOK_H
#define KS_API_WEBHOOK_H

#include "store.h"

/* The event types (wsdl/kisekae.h), comma-free strings. */
#define KS_EVENT_CHANGED "avatar.changed"
#define KS_EVENT_REGENERATED "avatar.regenerated"
#define KS_EVENT_MOVED "avatar.moved"
#define KS_EVENT_DELETED "avatar.deleted"

/* 1 when type is one of the event types above. */
int ks_webhook_event_known(const char *type);

/* Records event type of member (at member->version, on server; server NULL
 * for a deletion) in the open transaction of conn, for every webhook
 * subscribed to it: its data says userId, version and, unless deleted,
 * imageServer, imageUrl and thumbnailUrl. */
ks_rc ks_webhook_avatar_event(ks_api_ctx_t *ctx, MYSQL *conn, const char *type,
                              const ks_member_t *member, const ks_image_server_t *server);

/* The signature header's value for body sent at unix time t under secret:
 * "t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">" into out (at least 96 bytes). */
void ks_webhook_sign(const char *secret, long long t, const char *body, size_t body_size,
                     char *out, size_t out_size);

/* The sender job (job.h), started and stopped by main.c. */
ks_rc ks_webhooks_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err);
void ks_webhooks_stop(void);

#endif
