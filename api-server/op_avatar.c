/* op_avatar.c: the operations on a member's avatar as a whole: CreateAvatar,
 * GetAvatar, GetAvatars, DeleteAvatar, RegenerateAvatar.
 *
 * A change to a member's images runs in one master transaction that locks
 * the member's row and has the member's image server do its part before it
 * commits: when the image server fails, the transaction rolls back and
 * nothing changed. (What to wear is op_outfit.c, what is owned
 * op_inventory.c.) DeleteAvatar is the exception: it queues the deletion of
 * the member's images on every image server with the member's removal and
 * tries them after the commit; an image server that fails deletes them when
 * the queue is tried again (deletion.c).
 */
#include <string.h>
#include "op_common.h"
#include "avatar_read.h"
#include "deletion.h"
#include "image_skip.h"
#include "log.h"
#include "render.h"
#include "store_members.h"
#include "webhook.h"

#define KS_GET_AVATARS_MAX 100

/* ---- CreateAvatar ---------------------------------------------------------------- */

/* A call's transaction on one member (ks_store_txn): who asks (and, for
 * CreateAvatar, the image server picked for it, and the id of that server
 * when it failed to compose, else 0), and the member and server it read or
 * made. */
typedef struct {
    struct soap *soap;
    const char *user_id;
    int failed_server;
    ks_member_t *member;
    ks_image_server_t *server;
} member_call_t;

static ks_rc create_member(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    member_call_t *m = arg;
    ks_rc rc;

    m->failed_server = 0;
    if ((rc = ks_store_member_create(ctx, conn, m->user_id, m->server, m->member)) != KS_OK)
        return rc;
    rc = ks_render_avatar(m->soap, conn, m->member, m->server);
    if (rc == KS_UNAVAILABLE)
        m->failed_server = m->server->id;
    return rc;
}

/* Creates the member on the server server_name names, else on the one the
 * assignment picks (assign.c, without a lock): when that one fails to
 * compose the member's first images (it does not answer, its disk is full),
 * the transaction rolled back and the next pick is tried (the member has no
 * images anywhere yet), leaving out the servers that failed here or, on
 * this API server, in the last KS_IMAGE_SKIP_S seconds (image_skip.c). If
 * only those are left, they are tried all the same. Each pick is matched by
 * its ks_store_assigned. */
static ks_rc create_member_somewhere(ks_api_ctx_t *ctx, MYSQL *conn, const char *server_name,
                                     member_call_t *call)
{
    int exclude[KS_IMAGE_SERVERS_MAX], n_exclude = 0, skipped = 0;
    ks_rc rc;

    if (!server_name)
        n_exclude = skipped = ks_image_skip_list(exclude, KS_IMAGE_SERVERS_MAX);
    for (int tries = 0; tries <= KS_IMAGE_SERVERS_MAX; tries++) {
        if ((rc = ks_store_pick_image_server(ctx, conn, server_name, exclude, n_exclude,
                                             call->server)) != KS_OK)
            return rc;
        rc = ks_store_txn(ctx, conn, create_member, call);
        ks_store_assigned(ctx, conn, call->server->id, rc == KS_OK);
        if (rc == KS_OK || server_name)
            return rc;
        if (call->failed_server) {
            ks_image_skip_add(call->failed_server);
            ks_log_warn("member \"%s\": %s; trying another image server", call->user_id,
                        ctx->err.msg);
            if (n_exclude == KS_IMAGE_SERVERS_MAX)
                return rc;
            exclude[n_exclude++] = call->failed_server;
        } else if (rc == KS_UNAVAILABLE && skipped > 0) {
            /* Every other server is on the skip list: try those too. */
            memmove(exclude, exclude + skipped, (size_t)(n_exclude - skipped) * sizeof *exclude);
            n_exclude -= skipped;
            skipped = 0;
        } else {
            return rc;
        }
    }
    return rc;
}

