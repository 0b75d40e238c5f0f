/* album.h: composing album photos on image servers (album.c). */
#ifndef KS_API_ALBUM_H
#define KS_API_ALBUM_H

#include "image_client.h"

/* Reads what album photo photo_id of member is made of from the rows that
 * recorded it (layers and scene at their sha256, size, quality), and the
 * image server holding it. Strings live in the soap arena. KS_NOTFOUND when
 * the member has no such photo. */
ks_rc ks_album_load(struct soap *soap, MYSQL *conn, const ks_member_t *member, unsigned photo_id,
                    ks_album_request_t *album, int *image_server_id);

/* Has server compose and store album; a missing scene or missing layers are
 * pushed from the database (each at most once) and the compose tried again.
 * Art replaced since the photo was taken is not pushed: KS_UNAVAILABLE. */
ks_rc ks_album_compose(ks_api_ctx_t *ctx, MYSQL *conn, const ks_image_server_t *server,
                       const ks_album_request_t *album);

#endif
