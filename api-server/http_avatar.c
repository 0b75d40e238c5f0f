/* http_avatar.c: GET /avatar/{user_id}.png and GET /avatar/{user_id}/thumb.png.
 *
 * A page shows a member's avatar with a bare <img src=".../avatar/bob.png">:
 * the API answers 302 to the current image on the member's image server
 * (whose URL carries the version, so caches keep it forever) and tells
 * caches not to keep the redirect itself. No credentials: the images are
 * public. The member is read from a replica, as GetAvatar does
 * (avatar_read.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "reply.h"
#include "log.h"
#include "avatar_read.h"
#include "http_avatar.h"
#include "paths.h"

static int reply_text(struct soap *soap, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reply_text(struct soap *soap, int status, const char *fmt, ...)
{
    char body[600];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(body, sizeof body - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof body - 2)
        n = sizeof body - 2;
    body[n++] = '\n';
    body[n] = '\0';
    return ks_api_http_reply(soap, status, "text/plain; charset=utf-8", "Cache-Control: no-cache",
                             body, (size_t)n);
}

/* 1 when url may go into a Location header as it is. */
static int url_is_clean(const char *url)
{
    for (; *url; url++)
        if ((unsigned char)*url <= 32 || *url == 127)
            return 0;
    return 1;
}

int ks_api_avatar_redirect(struct soap *soap, const char *path)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    const char *id = path + strlen("/avatar/");
    size_t len = strcspn(id, "?#");
    char user_id[KS_USER_ID_MAX + 1], headers[800], body[800], *url;
    ks_avatar_view_t view;
    int thumb, n;
    ks_rc rc;

    if (len > 10 && memcmp(id + len - 10, "/thumb.png", 10) == 0) {
        thumb = 1;
        len -= 10;
    } else if (len > 4 && memcmp(id + len - 4, ".png", 4) == 0) {
        thumb = 0;
        len -= 4;
    } else {
        return reply_text(soap, 404, "not found: avatars are at /avatar/{user_id}.png and "
                          "/avatar/{user_id}/thumb.png");
    }
    if (len > KS_USER_ID_MAX) {
        return reply_text(soap, 404, "not found: a member id has at most %d characters",
                          KS_USER_ID_MAX);
    }
    memcpy(user_id, id, len);
    user_id[len] = '\0';
    if (!ks_user_id_valid(user_id))
        return reply_text(soap, 404, "not found: a member id is 1..%d characters of "
                          "A-Z a-z 0-9 . _ - and does not start with '.'", KS_USER_ID_MAX);

    if ((rc = ks_avatar_read(ctx, user_id, 0, &view)) != KS_OK) {
        if (rc == KS_NOTFOUND)
            return reply_text(soap, 404, "not found: no member \"%s\"", user_id);
        ks_log_warn("GET %s: %s", path, ctx->err.msg);
        if (rc == KS_DBDOWN)
            return reply_text(soap, 503, "the avatar database did not answer; try again");
        return reply_text(soap, 500, "internal error; the server log has the details");
    }
    if (!(url = ks_avatar_url(soap, &view, thumb)) || !url_is_clean(url) ||
        strlen(url) + 40 > sizeof headers) {
        ks_log_error("GET %s: image server \"%s\" has an unusable public URL", path,
                     view.server.name);
        return reply_text(soap, 500, "internal error; the server log has the details");
    }
    snprintf(headers, sizeof headers, "Location: %s\r\nCache-Control: no-cache", url);
    n = snprintf(body, sizeof body, "see %s\n", url);
    return ks_api_http_reply(soap, 302, "text/plain; charset=utf-8", headers, body, (size_t)n);
}
