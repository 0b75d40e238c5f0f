/* job.c: background jobs of the API server (job.h). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "job.h"
#include "daemon.h"
#include "log.h"

struct ks_job {
    const char *name;
    const ks_api_conf_t *conf;
    ks_db_pool_t *pool;
    long http_timeout_ms;
    int interval_ms;
    ks_job_round_fn round;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* on CLOCK_MONOTONIC */
    pthread_t thread;
    int stopping, woken;
};

/* Waits until the interval passed, the job is woken or asked to stop;
 * called and returns with job->lock held. */
static void wait_next(ks_job_t *job)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += job->interval_ms / 1000;
    until.tv_nsec += (long)(job->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!job->stopping && !job->woken &&
           pthread_cond_timedwait(&job->cond, &job->lock, &until) == 0)
        ;
}

static void *job_main(void *arg)
{
    ks_job_t *job = arg;
    ks_api_ctx_t ctx = {0};
    struct soap *soap = soap_new();

    ks_daemon_block_stop_signals();
    ctx.conf = job->conf;
    ctx.db = ks_db_session_new(job->pool);
    ctx.http = ks_http_new(job->http_timeout_ms);
    if (!soap || !ctx.db || !ctx.http) {
        ks_log_error("%s: out of memory; the job does not run", job->name);
        goto done;
    }
    soap->user = &ctx;
    pthread_mutex_lock(&job->lock);
    while (!job->stopping) {
        int more;

        job->woken = 0;
        pthread_mutex_unlock(&job->lock);
        ks_db_session_begin(ctx.db);
        more = job->round(soap, &ctx, job, job->arg);
        soap_destroy(soap);
        soap_end(soap);
        pthread_mutex_lock(&job->lock);
        if (!more)
            wait_next(job);
    }
    pthread_mutex_unlock(&job->lock);
done:
    if (soap)
        soap_free(soap);
    ks_db_session_free(ctx.db);
    ks_http_free(ctx.http);
    return NULL;
}

ks_rc ks_job_start(const char *name, const ks_api_conf_t *conf, ks_db_pool_t *pool,
                   long http_timeout_ms, int interval_ms, ks_job_round_fn round, void *arg,
                   ks_job_t **out, ks_err_t *err)
{
    ks_job_t *job = calloc(1, sizeof *job);
    pthread_condattr_t attr;
    int error;

    *out = NULL;
    if (!job)
        return ks_err(err, KS_NOMEM, "out of memory for the %s job", name);
    *job = (ks_job_t){.name = name, .conf = conf, .pool = pool,
                      .http_timeout_ms = http_timeout_ms, .interval_ms = interval_ms,
                      .round = round, .arg = arg};
    pthread_mutex_init(&job->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&job->cond, &attr);
    pthread_condattr_destroy(&attr);
    if ((error = pthread_create(&job->thread, NULL, job_main, job)) != 0) {
        pthread_cond_destroy(&job->cond);
        pthread_mutex_destroy(&job->lock);
        free(job);
        return ks_err(err, KS_ERROR, "pthread_create() of the %s job failed (%d: %s)", name,
                      error, strerror(error));
    }
    *out = job;
    return KS_OK;
}

int ks_job_stopping(ks_job_t *job)
{
    return __atomic_load_n(&job->stopping, __ATOMIC_RELAXED);
}

void ks_job_wake(ks_job_t *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->lock);
    job->woken = 1;
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
}

void ks_job_stop(ks_job_t *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->lock);
    __atomic_store_n(&job->stopping, 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    pthread_join(job->thread, NULL);
    pthread_cond_destroy(&job->cond);
    pthread_mutex_destroy(&job->lock);
    free(job);
}
