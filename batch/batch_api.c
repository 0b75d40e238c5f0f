/* batch_api.c: kisekae-batch's SOAP calls (batch_api.h). Each operation is
 * an attempt function making the one gSOAP call and a wrapper that runs it
 * through ks_failover_call and maps the answer to plain structs. Reads and
 * RebuildAvatars (it writes only what is missing or differs, so a second
 * sending ends as one) are resend-safe; MoveAvatars is not.
 */
#include "batch_api.h"

#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "Kisekae.nsmap"

struct ks_batch_api {
    ks_failover_t *fo;
    struct soap *soap;
};

ks_rc ks_batch_api_new(ks_failover_t *fo, ks_batch_api_t **out, ks_err_t *err)
{
    ks_batch_api_t *api = calloc(1, sizeof *api);

    *out = NULL;
    if (!api)
        return ks_err(err, KS_NOMEM, "out of memory for an API client");
    api->fo = fo;
    api->soap = ks_failover_soap_new(fo, err);
    if (!api->soap) {
        free(api);
        return KS_NOMEM;
    }
    soap_set_namespaces(api->soap, namespaces);
    *out = api;
    return KS_OK;
}

void ks_batch_api_free(ks_batch_api_t *api)
{
    if (!api)
        return;
    ks_failover_soap_free(api->soap);
    free(api);
}

const char *ks_batch_api_fault_code(ks_batch_api_t *api)
{
    return ks_failover_fault_code(api->soap);
}

/* ---- ListImageServers ---------------------------------------------------------- */

static int attempt_servers(struct soap *soap, const char *url, void *args)
{
    struct ks__ListImageServersResponse *response = args;

    memset(response, 0, sizeof *response);
    return soap_call_ks__ListImageServers(soap, url, NULL, response);
}

ks_rc ks_batch_api_servers(ks_batch_api_t *api, ks_batch_server_t **servers, int *count,
                           ks_err_t *err)
{
    struct ks__ListImageServersResponse response;
    ks_rc rc = ks_failover_call(api->fo, api->soap, "ListImageServers", 1, attempt_servers,
                                &response, NULL, err);
    ks_batch_server_t *list;

    *servers = NULL;
    *count = 0;
    if (rc != KS_OK)
        return rc;
    list = soap_malloc(api->soap, sizeof *list * (size_t)(response.__sizeserver + 1));
    if (!list)
        return ks_err(err, KS_NOMEM, "out of memory for the image servers' names");
    for (int i = 0; i < response.__sizeserver; i++) {
        const struct ks__ImageServer *server = &response.server[i];
        list[i] = (ks_batch_server_t){server->name ? server->name : "",
                                      server->mode ? server->mode : "", server->memberCount};
    }
    *servers = list;
    *count = response.__sizeserver;
    return KS_OK;
}

/* ---- ListAvatarsByServer ------------------------------------------------------- */

typedef struct {
    const char *server, *after;
    int limit;
    struct ks__ListAvatarsByServerResponse response;
} list_args_t;

static int attempt_list(struct soap *soap, const char *url, void *p)
{
    list_args_t *a = p;
    int limit = a->limit;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__ListAvatarsByServer(soap, url, NULL, (char *)a->server,
                                             (char *)a->after, &limit, &a->response);
}

ks_rc ks_batch_api_list(ks_batch_api_t *api, const char *server, const char *after, int limit,
                        ks_batch_member_t **members, int *count, const char **next,
                        int *member_count, ks_err_t *err)
{
    list_args_t a = {.server = server, .after = after, .limit = limit};
    ks_rc rc = ks_failover_call(api->fo, api->soap, "ListAvatarsByServer", 1, attempt_list, &a,
                                NULL, err);
    ks_batch_member_t *list;

    *members = NULL;
    *count = 0;
    *next = NULL;
    *member_count = 0;
    if (rc != KS_OK)
        return rc;
    list = soap_malloc(api->soap, sizeof *list * (size_t)(a.response.__sizemember + 1));
    if (!list)
        return ks_err(err, KS_NOMEM, "out of memory for a page of members");
    for (int i = 0; i < a.response.__sizemember; i++) {
        const struct ks__ServerMember *m = &a.response.member[i];
        if (!m->userId || !m->userId[0])
            return ks_err(err, KS_ERROR, "ListAvatarsByServer answered a member without userId");
        list[i] = (ks_batch_member_t){m->userId, m->version, m->albumPhotos};
    }
    *members = list;
    *count = a.response.__sizemember;
    *next = a.response.next && a.response.next[0] ? a.response.next : NULL;
    *member_count = a.response.memberCount;
    return KS_OK;
}

/* ---- RebuildAvatars ------------------------------------------------------------- */

typedef struct {
    const char *server;
    char **ids;
    int count;
    enum xsd__boolean check_only;
    struct ks__RebuildAvatarsResponse response;
} rebuild_args_t;

static int attempt_rebuild(struct soap *soap, const char *url, void *p)
{
    rebuild_args_t *a = p;
    enum xsd__boolean check_only = a->check_only;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__RebuildAvatars(soap, url, NULL, (char *)a->server, a->count, a->ids,
                                        &check_only, &a->response);
}

