/* fastcgi.c: kisekae-api behind nginx, as a FastCGI application (libfcgi's
 * thread-safe FCGX_* API, one FCGX_Request per worker thread).
 *
 * nginx receives each request whole before it passes it on (request
 * buffering), so slow clients are nginx's to bear (client_header_timeout,
 * client_body_timeout, client_max_body_size in its configuration); a worker
 * gets a request only when its bytes are there. The worker reads the body
 * into memory (at most max_request_bytes: more is refused with TooLarge),
 * rebuilds the HTTP header gSOAP expects from the FastCGI parameters
 * (method, URI, Host, Authorization, Content-Type, SOAPAction) and serves it
 * exactly as the standalone listener does (dispatch.c). With no socket in its
 * context gSOAP answers in CGI form ("Status: 500 ..."), which is what a
 * FastCGI responder sends.
 *
 * nginx should not keep FastCGI connections open (no fastcgi_keep_conn): a
 * kept connection pins a worker thread while it is idle.
 *
 * Waiting for a request: each worker waits on the (non-blocking) listening
 * socket through an epoll descriptor of its own with EPOLLEXCLUSIVE, so a
 * new connection wakes one worker rather than all, and a worker that lost
 * the race to accept() gets EAGAIN instead of blocking. The wait lasts at
 * most KS_IDLE_CHECK_S: an idle worker then calls ks_api_worker_idle (its
 * database session drops connections to servers a reload removed) and
 * looks whether it must stop.
 *
 * Signals: the main thread takes them (workers block them) and wakes at
 * least every 200 ms: it runs a reload SIGHUP asked for
 * (ks_api_reload_if_asked), and on SIGTERM shuts the listening socket down;
 * idle workers stop within KS_IDLE_CHECK_S, busy ones finish their request
 * first.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "dispatch.h"
#include "fastcgi.h"
#include "buf.h"
#include "daemon.h"
#include "log.h"
#include "net.h"
#include "reply.h"

#define KS_FCGI_BODY_KEEP (1024 * 1024)   /* larger body buffers are freed after use */

typedef struct {
    const ks_api_conf_t *conf;
    int listen_fd;
    int epfd;                    /* waits for the listening socket (EPOLLEXCLUSIVE) */
    volatile int *stopping;
    FCGX_Request request;
    struct soap *soap;
    ks_api_ctx_t ctx;
    ks_buf_t head, body;
    pthread_t thread;
} fcgi_worker_t;

static int fcgi_fsend(struct soap *soap, const char *s, size_t n)
{
    FCGX_Request *request = ks_api_ctx(soap)->transport;

    while (n > 0) {
        int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
        if (FCGX_PutStr(s, chunk, request->out) != chunk)
            return SOAP_EOF;
        s += chunk;
        n -= (size_t)chunk;
    }
    return SOAP_OK;
}

static const char *param(fcgi_worker_t *w, const char *name)
{
    const char *value = FCGX_GetParam(name, w->request.envp);
    return value ? value : "";
}

/* Appends "Name: value\r\n" when value is set; 0, or -1 when value holds a
 * line break (nginx passes none; a header must never be forged). */
static int add_field(ks_buf_t *head, const char *name, const char *value)
{
    if (!*value)
        return 0;
    if (strpbrk(value, "\r\n"))
        return -1;
    ks_buf_addf(head, "%s: %s\r\n", name, value);
    return 0;
}

