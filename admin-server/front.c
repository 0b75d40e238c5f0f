/* front.c: the FastCGI front of kisekae-admin (front.h). */
#include "front.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin_metrics.h"
#include "http_frame.h"
#include "log.h"
#include "page.h"
#include "routes.h"
#include "soapH.h"
#include "Kisekae.nsmap"   /* the namespace table gSOAP needs, once per binary */

#define BODY_MAX (64u << 20)        /* the largest answer (a page, an image) */

/* Every answer: no inline script or style, no framing, no sniffing. */
static const char security_headers[] =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: same-origin\r\n";

typedef struct {
    ks_db_session_t *db;
    struct soap *soap;
} worker_t;

static ks_rc worker_init(void *arg, int index, void **state, ks_err_t *err)
{
    ks_admin_server_t *server = arg;
    worker_t *worker = calloc(1, sizeof *worker);

    *state = worker;
    if (!worker)
        return ks_err(err, KS_NOMEM, "out of memory for worker %d", index);
    if (!(worker->db = ks_db_session_new(server->db)))
        return ks_err(err, KS_NOMEM, "out of memory for worker %d", index);
    if (!(worker->soap = ks_failover_soap_new(&server->api, err)))
        return KS_NOMEM;
    return KS_OK;
}

static void worker_free(void *arg, void *state)
{
    worker_t *worker = state;

    ks_failover_soap_free(worker->soap);
    ks_db_session_free(worker->db);
    free(worker);
}

