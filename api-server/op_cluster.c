/* op_cluster.c: the image servers, for staff: ListImageServers,
 * SetImageServerMode, SetImageServerWeight, MoveAvatars and PurgeImageServer.
 *
 * A server's mode decides what the API does with it: `active` takes new
 * members, `draining` keeps composing for its members but takes no new ones,
 * `down` is not called at all (its members' changes fail with
 * ImageServerUnavailable until it is back or they are moved). Both read the
 * master: staff expect to see the change they just made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "avatar_read.h"
#include "deletion.h"
#include "album.h"
#include "render.h"
#include "webhook.h"
#include "store_deletion.h"
#include "store_servers.h"
#include "cluster.h"

time_t *ks_cluster_time(struct soap *soap, long long value)
{
    time_t *t = value >= 0 ? soap_malloc(soap, sizeof *t) : NULL;

    if (t)
        *t = (time_t)value;
    return t;
}

LONG64 *ks_cluster_long(struct soap *soap, long long value)
{
    LONG64 *n = value >= 0 ? soap_malloc(soap, sizeof *n) : NULL;

    if (n)
        *n = (LONG64)value;
    return n;
}

int ks__ListImageServers(struct soap *soap, struct ks__ListImageServersResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t *servers;
    MYSQL *conn;
    int count;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_image_server_list(soap, conn, 0, &servers, &count)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(response->server = soap_new_ks__ImageServer(soap, count + 1)))
        return soap->error = SOAP_EOM;
    for (int i = 0; i < count; i++)
        if (!KS_CLUSTER_SERVER_ANSWER(soap, &response->server[i], &servers[i]))
            return soap->error = SOAP_EOM;
    response->__sizeserver = count;
    return SOAP_OK;
}

/* Answers the row of the server called name after a change (rc, that of
 * the change's UPDATE); what names the change for the log. */
static int changed_server(struct soap *soap, MYSQL *conn, ks_rc rc, const char *name,
                          const char *what, struct ks__ImageServer **out)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t server;

    if (rc != KS_OK || (rc = ks_store_image_server_named(ctx, conn, name, &server)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(*out = soap_new_ks__ImageServer(soap, -1)) ||
        !KS_CLUSTER_SERVER_ANSWER(soap, *out, &server))
        return soap->error = SOAP_EOM;
    ks_log_info("image server \"%s\": %s", name, what);
    return SOAP_OK;
}

int ks__SetImageServerMode(struct soap *soap, char *name, char *mode,
                           struct ks__SetImageServerModeResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    char what[32];
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64) ||
        ks_check_text(soap, "mode", mode, 16))
        return soap->error;
    if (strcmp(mode, "active") && strcmp(mode, "draining") && strcmp(mode, "down"))
        return ks_fault(soap, "InvalidArgument", "mode must be active, draining or down");
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    /* The admin's word: a heartbeat no longer revives a server set down. */
    rc = ks_store_server_set(ctx, conn, name, mode, 0);
    snprintf(what, sizeof what, "set %s", mode);
    return changed_server(soap, conn, rc, name, what, &response->server);
}

int ks__SetImageServerWeight(struct soap *soap, char *name, int weight,
                             struct ks__SetImageServerWeightResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    char what[32];
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64))
        return soap->error;
    if (weight < 1 || weight > KS_IMAGE_SERVER_WEIGHT_MAX)
        return ks_fault(soap, "InvalidArgument", "weight must be 1..%d",
                        KS_IMAGE_SERVER_WEIGHT_MAX);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    rc = ks_store_server_set(ctx, conn, name, NULL, weight);
    snprintf(what, sizeof what, "weight set to %d", weight);
    return changed_server(soap, conn, rc, name, what, &response->server);
}

/* ---- MoveAvatars ----------------------------------------------------------------- */

#define KS_MOVE_LIMIT_MAX 1000
#define KS_MOVE_PHOTO_PAGE 500          /* album photos read at once (a member may have more) */

