/* server.c: the standalone HTTP listener of kisekae-api.
 *
 * The main thread accepts connections and queues them; a fixed pool of
 * worker threads serves them, each with its own gSOAP context, database
 * session and HTTP client, so no request waits on another's lock. A worker
 * serves the keep-alive requests of one connection in turn, freeing each
 * request's memory before the next. The WSDL is answered on GET with the
 * address the client used.
 *
 * Each request is one database call (ks_db_session_begin): its reads go to
 * one server, and to the master once it wrote. SIGHUP is handled in the
 * accepting thread, which has the pool reload its configuration; workers
 * adopt it at their next request, or within KS_IDLE_CHECK_S when idle.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "api.h"
#include "config.h"
#include "embedded.h"
#include "log.h"
#include "Kisekae.nsmap"

extern const ks_embedded_t ks_embedded_wsdl[];

#define KS_QUEUE_PER_WORKER 16
#define KS_WSDL_LOCATION "http://127.0.0.1:17010/"

typedef struct {
    SOAP_SOCKET *sockets;
    int capacity, head, count;
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    int stopping;
} conn_queue_t;

typedef struct {
    struct soap *soap;
    ks_api_ctx_t ctx;
    pthread_t thread;
    conn_queue_t *queue;
} worker_t;

#define KS_IDLE_CHECK_S 1          /* an idle worker adopts a new DB pool generation */

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
    stop_requested = sig;
}

static void on_reload(int sig)
{
    reload_requested = sig;
}

/* ---- the WSDL, with the endpoint the client used -------------------------------- */

/* 1 when host is a plain host[:port] we may echo into the WSDL. */
static int host_is_safe(const char *host)
{
    if (!*host || strlen(host) > 255)
        return 0;
    for (const char *p = host; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(".-:[]", *p)))
            return 0;
    return 1;
}

static int serve_wsdl(struct soap *soap)
{
    const ks_embedded_t *wsdl = &ks_embedded_wsdl[0];
    const char *text = (const char *)wsdl->data;
    const char *at = strstr(text, KS_WSDL_LOCATION);
    char location[300];
    const char *host = soap->host;
    size_t before, after;

    if (!strstr(soap->path, "?wsdl") && !strstr(soap->path, "?WSDL"))
        return 404;
    if (!host_is_safe(host))
        host = ks_api_ctx(soap)->conf->listen;
    if (soap->port > 0 && !strchr(host, ':') && soap->port != 80)
        snprintf(location, sizeof location, "http://%s:%d/", host, soap->port);
    else
        snprintf(location, sizeof location, "http://%s/", host);
    before = at ? (size_t)(at - text) : wsdl->size;
    after = at ? wsdl->size - before - strlen(KS_WSDL_LOCATION) : 0;
    soap->http_content = "text/xml; charset=utf-8";
    soap->keep_alive = 0;    /* gSOAP mishandles a request after a GET on one connection */
    soap->length = before + (at ? strlen(location) : 0) + after;
    if (soap_response(soap, SOAP_FILE) || soap_send_raw(soap, text, before) ||
        (at && (soap_send_raw(soap, location, strlen(location)) ||
                soap_send_raw(soap, at + strlen(KS_WSDL_LOCATION), after))))
        return soap_closesock(soap);
    return soap_end_send(soap);
}

/* ---- faults gSOAP raises itself get a stable code too ---------------------------- */

/* Counts what each request receives, to tell a malformed request (answered
 * with a fault) from a keep-alive connection the client closed (not). */
static size_t counting_frecv(struct soap *soap, char *buf, size_t len)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    size_t n;

    /* Once the body announced by Content-Length is in, the request is over:
     * without this gSOAP waits recv_timeout for more of a truncated XML. */
    if (ctx->body_known) {
        if (ctx->body_left == 0)
            return 0;
        if (len > ctx->body_left)
            len = ctx->body_left;
    }
    n = ctx->frecv(soap, buf, len);
    ctx->received += n;
    if (ctx->body_known)
        ctx->body_left -= n < ctx->body_left ? n : ctx->body_left;
    return n;
}

/* After gSOAP's HTTP header parser: what of the body is still to come. */
static int parse_http_header(struct soap *soap)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int rc = ctx->fparse(soap);
    size_t buffered = soap->buflen - soap->bufidx;

    if (rc == SOAP_OK && soap->length > 0) {
        ctx->body_known = 1;
        ctx->body_left = soap->length > buffered ? (size_t)soap->length - buffered : 0;
    }
    return rc;
}

static void append_escaped(char *out, size_t size, const char *text)
{
    size_t at = strlen(out);
    for (; *text && at + 7 < size; text++) {
        const char *entity = *text == '<' ? "&lt;" : *text == '>' ? "&gt;" : *text == '&' ? "&amp;" : NULL;
        if (entity)
            at += (size_t)snprintf(out + at, size - at, "%s", entity);
        else
            out[at++] = *text;
    }
    out[at] = '\0';
}

/* Answers a request gSOAP rejected (malformed XML, a missing element, too
 * large...) with a Client fault carrying a stable code. gSOAP's own fault
 * writer is not used here: after a failed parse it drops the typed detail. */
