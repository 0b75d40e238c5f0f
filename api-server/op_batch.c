/* op_batch.c: kisekae-batch's operations, for staff: ListAvatarsByServer,
 * RebuildAvatars and SyncImageServer (wsdl/kisekae.h, "Batch").
 *
 * RebuildAvatars never changes the database: it reads each member's current
 * version together with what that version wears (one statement for the
 * whole batch, store_batch.c) and has the image server compose those files
 * again (POST /internal/batch, image-server/PROTOCOL.md), which writes only
 * what is missing or differs. A member the site changes meanwhile keeps its
 * newer version: the batch at most writes again the files of the version it
 * read, which are that version's own bytes, and the image server never
 * prunes a version above the one it writes. Every read is on the master: the
 * current version is the one to compose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "store_batch.h"

#define KS_LIST_LIMIT_DEFAULT 500
#define KS_LIST_LIMIT_MAX 1000
#define KS_REBUILD_MEMBERS_MAX 100

int ks__ListAvatarsByServer(struct soap *soap, char *server, char *after, int *limit,
                            struct ks__ListAvatarsByServerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int page = limit ? *limit : KS_LIST_LIMIT_DEFAULT, count, more;
    ks_server_member_t *members;
    ks_image_server_t found;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "server", server, 64) ||
        (after && *after && ks_check_member_id(soap, "after", after)))
        return soap->error;
    if (page < 1 || page > KS_LIST_LIMIT_MAX)
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_LIST_LIMIT_MAX);
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_image_server_named(ctx, conn, server, &found)) != KS_OK ||
        (rc = ks_store_server_members(soap, conn, found.id, after, page, &members, &count,
                                      &more, &response->memberCount)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!(response->member = soap_new_ks__ServerMember(soap, count + 1)))
        return soap->error = SOAP_EOM;
    for (int i = 0; i < count; i++) {
        struct ks__ServerMember *m = &response->member[i];
        m->userId = soap_strdup(soap, members[i].user_id);
        m->version = (int)members[i].version;
        m->albumPhotos = members[i].album_photos;
    }
    response->__sizemember = count;
    if (more && count > 0)
        response->next = soap_strdup(soap, members[count - 1].user_id);
    return SOAP_OK;
}

/* ---- RebuildAvatars ---------------------------------------------------------------- */

/* A batch body being filled, and which member each of its recipes is of. */
typedef struct {
    ks_buf_t body;
    int recipes;
    int owner[KS_IMAGE_BATCH_RECIPES];
    ks_image_recipe_result_t results[KS_IMAGE_BATCH_RECIPES];
    int sent;                    /* batches sent so far */
} batch_t;

/* What the image server said of one member's images, summed over batches. */
typedef struct {
    int images, written, missing, differs, failed;
    const char *code;            /* a failure of the member as a whole */
    char message[256];
} tally_t;

/* Sends the batch being filled and tallies its answer per member; starts
 * the next. A batch that fails marks its members failed, but the first one
 * fails the call: then nothing was done. */
static ks_rc send_batch(ks_api_ctx_t *ctx, const ks_image_server_t *server, batch_t *batch,
                        int check_only, tally_t *tally)
{
    ks_rc rc;

    if (batch->recipes == 0)
        return KS_OK;
    rc = ks_image_batch(ctx, server, &batch->body, batch->recipes, batch->results);
    if (rc != KS_OK && batch->sent == 0)
        return rc;
    for (int i = 0; i < batch->recipes; i++) {
        tally_t *t = &tally[batch->owner[i]];
        const ks_image_recipe_result_t *r = &batch->results[i];

        if (rc != KS_OK) {
            t->code = "ImageServerUnavailable";
            snprintf(t->message, sizeof t->message, "%.250s", ctx->err.msg);
            continue;
        }
        t->images += r->images;
        t->written += r->written;
        t->missing += r->missing;
        t->differs += r->differs;
        if (r->failed && t->failed++ == 0)
            snprintf(t->message, sizeof t->message, "%s", r->message);
    }
    batch->sent++;
    batch->recipes = 0;
    ks_image_batch_begin(&batch->body, check_only);
    return KS_OK;
}

/* Adds one recipe of member `owner` to the batch, sending the batch first
 * when it is full. A recipe over an image server's limit fails its member. */
static ks_rc add_recipe(ks_api_ctx_t *ctx, const ks_image_server_t *server, batch_t *batch,
                        int check_only, tally_t *tally, int owner, const char *route,
                        ks_buf_t *recipe)
{
    ks_rc rc = KS_OK;

    if (recipe->overflow) {
        tally[owner].code = "TooLarge";
        snprintf(tally[owner].message, sizeof tally[owner].message, "a %s recipe of this member"
                 " is larger than an image server takes", route);
    } else if (batch->recipes == KS_IMAGE_BATCH_RECIPES ||
               ks_image_batch_add(&batch->body, route, recipe) != 0) {
        if ((rc = send_batch(ctx, server, batch, check_only, tally)) == KS_OK &&
            ks_image_batch_add(&batch->body, route, recipe) != 0)
            rc = ks_err(&ctx->err, KS_ERROR, "a recipe does not fit an empty batch");
    }
    if (rc == KS_OK && !recipe->overflow)
        batch->owner[batch->recipes++] = owner;
    ks_buf_free(recipe);
    return rc;
}

