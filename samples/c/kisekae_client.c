/* kisekae_client.c: the site operations of the kisekae SOAP API over the
 * gSOAP client stubs (soapClient.c, soapC.c from `soapcpp2 -c kisekae.h`);
 * see kisekae_client.h for the interface.
 *
 * Each public function fills a request_t (the operation and its arguments),
 * runs it with call() and turns the gSOAP answer into the header's plain
 * structs, copied into the client's arena (a list of malloc'd blocks freed by
 * kisekae_client_clear). call() sends the request to the URLs from the one
 * that answered last on and decides, from what went wrong, whether the next
 * URL may be tried: see classify() and the repeatable column of operations[].
 * gSOAP's own memory is freed before every attempt (soap_end), so nothing of
 * it is handed out.
 */
#define _POSIX_C_SOURCE 200809L         /* strdup */

#include "kisekae_client.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "Kisekae.nsmap"

/* A block of the arena. */
typedef struct block {
    struct block *next;
    max_align_t data[];
} block_t;

struct kisekae_client {
    struct soap *soap;
    char **urls;
    int url_count;
    int preferred;                      /* index of the URL that answered last */
    char *user, *password;
    /* gSOAP's own connect function, which open_socket() wraps to learn
     * whether the last attempt failed before anything was sent */
    SOAP_SOCKET (*open)(struct soap *, const char *, const char *, int);
    int connect_failed;
    block_t *blocks;                    /* the arena: what calls handed out */
    int out_of_memory;                  /* set by the arena while an answer is copied */
};

typedef enum {
    LIST_CATEGORIES, LIST_ITEMS, GET_ITEM, LIST_SCENES, CREATE_AVATAR, GET_AVATAR, GET_AVATARS,
    DELETE_AVATAR, CHANGE_OUTFIT, PREVIEW_AVATAR, REGENERATE_AVATAR, GRANT_ITEM, REVOKE_ITEM,
    LIST_MEMBER_ITEMS, CREATE_ALBUM_PHOTO, LIST_ALBUM_PHOTOS, DELETE_ALBUM_PHOTO
} op_t;

/* repeatable: the call ends the same when the API gets it twice, so it may
 * be sent to the next URL after it was lost (reset, timeout, HTTP 5xx without
 * a fault) or answered DatabaseUnavailable. */
static const struct {
    const char *name;
    int repeatable;
} operations[] = {
    [LIST_CATEGORIES] = {"ListCategories", 1},
    [LIST_ITEMS] = {"ListItems", 1},
    [GET_ITEM] = {"GetItem", 1},
    [LIST_SCENES] = {"ListScenes", 1},
    [CREATE_AVATAR] = {"CreateAvatar", 0},
    [GET_AVATAR] = {"GetAvatar", 1},
    [GET_AVATARS] = {"GetAvatars", 1},
    [DELETE_AVATAR] = {"DeleteAvatar", 0},
    [CHANGE_OUTFIT] = {"ChangeOutfit", 1},
    [PREVIEW_AVATAR] = {"PreviewAvatar", 1},
    [REGENERATE_AVATAR] = {"RegenerateAvatar", 0},
    [GRANT_ITEM] = {"GrantItem", 1},
    [REVOKE_ITEM] = {"RevokeItem", 1},
    [LIST_MEMBER_ITEMS] = {"ListMemberItems", 1},
    [CREATE_ALBUM_PHOTO] = {"CreateAlbumPhoto", 0},
    [LIST_ALBUM_PHOTOS] = {"ListAlbumPhotos", 1},
    [DELETE_ALBUM_PHOTO] = {"DeleteAlbumPhoto", 0},
};

/* One call: the operation, its arguments (gSOAP's stubs take non-const
 * pointers; they do not write through them) and gSOAP's answer. */
typedef struct {
    op_t op;
    char *user_id;
    char *text;                         /* name, image server or caption; NULL: left out */
    int id;                             /* item, scene or photo id */
    int category_id, offset, limit, min_version;   /* 0: left out */
    int *wear, *remove;
    int wear_count, remove_count;
    struct ks__ItemColour *colours;     /* ChangeOutfit's, PreviewAvatar's colour list */
    int colour_count;
    char **ids;                         /* GetAvatars' user ids, CreateAlbumPhoto's friends */
    int id_count;
    union {
        struct ks__ListCategoriesResponse list_categories;
        struct ks__ListItemsResponse list_items;
        struct ks__GetItemResponse get_item;
        struct ks__ListScenesResponse list_scenes;
        struct ks__CreateAvatarResponse create_avatar;
        struct ks__GetAvatarResponse get_avatar;
        struct ks__GetAvatarsResponse get_avatars;
        struct ks__DeleteAvatarResponse delete_avatar;
        struct ks__ChangeOutfitResponse change_outfit;
        struct ks__PreviewAvatarResponse preview_avatar;
        struct ks__RegenerateAvatarResponse regenerate_avatar;
        struct ks__GrantItemResponse grant_item;
        struct ks__RevokeItemResponse revoke_item;
        struct ks__ListMemberItemsResponse list_member_items;
        struct ks__CreateAlbumPhotoResponse create_album_photo;
        struct ks__ListAlbumPhotosResponse list_album_photos;
        struct ks__DeleteAlbumPhotoResponse delete_album_photo;
    } answer;
} request_t;

