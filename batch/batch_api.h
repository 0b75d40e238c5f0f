/* batch_api.h: the admin calls kisekae-batch makes, each through the
 * failover core (common/api_failover.h) on a gSOAP context of the calling
 * thread.
 *
 * A ks_batch_api_t is one thread's client: its own gSOAP context over the
 * process's shared ks_failover_t. What a call answers (the strings in a
 * page or in results) lives in that context until its next call.
 *
 * Return codes are the failover core's: KS_OK; KS_NOTFOUND (a NotFound
 * fault: no such server); KS_ERROR for any other fault (the code in
 * ks_batch_api_fault_code); KS_UNAVAILABLE when no API server answered.
 */
#ifndef KS_BATCH_API_H
#define KS_BATCH_API_H

#include "api_failover.h"
#include "ks.h"

#define KS_BATCH_IDS_MAX 100         /* user ids per RebuildAvatars call (the API's limit) */

typedef struct ks_batch_api ks_batch_api_t;

typedef struct {
    const char *user_id;
    int version;
    int album_photos;
} ks_batch_member_t;

typedef struct {
    const char *user_id;
    const char *status;             /* unchanged, written, missing, differs, moved, notfound, failed */
    int version, images, images_written;
    const char *code, *message;     /* when failed; NULL otherwise */
} ks_batch_result_t;

typedef struct {
    int layers_checked, missing, stale, extra, failed;
} ks_batch_sync_t;

typedef struct {
    int moved, remaining, photos_kept;
    const char *stopped_by;         /* NULL when the call did not stop early */
} ks_batch_move_t;

/* A client for the calling thread; free it with ks_batch_api_free. */
ks_rc ks_batch_api_new(ks_failover_t *fo, ks_batch_api_t **out, ks_err_t *err);
void ks_batch_api_free(ks_batch_api_t *api);

/* The fault code of the last call's answer ("ImageServerUnavailable"...),
 * or NULL. */
const char *ks_batch_api_fault_code(ks_batch_api_t *api);

typedef struct {
    const char *name, *mode;
    int member_count;
} ks_batch_server_t;

/* The image servers (ListImageServers): *servers points into the context,
 * *count of them. */
ks_rc ks_batch_api_servers(ks_batch_api_t *api, ks_batch_server_t **servers, int *count,
                           ks_err_t *err);

/* One page of the members of server after user id `after` (NULL: from the
 * start). *next is NULL at the end; *member_count is the server's count. */
ks_rc ks_batch_api_list(ks_batch_api_t *api, const char *server, const char *after, int limit,
                        ks_batch_member_t **members, int *count, const char **next,
                        int *member_count, ks_err_t *err);

/* RebuildAvatars of ids[0..count) on server (check_only: an audit).
 * *results has one entry per id, in the order given (a missing answer is
 * filled in as failed with code "Internal"). */
ks_rc ks_batch_api_rebuild(ks_batch_api_t *api, const char *server, const char *const *ids,
                           int count, int check_only, ks_batch_result_t **results,
                           ks_err_t *err);

/* SyncImageServer. */
ks_rc ks_batch_api_sync(ks_batch_api_t *api, const char *server, ks_batch_sync_t *sync,
                        ks_err_t *err);

/* MoveAvatars of up to limit members. Not resent after the request may have
 * arrived: KS_UNAVAILABLE with "outcome unknown" then (read the count again). */
ks_rc ks_batch_api_move(ks_batch_api_t *api, const char *from, const char *to, int limit,
                        ks_batch_move_t *move, ks_err_t *err);

/* GetImageRecipe of user_id's avatar (a node call: bench/batch fetches the
 * recipes its compose ceiling draws): *route ("compose") and *recipe (the
 * request body) point into the context. */
ks_rc ks_batch_api_recipe(ks_batch_api_t *api, const char *user_id, const char **route,
                          const char **recipe, ks_err_t *err);

#endif
