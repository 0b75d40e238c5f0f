/* runner.c: listing, batching, worker threads, retries, rate limit and
 * checkpoints of a batch run (runner.h).
 *
 * Threads: the main thread owns the listing, the checkpoint and the
 * progress line; workers only call the API. They meet under one mutex: a
 * queue of batches to do (never more than `parallel` batches are out) and a
 * list of batches finished. Every batch handed out stays on the `out` list,
 * in listing order, until it is finished and every batch before it is too;
 * the checkpoint's `low` is the last member of the last batch taken off
 * that list, its ranges the batches finished behind a batch still in flight.
 */
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch_api.h"
#include "log.h"
#include "progress.h"

#define PAGE_LIMIT 500
#define BACKOFF_FIRST_S 0.5
#define BACKOFF_MAX_S 8.0

volatile sig_atomic_t ks_batch_stop_requested;

typedef struct {
    ks_status_t status;
    int images, images_written;
    char code[32];
    char message[200];
} member_result_t;

typedef struct batch {
    long seq;
    int count;
    char ids[KS_BATCH_IDS_MAX][KS_CHECKPOINT_ID_SIZE];
    member_result_t results[KS_BATCH_IDS_MAX];
    int recorded;                  /* its results are counted in the checkpoint; main's
                                      alone: a batch is done once main has taken it
                                      off the finished list and recorded it */
    int abandoned;                 /* given up on by a stop: not done, redone on resume */
    struct batch *next_out;        /* the `out` list, in listing order */
    struct batch *next_queue;      /* the todo queue or the finished list */
} batch_t;

typedef struct {
    const ks_runner_options_t *o;
    pthread_mutex_t lock;
    pthread_cond_t work;           /* workers: a batch is queued, or closing */
    pthread_cond_t done;           /* main: a batch finished */
    batch_t *todo_head, *todo_tail;
    batch_t *finished;             /* pushed at the head */
    int closing;
    ks_rc worker_rc;               /* a worker that could not start */
    ks_err_t worker_err;
} shared_t;

/* ---- workers ---------------------------------------------------------------------- */

int ks_runner_transient(ks_rc rc, const char *code)
{
    return rc == KS_UNAVAILABLE ||
           (code && (strcmp(code, "ImageServerUnavailable") == 0 ||
                     strcmp(code, "DatabaseUnavailable") == 0));
}

int ks_runner_backoff(int attempt)
{
    double wait = BACKOFF_FIRST_S;

    for (int i = 0; i < attempt && wait < BACKOFF_MAX_S; i++)
        wait *= 2;
    if (wait > BACKOFF_MAX_S)
        wait = BACKOFF_MAX_S;
    for (double slept = 0; slept < wait; slept += 0.1) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        if (ks_batch_stop_requested)
            return 1;
        nanosleep(&ts, NULL);
    }
    return ks_batch_stop_requested != 0;
}

/* Records one member's answer; an audit's finding without a message says
 * how many of the member's images it concerns. */
static void set_result(member_result_t *r, ks_status_t status, int images, int images_written,
                       const char *code, const char *message)
{
    r->status = status;
    r->images = images;
    r->images_written = images_written;
    snprintf(r->code, sizeof r->code, "%s", code ? code : "");
    if (message && message[0])
        snprintf(r->message, sizeof r->message, "%s", message);
    else if (status == KS_STATUS_MISSING || status == KS_STATUS_DIFFERS)
        snprintf(r->message, sizeof r->message, "%d of %d images", images_written, images);
    else
        r->message[0] = '\0';
}

/* Calls RebuildAvatars for b until every member has an answer that is not
 * a transient failure, or the retries are spent. */