/* One page of move_photos: the photos of the member on `from` above *last
 * (*count of them, at most KS_MOVE_PHOTO_PAGE; *last moves on). */
static ks_rc move_photo_page(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                             const ks_image_server_t *from, const ks_image_server_t *to,
                             unsigned *last, unsigned *photos, int *count, int *kept)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if ((rc = ks_store_server_photo_page(ctx, conn, member->id, from->id, *last, photos,
                                         KS_MOVE_PHOTO_PAGE, count)) != KS_OK)
        return rc;
    if (*count)
        *last = photos[*count - 1];

    for (int i = 0; i < *count; i++) {
        ks_album_request_t album;
        long long stale;
        int server_id;

        if ((rc = ks_store_photo_art_missing(ctx, conn, photos[i], &stale)) != KS_OK)
            return rc;
        if (stale) {
            ks_log_warn("move of \"%s\": album photo %u uses art the database no longer has;"
                        " it stays on \"%s\"", member->user_id, photos[i], from->name);
            (*kept)++;
            continue;
        }
        if ((rc = ks_album_load(soap, conn, member, photos[i], &album, &server_id)) != KS_OK ||
            (rc = ks_album_compose(ctx, conn, to, &album)) != KS_OK ||
            (rc = ks_store_photo_set_server(ctx, conn, photos[i], to->id)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

/* Composes every album photo of the member kept on `from` again on `to`
 * (page by page: max_album_photos may be far above a page) and assigns them
 * there, with the art they were drawn with (old art replaced since comes
 * from item_layer_archive). A photo whose art the database no longer has (a
 * layer in neither table, or a scene changed) cannot be composed and stays
 * (*kept). */
static ks_rc move_photos(struct soap *soap, MYSQL *conn, const ks_member_t *member,
                         const ks_image_server_t *from, const ks_image_server_t *to, int *kept)
{
    unsigned photos[KS_MOVE_PHOTO_PAGE], last = 0;
    int count;
    ks_rc rc;

    do {
        if ((rc = move_photo_page(soap, conn, member, from, to, &last, photos, &count, kept))
            != KS_OK)
            return rc;
    } while (count == KS_MOVE_PHOTO_PAGE);
    return KS_OK;
}

/* One member's move (ks_cluster_move_member): what it asks, and what the
 * transaction of ks_store_txn read and did. */
typedef struct {
    struct soap *soap;
    long long member_id;
    const ks_image_server_t *from, *to;
    ks_member_t member;
    long long left;               /* album photos staying on `from` */
    int kept, moved;
} member_move_t;

static ks_rc move_member(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    member_move_t *m = arg;
    const ks_image_server_t *from = m->from, *to = m->to;
    ks_rc rc;

    m->moved = m->kept = 0;
    if ((rc = ks_store_member_by_id(ctx, conn, m->member_id, 1, &m->member)) != KS_OK)
        return rc;
    if (m->member.image_server_id != from->id)
        return KS_OK;             /* no longer on `from`: nothing written */
    if ((rc = ks_store_member_set_server(ctx, conn, m->member_id, to->id)) != KS_OK ||
        (rc = ks_render_next_version(m->soap, conn, &m->member, to, KS_EVENT_MOVED)) != KS_OK ||
        (rc = move_photos(m->soap, conn, &m->member, from, to, &m->kept)) != KS_OK ||
        (rc = ks_store_servers_count_move(ctx, conn, from->id, to->id)) != KS_OK)
        return rc;
    /* The old files go once no album photo there is still referenced: the
     * queue retries until `from` deleted them (deletion.c). */
    if ((rc = ks_store_server_photo_total(ctx, conn, m->member.id, from->id, &m->left))
            != KS_OK ||
        (!m->left && (rc = ks_store_deletion_queue_left(ctx, conn, from->id, m->member.user_id))
                         != KS_OK))
        return rc;
    m->moved = 1;
    return KS_OK;
}

/* Moves member member_id from `from` to `to` in one transaction (see
 * kisekae.h), retried on a deadlock or lock wait; *moved is 0 when it was no
 * longer on `from`. */
ks_rc ks_cluster_move_member(struct soap *soap, MYSQL *conn, long long member_id,
                             const ks_image_server_t *from, const ks_image_server_t *to,
                             int *moved, int *kept)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    member_move_t m = {.soap = soap, .member_id = member_id, .from = from, .to = to};
    ks_rc rc;

    *moved = 0;
    if ((rc = ks_store_txn(ctx, conn, move_member, &m)) != KS_OK || !m.moved)
        return rc;
    *moved = 1;
    *kept += m.kept;
    ks_avatar_forget(m.member.user_id);
    if (m.left)
        ks_log_warn("move of \"%s\": %lld album photos stay on \"%s\", and its files there",
                    m.member.user_id, m.left, from->name);
    else
        ks_deletions_try_now(ctx, m.member.user_id);
    return KS_OK;
}

static ks_rc move_avatars(struct soap *soap, const char *from_name, const char *to_name,
                          int limit, struct ks__MoveAvatarsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t from, to;
    long long member_id, remaining;
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_image_server_named(ctx, conn, from_name, &from)) != KS_OK ||
        (rc = ks_store_image_server_named(ctx, conn, to_name, &to)) != KS_OK)
        return rc;
    if (strcmp(to.mode, "active") != 0)
        return ks_err(&ctx->err, KS_CONFLICT, "image server \"%s\" is %s: members move only to "
                      "an active server", to.name, to.mode);
    while (response->moved < limit) {
        int moved;

        if ((rc = ks_store_server_first_member(ctx, conn, from.id, &member_id)) != KS_OK)
            break;
        if (member_id == 0)
            break;
        if ((rc = ks_cluster_move_member(soap, conn, member_id, &from, &to, &moved,
                                         &response->photosKept)) != KS_OK)
            break;
        response->moved += moved;
    }
    if (rc != KS_OK) {
        if (response->moved == 0)
            return rc;
        response->stoppedBy = soap_strdup(soap, ctx->err.msg);
    }
    if (ks_db_master(ctx->db, &conn, &ctx->err) != KS_OK ||
        ks_store_server_member_total(ctx, conn, from.id, &remaining) != KS_OK)
        remaining = -1;
    response->remaining = (int)remaining;
    ks_log_info("moved %d members from \"%s\" to \"%s\" (%d photos kept); %lld remain%s%s",
                response->moved, from.name, to.name, response->photosKept, remaining,
                response->stoppedBy ? "; stopped by: " : "",
                response->stoppedBy ? response->stoppedBy : "");
    return KS_OK;
}

int ks__MoveAvatars(struct soap *soap, char *from, char *to, int limit,
                    struct ks__MoveAvatarsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "from", from, 64) ||
        ks_check_text(soap, "to", to, 64))
        return soap->error;
    if (limit < 1 || limit > KS_MOVE_LIMIT_MAX)
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_MOVE_LIMIT_MAX);
    if (strcmp(from, to) == 0)
        return ks_fault(soap, "InvalidArgument", "from and to are the same image server");
    rc = move_avatars(soap, from, to, limit, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- PurgeImageServer ---------------------------------------------------------------- */

int ks__PurgeImageServer(struct soap *soap, char *name,
                         struct ks__PurgeImageServerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_server_purge_t purge = {.name = name};
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "name", name, 64))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_server_purge(ctx, conn, &purge)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    ks_log_info("image server \"%s\" purged (%d replica rows, %d queued deletions)", name,
                purge.replicas, purge.deletions);
    response->name = name;
    response->replicasRemoved = purge.replicas;
    response->deletionsRemoved = purge.deletions;
    return SOAP_OK;
}
