/* fcgi_pool.c: the FastCGI worker threads (fcgi_pool.h). */
#include "fcgi_pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

#define BACKLOG 128
#define DRAIN_MAX (64u << 20)   /* unread body drained before giving up the connection */

typedef struct {
    ks_fcgi_pool_t *pool;
    pthread_t thread;
    int started;
    FCGX_Request request;
    void *state;              /* worker_init's */
    int busy;                 /* guarded by pool->lock: handling a request */
    int idle_fd;              /* guarded by pool->lock: kept connection while idle, or -1 */
} worker_t;

struct ks_fcgi_pool {
    ks_fcgi_pool_conf_t conf;
    int listen_fd;
    pthread_mutex_t lock;
    int stopping;             /* guarded by lock */
    worker_t *workers;
    int worker_count;
};

const char *ks_fcgi_param(FCGX_Request *request, const char *name)
{
    return FCGX_GetParam(name, request->envp);
}

void ks_fcgi_drain(FCGX_Request *request)
{
    char buf[16384];
    size_t drained = 0;
    int n;

    while ((n = FCGX_GetStr(buf, sizeof buf, request->in)) > 0) {
        drained += (size_t)n;
        if (drained > DRAIN_MAX) {
            request->keepConnection = 0;
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    worker_t *worker = arg;
    ks_fcgi_pool_t *pool = worker->pool;

    for (;;) {
        int rc, stopping;

        pthread_mutex_lock(&pool->lock);
        if (pool->stopping) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        worker->busy = 0;
        worker->idle_fd = worker->request.ipcFd;
        pthread_mutex_unlock(&pool->lock);

        rc = FCGX_Accept_r(&worker->request);

        pthread_mutex_lock(&pool->lock);
        worker->busy = 1;
        worker->idle_fd = -1;
        stopping = pool->stopping;
        pthread_mutex_unlock(&pool->lock);
        if (rc < 0) {
            if (stopping)
                break;
            /* EMFILE and the like: keep the worker, do not spin. */
            ks_log_error("FCGX_Accept_r() failed (%d: %s)", -rc,
                         rc > -1000 ? strerror(-rc) : "libfcgi error");
            usleep(100 * 1000);
            continue;
        }
        pool->conf.handle(pool->conf.arg, worker->state, &worker->request);
        FCGX_Finish_r(&worker->request);
    }
    FCGX_Free(&worker->request, 1);
    return NULL;
}

ks_rc ks_fcgi_pool_start(const ks_fcgi_pool_conf_t *conf, ks_fcgi_pool_t **out, ks_err_t *err)
{
    ks_fcgi_pool_t *pool;
    ks_rc rc;
    int error;

    *out = NULL;
    if (FCGX_Init() != 0)
        return ks_err(err, KS_ERROR, "FCGX_Init() failed");
    /* libfcgi's SIGTERM handler only sets a flag that threads blocked in
     * accept() never see; the application stops on SIGTERM itself. */
    signal(SIGTERM, SIG_DFL);

    pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return ks_err(err, KS_NOMEM, "fcgi pool: out of memory");
    pool->conf = *conf;
    pool->listen_fd = -1;
    pthread_mutex_init(&pool->lock, NULL);
    rc = ks_net_listen(conf->listen, BACKLOG, &pool->listen_fd, err);
    if (rc == KS_OK && !(pool->workers = calloc((size_t)conf->threads, sizeof *pool->workers)))
        rc = ks_err(err, KS_NOMEM, "fcgi pool: out of memory");
    if (rc != KS_OK) {
        ks_fcgi_pool_stop(pool);
        return rc;
    }
    for (int i = 0; i < conf->threads; i++) {
        worker_t *worker = &pool->workers[i];
        worker->pool = pool;
        worker->busy = 1;
        worker->idle_fd = -1;
        if (FCGX_InitRequest(&worker->request, pool->listen_fd, 0) != 0) {
            ks_fcgi_pool_stop(pool);
            return ks_err(err, KS_ERROR, "FCGX_InitRequest() failed");
        }
        pool->worker_count = i + 1;
        if (conf->worker_init && (rc = conf->worker_init(conf->arg, i, &worker->state, err))) {
            ks_fcgi_pool_stop(pool);
            return rc;
        }
        error = pthread_create(&worker->thread, NULL, worker_main, worker);
        if (error != 0) {
            ks_fcgi_pool_stop(pool);
            return ks_err(err, KS_ERROR, "pthread_create() failed (%d: %s)", error,
                          strerror(error));
        }
        worker->started = 1;
    }
    *out = pool;
    return KS_OK;
}

int ks_fcgi_pool_threads(const ks_fcgi_pool_t *pool)
{
    return pool->worker_count;
}

void ks_fcgi_pool_stop(ks_fcgi_pool_t *pool)
{
    if (pool == NULL)
        return;

    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    /* accept() in every idle worker fails once the socket is shut down. */
    if (pool->listen_fd >= 0)
        shutdown(pool->listen_fd, SHUT_RDWR);
    /* Workers idle on a kept nginx connection wait in read(): end it. */
    for (int i = 0; i < pool->worker_count; i++) {
        worker_t *worker = &pool->workers[i];
        if (!worker->busy && worker->idle_fd >= 0)
            shutdown(worker->idle_fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&pool->lock);

    for (int i = 0; i < pool->worker_count; i++) {
        if (pool->workers[i].started)
            pthread_join(pool->workers[i].thread, NULL);
        else
            FCGX_Free(&pool->workers[i].request, 1);
    }
    for (int i = 0; i < pool->worker_count; i++)
        if (pool->conf.worker_free && pool->workers[i].state)
            pool->conf.worker_free(pool->conf.arg, pool->workers[i].state);
    if (pool->listen_fd >= 0) {
        close(pool->listen_fd);
        ks_net_unlink(pool->conf.listen);
    }
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}
