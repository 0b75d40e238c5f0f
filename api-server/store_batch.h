/* store_batch.h: the reads of kisekae-batch's operations (op_batch.c) on
 * members, outfit, item_layers, album_photos and album_photo_layers: an
 * image server's members a page at a time, and what a batch of members'
 * images are composed from. */
#ifndef KS_API_STORE_BATCH_H
#define KS_API_STORE_BATCH_H

#include "image_client.h"

/* One member of an image server, as ListAvatarsByServer lists it. */
typedef struct {
    char user_id[KS_USER_ID_MAX + 1];
    unsigned version;
    int album_photos;            /* its album photos stored on that server */
} ks_server_member_t;

/* The members of image server server_id with a user id above after ("" or
 * NULL: from the first), at most limit of them in user id order, through
 * the index members_server_user (a keyset page: the same cost at any
 * depth). *members is in the request's arena; *more says whether members
 * follow the page; *member_count is image_servers.member_count. */
ks_rc ks_store_server_members(struct soap *soap, MYSQL *conn, int server_id, const char *after,
                              int limit, ks_server_member_t **members, int *count, int *more,
                              int *member_count);

/* A member of a batch and the recipes of its images. */
typedef struct {
    const char *user_id;         /* set by the caller */
    long long id;                /* 0: no such member */
    int image_server_id;
    unsigned version;
    ks_layer_row_t *layers;      /* what version wears, in drawing order */
    int layer_count;
    ks_album_request_t *photos;  /* its album photos on the batch's server */
    int photo_count;
} ks_batch_member_t;

/* Fills members[0..count) (user_id set, the rest zero): each member's
 * version and the layers it wears, read in one statement for the whole
 * batch (one snapshot: the layers are those of that version), then the
 * album photos of the members on server_id from their rows (layers and
 * scene at the sha256 they were drawn with). Everything is in the
 * request's arena. */
ks_rc ks_store_batch_recipes(struct soap *soap, MYSQL *conn, int server_id,
                             ks_batch_member_t *members, int count);

#endif