static void result_of(struct soap *soap, const ks_batch_member_t *member, int server_id,
                      int check_only, const tally_t *t, struct ks__RebuildResult *result)
{
    const char *status;

    result->userId = (char *)member->user_id;     /* the request's own string */
    result->version = (int)member->version;
    result->images = t->images;
    result->imagesWritten = check_only ? t->missing + t->differs : t->written;
    if (!member->id)
        status = "notfound";
    else if (member->image_server_id != server_id)
        status = "moved";
    else if (t->code || t->failed)
        status = "failed";
    else if (check_only)
        status = t->missing ? "missing" : t->differs ? "differs" : "unchanged";
    else
        status = t->written ? "written" : "unchanged";
    result->status = (char *)status;
    if (strcmp(status, "failed") == 0) {
        result->code = (char *)(t->code ? t->code : "ImageServerUnavailable");
        result->message = soap_strdup(soap, t->message);
    }
}

static ks_rc rebuild_avatars(struct soap *soap, const char *server_name, char **user_ids,
                             int count, int check_only,
                             struct ks__RebuildAvatarsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_batch_member_t *members = soap_malloc(soap, (size_t)count * sizeof *members);
    tally_t *tally = soap_malloc(soap, (size_t)count * sizeof *tally);
    batch_t *batch = malloc(sizeof *batch);
    ks_image_server_t server;
    MYSQL *conn;
    ks_rc rc;
    int done = 0, written = 0, failed = 0;

    if (!members || !tally || !batch) {
        free(batch);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory for a batch of %d members", count);
    }
    memset(members, 0, (size_t)count * sizeof *members);
    memset(tally, 0, (size_t)count * sizeof *tally);
    for (int i = 0; i < count; i++)
        members[i].user_id = user_ids[i];
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_image_server_named(ctx, conn, server_name, &server)) != KS_OK ||
        (rc = ks_store_server_usable(ctx, &server)) != KS_OK ||
        (rc = ks_store_batch_recipes(soap, conn, server.id, members, count)) != KS_OK) {
        free(batch);
        return rc;
    }
    batch->recipes = batch->sent = 0;
    ks_image_batch_begin(&batch->body, check_only);
    for (int i = 0; i < count && rc == KS_OK; i++) {
        const ks_batch_member_t *m = &members[i];
        ks_buf_t recipe;

        if (!m->id || m->image_server_id != server.id)
            continue;
        ks_image_compose_body(ctx->conf, m->user_id, m->version, m->layers, m->layer_count,
                              &recipe);
        rc = add_recipe(ctx, &server, batch, check_only, tally, i, "compose", &recipe);
        for (int k = 0; k < m->photo_count && rc == KS_OK; k++) {
            ks_image_album_body(&m->photos[k], &recipe);
            rc = add_recipe(ctx, &server, batch, check_only, tally, i, "album", &recipe);
        }
    }
    if (rc == KS_OK)
        rc = send_batch(ctx, &server, batch, check_only, tally);
    ks_buf_free(&batch->body);
    free(batch);
    if (rc != KS_OK)
        return rc;

    if (!(response->result = soap_new_ks__RebuildResult(soap, count)))
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    for (int i = 0; i < count; i++) {
        struct ks__RebuildResult *result = &response->result[i];
        result_of(soap, &members[i], server.id, check_only, &tally[i], result);
        done++;
        written += result->imagesWritten;
        failed += strcmp(result->status, "failed") == 0;
    }
    response->__sizeresult = count;
    ks_log_info("RebuildAvatars on \"%s\"%s: %d members, %d images %s, %d members failed",
                server.name, check_only ? " (check only)" : "", done, written,
                check_only ? "missing or different" : "written", failed);
    return KS_OK;
}

int ks__RebuildAvatars(struct soap *soap, char *server, int __sizeuserId, char **userId,
                       enum xsd__boolean *checkOnly, struct ks__RebuildAvatarsResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "server", server, 64))
        return soap->error;
    if (__sizeuserId < 1 || !userId)
        return ks_fault(soap, "InvalidArgument", "userId is required (1..%d of them)",
                        KS_REBUILD_MEMBERS_MAX);
    if (__sizeuserId > KS_REBUILD_MEMBERS_MAX)
        return ks_fault(soap, "TooLarge", "%d members, over the limit of %d per call",
                        __sizeuserId, KS_REBUILD_MEMBERS_MAX);
    for (int i = 0; i < __sizeuserId; i++) {
        if (ks_check_user_id(soap, userId[i]))
            return soap->error;
        for (int k = 0; k < i; k++)
            if (strcmp(userId[k], userId[i]) == 0)
                return ks_fault(soap, "InvalidArgument", "userId \"%s\" is given twice",
                                userId[i]);
    }
    rc = rebuild_avatars(soap, server, userId, __sizeuserId,
                         checkOnly && *checkOnly == true_, response);
    return rc == KS_OK ? SOAP_OK : ks_fault_rc(soap, rc, &ctx->err);
}

/* ---- SyncImageServer ------------------------------------------------------------------ */

int ks__SyncImageServer(struct soap *soap, char *server,
                        struct ks__SyncImageServerResponse *response)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    ks_image_server_t found;
    ks_image_sync_t counts;
    MYSQL *conn;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_ADMIN) || ks_check_text(soap, "server", server, 64))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &conn, &ctx->err)) != KS_OK ||
        (rc = ks_store_image_server_named(ctx, conn, server, &found)) != KS_OK ||
        (rc = ks_store_server_usable(ctx, &found)) != KS_OK ||
        (rc = ks_image_sync(ctx, &found, &counts)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    response->layersChecked = (int)counts.checked;
    response->missing = (int)counts.missing;
    response->stale = (int)counts.stale;
    response->extra = (int)counts.extra;
    response->failed = (int)counts.failed;
    ks_log_info("SyncImageServer \"%s\": %lld layers checked, %lld missing, %lld stale, "
                "%lld extra, %lld fetched, %lld failed", found.name, counts.checked,
                counts.missing, counts.stale, counts.extra, counts.fetched, counts.failed);
    return SOAP_OK;
}