static void send_parse_fault(struct soap *soap)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int error = soap->error;
    const char **text, *reason, *code = "InvalidArgument";
    char body[2048], size_reason[160];
    ULONG64 limit = soap->recv_maxlength;

    soap_set_fault(soap);
    text = soap_faultstring(soap);
    reason = text && *text ? *text : "malformed request";
    /* gSOAP reports recv_maxlength as an end of file: tell the caller the truth. */
    if (error == SOAP_EOM || (limit && (soap->length > limit || ctx->received > limit))) {
        code = "TooLarge";
        snprintf(size_reason, sizeof size_reason, "request larger than the %llu-byte limit",
                 (unsigned long long)limit);
        reason = size_reason;
    }
    snprintf(body, sizeof body,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope"
             " xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\""
             " xmlns:ks=\"urn:kisekae:v1\"><SOAP-ENV:Body><SOAP-ENV:Fault>"
             "<faultcode>SOAP-ENV:Client</faultcode><faultstring>");
    append_escaped(body, sizeof body - 300, reason);
    snprintf(body + strlen(body), sizeof body - strlen(body),
             "</faultstring><detail><ks:KisekaeFault><ks:code>%s</ks:code><ks:message>", code);
    append_escaped(body, sizeof body - 200, reason);
    snprintf(body + strlen(body), sizeof body - strlen(body),
             "</ks:message></ks:KisekaeFault></detail></SOAP-ENV:Fault></SOAP-ENV:Body>"
             "</SOAP-ENV:Envelope>\n");
    ks_log_info("rejected a request: %s", reason);
    soap->error = SOAP_OK;
    soap->keep_alive = 0;
    soap->http_content = "text/xml; charset=utf-8";
    soap->length = strlen(body);
    if (soap_response(soap, SOAP_FILE + 500) == SOAP_OK &&
        soap_send_raw(soap, body, strlen(body)) == SOAP_OK)
        soap_end_send(soap);
}

/* Serves the requests of one connection, one after another. */
static void serve_connection(struct soap *soap)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);

    soap->keep_alive = soap->max_keep_alive + 1;
    do {
        if (soap->keep_alive > 0 && soap->max_keep_alive > 0)
            soap->keep_alive--;
        ctx->received = 0;
        ctx->body_known = 0;
        /* The steps of soap_begin_serve(), which would answer errors with its
         * own fault, without the stable code. */
        soap_begin(soap);
        if (soap_begin_recv(soap)) {
            if (soap->error == SOAP_STOP) {       /* a GET that fget answered */
                soap_destroy(soap);
                soap_end(soap);
                continue;
            }
            if (soap->error == 401 || soap->error == 404 || soap->error == 405)
                soap_send_fault(soap);
            else if (ctx->received > 0)           /* not a keep-alive connection closing */
                send_parse_fault(soap);
            break;
        }
        /* Each request is a database call of its own, begun once it arrived
         * (a keep-alive wait may outlast a change of the pool). */
        ks_db_session_begin(ctx->db);
        if (soap_envelope_begin_in(soap) || soap_recv_header(soap) || soap_body_begin_in(soap) ||
            soap_serve_request(soap)) {
            if (soap->error >= SOAP_STOP || !soap->error)
                soap->error = SOAP_SYNTAX_ERROR;
            if (soap->fault && soap->fault->detail && soap->fault->detail->ks__KisekaeFault)
                soap_send_fault(soap);           /* an operation's own fault */
            else
                send_parse_fault(soap);
            break;
        }
        soap_destroy(soap);
        soap_end(soap);
    } while (soap->keep_alive);
    soap_destroy(soap);
    soap_end(soap);
    soap_closesock(soap);
}

/* ---- the pool --------------------------------------------------------------------- */

/* The next connection, or SOAP_INVALID_SOCKET when stopping or after
 * KS_IDLE_CHECK_S seconds without one (*idle is then 1). */
static SOAP_SOCKET queue_pop(conn_queue_t *q, int *idle)
{
    SOAP_SOCKET s = SOAP_INVALID_SOCKET;
    struct timespec deadline;

    *idle = 0;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += KS_IDLE_CHECK_S;
    pthread_mutex_lock(&q->lock);
    while (!q->count && !q->stopping && !*idle)
        *idle = pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) == ETIMEDOUT;
    if (q->count) {
        *idle = 0;
        s = q->sockets[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return s;
}

static int queue_push(conn_queue_t *q, SOAP_SOCKET s)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == q->capacity && !q->stopping)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->sockets[(q->head + q->count) % q->capacity] = s;
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    for (;;) {
        int idle;
        SOAP_SOCKET s = queue_pop(w->queue, &idle);
        if (idle) {
            /* let go of connections to database servers no longer configured */
            ks_db_session_begin(w->ctx.db);
            continue;
        }
        if (!soap_valid_socket(s))
            break;
        w->soap->socket = s;
        serve_connection(w->soap);
    }
    return NULL;
}

