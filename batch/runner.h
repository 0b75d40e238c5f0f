/* runner.h: the member pipeline of `regenerate` and `audit`.
 *
 * The main thread lists the server's members (ListAvatarsByServer, keyset
 * cursor), cuts them into batches of consecutive members and hands them to
 * `parallel` worker threads, each with its own gSOAP context, which call
 * RebuildAvatars (retrying with backoff while no API server or the image
 * server answers; a member that keeps failing is recorded with its fault
 * code). As batches complete, in any order, the main thread counts their
 * results, advances the checkpoint (checkpoint.h) and writes it, and shows
 * the progress. At most `rate` members per second are handed out.
 *
 * ks_batch_stop_requested (set by SIGINT/SIGTERM) stops handing out
 * batches; the run ends when the batches in flight are back.
 */
#ifndef KS_BATCH_RUNNER_H
#define KS_BATCH_RUNNER_H

#include <signal.h>
#include "api_failover.h"
#include "batch_conf.h"
#include "checkpoint.h"
#include "ks.h"

extern volatile sig_atomic_t ks_batch_stop_requested;

typedef struct {
    const ks_batch_conf_t *conf;   /* retries, progress interval */
    ks_failover_t *fo;
    const char *label;             /* "regenerate img1", for the progress line */
    const char *server;
    int check_only;                /* audit: compare, write nothing */
    int parallel, batch_size, rate;
    const char *checkpoint_path;   /* written after every batch; NULL: none */
    const char *const *ids;        /* a fixed list instead of the listing (audit --repair) */
    int id_count;
} ks_runner_options_t;

/* Runs the pipeline, carrying on from ck (fresh, or loaded to resume) and
 * adding the results to it. *stopped is 1 when a stop request ended it
 * early. KS_NOTFOUND when the server is unknown; KS_UNAVAILABLE when the
 * listing could not be read (retries exhausted); the checkpoint stays
 * valid either way. */
ks_rc ks_runner_run(const ks_runner_options_t *o, ks_checkpoint_t *ck, int *stopped,
                    ks_err_t *err);

/* 1 when a call that failed with rc and fault code (NULL: none) may
 * succeed later: no API server answered, ImageServerUnavailable,
 * DatabaseUnavailable. */
int ks_runner_transient(ks_rc rc, const char *code);

/* Sleeps the backoff before retry number attempt + 1 (0.5 s doubling up to
 * 8 s) in slices, so that a stop request is seen; returns 1 when one was. */
int ks_runner_backoff(int attempt);

/* --dry-run: lists the server's members and counts them and their album
 * photos, calling nothing else. */
ks_rc ks_runner_count(ks_failover_t *fo, const char *server, long long *members,
                      long long *album_photos, ks_err_t *err);

#endif