ks_rc ks_batch_api_rebuild(ks_batch_api_t *api, const char *server, const char *const *ids,
                           int count, int check_only, ks_batch_result_t **results,
                           ks_err_t *err)
{
    rebuild_args_t a = {.server = server, .ids = (char **)ids, .count = count,
                        .check_only = check_only ? true_ : false_};
    ks_batch_result_t *list;
    ks_rc rc;

    *results = NULL;
    if (count < 1 || count > KS_BATCH_IDS_MAX)
        return ks_err(err, KS_INVALID, "RebuildAvatars: %d ids (1..%d)", count,
                      KS_BATCH_IDS_MAX);
    rc = ks_failover_call(api->fo, api->soap, "RebuildAvatars", 1, attempt_rebuild, &a, NULL,
                          err);
    if (rc != KS_OK)
        return rc;
    list = soap_malloc(api->soap, sizeof *list * (size_t)count);
    if (!list)
        return ks_err(err, KS_NOMEM, "out of memory for RebuildAvatars' results");
    /* One result per id in the order asked; match by id all the same, so
     * an answer out of order or short can never be credited to another. */
    for (int i = 0; i < count; i++) {
        const struct ks__RebuildResult *r = NULL;
        if (i < a.response.__sizeresult && a.response.result[i].userId &&
            strcmp(a.response.result[i].userId, ids[i]) == 0)
            r = &a.response.result[i];
        for (int j = 0; !r && j < a.response.__sizeresult; j++)
            if (a.response.result[j].userId && strcmp(a.response.result[j].userId, ids[i]) == 0)
                r = &a.response.result[j];
        if (!r || !r->status) {
            list[i] = (ks_batch_result_t){ids[i], "failed", 0, 0, 0, "Internal",
                                          "RebuildAvatars answered nothing for this member"};
            continue;
        }
        list[i] = (ks_batch_result_t){ids[i], r->status, r->version, r->images,
                                      r->imagesWritten, r->code, r->message};
    }
    *results = list;
    return KS_OK;
}

/* ---- SyncImageServer ------------------------------------------------------------ */

typedef struct {
    const char *server;
    struct ks__SyncImageServerResponse response;
} sync_args_t;

static int attempt_sync(struct soap *soap, const char *url, void *p)
{
    sync_args_t *a = p;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__SyncImageServer(soap, url, NULL, (char *)a->server, &a->response);
}

ks_rc ks_batch_api_sync(ks_batch_api_t *api, const char *server, ks_batch_sync_t *sync,
                        ks_err_t *err)
{
    sync_args_t a = {.server = server};
    ks_rc rc = ks_failover_call(api->fo, api->soap, "SyncImageServer", 1, attempt_sync, &a, NULL,
                                err);

    memset(sync, 0, sizeof *sync);
    if (rc != KS_OK)
        return rc;
    *sync = (ks_batch_sync_t){a.response.layersChecked, a.response.missing, a.response.stale,
                              a.response.extra, a.response.failed};
    return KS_OK;
}

/* ---- MoveAvatars ---------------------------------------------------------------- */

typedef struct {
    const char *from, *to;
    int limit;
    struct ks__MoveAvatarsResponse response;
} move_args_t;

static int attempt_move(struct soap *soap, const char *url, void *p)
{
    move_args_t *a = p;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__MoveAvatars(soap, url, NULL, (char *)a->from, (char *)a->to, a->limit,
                                     &a->response);
}

ks_rc ks_batch_api_move(ks_batch_api_t *api, const char *from, const char *to, int limit,
                        ks_batch_move_t *move, ks_err_t *err)
{
    move_args_t a = {.from = from, .to = to, .limit = limit};
    ks_rc rc = ks_failover_call(api->fo, api->soap, "MoveAvatars", 0, attempt_move, &a, NULL,
                                err);

    memset(move, 0, sizeof *move);
    if (rc != KS_OK)
        return rc;
    *move = (ks_batch_move_t){a.response.moved, a.response.remaining, a.response.photosKept,
                              a.response.stoppedBy && a.response.stoppedBy[0]
                                  ? a.response.stoppedBy : NULL};
    return KS_OK;
}

/* ---- GetImageRecipe ------------------------------------------------------------- */

typedef struct {
    const char *user_id;
    struct ks__GetImageRecipeResponse response;
} recipe_args_t;

static int attempt_recipe(struct soap *soap, const char *url, void *p)
{
    recipe_args_t *a = p;

    memset(&a->response, 0, sizeof a->response);
    return soap_call_ks__GetImageRecipe(soap, url, NULL, (char *)a->user_id, NULL, NULL,
                                        &a->response);
}

ks_rc ks_batch_api_recipe(ks_batch_api_t *api, const char *user_id, const char **route,
                          const char **recipe, ks_err_t *err)
{
    recipe_args_t a = {.user_id = user_id};
    ks_rc rc = ks_failover_call(api->fo, api->soap, "GetImageRecipe", 1, attempt_recipe, &a,
                                NULL, err);

    *route = *recipe = NULL;
    if (rc != KS_OK)
        return rc;
    if (!a.response.route || !a.response.recipe)
        return ks_err(err, KS_ERROR, "GetImageRecipe %s answered no recipe", user_id);
    *route = a.response.route;
    *recipe = a.response.recipe;
    return KS_OK;
}