static void configure(struct soap *soap, const ks_api_conf_t *conf)
{
    /* SOAP_C_UTFSTRING: strings stay UTF-8 both ways (without it gSOAP hands
     * the operations Latin-1 and mangles what lies beyond it). */
    soap_set_imode(soap, SOAP_XML_STRICT | SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING);
    soap_set_omode(soap, SOAP_IO_KEEPALIVE | SOAP_XML_TREE | SOAP_C_UTFSTRING);
    soap_set_namespaces(soap, namespaces);
    soap->bind_flags = SO_REUSEADDR;
    soap->recv_timeout = conf->recv_timeout_s;
    soap->send_timeout = conf->send_timeout_s;
    soap->accept_timeout = 1;                 /* so the accept loop sees a stop request */
    soap->max_keep_alive = conf->max_keep_alive;
    soap->recv_maxlength = conf->max_request_bytes;
    soap->maxlevel = 32;
    soap->maxoccurs = 1024;
    soap->fget = serve_wsdl;
}

int ks_api_serve(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_api_reload_fn reload)
{
    pthread_condattr_t cond_attr;
    struct soap *listener = soap_new();
    char host[128];
    int port, status = 0, started = 0;
    conn_queue_t queue = {0};
    worker_t *workers = NULL;
    struct sigaction sa = {0};
    ks_err_t err;

    if (!listener)
        return 1;
    if (ks_config_parse_hostport(conf->listen, host, sizeof host, &port, &err) != KS_OK) {
        ks_log_error("listen: %s", err.msg);
        soap_free(listener);
        return 1;
    }
    configure(listener, conf);
    if (!soap_valid_socket(soap_bind(listener, host, port, 1024))) {
        const char **text = soap_faultstring(listener);
        ks_log_error("bind() to %s failed: %s", conf->listen, text && *text ? *text : "?");
        soap_free(listener);
        return 1;
    }
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    queue.capacity = conf->workers * KS_QUEUE_PER_WORKER;
    queue.sockets = calloc((size_t)queue.capacity, sizeof *queue.sockets);
    workers = calloc((size_t)conf->workers, sizeof *workers);
    pthread_mutex_init(&queue.lock, NULL);
    pthread_condattr_init(&cond_attr);
    pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&queue.not_empty, &cond_attr);
    pthread_condattr_destroy(&cond_attr);
    pthread_cond_init(&queue.not_full, NULL);
    if (!queue.sockets || !workers) {
        ks_log_error("out of memory for %d workers", conf->workers);
        status = 1;
        goto done;
    }
    for (int i = 0; i < conf->workers; i++) {
        worker_t *w = &workers[i];
        w->queue = &queue;
        w->soap = soap_copy(listener);
        w->ctx.conf = conf;
        w->ctx.db = ks_db_session_new(pool);
        w->ctx.http = ks_http_new((long)conf->image_timeout_s * 1000);
        if (!w->soap || !w->ctx.db || !w->ctx.http) {
            ks_log_error("out of memory for worker %d", i);
            status = 1;
            goto done;
        }
        w->soap->user = &w->ctx;
        w->ctx.frecv = w->soap->frecv;
        w->soap->frecv = counting_frecv;
        w->ctx.fparse = w->soap->fparse;
        w->soap->fparse = parse_http_header;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            ks_log_error("pthread_create() failed for worker %d", i);
            status = 1;
            goto done;
        }
        started++;
    }
    listener->user = &workers[0].ctx;        /* serve_wsdl's fallback host */
    ks_log_info("listening on %s with %d workers", conf->listen, conf->workers);

    while (!stop_requested) {
        SOAP_SOCKET s;
        if (reload_requested) {
            reload_requested = 0;
            ks_log_info("SIGHUP: reloading the database pool configuration");
            if (reload(pool, &err) != KS_OK)
                ks_log_error("SIGHUP: the configuration was not reloaded, the old one stays: %s",
                             err.msg);
        }
        s = soap_accept(listener);
        if (!soap_valid_socket(s)) {
            if (listener->errnum && listener->errnum != EINTR && listener->errnum != EAGAIN)
                ks_log_warn("accept() failed (%d: %s)", listener->errnum,
                            strerror(listener->errnum));
            continue;
        }
        if (queue_push(&queue, s) != 0)
            close(s);
        listener->socket = SOAP_INVALID_SOCKET;
    }
    ks_log_info("stopping (signal %d)", (int)stop_requested);
done:
    pthread_mutex_lock(&queue.lock);
    queue.stopping = 1;
    pthread_cond_broadcast(&queue.not_empty);
    pthread_cond_broadcast(&queue.not_full);
    pthread_mutex_unlock(&queue.lock);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    for (int i = 0; workers && i < conf->workers; i++) {
        if (workers[i].soap)
            soap_free(workers[i].soap);
        ks_db_session_free(workers[i].ctx.db);
        ks_http_free(workers[i].ctx.http);
    }
    while (queue.count) {
        close(queue.sockets[queue.head]);
        queue.head = (queue.head + 1) % queue.capacity;
        queue.count--;
    }
    free(workers);
    free(queue.sockets);
    soap_free(listener);
    return status;
}
