/* kisekae_client.h: the site operations of the kisekae SOAP API for C, a thin
 * layer over the gSOAP client stubs generated from the API's kisekae.h.
 *
 * One function per site operation. Each takes a client, the operation's
 * arguments and a pointer to a plain C struct it fills, and returns 0, or -1
 * with err filled (err->code is the API's stable fault code, or one of the
 * client's own; see kisekae_error_t). Lists are a pointer and a count (the
 * pointer is NULL when the count is 0).
 *
 * Memory: everything a call hands out (strings, arrays, PNG bytes) belongs to
 * the client and stays valid until kisekae_client_clear() or
 * kisekae_client_free(): hold several answers at once, then clear when the
 * page (or job) that used them is done. Nothing is freed by the caller one by
 * one. A client is not thread-safe: use one per thread.
 *
 * A client holds a list of API URLs and fails over between them: a refused
 * connection (or a connect timeout: nothing was sent) moves ANY call to the
 * next URL; a reset or timeout after sending, an HTTP 5xx without a SOAP fault
 * or the DatabaseUnavailable fault move on only the calls that end the same
 * when sent twice (the reads, ChangeOutfit, GrantItem, RevokeItem). The others
 * (CreateAvatar, DeleteAvatar, RegenerateAvatar, CreateAlbumPhoto,
 * DeleteAlbumPhoto) fail with OutcomeUnknown: read the state again. The
 * client sticks to the URL that answered last and keeps its connection alive.
 */
#ifndef KISEKAE_CLIENT_H
#define KISEKAE_CLIENT_H

#include <stddef.h>
#include <time.h>

typedef struct kisekae_client kisekae_client_t;

/* Why a call failed. code is one of the API's stable fault codes (NotFound,
 * InvalidArgument, NotOwned, Conflict, Unauthorized, Forbidden, TooLarge,
 * ImageServerUnavailable, DatabaseUnavailable, Internal) or the client's own:
 * Unavailable (no API server answered), OutcomeUnknown (a call that is not
 * safe to repeat was sent and no answer came), Unauthorized (HTTP 401),
 * Protocol (an answer the API does not send), NoMemory. Branch on code;
 * message is for people. */
typedef struct {
    char code[32];
    char message[512];
    const char *operation;              /* "ChangeOutfit"... (static) */
    char url[256];                      /* the API URL that answered (or failed last) */
    int http_status;                    /* the HTTP status when one came, else 0 */
} kisekae_error_t;

typedef struct {
    const char *const *urls;            /* API URLs, tried in this order (copied) */
    int url_count;
    const char *user;                   /* the site's API credentials (HTTP Basic; copied) */
    const char *password;
    int connect_timeout_s;              /* to make a connection; 0: 10 s */
    int timeout_s;                      /* to send the call, and to receive the answer; 0: 30 s */
} kisekae_options_t;

typedef struct {
    int id;
    const char *name;
    int z_order;
    int exclusive, required;            /* 1 or 0 */
    int default_item_id;                /* 0: none */
} kisekae_category_t;

typedef struct {
    int layer_no, z_order, x, y, width, height;
    const char *sha256;
    int tintable;                       /* 1: recoloured when its item is worn with a colour */
    const char *role;                   /* what hide rules name; "" for none */
} kisekae_layer_t;

/* A tint: the colour a worn item's tintable layers are recoloured in. */
typedef struct {
    int item_id;
    const char *colour;                 /* "#RRGGBB" (answers give it uppercase) */
} kisekae_colour_t;

typedef struct {
    int id, category_id;
    const char *name;
    const char *status;                 /* draft | published | retired */
    int price;
    const kisekae_layer_t *layers;
    int layer_count;
} kisekae_item_t;

typedef struct {
    const char *user_id;
    int version;
    const char *image_server;
    const char *url;                    /* the image; the version is in the URL */
    const char *thumb_url;
    const int *worn_item_ids;
    int worn_count;
    const kisekae_colour_t *colours;    /* the worn items worn with a colour */
    int colour_count;
    const char *anim_url;               /* the APNG when it wears animated items; else NULL */
} kisekae_avatar_t;

typedef struct {
    int item_id, category_id;
    const char *name;
    const char *status;
    int worn;                           /* 1 or 0 */
    time_t granted_at;
} kisekae_member_item_t;

typedef struct {
    int x, y;                           /* top-left corner of an avatar on the scene */
} kisekae_slot_t;

typedef struct {
    int id;
    const char *name;
    int width, height;
    const char *sha256;
    const kisekae_slot_t *slots;        /* slot 0: the member's own */
    int slot_count;
} kisekae_scene_t;

typedef struct {
    int slot;
    const char *user_id;
    int avatar_version;
} kisekae_album_member_t;

typedef struct {
    int id;
    const char *user_id;
    int scene_id;
    const char *caption;                /* NULL: none */
    const char *url;                    /* the JPEG */
    time_t created_at;
    const kisekae_album_member_t *members;
    int member_count;
} kisekae_photo_t;

/* Answers with a list in them. */
typedef struct { const kisekae_category_t *categories; int count; } kisekae_categories_t;
typedef struct { int total; const kisekae_item_t *items; int count; } kisekae_items_t;
typedef struct { const kisekae_scene_t *scenes; int count; } kisekae_scenes_t;
typedef struct {
    const kisekae_avatar_t *avatars;    /* in the order asked */
    int count;
    const char *const *missing_user_ids; /* ids that name no member */
    int missing_count;
} kisekae_avatars_t;
typedef struct { int total; const kisekae_member_item_t *items; int count; } kisekae_member_items_t;
typedef struct { int total; const kisekae_photo_t *photos; int count; } kisekae_photos_t;
typedef struct {
    const unsigned char *png;           /* PNG bytes */
    size_t png_size;
    const int *worn_item_ids;
    int worn_count;
    const kisekae_colour_t *colours;    /* with which colours */
    int colour_count;
} kisekae_preview_t;
typedef struct { int item_id; int already_owned; } kisekae_grant_t;
typedef struct { int item_id; int was_owned, was_worn; kisekae_avatar_t avatar; } kisekae_revoke_t;