int ks__CreateAvatar(struct soap *soap, char *userId, char *imageServer,
                     struct ks__CreateAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    member_call_t call;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if (imageServer && ks_check_text(soap, "imageServer", imageServer, 64))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    call = (member_call_t){.soap = soap, .user_id = userId, .member = &member,
                           .server = &server};
    if ((rc = create_member_somewhere(ctx, conn, imageServer, &call)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("member \"%s\" created on image server \"%s\"", userId, server.name);
    rc = ks_store_avatar(soap, conn, &member, &server, &response->avatar);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- GetAvatar -------------------------------------------------------------------- */

int ks__GetAvatar(struct soap *soap, char *userId, int *minVersion,
                  struct ks__GetAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_avatar_view_t view;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if (minVersion && *minVersion < 1)
        return ks_fault(soap, "InvalidArgument", "minVersion must be at least 1");
    /* One round trip (avatar_read.c): the hottest call of the API. */
    if ((rc = ks_avatar_read(ctx, userId, minVersion ? (unsigned)*minVersion : 0, &view)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->avatar = ks_avatar_soap(soap, &view);
    return response->avatar ? SOAP_OK : ks_fault_rc(soap, KS_NOMEM, &ctx->err);
}

/* ---- GetAvatars ------------------------------------------------------------------- */

static ks_rc get_avatars(struct soap *soap, char **user_ids, int n,
                         struct ks__GetAvatarsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int server_count, count;
    ks_member_worn_t *found = soap_malloc(soap, (size_t)n * sizeof *found);
    MYSQL *conn;
    ks_rc rc;

    response->avatar = soap_new_ks__Avatar(soap, n);
    response->missingUserId = soap_malloc(soap, (size_t)n * sizeof(char *));
    if (!found || !response->avatar || !response->missingUserId)
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_members_worn(soap, conn, user_ids, n, found, &count)) != KS_OK ||
        (rc = ks_store_image_servers(ctx, conn, servers, &server_count)) != KS_OK)
        return rc;

    /* Answer in the order asked, each member once. */
    for (int i = 0; i < n; i++) {
        const ks_image_server_t *server;
        struct ks__Avatar *a;
        ks_member_worn_t *f = NULL;
        char path[256];
        int seen = 0;

        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(user_ids[i], user_ids[j]) == 0;
        if (seen)
            continue;
        for (int j = 0; j < count && !f; j++)
            if (strcmp(found[j].member.user_id, user_ids[i]) == 0)
                f = &found[j];
        if (!f) {
            response->missingUserId[response->__sizemissingUserId++] = user_ids[i];
            continue;
        }
        server = ks_store_find_server(servers, server_count, f->member.image_server_id);
        if (!server)
            return ks_err(&ctx->err, KS_ERROR, "image server %d is in no row of image_servers",
                          f->member.image_server_id);
        a = &response->avatar[response->__sizeavatar++];
        a->userId = f->member.user_id;         /* found lives in the arena */
        a->version = (int)f->member.version;
        a->imageServer = soap_strdup(soap, server->name);
        ks_avatar_path(f->member.user_id, f->member.version, path, sizeof path);
        a->url = ks_store_public_url(soap, server, path);
        ks_avatar_thumb_path(f->member.user_id, f->member.version, path, sizeof path);
        a->thumbUrl = ks_store_public_url(soap, server, path);
        a->wornItemId = f->worn;
        a->__sizewornItemId = f->worn_count;
        if (f->animated)
            a->animUrl = ks_store_anim_url(soap, server, f->member.user_id, f->member.version);
        if (!a->imageServer || !a->url || !a->thumbUrl || (f->animated && !a->animUrl))
            return ks_err(&ctx->err, KS_NOMEM, "out of memory");
        if ((rc = ks_store_soap_colours(soap, f->tints, f->tint_count, &a->wornColour,
                                        &a->__sizewornColour)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

int ks__GetAvatars(struct soap *soap, int __sizeuserId, char **userId,
                   struct ks__GetAvatarsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE))
        return soap->error;
    if (__sizeuserId < 1 || __sizeuserId > KS_GET_AVATARS_MAX)
        return ks_fault(soap, "InvalidArgument", "GetAvatars takes 1..%d user ids, not %d",
                        KS_GET_AVATARS_MAX, __sizeuserId);
    for (int i = 0; i < __sizeuserId; i++)
        if (ks_check_user_id(soap, userId[i]))
            return soap->error;
    rc = get_avatars(soap, userId, __sizeuserId, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- DeleteAvatar ----------------------------------------------------------------- */

/* DeleteAvatar's transaction (ks_store_txn): user_id's deletion; *photos
 * says how many album photos went with it. */
typedef struct {
    const char *user_id;
    int *photos;
} member_delete_t;

static ks_rc delete_member(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const member_delete_t *d = arg;
    ks_member_t member;
    ks_rc rc = ks_store_member_delete(ctx, conn, d->user_id, &member, d->photos);

    return rc == KS_OK ? ks_webhook_avatar_event(ctx, conn, KS_EVENT_DELETED, &member, NULL) : rc;
}

int ks__DeleteAvatar(struct soap *soap, char *userId, struct ks__DeleteAvatarResponse *response)
{
    int photos = 0;
    member_delete_t deletion = {.user_id = userId, .photos = &photos};

    if (ks_op_member_txn(soap, userId, delete_member, &deletion, NULL))
        return soap->error;
    ks_log_info("member \"%s\" deleted with %d album photos", userId, photos);
    ks_avatar_forget(userId);
    ks_deletions_try_now(ks_api_ctx(soap), userId);
    response->userId = userId;
    response->albumPhotosDeleted = photos;
    return SOAP_OK;
}

/* ---- RegenerateAvatar ------------------------------------------------------------- */

static ks_rc regenerate(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const member_call_t *m = arg;
    ks_rc rc;

    if ((rc = ks_store_member(ctx, conn, m->user_id, 1, m->member)) != KS_OK ||
        (rc = ks_store_image_server(ctx, conn, m->member->image_server_id, m->server)) != KS_OK ||
        (rc = ks_render_next_version(m->soap, conn, m->member, m->server,
                                     KS_EVENT_REGENERATED)) != KS_OK)
        return rc;
    return KS_OK;
}

int ks__RegenerateAvatar(struct soap *soap, char *userId,
                         struct ks__RegenerateAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_t member;
    ks_image_server_t server;
    member_call_t call = {.soap = soap, .user_id = userId, .member = &member,
                          .server = &server};
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, userId))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, conn, regenerate, &call)) != KS_OK ||
        (rc = ks_store_avatar(soap, conn, &member, &server, &response->avatar)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_avatar_forget(userId);
    return SOAP_OK;
}
