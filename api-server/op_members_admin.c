/* op_members_admin.c: the member operations made for the admin UI:
 * SearchMembers (members by user id prefix and image server, paged by user
 * id) and MoveAvatar (one member to another image server, the way
 * MoveAvatars moves each of many: op_cluster.c). The SQL is in
 * store_members.c and op_cluster.c. */
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "log.h"
#include "store_members.h"

int ks__SearchMembers(struct soap *soap, char *userIdPrefix, char *imageServer,
                      char *afterUserId, int *limit, struct ks__SearchMembersResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_member_search_t search = {0};
    ks_image_server_t server;
    int more = 0;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN))
        return soap->error;
    /* a prefix of a user id is itself a valid user id (or empty) */
    if (userIdPrefix && *userIdPrefix &&
        ks_check_member_id(soap, "userIdPrefix", userIdPrefix))
        return soap->error;
    if (imageServer && ks_check_text(soap, "imageServer", imageServer, 64))
        return soap->error;
    if (afterUserId && ks_check_member_id(soap, "afterUserId", afterUserId))
        return soap->error;
    if (limit && (*limit < 1 || *limit > KS_PAGE_LIMIT_MAX))
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_PAGE_LIMIT_MAX);
    search.prefix = userIdPrefix;
    search.after_user_id = afterUserId;
    search.limit = limit ? *limit : KS_PAGE_LIMIT_DEFAULT;

    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (imageServer) {
        if ((rc = ks_store_image_server_named(ctx, conn, imageServer, &server)) != KS_OK)
            return ks_fault_rc(soap, rc, &ctx->err);
        search.image_server_id = server.id;
    }
    if ((rc = ks_store_search_members(soap, conn, &search, &response->member,
                                      &response->__sizemember, &more)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (more)
        response->nextAfterUserId = response->member[response->__sizemember - 1].userId;
    return SOAP_OK;
}

/* ---- MoveAvatar ------------------------------------------------------------------ */

static ks_rc move_avatar(struct soap *soap, const char *user_id, const char *to_name,
                         struct ks__MoveAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t from, to;
    ks_member_t member;
    int moved = 0;
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_member(ctx, conn, user_id, 0, &member)) != KS_OK ||
        (rc = ks_store_image_server_named(ctx, conn, to_name, &to)) != KS_OK)
        return rc;
    if (strcmp(to.mode, "active") != 0)
        return ks_err(&ctx->err, KS_CONFLICT, "image server \"%s\" is %s: members move only to "
                      "an active server", to.name, to.mode);
    if (member.image_server_id == to.id)
        return ks_err(&ctx->err, KS_CONFLICT, "member \"%s\" is on \"%s\" already", user_id,
                      to.name);
    if ((rc = ks_store_image_server(ctx, conn, member.image_server_id, &from)) != KS_OK)
        return rc;
    if ((rc = ks_cluster_move_member(soap, conn, member.id, &from, &to, &moved,
                                     &response->photosKept)) != KS_OK)
        return rc;
    if (!moved)
        return ks_err(&ctx->err, KS_CONFLICT, "member \"%s\" was moved by another call "
                      "meanwhile", user_id);
    if ((rc = ks_store_member(ctx, conn, user_id, 0, &member)) != KS_OK ||
        (rc = ks_store_avatar(soap, conn, &member, &to, &response->avatar)) != KS_OK)
        return rc;
    response->from = soap_strdup(soap, from.name);
    ks_log_info("moved member \"%s\" from \"%s\" to \"%s\" (%d photos kept)", user_id,
                from.name, to.name, response->photosKept);
    return KS_OK;
}

int ks__MoveAvatar(struct soap *soap, char *userId, char *to,
                   struct ks__MoveAvatarResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_user_id(soap, userId) ||
        ks_check_text(soap, "to", to, 64))
        return soap->error;
    rc = move_avatar(soap, userId, to, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}
