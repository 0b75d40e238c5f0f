/* http_avatar.h: the /avatar redirects (http_avatar.c). */
#ifndef KS_API_HTTP_AVATAR_H
#define KS_API_HTTP_AVATAR_H

#include "api.h"

/* GET /avatar/{user_id}.png and /avatar/{user_id}/thumb.png (path is the
 * request target): 302 to the member's current image, 404 with a reason for
 * an unknown member or a bad id. */
int ks_api_avatar_redirect(struct soap *soap, const char *path);

#endif