/* Reads and serves the request the worker accepted. */
static void handle(fcgi_worker_t *w)
{
    const ks_api_conf_t *conf = w->conf;
    const char *method = param(w, "REQUEST_METHOD"), *uri = param(w, "REQUEST_URI");
    const char *length_text = param(w, "CONTENT_LENGTH"), *https = param(w, "HTTPS");
    unsigned long long length = 0;
    char reason[160], host[300];
    const char *port, *colon;
    int keep_alive = 1;

    for (const char *p = length_text; *p; p++) {
        if (*p < '0' || *p > '9' || length > (~0ULL - 9) / 10) {
            ks_api_refuse(w->soap, 400, "InvalidArgument", "bad CONTENT_LENGTH");
            return;
        }
        length = length * 10 + (unsigned)(*p - '0');
    }
    if (length > conf->max_request_bytes) {
        snprintf(reason, sizeof reason, "request body of %llu bytes is over the %zu-byte limit",
                 length, conf->max_request_bytes);
        ks_api_refuse(w->soap, 500, "TooLarge", reason);
        return;
    }
    if (!*method || !*uri || strpbrk(uri, " \t\r\n") || strpbrk(method, " \t\r\n")) {
        ks_api_refuse(w->soap, 400, "InvalidArgument", "no REQUEST_METHOD or bad REQUEST_URI");
        return;
    }

    ks_buf_reset(&w->body);
    if (length > 0 && !ks_buf_reserve(&w->body, (size_t)length)) {
        ks_api_refuse(w->soap, 500, "TooLarge", "out of memory for the request body");
        return;
    }
    while (w->body.len < length) {
        size_t want = (size_t)length - w->body.len;
        int n = FCGX_GetStr(w->body.data + w->body.len, want > 1 << 30 ? 1 << 30 : (int)want,
                            w->request.in);
        if (n <= 0)
            break;
        w->body.len += (size_t)n;
    }
    if (w->body.len < length) {
        ks_log_info("nginx sent %zu of %llu body bytes: request dropped", w->body.len, length);
        return;
    }

    /* The header gSOAP would have read from the client. */
    snprintf(host, sizeof host, "%s", *param(w, "HTTP_HOST") ? param(w, "HTTP_HOST")
                                                               : param(w, "SERVER_NAME"));
    /* Debian's fastcgi_params pass nginx's $host, without the port. */
    port = param(w, "SERVER_PORT");
    colon = strrchr(host, ':');
    if (*host && (!colon || host[strlen(host) - 1] == ']') && *port && strcmp(port, "80") &&
        strcmp(port, "443") && strlen(host) + strlen(port) + 2 <= sizeof host)
        strcat(strcat(host, ":"), port);
    ks_buf_reset(&w->head);
    ks_buf_addf(&w->head, "%s %s HTTP/1.1\r\n", method, uri);
    if (add_field(&w->head, "Host", host) ||
        add_field(&w->head, "Authorization", param(w, "HTTP_AUTHORIZATION")) ||
        add_field(&w->head, "Content-Type", param(w, "CONTENT_TYPE")) ||
        add_field(&w->head, "SOAPAction", param(w, "HTTP_SOAPACTION"))) {
        ks_api_refuse(w->soap, 400, "InvalidArgument", "a line break in a header value");
        return;
    }
    ks_buf_addf(&w->head, "Content-Length: %zu\r\nConnection: close\r\n\r\n", w->body.len);
    if (w->head.overflow) {
        snprintf(reason, sizeof reason, "HTTP header over the %zu-byte limit",
                 conf->max_header_bytes);
        ks_api_refuse(w->soap, 431, "TooLarge", reason);
        return;
    }

    w->ctx.head = w->head.data;
    w->ctx.head_len = w->head.len;
    w->ctx.body = w->body.data ? w->body.data : "";
    w->ctx.body_len = w->body.len;
    w->ctx.scheme = !strcmp(https, "on") || !strcmp(param(w, "REQUEST_SCHEME"), "https")
                        ? "https" : "http";
    ks_api_serve_request(w->soap, &keep_alive);
}

