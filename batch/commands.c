/* commands.c: what each kisekae-batch command does (commands.h), on top of
 * the pipeline (runner.h) and the API calls (batch_api.h).
 *
 *   regenerate  every member of a server through RebuildAvatars, with a
 *               checkpoint (--resume, --restart), or --dry-run to count
 *   audit       the same with checkOnly; --repair rebuilds what it found
 *   move        MoveAvatars until the server is empty or --limit is reached
 *   sync-items  SyncImageServer once, its counts printed
 *
 * Every command first checks its server names against ListImageServers, so
 * an unknown server is one clear error before anything is done.
 */
#include "commands.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_api.h"
#include "checkpoint.h"
#include "fsutil.h"
#include "log.h"
#include "progress.h"
#include "runner.h"

/* Prints the error; returns KS_EXIT_FAILED. */
static int fail(const char *message)
{
    fprintf(stderr, "kisekae-batch: %s\n", message);
    return KS_EXIT_FAILED;
}

/* Checks that every name in names[0..count) is an image server; on failure
 * prints why (unknown server, or no API server answered). *member_count
 * (when not NULL) gets the first server's member count. */
static int check_servers(ks_failover_t *fo, const char *const *names, int count,
                         int *member_count)
{
    ks_batch_api_t *api;
    ks_batch_server_t *servers;
    int server_count, status = KS_EXIT_OK;
    ks_err_t err;

    if (ks_batch_api_new(fo, &api, &err) != KS_OK)
        return fail(err.msg);
    if (ks_batch_api_servers(api, &servers, &server_count, &err) != KS_OK) {
        ks_batch_api_free(api);
        return fail(err.msg);
    }
    for (int i = 0; i < count && status == KS_EXIT_OK; i++) {
        int found = 0;
        for (int j = 0; j < server_count && !found; j++)
            if (strcmp(servers[j].name, names[i]) == 0) {
                found = 1;
                if (i == 0 && member_count)
                    *member_count = servers[j].member_count;
            }
        if (!found) {
            fprintf(stderr, "kisekae-batch: no image server is named \"%s\" (there are:", names[i]);
            for (int j = 0; j < server_count; j++)
                fprintf(stderr, " %s", servers[j].name);
            fprintf(stderr, "%s)\n", server_count ? "" : " none");
            status = KS_EXIT_FAILED;
        }
    }
    ks_batch_api_free(api);
    return status;
}

static void print_elapsed(const char *what, long long done, double seconds)
{
    printf("%s: %lld members in %.1f s (%.1f members/s)\n", what, done, seconds,
           seconds > 0 ? (double)done / seconds : 0.0);
}

/* The summary of a pipeline run: counts by status, then the members worth
 * naming (failed; for an audit, missing and differing). */
static void print_summary(const char *label, const ks_checkpoint_t *ck, int stopped)
{
    static const ks_status_t listed[] = {KS_STATUS_FAILED, KS_STATUS_MISSING,
                                         KS_STATUS_DIFFERS};
    long long done = ks_checkpoint_done(ck);

    printf("%s %s\n", label, stopped ? "stopped" : "finished");
    print_elapsed("  done", done, ck->elapsed_s);
    for (int i = 0; i < KS_STATUS_COUNT; i++) {
        if (ck->counts[i] == 0 && i != KS_STATUS_FAILED && i != KS_STATUS_UNCHANGED)
            continue;
        printf("  %-10s %lld", ks_status_name(i), ck->counts[i]);
        if (i == KS_STATUS_WRITTEN)
            printf(" (%lld images written)", ck->images_written);
        putchar('\n');
    }
    for (size_t l = 0; l < sizeof listed / sizeof listed[0]; l++)
        for (size_t i = 0; i < ck->note_count; i++) {
            const ks_checkpoint_note_t *n = &ck->notes[i];
            if (n->status != listed[l])
                continue;
            printf("  %s %s", ks_status_name(n->status), n->user_id);
            if (n->code[0])
                printf(" %s", n->code);
            if (n->message[0])
                printf(": %s", n->message);
            putchar('\n');
        }
    fflush(stdout);
}

