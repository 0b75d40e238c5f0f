/* http_avatar.c: GET /avatar/{user_id}.png, GET /avatar/{user_id}/thumb.png and
 * GET /avatar/{user_id}/anim.png (the APNG of a member wearing animated items).
 *
 * A page shows a member's avatar with a bare <img src=".../avatar/bob.png">:
 * the API answers 302 to the current image on the member's image server
 * (whose URL carries the version, so caches keep it forever) and tells
 * caches not to keep the redirect itself. No credentials: the images are
 * public. The member is read from a replica, as GetAvatar does
 * (avatar_read.c).
 *
 * Never a broken image: where there is no image to redirect to (an unknown
 * member, its image server marked down, the database not answering), the
 * answer is the placeholder picture itself (common/placeholder.h), with
 * Cache-Control: no-cache and the status that says why, so a page's <img>
 * shows a silhouette and the real image replaces it at the next load.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "reply.h"
#include "log.h"
#include "avatar_read.h"
#include "http_avatar.h"
#include "paths.h"
#include "placeholder.h"

/* The placeholder pictures: [0] the avatar's, [1] the thumbnail's. */
static unsigned char *placeholder[2];
static size_t placeholder_size[2];

ks_rc ks_api_placeholder_init(const ks_api_conf_t *conf, ks_err_t *err)
{
    ks_rc rc = ks_placeholder_load(conf->placeholder_png, (unsigned)conf->canvas.width,
                                   (unsigned)conf->canvas.height, &placeholder[0],
                                   &placeholder_size[0], err);

    if (rc == KS_OK)
        rc = ks_placeholder_load(conf->placeholder_thumb_png, (unsigned)conf->thumb_size.width,
                                 (unsigned)conf->thumb_size.height, &placeholder[1],
                                 &placeholder_size[1], err);
    return rc;
}

void ks_api_placeholder_free(void)
{
    for (int i = 0; i < 2; i++) {
        free(placeholder[i]);
        placeholder[i] = NULL;
    }
}

ks_rc ks_api_placeholder_publish(const char *dir, ks_err_t *err)
{
    return ks_placeholder_publish(dir, placeholder, placeholder_size, err);
}

/* The placeholder (the thumbnail's when thumb) with status and why (logged
 * at debug level; an X-Kisekae-Placeholder header says it too). */
static int reply_placeholder(struct soap *soap, int status, int thumb, const char *why)
{
    char headers[300];

    if (!placeholder[thumb])
        return ks_api_http_reply(soap, status, "text/plain; charset=utf-8",
                                 "Cache-Control: no-cache", why, strlen(why));
    snprintf(headers, sizeof headers, "Cache-Control: no-cache\r\nX-Kisekae-Placeholder: %s%s",
             why, status == 503 ? "\r\nRetry-After: 10" : "");
    return ks_api_http_reply(soap, status, "image/png", headers, (const char *)placeholder[thumb],
                             placeholder_size[thumb]);
}

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
    ks_avatar_image_t image;
    int thumb, n;
    ks_rc rc;

    if (len > 10 && memcmp(id + len - 10, "/thumb.png", 10) == 0) {
        image = KS_AVATAR_THUMB;
        len -= 10;
    } else if (len > 9 && memcmp(id + len - 9, "/anim.png", 9) == 0) {
        image = KS_AVATAR_ANIM;
        len -= 9;
    } else if (len > 4 && memcmp(id + len - 4, ".png", 4) == 0) {
        image = KS_AVATAR_IMAGE;
        len -= 4;
    } else {
        return reply_text(soap, 404, "not found: avatars are at /avatar/{user_id}.png, "
                          "/avatar/{user_id}/thumb.png and /avatar/{user_id}/anim.png");
    }
    thumb = image == KS_AVATAR_THUMB;
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
            return reply_placeholder(soap, 404, thumb, "no such member");
        ks_log_warn("GET %s: %s", path, ctx->err.msg);
        if (rc == KS_DBDOWN)
            return reply_placeholder(soap, 503, thumb, "the avatar database did not answer");
        return reply_text(soap, 500, "internal error; the server log has the details");
    }
    if (strcmp(view.server.mode, "down") == 0)
        return reply_placeholder(soap, 503, thumb, "the member's image server is down");
    if (image == KS_AVATAR_ANIM && !view.animated)
        return reply_placeholder(soap, 404, thumb, "the member wears no animated item");
    if (!(url = ks_avatar_url(soap, &view, image)) || !url_is_clean(url) ||
        strlen(url) + 40 > sizeof headers) {
        ks_log_error("GET %s: image server \"%s\" has an unusable public URL", path,
                     view.server.name);
        return reply_text(soap, 500, "internal error; the server log has the details");
    }
    snprintf(headers, sizeof headers, "Location: %s\r\nCache-Control: no-cache", url);
    n = snprintf(body, sizeof body, "see %s\n", url);
    return ks_api_http_reply(soap, 302, "text/plain; charset=utf-8", headers, body, (size_t)n);
}
