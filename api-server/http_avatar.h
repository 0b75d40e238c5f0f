/* http_avatar.h: the /avatar redirects (http_avatar.c). */
#ifndef KS_API_HTTP_AVATAR_H
#define KS_API_HTTP_AVATAR_H

#include "api.h"

/* GET /avatar/{user_id}.png and /avatar/{user_id}/thumb.png (path is the
 * request target): 302 to the member's current image. When there is none to
 * send a browser to, the placeholder picture itself (no-cache), so an <img>
 * never breaks: 404 for an unknown member, 503 (Retry-After) when its image
 * server is marked down or the database does not answer. A malformed path
 * is a 404 with a reason in text. */
int ks_api_avatar_redirect(struct soap *soap, const char *path);

/* Loads the placeholder pictures of conf (placeholder_png, or the built-in
 * silhouette at the canvas size, and the same at the thumbnail's size)
 * before the workers start; freed by ks_api_placeholder_free. */
ks_rc ks_api_placeholder_init(const ks_api_conf_t *conf, ks_err_t *err);
void ks_api_placeholder_free(void);
/* Writes the loaded placeholders as DIR/avatar.png and DIR/thumb.png, for
 * the nginx in front of the API servers to answer /avatar/ with when none
 * of them answers (kisekae-api --write-placeholders DIR). */
ks_rc ks_api_placeholder_publish(const char *dir, ks_err_t *err);

#endif