static void *worker_main(void *arg)
{
    fcgi_worker_t *w = arg;
    long long last_call_ms = ks_now_ms();

    ks_daemon_block_stop_signals();
    while (!*w->stopping) {
        struct epoll_event event;
        int ready = epoll_wait(w->epfd, &event, 1, KS_IDLE_CHECK_S * 1000), rc;

        if (*w->stopping)
            break;
        if (ks_now_ms() - last_call_ms >= KS_IDLE_CHECK_S * 1000) {
            ks_api_worker_idle(&w->ctx);     /* no request for a while */
            last_call_ms = ks_now_ms();
        }
        if (ready <= 0) {
            if (ready < 0 && errno != EINTR) {
                ks_log_error("epoll_wait() failed (%d: %s)", errno, strerror(errno));
                usleep(100 * 1000);
            }
            continue;
        }
        rc = FCGX_Accept_r(&w->request);
        if (rc < 0) {
            if (*w->stopping)
                break;
            if (rc == -EAGAIN || rc == -EWOULDBLOCK)
                continue;                    /* another worker took the connection */
            ks_log_error("FCGX_Accept_r() failed (%d: %s)", -rc,
                         rc > -1000 ? strerror(-rc) : "libfcgi error");
            usleep(100 * 1000);              /* EMFILE and the like: do not spin */
            continue;
        }
        handle(w);
        FCGX_Finish_r(&w->request);
        last_call_ms = ks_now_ms();
        if (w->body.cap > KS_FCGI_BODY_KEEP) {
            ks_buf_free(&w->body);
            ks_buf_init(&w->body, w->conf->max_request_bytes);
        }
    }
    FCGX_Free(&w->request, 1);
    return NULL;
}

int ks_api_serve_fastcgi(const ks_api_conf_t *conf, ks_db_pool_t *pool,
                         volatile sig_atomic_t *stop)
{
    fcgi_worker_t *workers;
    struct sigaction ours;
    volatile int stopping = 0;
    int listen_fd, started = 0, status = 0;
    ks_err_t err;

    /* FCGX_Init installs a SIGTERM handler that only sets a flag threads in
     * accept() never see: keep ours. */
    sigaction(SIGTERM, NULL, &ours);
    if (FCGX_Init() != 0) {
        ks_log_error("FCGX_Init() failed");
        return 1;
    }
    sigaction(SIGTERM, &ours, NULL);
    if (ks_net_listen(conf->listen, 1024, &listen_fd, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    /* Workers wait in epoll, then accept() without blocking (a connection
     * accept()ed is blocking again: Linux does not pass O_NONBLOCK on). */
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    workers = calloc((size_t)conf->workers, sizeof *workers);
    if (!workers) {
        ks_log_error("out of memory for %d workers", conf->workers);
        close(listen_fd);
        return 1;
    }
    for (int i = 0; i < conf->workers; i++) {
        fcgi_worker_t *w = &workers[i];
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE};
        w->conf = conf;
        w->listen_fd = listen_fd;
        w->stopping = &stopping;
        ks_buf_init(&w->head, conf->max_header_bytes);
        ks_buf_init(&w->body, conf->max_request_bytes);
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
            ks_log_error("epoll_create1()/epoll_ctl() failed for worker %d (%d: %s)", i, errno,
                         strerror(errno));
            status = 1;
            break;
        }
        w->soap = ks_api_worker_new(conf, pool, &w->ctx);
        if (!w->soap || FCGX_InitRequest(&w->request, listen_fd, 0) != 0) {
            ks_log_error("out of memory for worker %d", i);
            status = 1;
            break;
        }
        w->ctx.transport = &w->request;
        w->ctx.cgi = 1;
        w->soap->fsend = fcgi_fsend;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            ks_log_error("pthread_create() failed for worker %d", i);
            status = 1;
            break;
        }
        started++;
    }
    if (!status)
        ks_log_info("listening on %s (FastCGI) with %d workers", conf->listen, conf->workers);
    while (!status && !*stop) {
        struct timespec tick = {0, 200 * 1000 * 1000};
        nanosleep(&tick, NULL);              /* a signal cuts it short */
        ks_api_reload_if_asked();
    }
    /* Workers see stopping when the shutdown wakes them, or at the latest
     * after KS_IDLE_CHECK_S. */
    stopping = 1;
    shutdown(listen_fd, SHUT_RDWR);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    for (int i = 0; i < conf->workers; i++) {
        if (workers[i].soap || workers[i].ctx.db)
            ks_api_worker_free(workers[i].soap, &workers[i].ctx);
        ks_buf_free(&workers[i].head);
        ks_buf_free(&workers[i].body);
        if (workers[i].epfd > 0)
            close(workers[i].epfd);
    }
    close(listen_fd);
    ks_net_unlink(conf->listen);
    free(workers);
    return status;
}