/* The checkpoint file of command on server. */
static int checkpoint_path(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                           char *path, size_t size)
{
    int n;

    if (args->checkpoint)
        n = snprintf(path, size, "%s", args->checkpoint);
    else
        n = snprintf(path, size, "%s/%s-%s.checkpoint", conf->checkpoint_dir, args->command,
                     args->server);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Prepares ck from the checkpoint file, as --resume and --restart say.
 * Returns KS_EXIT_OK, or the status to exit with (the message printed). */
static int open_checkpoint(const ks_batch_args_t *args, const char *path, ks_checkpoint_t *ck)
{
    ks_err_t err;
    ks_rc rc;

    if (args->restart) {
        if (unlink(path) != 0 && errno != ENOENT) {
            fprintf(stderr, "kisekae-batch: unlink() \"%s\" failed (%d: %s)\n", path, errno,
                    strerror(errno));
            return KS_EXIT_FAILED;
        }
        ks_checkpoint_init(ck, args->command, args->server);
        return KS_EXIT_OK;
    }
    rc = ks_checkpoint_load(path, ck, &err);
    if (rc == KS_NOTFOUND) {
        if (args->resume) {
            fprintf(stderr, "kisekae-batch: nothing to resume: no checkpoint %s\n", path);
            return KS_EXIT_USAGE;
        }
        ks_checkpoint_init(ck, args->command, args->server);
        return KS_EXIT_OK;
    }
    if (rc != KS_OK) {
        fprintf(stderr, "kisekae-batch: %s (--restart starts over)\n", err.msg);
        return KS_EXIT_FAILED;
    }
    if (strcmp(ck->command, args->command) != 0 || strcmp(ck->server, args->server) != 0) {
        fprintf(stderr, "kisekae-batch: checkpoint %s is of \"%s %s\", not \"%s %s\"\n", path,
                ck->command, ck->server, args->command, args->server);
        ks_checkpoint_free(ck);
        return KS_EXIT_USAGE;
    }
    if (!args->resume) {
        fprintf(stderr, "kisekae-batch: an interrupted run left %s (%lld members done): "
                "--resume carries on, --restart starts over\n", path, ks_checkpoint_done(ck));
        ks_checkpoint_free(ck);
        return KS_EXIT_USAGE;
    }
    return KS_EXIT_OK;
}

static void resume_hint(const ks_batch_args_t *args)
{
    printf("resume with: kisekae-batch%s%s %s --server %s --resume\n",
           args->config_path ? " -c " : "", args->config_path ? args->config_path : "",
           args->command, args->server);
}

static void runner_options(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                           ks_failover_t *fo, const char *label, ks_runner_options_t *o)
{
    *o = (ks_runner_options_t){
        .conf = conf, .fo = fo, .label = label, .server = args->server,
        .parallel = args->parallel > 0 ? args->parallel : conf->parallel,
        .batch_size = args->batch_size > 0 ? args->batch_size : conf->batch_size,
        .rate = args->rate >= 0 ? args->rate : conf->rate,
    };
}

/* The listing pass of regenerate or audit, with its checkpoint, and its
 * summary. *ck holds the results (free it with ks_checkpoint_free) when the
 * status is KS_EXIT_OK. */
static int listing_pass(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                        ks_failover_t *fo, int check_only, ks_checkpoint_t *ck)
{
    char path[PATH_MAX], label[128];
    ks_runner_options_t o;
    ks_err_t err;
    int status, stopped;
    ks_rc rc;

    if (checkpoint_path(args, conf, path, sizeof path) != 0)
        return fail("the checkpoint's path is too long");
    status = open_checkpoint(args, path, ck);
    if (status != KS_EXIT_OK)
        return status;
    if (!args->checkpoint && ks_mkdir_p(conf->checkpoint_dir, &err) != KS_OK) {
        ks_checkpoint_free(ck);
        return fail(err.msg);
    }
    snprintf(label, sizeof label, "%s %s", args->command, args->server);
    if (ck->listed_all) {
        printf("%s: the checkpoint's run had listed every member\n", label);
    } else {
        if (ks_checkpoint_done(ck) > 0)
            printf("%s %s: resuming after %s (%lld members done)\n", args->command,
                   args->server, ck->low[0] ? ck->low : "the start", ks_checkpoint_done(ck));
        if (ks_checkpoint_save(path, ck, &err) != KS_OK) {
            ks_checkpoint_free(ck);
            return fail(err.msg);
        }
        runner_options(args, conf, fo, label, &o);
        o.check_only = check_only;
        o.checkpoint_path = path;
        rc = ks_runner_run(&o, ck, &stopped, &err);
        if (rc != KS_OK) {
            fprintf(stderr, "kisekae-batch: %s\n", err.msg);
            print_summary(label, ck, 1);
            if (rc != KS_NOTFOUND)
                resume_hint(args);
            ks_checkpoint_free(ck);
            return KS_EXIT_FAILED;
        }
        if (stopped) {
            print_summary(label, ck, 1);
            resume_hint(args);
            ks_checkpoint_free(ck);
            return KS_EXIT_STOPPED;
        }
    }
    print_summary(label, ck, 0);
    /* Done: the checkpoint has served; a later run starts over. */
    if (!check_only || !args->repair)
        if (unlink(path) != 0 && errno != ENOENT)
            ks_log_warn("unlink() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
    return KS_EXIT_OK;
}

static int dry_run(const ks_batch_args_t *args, const ks_batch_conf_t *conf, ks_failover_t *fo)
{
    long long members, photos;
    int batch_size = args->batch_size > 0 ? args->batch_size : conf->batch_size;
    int parallel = args->parallel > 0 ? args->parallel : conf->parallel;
    int rate = args->rate >= 0 ? args->rate : conf->rate;
    ks_err_t err;

    if (ks_runner_count(fo, args->server, &members, &photos, &err) != KS_OK)
        return fail(err.msg);
    printf("dry run: regenerate %s would compose again %lld members (avatar and thumbnail "
           "each) and %lld album photos, in %lld batches of up to %d, %d in parallel",
           args->server, members, photos, (members + batch_size - 1) / batch_size, batch_size,
           parallel);
    if (rate > 0)
        printf(", at most %d members/s (at least %lld s)", rate, members / rate);
    printf("\n");
    return KS_EXIT_OK;
}

int ks_batch_regenerate(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                        ks_failover_t *fo)
{
    ks_checkpoint_t ck;
    int status = check_servers(fo, &args->server, 1, NULL);

    if (status != KS_EXIT_OK)
        return status;
    if (args->dry_run)
        return dry_run(args, conf, fo);
    status = listing_pass(args, conf, fo, 0, &ck);
    if (status != KS_EXIT_OK)
        return status;
    status = ck.counts[KS_STATUS_FAILED] > 0 ? KS_EXIT_FAILED : KS_EXIT_OK;
    ks_checkpoint_free(&ck);
    return status;
}

int ks_batch_audit(const ks_batch_args_t *args, const ks_batch_conf_t *conf, ks_failover_t *fo)
{
    ks_checkpoint_t ck, repair;
    char label[128], path[PATH_MAX];
    const char **ids = NULL;
    int count = 0, status = check_servers(fo, &args->server, 1, NULL), stopped;
    ks_runner_options_t o;
    ks_err_t err;

    if (status != KS_EXIT_OK)
        return status;
    status = listing_pass(args, conf, fo, 1, &ck);
    if (status != KS_EXIT_OK)
        return status;
    status = ck.counts[KS_STATUS_FAILED] > 0 ? KS_EXIT_FAILED : KS_EXIT_OK;
    if (!args->repair) {
        if (ck.counts[KS_STATUS_MISSING] + ck.counts[KS_STATUS_DIFFERS] > 0) {
            printf("%lld members to repair: audit --server %s --repair rebuilds them\n",
                   ck.counts[KS_STATUS_MISSING] + ck.counts[KS_STATUS_DIFFERS], args->server);
            status = KS_EXIT_FAILED;
        }
        ks_checkpoint_free(&ck);
        return status;
    }
    /* --repair: the members found, through RebuildAvatars proper. */
    ids = calloc(ck.note_count + 1, sizeof *ids);
    if (!ids) {
        ks_checkpoint_free(&ck);
        return fail("out of memory for the members to repair");
    }
    for (size_t i = 0; i < ck.note_count; i++)
        if (ck.notes[i].status == KS_STATUS_MISSING || ck.notes[i].status == KS_STATUS_DIFFERS)
            ids[count++] = ck.notes[i].user_id;
    if (count > 0) {
        snprintf(label, sizeof label, "repair %s", args->server);
        runner_options(args, conf, fo, label, &o);
        o.ids = ids;
        o.id_count = count;
        ks_checkpoint_init(&repair, "repair", args->server);
        if (ks_runner_run(&o, &repair, &stopped, &err) != KS_OK) {
            fprintf(stderr, "kisekae-batch: %s\n", err.msg);
            stopped = 1;
        }
        print_summary(label, &repair, stopped);
        if (stopped || repair.counts[KS_STATUS_FAILED] > 0 ||
            repair.counts[KS_STATUS_MISSING] + repair.counts[KS_STATUS_DIFFERS] > 0)
            status = stopped && ks_batch_stop_requested ? KS_EXIT_STOPPED : KS_EXIT_FAILED;
        else
            printf("repaired %lld members\n", repair.counts[KS_STATUS_WRITTEN] +
                                                  repair.counts[KS_STATUS_UNCHANGED]);
        ks_checkpoint_free(&repair);
    }
    /* The audit's checkpoint goes once the repair has been tried to the end. */
    if (status != KS_EXIT_STOPPED && checkpoint_path(args, conf, path, sizeof path) == 0)
        unlink(path);
    free(ids);
    ks_checkpoint_free(&ck);
    return status;
}

int ks_batch_move(const ks_batch_args_t *args, const ks_batch_conf_t *conf, ks_failover_t *fo)
{
    const char *names[2] = {args->from, args->to};
    int total = 0, status = check_servers(fo, names, 2, &total), chunk, attempt = 0;
    int rate = args->rate >= 0 ? args->rate : conf->rate, remaining = -1, photos_kept = 0;
    long long moved = 0;
    double started = ks_progress_now(), next_send = started;
    char label[160];
    ks_progress_t progress;
    ks_batch_api_t *api;
    ks_err_t err;

    if (status != KS_EXIT_OK)
        return status;
    if (strcmp(args->from, args->to) == 0) {
        fprintf(stderr, "kisekae-batch: move: --from and --to are the same server\n");
        return KS_EXIT_USAGE;
    }
    if (ks_batch_api_new(fo, &api, &err) != KS_OK)
        return fail(err.msg);
    chunk = args->batch_size > 0 ? args->batch_size : conf->batch_size;
    if (rate > 0 && chunk > rate)
        chunk = rate;
    if (args->limit > 0 && total > args->limit)
        total = args->limit;
    snprintf(label, sizeof label, "move %s -> %s", args->from, args->to);
    ks_progress_init(&progress, stdout, label, conf->progress_interval_s);
    while (!ks_batch_stop_requested && remaining != 0 &&
           (args->limit == 0 || moved < args->limit)) {
        ks_batch_move_t answer;
        int limit = chunk;
        double now = ks_progress_now();
        ks_rc rc;

        if (args->limit > 0 && args->limit - moved < limit)
            limit = (int)(args->limit - moved);
        if (rate > 0 && now < next_send) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        rc = ks_batch_api_move(api, args->from, args->to, limit, &answer, &err);
        if (rc == KS_OK) {
            attempt = 0;
            moved += answer.moved;
            remaining = answer.remaining;
            photos_kept = answer.photos_kept;
            if (rate > 0)
                next_send = (next_send > now ? next_send : now) + (double)answer.moved / rate;
            if (total < moved + remaining && args->limit == 0)
                total = (int)(moved + remaining);
            ks_log_info("MoveAvatars %s -> %s: moved %d, remaining %d%s%s", args->from, args->to,
                        answer.moved, answer.remaining, answer.stopped_by ? ", stopped by " : "",
                        answer.stopped_by ? answer.stopped_by : "");
            ks_progress_update(&progress, moved, total, 0, 0);
            if (answer.moved == 0 && remaining > 0) {
                /* Nothing moved without a fault: the API names why. */
                ks_progress_end(&progress);
                fprintf(stderr, "kisekae-batch: MoveAvatars moved nothing: %s\n",
                        answer.stopped_by ? answer.stopped_by : "no reason given");
                status = KS_EXIT_FAILED;
                break;
            }
            continue;
        }
        if (ks_runner_transient(rc, ks_batch_api_fault_code(api)) && attempt < conf->retries) {
            ks_log_warn("%s; trying again", err.msg);
            if (!ks_runner_backoff(attempt++))
                continue;
            break;
        }
        ks_progress_end(&progress);
        fprintf(stderr, "kisekae-batch: %s\n", err.msg);
        status = KS_EXIT_FAILED;
        break;
    }
    ks_progress_update(&progress, moved, total > moved ? total : moved, 0, 1);
    ks_progress_end(&progress);
    printf("%s %s\n", label, ks_batch_stop_requested ? "stopped" : "finished");
    print_elapsed("  moved", moved, ks_progress_now() - started);
    if (remaining >= 0)
        printf("  remaining on %s: %d\n", args->from, remaining);
    if (photos_kept > 0)
        printf("  album photos left on %s (their art is gone): %d\n", args->from, photos_kept);
    ks_batch_api_free(api);
    if (status == KS_EXIT_OK && ks_batch_stop_requested)
        status = KS_EXIT_STOPPED;
    return status;
}

int ks_batch_sync_items(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                        ks_failover_t *fo)
{
    int status = check_servers(fo, &args->server, 1, NULL);
    double started = ks_progress_now();
    ks_batch_api_t *api;
    ks_batch_sync_t sync;
    ks_err_t err;
    ks_rc rc;

    if (status != KS_EXIT_OK)
        return status;
    if (ks_batch_api_new(fo, &api, &err) != KS_OK)
        return fail(err.msg);
    for (int attempt = 0;; attempt++) {
        rc = ks_batch_api_sync(api, args->server, &sync, &err);
        if (rc == KS_OK || !ks_runner_transient(rc, ks_batch_api_fault_code(api)) ||
            attempt >= conf->retries)
            break;
        ks_log_warn("%s; trying again", err.msg);
        if (ks_runner_backoff(attempt))
            break;
    }
    ks_batch_api_free(api);
    if (rc != KS_OK)
        return fail(err.msg);
    printf("sync-items %s finished in %.1f s\n", args->server, ks_progress_now() - started);
    printf("  layers checked %d\n", sync.layers_checked);
    printf("  missing        %d (fetched)\n", sync.missing);
    printf("  stale          %d (fetched again)\n", sync.stale);
    printf("  extra          %d (not in the catalog; left alone)\n", sync.extra);
    printf("  failed         %d\n", sync.failed);
    return sync.failed > 0 ? KS_EXIT_FAILED : KS_EXIT_OK;
}