/* Reads and parses the POST body; a refusal is left in req->form_error. */
static void read_body(ks_admin_req_t *req)
{
    const char *length_text = ks_fcgi_param(req->fcgi, "CONTENT_LENGTH");
    const char *type = ks_fcgi_param(req->fcgi, "CONTENT_TYPE");
    ks_form_limits_t limits = {req->conf->max_upload_files, req->conf->max_upload_bytes};
    long long length;
    size_t got = 0;
    char *body;
    ks_err_t err = {{0}};
    ks_rc rc;

    if (ks_page_parse_int(length_text ? length_text : "0", 0, LLONG_MAX, &length) != 0) {
        snprintf(req->form_error, sizeof req->form_error, "bad Content-Length");
        return;
    }
    if ((unsigned long long)length > req->conf->max_request_bytes) {
        snprintf(req->form_error, sizeof req->form_error, "the form is %lld bytes, over the "
                 "limit of %zu", length, req->conf->max_request_bytes);
        return;
    }
    if (!(body = malloc((size_t)length + 1))) {
        snprintf(req->form_error, sizeof req->form_error, "out of memory for the form");
        return;
    }
    while (got < (size_t)length) {
        int n = FCGX_GetStr(body + got, (int)((size_t)length - got), req->fcgi->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    body[got] = '\0';
    if (got < (size_t)length) {
        free(body);
        snprintf(req->form_error, sizeof req->form_error, "the form was cut short");
        return;
    }
    if (type && strncasecmp(type, "multipart/form-data", 19) == 0) {
        rc = ks_form_parse_multipart(&req->form, type, body, got, &limits, &err);
    } else {
        rc = ks_form_parse_urlencoded(&req->form, body, got, &err);
        free(body);
    }
    if (rc != KS_OK)
        snprintf(req->form_error, sizeof req->form_error, "%s", err.msg);
    else if (req->form.refused[0])
        snprintf(req->form_error, sizeof req->form_error, "%s", req->form.refused);
}

static void send_answer(ks_admin_req_t *req)
{
    char header[1024];
    int head_only = strcmp(req->method, "HEAD") == 0;
    int n;

    if (req->body.overflow) {
        req->status = 500;
        req->content_type = "text/plain; charset=utf-8";
        ks_buf_reset(&req->body);
        ks_buf_addf(&req->body, "The answer was too large (a bug).\n");
    }
    n = snprintf(header, sizeof header,
                 "Status: %d %s\r\nContent-Type: %s\r\nCache-Control: %s\r\n"
                 "Content-Length: %zu\r\n",
                 req->status, ks_http_reason(req->status),
                 req->content_type ? req->content_type : "text/plain; charset=utf-8",
                 req->cache_control ? req->cache_control : "no-store", req->body.len);
    FCGX_PutStr(header, n, req->fcgi->out);
    FCGX_PutStr(security_headers, (int)sizeof security_headers - 1, req->fcgi->out);
    if (req->headers.len && !req->headers.overflow)
        FCGX_PutStr(req->headers.data, (int)req->headers.len, req->fcgi->out);
    FCGX_PutStr("\r\n", 2, req->fcgi->out);
    if (!head_only && req->body.len)
        FCGX_PutStr(req->body.data, (int)req->body.len, req->fcgi->out);
}

static void handle(void *arg, void *state, FCGX_Request *fcgi)
{
    ks_admin_server_t *server = arg;
    worker_t *worker = state;
    ks_admin_req_t *req = calloc(1, sizeof *req);
    const char *uri, *query, *https;
    ks_err_t err = {{0}};
    struct timespec start, end;

    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!req) {
        static const char failed[] = "Status: 503 Service Unavailable\r\n"
                                     "Content-Type: text/plain\r\n\r\nout of memory\n";
        FCGX_PutStr(failed, (int)sizeof failed - 1, fcgi->out);
        return;
    }
    req->server = server;
    req->conf = server->conf;
    req->fcgi = fcgi;
    req->route = -1;
    req->db = worker->db;
    req->soap = worker->soap;
    req->now = (long long)time(NULL);
    req->method = ks_fcgi_param(fcgi, "REQUEST_METHOD");
    req->remote = ks_fcgi_param(fcgi, "REMOTE_ADDR");
    https = ks_fcgi_param(fcgi, "HTTPS");
    req->https = https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0);
    if (!req->method)
        req->method = "GET";
    if (!req->remote)
        req->remote = "-";
    uri = ks_fcgi_param(fcgi, "DOCUMENT_URI");
    if (!uri)
        uri = ks_fcgi_param(fcgi, "REQUEST_URI");
    snprintf(req->path, sizeof req->path, "%.*s", (int)strcspn(uri ? uri : "/", "?"),
             uri ? uri : "/");
    ks_buf_init(&req->headers, 8192);
    ks_buf_init(&req->body, BODY_MAX);
    ks_buf_init(&req->messages, KS_ADMIN_MESSAGES_MAX);
    query = ks_fcgi_param(fcgi, "QUERY_STRING");
    if (query && ks_form_parse_urlencoded(&req->query, query, strlen(query), &err) != KS_OK)
        ks_form_parse_urlencoded(&req->query, "", 0, &err);   /* a bad query is ignored */
    ks_db_session_begin(req->db);
    if (strcmp(req->method, "POST") == 0)
        read_body(req);
    if (req->form_error[0] && req->form.count == 0) {
        req->status = 413;
        ks_page_error(req, 413, "Form refused", "The form was refused and nothing was "
                      "changed: %s.", req->form_error);
    } else {
        ks_admin_dispatch(req);
    }
    ks_fcgi_drain(fcgi);
    send_answer(req);
    clock_gettime(CLOCK_MONOTONIC, &end);
    ks_admin_metrics_request(req->route, req->status, (double)(end.tv_sec - start.tv_sec) +
                                                          (double)(end.tv_nsec - start.tv_nsec) / 1e9);

    if (req->status >= 500)
        ks_log_error("%s %s from %s: %d", req->method, req->path, req->remote, req->status);
    else
        ks_log_debug("%s %s from %s: %d", req->method, req->path, req->remote, req->status);
    for (int i = 0; i < req->call_count; i++)
        ks_failover_soap_free(req->calls[i]);
    ks_form_free(&req->query);
    ks_form_free(&req->form);
    ks_buf_free(&req->headers);
    ks_buf_free(&req->body);
    ks_buf_free(&req->messages);
    free(req);
}

ks_rc ks_admin_front_start(ks_admin_server_t *server, ks_fcgi_pool_t **out, ks_err_t *err)
{
    ks_fcgi_pool_conf_t conf = {
        .listen = server->conf->listen, .threads = server->conf->threads, .arg = server,
        .worker_init = worker_init, .worker_free = worker_free, .handle = handle};

    return ks_fcgi_pool_start(&conf, out, err);
}

void ks_admin_front_stop(ks_fcgi_pool_t *pool)
{
    ks_fcgi_pool_stop(pool);
}