/* A new client, or NULL with err filled. Free it with kisekae_client_free(). */
kisekae_client_t *kisekae_client_new(const kisekae_options_t *options, kisekae_error_t *err);

/* Frees the client, its connection and everything its calls handed out. */
void kisekae_client_free(kisekae_client_t *client);

/* Frees everything the client's calls handed out so far. */
void kisekae_client_clear(kisekae_client_t *client);

/* The URL the next call goes to first: the one that answered last. */
const char *kisekae_client_url(const kisekae_client_t *client);

/* ---- the site operations (see the API's kisekae.h for what each does) ----
 * Optional int arguments: 0 leaves them out (limit 0: the API's default). */

/* Every category; with name (not NULL), only the category of that name. */
int kisekae_list_categories(kisekae_client_t *client, const char *name, kisekae_categories_t *out,
                            kisekae_error_t *err);
/* Published items, a page at a time; category_id 0: all. */
int kisekae_list_items(kisekae_client_t *client, int category_id, int offset, int limit,
                       kisekae_items_t *out, kisekae_error_t *err);
int kisekae_get_item(kisekae_client_t *client, int item_id, kisekae_item_t *out,
                     kisekae_error_t *err);
int kisekae_list_scenes(kisekae_client_t *client, kisekae_scenes_t *out, kisekae_error_t *err);
/* image_server NULL: the API picks one. */
int kisekae_create_avatar(kisekae_client_t *client, const char *user_id, const char *image_server,
                          kisekae_avatar_t *out, kisekae_error_t *err);
/* min_version > 0: never an answer older than that version. */
int kisekae_get_avatar(kisekae_client_t *client, const char *user_id, int min_version,
                       kisekae_avatar_t *out, kisekae_error_t *err);
int kisekae_get_avatars(kisekae_client_t *client, const char *const *user_ids, int count,
                        kisekae_avatars_t *out, kisekae_error_t *err);
/* album_photos_deleted may be NULL. */
int kisekae_delete_avatar(kisekae_client_t *client, const char *user_id,
                          int *album_photos_deleted, kisekae_error_t *err);
/* colours (tints): "#RRGGBB" for worn items with a tintable layer, kept while
 * the item stays on; NULL, 0: none. A colour of another form fails with
 * InvalidArgument before anything is sent. */
int kisekae_change_outfit(kisekae_client_t *client, const char *user_id, const int *wear,
                          int wear_count, const int *remove, int remove_count,
                          const kisekae_colour_t *colours, int colour_count,
                          kisekae_avatar_t *out, kisekae_error_t *err);
int kisekae_preview_avatar(kisekae_client_t *client, const char *user_id, const int *wear,
                           int wear_count, const int *remove, int remove_count,
                           const kisekae_colour_t *colours, int colour_count,
                           kisekae_preview_t *out, kisekae_error_t *err);
int kisekae_regenerate_avatar(kisekae_client_t *client, const char *user_id,
                              kisekae_avatar_t *out, kisekae_error_t *err);
int kisekae_grant_item(kisekae_client_t *client, const char *user_id, int item_id,
                       kisekae_grant_t *out, kisekae_error_t *err);
int kisekae_revoke_item(kisekae_client_t *client, const char *user_id, int item_id,
                        kisekae_revoke_t *out, kisekae_error_t *err);
int kisekae_list_member_items(kisekae_client_t *client, const char *user_id, int category_id,
                              int offset, int limit, kisekae_member_items_t *out,
                              kisekae_error_t *err);
/* friends: up to 4 user ids; caption NULL: none. */
int kisekae_create_album_photo(kisekae_client_t *client, const char *user_id, int scene_id,
                               const char *const *friends, int friend_count, const char *caption,
                               kisekae_photo_t *out, kisekae_error_t *err);
int kisekae_list_album_photos(kisekae_client_t *client, const char *user_id, int offset, int limit,
                              kisekae_photos_t *out, kisekae_error_t *err);
int kisekae_delete_album_photo(kisekae_client_t *client, const char *user_id, int photo_id,
                               kisekae_error_t *err);

/* The colour item_id is worn in among colours (an avatar's or a preview's),
 * or NULL. */
const char *kisekae_colour_of(const kisekae_colour_t *colours, int count, int item_id);

/* ---- webhooks ----
 * The API POSTs each event to a site's webhook as a JSON body with the header
 * X-Kisekae-Signature: "t=<unix time>,v1=<hex HMAC-SHA256>", the HMAC under
 * the webhook's secret (given to RegisterWebhook) of "<unix time>.<body>". */

#define KISEKAE_WEBHOOK_TOLERANCE 300   /* seconds, the default tolerance */

/* 1 when signature (the X-Kisekae-Signature value) signs the RAW body (the
 * bytes received) under secret at a time at most tolerance_s seconds from
 * now, else 0. tolerance_s 0: KISEKAE_WEBHOOK_TOLERANCE; now 0: the clock.
 * The signature is compared in constant time (libsodium); a header not of
 * the form "t=...,v1=..." is refused. De-duplicate events by their id.
 * (libsodium is the only library it needs besides gSOAP.) */
int kisekae_webhook_verify(const void *body, size_t body_size, const char *signature,
                           const char *secret, long tolerance_s, time_t now);

#endif