static void process_batch(const ks_runner_options_t *o, ks_batch_api_t *api, batch_t *b)
{
    int pending[KS_BATCH_IDS_MAX], pending_count = b->count;
    const char *ids[KS_BATCH_IDS_MAX];

    for (int i = 0; i < b->count; i++)
        pending[i] = i;
    for (int attempt = 0;; attempt++) {
        ks_batch_result_t *results;
        ks_err_t err = {""};
        int still = 0, retry_allowed;
        const char *first_code = NULL;
        ks_rc rc;

        for (int i = 0; i < pending_count; i++)
            ids[i] = b->ids[pending[i]];
        rc = ks_batch_api_rebuild(api, o->server, ids, pending_count, o->check_only, &results,
                                  &err);
        if (rc != KS_OK) {
            const char *code = ks_batch_api_fault_code(api);
            if (!code)
                code = rc == KS_UNAVAILABLE ? "Unavailable" : "Internal";
            if (ks_runner_transient(rc, code) && attempt < o->conf->retries) {
                ks_log_warn("batch %ld: %s; trying again (attempt %d of %d)", b->seq, err.msg,
                            attempt + 2, o->conf->retries + 1);
                if (ks_runner_backoff(attempt)) {
                    b->abandoned = 1;
                    return;
                }
                continue;
            }
            for (int i = 0; i < pending_count; i++)
                set_result(&b->results[pending[i]], KS_STATUS_FAILED, 0, 0, code, err.msg);
            return;
        }
        for (int i = 0; i < pending_count; i++) {
            const ks_batch_result_t *r = &results[i];
            int status = ks_status_parse(r->status);
            if (status < 0) {
                set_result(&b->results[pending[i]], KS_STATUS_FAILED, 0, 0, "Internal",
                           "RebuildAvatars answered an unknown status");
                continue;
            }
            /* A member failing for want of a server is tried again like a
             * whole call; another failure once more only. */
            retry_allowed = ks_runner_transient(KS_ERROR, r->code) ? attempt < o->conf->retries
                                                          : attempt < 1;
            if (status == KS_STATUS_FAILED && retry_allowed) {
                if (!first_code)
                    first_code = r->code ? r->code : "?";
                pending[still++] = pending[i];
                continue;
            }
            set_result(&b->results[pending[i]], status, r->images, r->images_written, r->code,
                       r->message);
        }
        pending_count = still;
        if (pending_count == 0)
            return;
        ks_log_warn("batch %ld: %d members failed (the first, %s: %s); trying them again",
                    b->seq, pending_count, b->ids[pending[0]], first_code);
        if (ks_runner_backoff(attempt)) {
            b->abandoned = 1;
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    shared_t *s = arg;
    ks_batch_api_t *api;
    ks_err_t err;

    if (ks_batch_api_new(s->o->fo, &api, &err) != KS_OK) {
        pthread_mutex_lock(&s->lock);
        s->worker_rc = KS_NOMEM;
        s->worker_err = err;
        pthread_cond_signal(&s->done);
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    for (;;) {
        batch_t *b;
        pthread_mutex_lock(&s->lock);
        while (!s->todo_head && !s->closing)
            pthread_cond_wait(&s->work, &s->lock);
        if (!s->todo_head) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        b = s->todo_head;
        s->todo_head = b->next_queue;
        if (!s->todo_head)
            s->todo_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        process_batch(s->o, api, b);

        pthread_mutex_lock(&s->lock);
        b->next_queue = s->finished;
        s->finished = b;
        pthread_cond_signal(&s->done);
        pthread_mutex_unlock(&s->lock);
    }
    ks_batch_api_free(api);
    return NULL;
}

/* ---- the source of members: the listing, or a fixed list --------------------------- */

typedef struct {
    const ks_runner_options_t *o;
    ks_batch_api_t *api;           /* the main thread's */
    char after[KS_CHECKPOINT_ID_SIZE];
    int started, ended;
    char (*page)[KS_CHECKPOINT_ID_SIZE];
    int page_count, page_pos;
    long long member_count;        /* the server's, as the last page said */
    int fixed_pos;
} source_t;

/* Reads the next page (retrying while the API is unavailable). */
static ks_rc next_page(source_t *src, ks_err_t *err)
{
    for (int attempt = 0;; attempt++) {
        ks_batch_member_t *members;
        const char *next;
        int count, member_count;
        ks_rc rc = ks_batch_api_list(src->api, src->o->server, src->after[0] ? src->after : NULL,
                                     PAGE_LIMIT, &members, &count, &next, &member_count, err);
        if (rc == KS_OK) {
            for (int i = 0; i < count; i++)
                snprintf(src->page[i], sizeof src->page[i], "%s", members[i].user_id);
            src->page_count = count;
            src->page_pos = 0;
            src->member_count = member_count;
            src->started = 1;
            if (count > 0)
                snprintf(src->after, sizeof src->after, "%s", src->page[count - 1]);
            if (!next || count == 0)
                src->ended = 1;
            return KS_OK;
        }
        if (!ks_runner_transient(rc, ks_batch_api_fault_code(src->api)) ||
            attempt >= src->o->conf->retries)
            return rc;
        ks_log_warn("%s; trying again", err->msg);
        if (ks_runner_backoff(attempt))
            return ks_err(err, KS_UNAVAILABLE, "stopped while the listing was unavailable");
    }
}

/* Fills b with up to size members not done yet; b->count 0 at the end. */
static ks_rc fill_batch(source_t *src, const ks_checkpoint_t *old, batch_t *b, int size,
                        ks_err_t *err)
{
    b->count = 0;
    if (src->o->ids) {
        while (b->count < size && src->fixed_pos < src->o->id_count)
            snprintf(b->ids[b->count++], KS_CHECKPOINT_ID_SIZE, "%s",
                     src->o->ids[src->fixed_pos++]);
        return KS_OK;
    }
    while (b->count < size) {
        if (src->page_pos == src->page_count) {
            ks_rc rc;
            if (src->ended)
                break;
            rc = next_page(src, err);
            if (rc != KS_OK)
                return rc;
            continue;
        }
        if (!ks_checkpoint_covers(old, src->page[src->page_pos]))
            snprintf(b->ids[b->count++], KS_CHECKPOINT_ID_SIZE, "%s", src->page[src->page_pos]);
        src->page_pos++;
    }
    return KS_OK;
}

/* ---- the main thread ----------------------------------------------------------------- */

typedef struct {
    const ks_runner_options_t *o;
    ks_checkpoint_t *ck;
    ks_checkpoint_t old;           /* the ranges a resumed checkpoint had above its low */
    batch_t *out_head, *out_tail;
    int in_flight;
} main_t;

/* Counts a finished batch's results into the checkpoint. */
static ks_rc record(main_t *m, batch_t *b, ks_err_t *err)
{
    int written = 0, failed = 0;

    for (int i = 0; i < b->count; i++) {
        const member_result_t *r = &b->results[i];
        m->ck->counts[r->status]++;
        if (r->status == KS_STATUS_WRITTEN)
            m->ck->images_written += r->images_written;
        if (r->status == KS_STATUS_WRITTEN)
            written++;
        if (r->status == KS_STATUS_FAILED || r->status == KS_STATUS_MISSING ||
            r->status == KS_STATUS_DIFFERS) {
            ks_rc rc = ks_checkpoint_add_note(m->ck, b->ids[i], r->status, r->code, r->message,
                                              err);
            if (rc != KS_OK)
                return rc;
            if (r->status == KS_STATUS_FAILED)
                failed++;
        }
    }
    ks_log_info("batch %ld done: %d members %s..%s, %d written, %d failed", b->seq, b->count,
                b->ids[0], b->ids[b->count - 1], written, failed);
    return KS_OK;
}

/* Advances low past the finished batches at the head of `out`, rebuilds
 * the ranges and writes the checkpoint. */
static ks_rc advance(main_t *m, ks_err_t *err)
{
    ks_checkpoint_t *ck = m->ck;

    while (m->out_head && m->out_head->recorded && !m->out_head->abandoned) {
        batch_t *b = m->out_head;
        if (!m->o->ids)
            snprintf(ck->low, sizeof ck->low, "%s", b->ids[b->count - 1]);
        m->out_head = b->next_out;
        if (!m->out_head)
            m->out_tail = NULL;
        free(b);
    }
    ck->range_count = 0;
    for (size_t i = 0; i < m->old.range_count; i++)
        if (strcmp(m->old.ranges[i].last, ck->low) > 0) {
            ks_rc rc = ks_checkpoint_add_range(ck, m->old.ranges[i].first,
                                               m->old.ranges[i].last, err);
            if (rc != KS_OK)
                return rc;
        }
    for (batch_t *b = m->out_head; b; b = b->next_out)
        if (b->recorded && !b->abandoned) {
            ks_rc rc = ks_checkpoint_add_range(ck, b->ids[0], b->ids[b->count - 1], err);
            if (rc != KS_OK)
                return rc;
        }
    return m->o->checkpoint_path ? ks_checkpoint_save(m->o->checkpoint_path, ck, err) : KS_OK;
}

static void deadline_in(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)seconds;
    ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

ks_rc ks_runner_run(const ks_runner_options_t *o, ks_checkpoint_t *ck, int *stopped,
                    ks_err_t *err)
{
    shared_t s = {.o = o};
    main_t m = {.o = o, .ck = ck};
    source_t src = {.o = o};
    pthread_t threads[64];
    int started = 0, source_done = 0;
    long seq = 0;
    double run_start = ks_progress_now(), next_send = run_start;
    ks_progress_t progress;
    sigset_t all, previous;
    ks_rc rc = KS_OK;

    *stopped = 0;
    /* The ranges of a resumed run; ck's own are rebuilt at every step. */
    ks_checkpoint_init(&m.old, ck->command, ck->server);
    for (size_t i = 0; rc == KS_OK && i < ck->range_count; i++)
        rc = ks_checkpoint_add_range(&m.old, ck->ranges[i].first, ck->ranges[i].last, err);
    snprintf(src.after, sizeof src.after, "%s", o->ids ? "" : ck->low);
    src.page = malloc(sizeof *src.page * PAGE_LIMIT);
    if (rc == KS_OK && !src.page)
        rc = ks_err(err, KS_NOMEM, "out of memory for a page of members");
    if (rc == KS_OK)
        rc = ks_batch_api_new(o->fo, &src.api, err);
    /* The first page before any thread: an unknown server ends it here. */
    if (rc == KS_OK && !o->ids)
        rc = next_page(&src, err);
    if (rc != KS_OK) {
        ks_batch_api_free(src.api);
        free(src.page);
        ks_checkpoint_free(&m.old);
        return rc;
    }

    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.work, NULL);
    pthread_cond_init(&s.done, NULL);
    /* Workers never take SIGINT/SIGTERM: the main thread's handler does. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    for (; started < o->parallel && started < 64; started++)
        if (pthread_create(&threads[started], NULL, worker_main, &s) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (started == 0) {
        rc = ks_err(err, KS_ERROR, "pthread_create() failed (%d: %s)", errno, strerror(errno));
        goto out;
    }

    ks_progress_init(&progress, stdout, o->label, o->conf->progress_interval_s);
    for (;;) {
        batch_t *finished;
        long long total = o->ids ? o->id_count : src.member_count;
        long long done = ks_checkpoint_done(ck);

        pthread_mutex_lock(&s.lock);
        finished = s.finished;
        s.finished = NULL;
        if (s.worker_rc != KS_OK && rc == KS_OK) {
            rc = ks_err(err, s.worker_rc, "%s", s.worker_err.msg);
            ks_batch_stop_requested = 1;
        }
        pthread_mutex_unlock(&s.lock);
        if (finished) {
            for (batch_t *b = finished; b; b = b->next_queue) {
                m.in_flight--;
                if (!b->abandoned && rc == KS_OK && (rc = record(&m, b, err)) == KS_OK)
                    b->recorded = 1;
            }
            if (rc == KS_OK)
                rc = advance(&m, err);
            if (rc != KS_OK)
                ks_batch_stop_requested = 1;
            continue;
        }
        ks_progress_update(&progress, done, total > done ? total : done,
                           ck->counts[KS_STATUS_FAILED], 0);
        if (ks_batch_stop_requested) {
            if (m.in_flight == 0)
                break;
        } else if (source_done) {
            if (m.in_flight == 0)
                break;
        } else if (m.in_flight < o->parallel) {
            double now = ks_progress_now();
            int size = o->batch_size;
            batch_t *b;
            if (o->rate > 0 && now < next_send) {
                struct timespec until;
                deadline_in(&until, next_send - now < 0.25 ? next_send - now : 0.25);
                pthread_mutex_lock(&s.lock);
                if (!s.finished)
                    pthread_cond_timedwait(&s.done, &s.lock, &until);
                pthread_mutex_unlock(&s.lock);
                continue;
            }
            if (!(b = calloc(1, sizeof *b))) {
                rc = ks_err(err, KS_NOMEM, "out of memory for a batch");
                ks_batch_stop_requested = 1;
                continue;
            }
            /* A slow rate gets small batches, so that it stays even. */
            if (o->rate > 0 && size > o->rate)
                size = o->rate;
            rc = fill_batch(&src, &m.old, b, size, err);
            if (rc != KS_OK || b->count == 0) {
                free(b);
                source_done = 1;
                if (rc != KS_OK)
                    ks_batch_stop_requested = 1;
                continue;
            }
            b->seq = ++seq;
            if (o->rate > 0)
                next_send = (next_send > now ? next_send : now) + (double)b->count / o->rate;
            if (m.out_tail)
                m.out_tail->next_out = b;
            else
                m.out_head = b;
            m.out_tail = b;
            m.in_flight++;
            ks_log_info("batch %ld sent: %d members %s..%s", b->seq, b->count, b->ids[0],
                        b->ids[b->count - 1]);
            pthread_mutex_lock(&s.lock);
            if (s.todo_tail)
                s.todo_tail->next_queue = b;
            else
                s.todo_head = b;
            s.todo_tail = b;
            pthread_cond_signal(&s.work);
            pthread_mutex_unlock(&s.lock);
            continue;
        }
        {
            struct timespec until;
            deadline_in(&until, 0.25);
            pthread_mutex_lock(&s.lock);
            if (!s.finished)
                pthread_cond_timedwait(&s.done, &s.lock, &until);
            pthread_mutex_unlock(&s.lock);
        }
    }
    ck->listed_all = source_done && rc == KS_OK && !ks_batch_stop_requested;
    *stopped = ks_batch_stop_requested && rc == KS_OK;
    ck->elapsed_s += ks_progress_now() - run_start;
    {
        long long done = ks_checkpoint_done(ck);
        long long total = o->ids ? o->id_count : src.member_count;
        ks_progress_update(&progress, done, total > done ? total : done,
                           ck->counts[KS_STATUS_FAILED], 1);
        ks_progress_end(&progress);
    }
    if (o->checkpoint_path) {
        ks_err_t save_err;
        ks_rc save_rc = advance(&m, &save_err);
        if (save_rc != KS_OK && rc == KS_OK) {
            rc = save_rc;
            *err = save_err;
        }
    }
out:
    pthread_mutex_lock(&s.lock);
    s.closing = 1;
    pthread_cond_broadcast(&s.work);
    pthread_mutex_unlock(&s.lock);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    while (m.out_head) {
        batch_t *b = m.out_head;
        m.out_head = b->next_out;
        free(b);
    }
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.work);
    pthread_cond_destroy(&s.done);
    ks_batch_api_free(src.api);
    free(src.page);
    ks_checkpoint_free(&m.old);
    return rc;
}

ks_rc ks_runner_count(ks_failover_t *fo, const char *server, long long *members,
                      long long *album_photos, ks_err_t *err)
{
    ks_batch_api_t *api;
    char after[KS_CHECKPOINT_ID_SIZE] = "";
    ks_rc rc = ks_batch_api_new(fo, &api, err);

    *members = *album_photos = 0;
    while (rc == KS_OK) {
        ks_batch_member_t *page;
        const char *next;
        int count, member_count;
        rc = ks_batch_api_list(api, server, after[0] ? after : NULL, PAGE_LIMIT, &page, &count,
                               &next, &member_count, err);
        if (rc != KS_OK)
            break;
        for (int i = 0; i < count; i++)
            *album_photos += page[i].album_photos;
        *members += count;
        if (!next || count == 0)
            break;
        snprintf(after, sizeof after, "%s", page[count - 1].user_id);
    }
    ks_batch_api_free(api);
    return rc;
}
