/* avatar_read.h: the reads behind GetAvatar and GET /avatar/...: the API's
 * hottest calls (a community page shows many avatars), so they cost at most
 * one database round trip (the member and what it wears in one query, the
 * image servers from a copy shared by the workers) and usually none: a view
 * read from the database is kept for avatar_cache_ms.
 *
 * The kept views make GetAvatar as stale as a replica that far behind, which
 * the API allows already (GetAvatar reads from replicas): a caller that must
 * see a change passes the version the change returned as minVersion, and an
 * older view is never used for it. A change made through this server forgets
 * the member's view at once (ks_avatar_forget). */
#ifndef KS_API_AVATAR_READ_H
#define KS_API_AVATAR_READ_H

#include "store_members.h"

/* Sets the view cache up from conf (avatar_cache_ms, avatar_cache_entries);
 * before any thread that reads or forgets views starts (workers, renderer),
 * and freed after they stopped. KS_NOMEM when it cannot. */
ks_rc ks_avatar_cache_init(const ks_api_conf_t *conf, ks_err_t *err);
void ks_avatar_cache_free(void);

/* Drops what the cache holds of user_id: call it after any write that
 * changes a member's avatar (outfit, version, image server, deletion). */
void ks_avatar_forget(const char *user_id);

/* The cache itself, below ks_avatar_read (and its unit tests): 1 when it
 * holds a view of user_id younger than avatar_cache_ms (copied into out:
 * the member and what it wears; not its image server, which the caller
 * looks up); ks_avatar_cache_put keeps view (in the slot of its user id,
 * replacing whatever was there; a view wearing more than KS_OUTFIT_MAX
 * items is not kept). Both do nothing without a cache. */
int ks_avatar_cache_get(const char *user_id, ks_avatar_view_t *out);
void ks_avatar_cache_put(const ks_avatar_view_t *view);

/* Reads member user_id's avatar from the cache or a replica; with min_version > 0, from
 * the master when the replica has not seen that version yet (KS_NOTFOUND if
 * the master has not either). Errors go to ctx->err. */
ks_rc ks_avatar_read(ks_api_ctx_t *ctx, const char *user_id, unsigned min_version,
                     ks_avatar_view_t *out);

/* The image server id, from a copy of image_servers at most
 * KS_IMAGE_SERVERS_TTL_MS old (read again through conn when older, or when
 * id is not in it). */
ks_rc ks_avatar_image_server(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_image_server_t *out);

/* The view as the SOAP Avatar, allocated in the request's arena (NULL when
 * out of memory). */
struct ks__Avatar *ks_avatar_soap(struct soap *soap, const ks_avatar_view_t *view);

/* The public URL of the view's image: the full avatar, the thumbnail or the
 * APNG. Allocated in the request's arena; NULL when out of memory or the
 * path does not fit. */
typedef enum { KS_AVATAR_IMAGE, KS_AVATAR_THUMB, KS_AVATAR_ANIM } ks_avatar_image_t;
char *ks_avatar_url(struct soap *soap, const ks_avatar_view_t *view, ks_avatar_image_t image);

#endif