static int fail(kisekae_error_t *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err (code, message) and returns -1. */
static int fail(kisekae_error_t *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    snprintf(err->code, sizeof err->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the arena ----------------------------------------------------------------- */

static void *arena_alloc(kisekae_client_t *client, size_t size)
{
    block_t *block = calloc(1, sizeof *block + size);

    if (!block) {
        client->out_of_memory = 1;
        return NULL;
    }
    block->next = client->blocks;
    client->blocks = block;
    return block->data;
}

/* A copy of s in the arena; NULL for NULL (and when memory runs out). */
static const char *arena_str(kisekae_client_t *client, const char *s)
{
    size_t size = s ? strlen(s) + 1 : 0;
    char *copy = s ? arena_alloc(client, size) : NULL;

    if (copy)
        memcpy(copy, s, size);
    return copy;
}

/* A copy of count elements of size bytes; NULL when count is 0. */
static void *arena_copy(kisekae_client_t *client, const void *src, int count, size_t size)
{
    void *copy = count > 0 && src ? arena_alloc(client, (size_t)count * size) : NULL;

    if (copy)
        memcpy(copy, src, (size_t)count * size);
    return copy;
}

/* count zeroed elements of size bytes, or NULL when count is 0. */
static void *arena_array(kisekae_client_t *client, int count, size_t size)
{
    return count > 0 ? arena_alloc(client, (size_t)count * size) : NULL;
}

/* ---- gSOAP's answers as the header's structs --------------------------------------- */

/* The wornColour list of an answer; *count is 0 when there is none. */
static const kisekae_colour_t *colours_from(kisekae_client_t *client,
                                            const struct ks__ItemColour *c, int n, int *count)
{
    kisekae_colour_t *colours = arena_array(client, n, sizeof *colours);

    for (int i = 0; colours && i < n; i++)
        colours[i] = (kisekae_colour_t){c[i].itemId, arena_str(client, c[i].colour)};
    *count = colours ? n : 0;
    return colours;
}

static void avatar_from(kisekae_client_t *client, const struct ks__Avatar *a,
                        kisekae_avatar_t *out)
{
    out->user_id = arena_str(client, a->userId);
    out->version = a->version;
    out->image_server = arena_str(client, a->imageServer);
    out->url = arena_str(client, a->url);
    out->thumb_url = arena_str(client, a->thumbUrl);
    out->worn_item_ids = arena_copy(client, a->wornItemId, a->__sizewornItemId, sizeof(int));
    out->worn_count = out->worn_item_ids ? a->__sizewornItemId : 0;
    out->colours = colours_from(client, a->wornColour, a->__sizewornColour, &out->colour_count);
    out->anim_url = arena_str(client, a->animUrl);
}

static void item_from(kisekae_client_t *client, const struct ks__Item *item, kisekae_item_t *out)
{
    kisekae_layer_t *layers = arena_array(client, item->__sizelayer, sizeof *layers);

    out->id = item->id;
    out->category_id = item->categoryId;
    out->name = arena_str(client, item->name);
    out->status = arena_str(client, item->status);
    out->price = item->price;
    for (int i = 0; layers && i < item->__sizelayer; i++) {
        const struct ks__Layer *l = &item->layer[i];
        layers[i] = (kisekae_layer_t){l->layerNo, l->zOrder, l->x, l->y, l->width, l->height,
                                      arena_str(client, l->sha256), l->tintable == true_,
                                      arena_str(client, l->role ? l->role : "")};
    }
    out->layers = layers;
    out->layer_count = layers ? item->__sizelayer : 0;
}

static void scene_from(kisekae_client_t *client, const struct ks__Scene *scene,
                       kisekae_scene_t *out)
{
    kisekae_slot_t *slots = arena_array(client, scene->__sizeslot, sizeof *slots);

    out->id = scene->id;
    out->name = arena_str(client, scene->name);
    out->width = scene->width;
    out->height = scene->height;
    out->sha256 = arena_str(client, scene->sha256);
    for (int i = 0; slots && i < scene->__sizeslot; i++)
        slots[i] = (kisekae_slot_t){scene->slot[i].x, scene->slot[i].y};
    out->slots = slots;
    out->slot_count = slots ? scene->__sizeslot : 0;
}

static void photo_from(kisekae_client_t *client, const struct ks__AlbumPhoto *photo,
                       kisekae_photo_t *out)
{
    kisekae_album_member_t *members = arena_array(client, photo->__sizemember, sizeof *members);

    out->id = photo->id;
    out->user_id = arena_str(client, photo->userId);
    out->scene_id = photo->sceneId;
    out->caption = arena_str(client, photo->caption);
    out->url = arena_str(client, photo->url);
    out->created_at = photo->createdAt;
    for (int i = 0; members && i < photo->__sizemember; i++) {
        const struct ks__AlbumMember *m = &photo->member[i];
        members[i] = (kisekae_album_member_t){m->slot, arena_str(client, m->userId),
                                              m->avatarVersion};
    }
    out->members = members;
    out->member_count = members ? photo->__sizemember : 0;
}

/* ---- sending a request, failover -------------------------------------------------- */

static int *opt(int *value)
{
    return *value ? value : NULL;
}

/* One attempt of q at url; returns gSOAP's status. */
static int send_request(struct soap *soap, const char *url, request_t *q)
{
    switch (q->op) {
    case LIST_CATEGORIES:
        return soap_call_ks__ListCategories(soap, url, NULL, q->text, &q->answer.list_categories);
    case LIST_ITEMS:
        return soap_call_ks__ListItems(soap, url, NULL, opt(&q->category_id), opt(&q->offset),
                                       opt(&q->limit), &q->answer.list_items);
    case GET_ITEM:
        return soap_call_ks__GetItem(soap, url, NULL, q->id, &q->answer.get_item);
    case LIST_SCENES:
        return soap_call_ks__ListScenes(soap, url, NULL, &q->answer.list_scenes);
    case CREATE_AVATAR:
        return soap_call_ks__CreateAvatar(soap, url, NULL, q->user_id, q->text,
                                          &q->answer.create_avatar);
    case GET_AVATAR:
        return soap_call_ks__GetAvatar(soap, url, NULL, q->user_id, opt(&q->min_version),
                                       &q->answer.get_avatar);
    case GET_AVATARS:
        return soap_call_ks__GetAvatars(soap, url, NULL, q->id_count, q->ids,
                                        &q->answer.get_avatars);
    case DELETE_AVATAR:
        return soap_call_ks__DeleteAvatar(soap, url, NULL, q->user_id, &q->answer.delete_avatar);
    case CHANGE_OUTFIT:
        return soap_call_ks__ChangeOutfit(soap, url, NULL, q->user_id, q->wear_count, q->wear,
                                          q->remove_count, q->remove, q->colour_count,
                                          q->colours, &q->answer.change_outfit);
    case PREVIEW_AVATAR:
        return soap_call_ks__PreviewAvatar(soap, url, NULL, q->user_id, q->wear_count, q->wear,
                                           q->remove_count, q->remove, q->colour_count,
                                           q->colours, &q->answer.preview_avatar);
    case REGENERATE_AVATAR:
        return soap_call_ks__RegenerateAvatar(soap, url, NULL, q->user_id,
                                              &q->answer.regenerate_avatar);
    case GRANT_ITEM:
        return soap_call_ks__GrantItem(soap, url, NULL, q->user_id, q->id, &q->answer.grant_item);
    case REVOKE_ITEM:
        return soap_call_ks__RevokeItem(soap, url, NULL, q->user_id, q->id,
                                        &q->answer.revoke_item);
    case LIST_MEMBER_ITEMS:
        return soap_call_ks__ListMemberItems(soap, url, NULL, q->user_id, opt(&q->category_id),
                                             opt(&q->offset), opt(&q->limit),
                                             &q->answer.list_member_items);
    case CREATE_ALBUM_PHOTO:
        return soap_call_ks__CreateAlbumPhoto(soap, url, NULL, q->user_id, q->id, q->id_count,
                                              q->ids, q->text, &q->answer.create_album_photo);
    case LIST_ALBUM_PHOTOS:
        return soap_call_ks__ListAlbumPhotos(soap, url, NULL, q->user_id, opt(&q->offset),
                                             opt(&q->limit), &q->answer.list_album_photos);
    case DELETE_ALBUM_PHOTO:
        return soap_call_ks__DeleteAlbumPhoto(soap, url, NULL, q->user_id, q->id,
                                              &q->answer.delete_album_photo);
    }
    return soap->error = SOAP_ERR;
}

/* gSOAP's connect, noting whether it failed: then nothing was sent. (A call
 * on a kept-alive connection does not come here: it was sent.) */
static SOAP_SOCKET open_socket(struct soap *soap, const char *endpoint, const char *host, int port)
{
    kisekae_client_t *client = soap->user;
    SOAP_SOCKET socket = client->open(soap, endpoint, host, port);

    client->connect_failed = !soap_valid_socket(socket);
    return socket;
}

typedef enum {
    FAULT,                              /* a SOAP fault came back */
    REFUSED,                            /* no connection: nothing was sent */
    LOST,                               /* sent; then a reset, a timeout, an HTTP 5xx
                                         * without a fault, an answer that does not parse */
    HTTP                                /* another HTTP status without a fault (401, 404...) */
} outcome_t;

static outcome_t classify(kisekae_client_t *client)
{
    int error = client->soap->error;

    if (client->connect_failed)
        return REFUSED;
    if (error == SOAP_CLI_FAULT || error == SOAP_SVR_FAULT || error == SOAP_FAULT)
        return FAULT;
    if (error >= 100 && error < 600)
        return error >= 500 ? LOST : HTTP;
    return LOST;
}

/* The KisekaeFault of the last answer, or NULL. */
static const struct ks__KisekaeFault *kisekae_fault(struct soap *soap)
{
    if (soap->fault && soap->fault->detail && soap->fault->detail->ks__KisekaeFault &&
        soap->fault->detail->ks__KisekaeFault->code)
        return soap->fault->detail->ks__KisekaeFault;
    return NULL;
}

/* What gSOAP says about a failed attempt ("connect failed in tcp_connect()"...). */
static void describe(struct soap *soap, char *buf, size_t size)
{
    const char *string = soap_fault_string(soap), *detail = soap_fault_detail(soap);

    if (soap->error >= 100 && soap->error < 600)
        snprintf(buf, size, "HTTP %d", soap->error);
    else if (soap->error == SOAP_EOF && !string)
        snprintf(buf, size, "the connection was closed or timed out");
    else
        snprintf(buf, size, "%s%s%s (gSOAP error %d)", string ? string : "no answer",
                 detail ? ": " : "", detail ? detail : "", soap->error);
}

/* Runs q against the URLs from the one that answered last on: the next URL
 * when the connection was refused (any call), or, for a repeatable call, when
 * it was lost or answered DatabaseUnavailable. Returns 0 with q->answer
 * filled, or -1 with err filled. */
static int call(kisekae_client_t *client, request_t *q, kisekae_error_t *err)
{
    struct soap *soap = client->soap;
    const char *operation = operations[q->op].name;
    char failures[sizeof err->message - 64] = "", why[256];
    size_t used = 0;

    memset(err, 0, sizeof *err);
    err->operation = operation;
    for (int i = 0; i < client->url_count; i++) {
        int index = (client->preferred + i) % client->url_count;
        const char *url = client->urls[index];
        const struct ks__KisekaeFault *fault;
        outcome_t outcome;

        /* each attempt starts clean; gSOAP clears the credentials after
         * every call */
        soap_destroy(soap);
        soap_end(soap);
        soap->userid = client->user;
        soap->passwd = client->password;
        client->connect_failed = 0;
        memset(&q->answer, 0, sizeof q->answer);
        snprintf(err->url, sizeof err->url, "%s", url);
        if (send_request(soap, url, q) == SOAP_OK) {
            client->preferred = index;
            return 0;
        }
        outcome = classify(client);
        err->http_status = soap->error >= 100 && soap->error < 600 ? soap->error : 0;
        fault = outcome == FAULT ? kisekae_fault(soap) : NULL;
        if (outcome == FAULT && !(fault && !strcmp(fault->code, "DatabaseUnavailable") &&
                                  operations[q->op].repeatable)) {
            client->preferred = index;
            if (fault)
                return fail(err, fault->code, "%s", fault->message ? fault->message : "");
            describe(soap, why, sizeof why);
            return fail(err, "Protocol", "a fault without a KisekaeFault: %s", why);
        }
        if (outcome == HTTP) {
            client->preferred = index;
            return fail(err, soap->error == 401 ? "Unauthorized" : "Protocol", "HTTP %d",
                        soap->error);
        }
        describe(soap, why, sizeof why);
        if (outcome == LOST && !operations[q->op].repeatable)
            return fail(err, "OutcomeUnknown",
                        "sent, but no answer came (%s); read the state again", why);
        if (used < sizeof failures) {
            int n = snprintf(failures + used, sizeof failures - used, "%s%s: %s",
                             used ? "; " : "", url, why);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    return fail(err, "Unavailable", "no API server answered: %s", failures);
}

/* After a call: the answer's pointer that must be there, and the arena's state. */
static int answered(kisekae_client_t *client, const void *required, kisekae_error_t *err)
{
    if (!required)
        return fail(err, "Protocol", "the answer misses its main element");
    if (client->out_of_memory) {
        client->out_of_memory = 0;
        return fail(err, "NoMemory", "out of memory for the answer");
    }
    return 0;
}

/* ---- the client ------------------------------------------------------------------- */

static char *copy_string(const char *s)
{
    return s ? strdup(s) : NULL;
}

kisekae_client_t *kisekae_client_new(const kisekae_options_t *options, kisekae_error_t *err)
{
    kisekae_client_t *client;

    memset(err, 0, sizeof *err);
    err->operation = "kisekae_client_new";
    if (!options || options->url_count <= 0 || !options->urls || !options->user ||
        !options->password) {
        fail(err, "InvalidArgument", "urls, user and password are required");
        return NULL;
    }
    client = calloc(1, sizeof *client);
    if (!client || !(client->urls = calloc((size_t)options->url_count, sizeof(char *))) ||
        !(client->soap = soap_new1(SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING))) {
        kisekae_client_free(client);
        fail(err, "NoMemory", "out of memory for a client");
        return NULL;
    }
    for (int i = 0; i < options->url_count; i++)
        if (!(client->urls[client->url_count++] = copy_string(options->urls[i]))) {
            kisekae_client_free(client);
            fail(err, "NoMemory", "out of memory for a client");
            return NULL;
        }
    client->user = copy_string(options->user);
    client->password = copy_string(options->password);
    if (!client->user || !client->password) {
        kisekae_client_free(client);
        fail(err, "NoMemory", "out of memory for a client");
        return NULL;
    }
    soap_set_namespaces(client->soap, namespaces);
    client->soap->user = client;
    client->open = client->soap->fopen;
    client->soap->fopen = open_socket;
    client->soap->connect_timeout = options->connect_timeout_s > 0 ? options->connect_timeout_s
                                                                   : 10;
    client->soap->send_timeout = options->timeout_s > 0 ? options->timeout_s : 30;
    client->soap->recv_timeout = client->soap->send_timeout;
    client->soap->transfer_timeout = client->soap->send_timeout;
    return client;
}

void kisekae_client_clear(kisekae_client_t *client)
{
    while (client->blocks) {
        block_t *next = client->blocks->next;
        free(client->blocks);
        client->blocks = next;
    }
    soap_destroy(client->soap);
    soap_end(client->soap);
}

void kisekae_client_free(kisekae_client_t *client)
{
    if (!client)
        return;
    if (client->soap) {
        kisekae_client_clear(client);
        soap_free(client->soap);    /* closes the kept-alive connection */
    }
    for (int i = 0; i < client->url_count; i++)
        free(client->urls[i]);
    free(client->urls);
    free(client->user);
    free(client->password);
    free(client);
}

const char *kisekae_client_url(const kisekae_client_t *client)
{
    return client->urls[client->preferred];
}

/* ---- the site operations ------------------------------------------------------------ */

int kisekae_list_categories(kisekae_client_t *client, const char *name, kisekae_categories_t *out,
                            kisekae_error_t *err)
{
    request_t q = {.op = LIST_CATEGORIES, .text = (char *)name};
    const struct ks__ListCategoriesResponse *a = &q.answer.list_categories;
    kisekae_category_t *categories;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    categories = arena_array(client, a->__sizecategory, sizeof *categories);
    for (int i = 0; categories && i < a->__sizecategory; i++) {
        const struct ks__Category *c = &a->category[i];
        categories[i] = (kisekae_category_t){c->id, arena_str(client, c->name), c->zOrder,
                                             c->exclusive == true_, c->required == true_,
                                             c->defaultItemId ? *c->defaultItemId : 0};
    }
    out->categories = categories;
    out->count = categories ? a->__sizecategory : 0;
    return answered(client, out, err);
}

int kisekae_list_items(kisekae_client_t *client, int category_id, int offset, int limit,
                       kisekae_items_t *out, kisekae_error_t *err)
{
    request_t q = {.op = LIST_ITEMS, .category_id = category_id, .offset = offset, .limit = limit};
    const struct ks__ListItemsResponse *a = &q.answer.list_items;
    kisekae_item_t *items;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    items = arena_array(client, a->__sizeitem, sizeof *items);
    for (int i = 0; items && i < a->__sizeitem; i++)
        item_from(client, &a->item[i], &items[i]);
    out->total = a->total;
    out->items = items;
    out->count = items ? a->__sizeitem : 0;
    return answered(client, out, err);
}

int kisekae_get_item(kisekae_client_t *client, int item_id, kisekae_item_t *out,
                     kisekae_error_t *err)
{
    request_t q = {.op = GET_ITEM, .id = item_id};

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    if (q.answer.get_item.item)
        item_from(client, q.answer.get_item.item, out);
    return answered(client, q.answer.get_item.item, err);
}

int kisekae_list_scenes(kisekae_client_t *client, kisekae_scenes_t *out, kisekae_error_t *err)
{
    request_t q = {.op = LIST_SCENES};
    const struct ks__ListScenesResponse *a = &q.answer.list_scenes;
    kisekae_scene_t *scenes;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    scenes = arena_array(client, a->__sizescene, sizeof *scenes);
    for (int i = 0; scenes && i < a->__sizescene; i++)
        scene_from(client, &a->scene[i], &scenes[i]);
    out->scenes = scenes;
    out->count = scenes ? a->__sizescene : 0;
    return answered(client, out, err);
}

/* The avatar of an answer that holds one. */
static int avatar_answer(kisekae_client_t *client, request_t *q, struct ks__Avatar *const *avatar,
                         kisekae_avatar_t *out, kisekae_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (call(client, q, err) != 0)
        return -1;
    if (*avatar)
        avatar_from(client, *avatar, out);
    return answered(client, *avatar, err);
}

int kisekae_create_avatar(kisekae_client_t *client, const char *user_id, const char *image_server,
                          kisekae_avatar_t *out, kisekae_error_t *err)
{
    request_t q = {.op = CREATE_AVATAR, .user_id = (char *)user_id, .text = (char *)image_server};
    return avatar_answer(client, &q, &q.answer.create_avatar.avatar, out, err);
}

int kisekae_get_avatar(kisekae_client_t *client, const char *user_id, int min_version,
                       kisekae_avatar_t *out, kisekae_error_t *err)
{
    request_t q = {.op = GET_AVATAR, .user_id = (char *)user_id, .min_version = min_version};
    return avatar_answer(client, &q, &q.answer.get_avatar.avatar, out, err);
}

int kisekae_get_avatars(kisekae_client_t *client, const char *const *user_ids, int count,
                        kisekae_avatars_t *out, kisekae_error_t *err)
{
    request_t q = {.op = GET_AVATARS, .ids = (char **)user_ids, .id_count = count};
    const struct ks__GetAvatarsResponse *a = &q.answer.get_avatars;
    kisekae_avatar_t *avatars;
    const char **missing;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    avatars = arena_array(client, a->__sizeavatar, sizeof *avatars);
    for (int i = 0; avatars && i < a->__sizeavatar; i++)
        avatar_from(client, &a->avatar[i], &avatars[i]);
    missing = arena_array(client, a->__sizemissingUserId, sizeof *missing);
    for (int i = 0; missing && i < a->__sizemissingUserId; i++)
        missing[i] = arena_str(client, a->missingUserId[i]);
    out->avatars = avatars;
    out->count = avatars ? a->__sizeavatar : 0;
    out->missing_user_ids = missing;
    out->missing_count = missing ? a->__sizemissingUserId : 0;
    return answered(client, out, err);
}

int kisekae_delete_avatar(kisekae_client_t *client, const char *user_id,
                          int *album_photos_deleted, kisekae_error_t *err)
{
    request_t q = {.op = DELETE_AVATAR, .user_id = (char *)user_id};

    if (call(client, &q, err) != 0)
        return -1;
    if (album_photos_deleted)
        *album_photos_deleted = q.answer.delete_avatar.albumPhotosDeleted;
    return 0;
}

/* colours as the stubs' colour list in q (in the arena), each checked to be
 * "#RRGGBB"; -1 with InvalidArgument (nothing sent) otherwise. */
static int colour_list(kisekae_client_t *client, request_t *q, const kisekae_colour_t *colours,
                       int count, kisekae_error_t *err)
{
    struct ks__ItemColour *list = arena_array(client, count, sizeof *list);

    memset(err, 0, sizeof *err);
    err->operation = operations[q->op].name;
    for (int i = 0; i < count; i++) {
        const char *c = colours[i].colour;
        size_t digits = c && c[0] == '#' ? strspn(c + 1, "0123456789ABCDEFabcdef") : 0;
        if (digits != 6 || c[7] != '\0')
            return fail(err, "InvalidArgument",
                        "the colour of item %d must be \"#RRGGBB\" (six hex digits), not \"%s\"",
                        colours[i].item_id, c ? c : "(null)");
        if (!list) {
            client->out_of_memory = 0;
            return fail(err, "NoMemory", "out of memory");
        }
        list[i] = (struct ks__ItemColour){colours[i].item_id, (char *)c};
    }
    q->colours = list;
    q->colour_count = count > 0 ? count : 0;
    return 0;
}

int kisekae_change_outfit(kisekae_client_t *client, const char *user_id, const int *wear,
                          int wear_count, const int *remove, int remove_count,
                          const kisekae_colour_t *colours, int colour_count,
                          kisekae_avatar_t *out, kisekae_error_t *err)
{
    request_t q = {.op = CHANGE_OUTFIT, .user_id = (char *)user_id, .wear = (int *)wear,
                   .wear_count = wear_count, .remove = (int *)remove,
                   .remove_count = remove_count};

    memset(out, 0, sizeof *out);
    if (colour_list(client, &q, colours, colour_count, err) != 0)
        return -1;
    return avatar_answer(client, &q, &q.answer.change_outfit.avatar, out, err);
}

int kisekae_preview_avatar(kisekae_client_t *client, const char *user_id, const int *wear,
                           int wear_count, const int *remove, int remove_count,
                           const kisekae_colour_t *colours, int colour_count,
                           kisekae_preview_t *out, kisekae_error_t *err)
{
    request_t q = {.op = PREVIEW_AVATAR, .user_id = (char *)user_id, .wear = (int *)wear,
                   .wear_count = wear_count, .remove = (int *)remove,
                   .remove_count = remove_count};
    const struct ks__PreviewAvatarResponse *a = &q.answer.preview_avatar;

    memset(out, 0, sizeof *out);
    if (colour_list(client, &q, colours, colour_count, err) != 0 || call(client, &q, err) != 0)
        return -1;
    out->png = arena_copy(client, a->png.__ptr, a->png.__size, 1);
    out->png_size = out->png ? (size_t)a->png.__size : 0;
    out->worn_item_ids = arena_copy(client, a->wornItemId, a->__sizewornItemId, sizeof(int));
    out->worn_count = out->worn_item_ids ? a->__sizewornItemId : 0;
    out->colours = colours_from(client, a->wornColour, a->__sizewornColour, &out->colour_count);
    return answered(client, out->png, err);
}

const char *kisekae_colour_of(const kisekae_colour_t *colours, int count, int item_id)
{
    for (int i = 0; i < count; i++)
        if (colours[i].item_id == item_id)
            return colours[i].colour;
    return NULL;
}

int kisekae_regenerate_avatar(kisekae_client_t *client, const char *user_id,
                              kisekae_avatar_t *out, kisekae_error_t *err)
{
    request_t q = {.op = REGENERATE_AVATAR, .user_id = (char *)user_id};
    return avatar_answer(client, &q, &q.answer.regenerate_avatar.avatar, out, err);
}

int kisekae_grant_item(kisekae_client_t *client, const char *user_id, int item_id,
                       kisekae_grant_t *out, kisekae_error_t *err)
{
    request_t q = {.op = GRANT_ITEM, .user_id = (char *)user_id, .id = item_id};

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    out->item_id = q.answer.grant_item.itemId;
    out->already_owned = q.answer.grant_item.alreadyOwned == true_;
    return 0;
}

int kisekae_revoke_item(kisekae_client_t *client, const char *user_id, int item_id,
                        kisekae_revoke_t *out, kisekae_error_t *err)
{
    request_t q = {.op = REVOKE_ITEM, .user_id = (char *)user_id, .id = item_id};
    const struct ks__RevokeItemResponse *a = &q.answer.revoke_item;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    out->item_id = a->itemId;
    out->was_owned = a->wasOwned == true_;
    out->was_worn = a->wasWorn == true_;
    if (a->avatar)
        avatar_from(client, a->avatar, &out->avatar);
    return answered(client, a->avatar, err);
}

int kisekae_list_member_items(kisekae_client_t *client, const char *user_id, int category_id,
                              int offset, int limit, kisekae_member_items_t *out,
                              kisekae_error_t *err)
{
    request_t q = {.op = LIST_MEMBER_ITEMS, .user_id = (char *)user_id,
                   .category_id = category_id, .offset = offset, .limit = limit};
    const struct ks__ListMemberItemsResponse *a = &q.answer.list_member_items;
    kisekae_member_item_t *items;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    items = arena_array(client, a->__sizeitem, sizeof *items);
    for (int i = 0; items && i < a->__sizeitem; i++) {
        const struct ks__MemberItem *m = &a->item[i];
        items[i] = (kisekae_member_item_t){m->itemId, m->categoryId, arena_str(client, m->name),
                                           arena_str(client, m->status), m->worn == true_,
                                           m->grantedAt};
    }
    out->total = a->total;
    out->items = items;
    out->count = items ? a->__sizeitem : 0;
    return answered(client, out, err);
}

int kisekae_create_album_photo(kisekae_client_t *client, const char *user_id, int scene_id,
                               const char *const *friends, int friend_count, const char *caption,
                               kisekae_photo_t *out, kisekae_error_t *err)
{
    request_t q = {.op = CREATE_ALBUM_PHOTO, .user_id = (char *)user_id, .id = scene_id,
                   .ids = (char **)friends, .id_count = friend_count, .text = (char *)caption};
    const struct ks__AlbumPhoto *photo;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    photo = q.answer.create_album_photo.photo;
    if (photo)
        photo_from(client, photo, out);
    return answered(client, photo, err);
}

int kisekae_list_album_photos(kisekae_client_t *client, const char *user_id, int offset, int limit,
                              kisekae_photos_t *out, kisekae_error_t *err)
{
    request_t q = {.op = LIST_ALBUM_PHOTOS, .user_id = (char *)user_id, .offset = offset,
                   .limit = limit};
    const struct ks__ListAlbumPhotosResponse *a = &q.answer.list_album_photos;
    kisekae_photo_t *photos;

    memset(out, 0, sizeof *out);
    if (call(client, &q, err) != 0)
        return -1;
    photos = arena_array(client, a->__sizephoto, sizeof *photos);
    for (int i = 0; photos && i < a->__sizephoto; i++)
        photo_from(client, &a->photo[i], &photos[i]);
    out->total = a->total;
    out->photos = photos;
    out->count = photos ? a->__sizephoto : 0;
    return answered(client, out, err);
}

int kisekae_delete_album_photo(kisekae_client_t *client, const char *user_id, int photo_id,
                               kisekae_error_t *err)
{
    request_t q = {.op = DELETE_ALBUM_PHOTO, .user_id = (char *)user_id, .id = photo_id};

    if (call(client, &q, err) != 0)
        return -1;
    if (q.answer.delete_album_photo.photoId != photo_id)
        return fail(err, "Protocol", "asked to delete photo %d, the answer names %d", photo_id,
                    q.answer.delete_album_photo.photoId);
    return 0;
}

/* ---- webhooks ---------------------------------------------------------------------- */

int kisekae_webhook_verify(const void *body, size_t body_size, const char *signature,
                           const char *secret, long tolerance_s, time_t now)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES], given[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    char stamp[32];
    long long t = -1;
    int good = 0, stamp_len;
    const char *p = signature;

    if (!body || !signature || !secret || !*secret || sodium_init() < 0)
        return 0;
    /* t=<digits>: the first field */
    if (strncmp(p, "t=", 2) != 0 || (stamp_len = (int)strspn(p + 2, "0123456789")) < 1 ||
        stamp_len > 12 || (p[2 + stamp_len] != ',' && p[2 + stamp_len] != '\0'))
        return 0;
    t = strtoll(p + 2, NULL, 10);
    if (tolerance_s <= 0)
        tolerance_s = KISEKAE_WEBHOOK_TOLERANCE;
    if (!now)
        now = time(NULL);
    if (llabs((long long)now - t) > tolerance_s)
        return 0;
    stamp_len = snprintf(stamp, sizeof stamp, "%lld.", t);
    crypto_auth_hmacsha256_init(&state, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)stamp, (size_t)stamp_len);
    crypto_auth_hmacsha256_update(&state, body, body_size);
    crypto_auth_hmacsha256_final(&state, mac);
    /* every v1=<64 hex digits> field is compared: no early way out */
    for (p = strchr(p, ','); p; p = strchr(p + 1, ',')) {
        const char *hex = p + 1 + strspn(p + 1, " ");
        size_t digits = strspn(hex + 3, "0123456789abcdef");
        if (strncmp(hex, "v1=", 3) == 0 && digits == 2 * sizeof given &&
            (hex[3 + digits] == ',' || hex[3 + digits] == '\0') &&
            sodium_hex2bin(given, sizeof given, hex + 3, digits, NULL, NULL, NULL) == 0)
            good |= sodium_memcmp(mac, given, sizeof mac) == 0;
    }
    sodium_memzero(mac, sizeof mac);
    return good;
}
