/* prom.c: the Prometheus exposition helpers and the internal /metrics
 * listener of prom.h.
 *
 * Rendering reads each atomic once: a scrape may see an observation counted
 * in a histogram's buckets but not yet in its count (+Inf then takes the
 * larger), which Prometheus tolerates. The listener is deliberately simple:
 * Prometheus scrapes every few seconds, one connection at a time, from a
 * trusted network; a client gets 2 seconds to send its request line.
 */
#include "prom.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "log.h"
#include "net.h"

static const double bucket_bounds[KS_PROM_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,    0.25,  0.5,  1,
                                                      2.5,   5,      10};

#define REQUEST_MAX 4096
#define EXPOSITION_MAX (1u << 20)

void ks_prom_observe(ks_prom_histogram_t *h, double seconds)
{
    size_t b = 0;

    if (!(seconds > 0))
        seconds = 0;
    while (b < KS_PROM_BUCKETS && seconds > bucket_bounds[b])
        b++;
    if (b < KS_PROM_BUCKETS)
        atomic_fetch_add(&h->buckets[b], 1);
    atomic_fetch_add(&h->sum_ns, (unsigned long long)(seconds * 1e9));
    atomic_fetch_add(&h->count, 1);
}

void ks_prom_family(ks_buf_t *out, const char *name, const char *type, const char *help)
{
    ks_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ks_prom_counter(ks_buf_t *out, const char *name, const char *help, unsigned long long value)
{
    ks_prom_family(out, name, "counter", help);
    ks_buf_addf(out, "%s %llu\n", name, value);
}

void ks_prom_gauge(ks_buf_t *out, const char *name, const char *help, unsigned long long value)
{
    ks_prom_family(out, name, "gauge", help);
    ks_buf_addf(out, "%s %llu\n", name, value);
}

void ks_prom_histogram(ks_buf_t *out, const char *name, const char *labels,
                       ks_prom_histogram_t *h)
{
    unsigned long long count = atomic_load(&h->count), cumulative = 0;

    if (!count)
        return;
    for (size_t b = 0; b < KS_PROM_BUCKETS; b++) {
        cumulative += atomic_load(&h->buckets[b]);
        ks_buf_addf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, bucket_bounds[b],
                    cumulative);
    }
    /* +Inf is the count read above; a bucket read later may have grown past it. */
    if (cumulative > count)
        count = cumulative;
    ks_buf_addf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, count);
    ks_buf_addf(out, "%s_sum{%s} %.9f\n", name, labels, (double)atomic_load(&h->sum_ns) / 1e9);
    ks_buf_addf(out, "%s_count{%s} %llu\n", name, labels, count);
}

void ks_prom_label_value(ks_buf_t *out, const char *value)
{
    for (; *value; value++) {
        if (*value == '\\' || *value == '"')
            ks_buf_addf(out, "\\%c", *value);
        else if (*value == '\n')
            ks_buf_addf(out, "\\n");
        else
            ks_buf_append(out, value, 1);
    }
}

/* ---- the internal listener ------------------------------------------------------- */

struct ks_prom_server {
    int fd;
    pthread_t thread;
    atomic_int stop;
    ks_prom_render_fn render;
    void *arg;
};

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void answer(int fd, int status, const char *reason, const char *content_type,
                   const char *body, size_t len, int head_only)
{
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, reason,
                     content_type, len);
    send_all(fd, head, (size_t)n);
    if (!head_only)
        send_all(fd, body, len);
}

/* Reads one request's head (bounded in size and time) and answers it. */
static void serve_connection(ks_prom_server_t *server, int fd)
{
    static const char not_found[] = "not found: only GET /metrics is served here\n";
    struct timeval tv = {2, 0};
    char request[REQUEST_MAX + 1];
    size_t have = 0;
    int head_only;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (have < REQUEST_MAX) {
        ssize_t n = recv(fd, request + have, REQUEST_MAX - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        have += (size_t)n;
        request[have] = '\0';
        if (strstr(request, "\r\n\r\n") || strstr(request, "\n\n"))
            break;
    }
    request[have] = '\0';
    head_only = strncmp(request, "HEAD ", 5) == 0;
    if ((strncmp(request, "GET /metrics ", 13) == 0 || strncmp(request, "HEAD /metrics ", 14) == 0 ||
         strncmp(request, "GET /metrics?", 13) == 0)) {
        ks_buf_t text;
        ks_buf_init(&text, EXPOSITION_MAX);
        server->render(server->arg, &text);
        if (text.overflow) {
            static const char over[] = "/metrics: the exposition is over 1 MiB or out of memory\n";
            answer(fd, 500, "Internal Server Error", "text/plain", over, sizeof over - 1, head_only);
        } else {
            answer(fd, 200, "OK", KS_PROM_CONTENT_TYPE, text.data ? text.data : "", text.len,
                   head_only);
        }
        ks_buf_free(&text);
        return;
    }
    answer(fd, 404, "Not Found", "text/plain", not_found, sizeof not_found - 1, head_only);
}

static void *serve(void *arg)
{
    ks_prom_server_t *server = arg;

    while (!atomic_load(&server->stop)) {
        struct pollfd p = {.fd = server->fd, .events = POLLIN};
        int fd;

        if (poll(&p, 1, 500) <= 0)
            continue;
        fd = accept(server->fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_connection(server, fd);
        close(fd);
    }
    return NULL;
}

ks_rc ks_prom_server_start(const char *listen, ks_prom_render_fn render, void *arg,
                           ks_prom_server_t **out, ks_err_t *err)
{
    ks_prom_server_t *server = calloc(1, sizeof *server);
    sigset_t all, old;
    ks_rc rc;

    *out = NULL;
    if (!server)
        return ks_err(err, KS_NOMEM, "out of memory for the metrics listener");
    server->render = render;
    server->arg = arg;
    if ((rc = ks_net_listen(listen, 16, &server->fd, err)) != KS_OK) {
        free(server);
        return rc;
    }
    /* The thread takes no signal: the daemon's main thread handles them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&server->thread, NULL, serve, server) ? KS_ERROR : KS_OK;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != KS_OK) {
        close(server->fd);
        free(server);
        return ks_err(err, KS_ERROR, "cannot start the metrics listener's thread");
    }
    ks_log_info("metrics: serving GET /metrics on %s", listen);
    *out = server;
    return KS_OK;
}

void ks_prom_server_stop(ks_prom_server_t *server)
{
    if (!server)
        return;
    atomic_store(&server->stop, 1);
    pthread_join(server->thread, NULL);
    close(server->fd);
    free(server);
}
