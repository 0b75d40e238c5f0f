/* dispatch.c: serving one request of kisekae-api, whatever the transport
 * (below the transports, above the SOAP handlers, http_avatar.c and reply.c).
 *
 * The transports (standalone.c: our own HTTP listener; fastcgi.c: behind
 * nginx) receive a whole request into memory before a worker sees it, so a
 * slow client never holds a worker. Then they hand it here: gSOAP reads the
 * HTTP header and the body from memory (mem_frecv), parses the header itself
 * (Basic credentials, keep-alive) and dispatches the operation; GETs go to
 * serve_get (the WSDL with the address the client used, and the /avatar
 * redirects). Requests gSOAP rejects, and requests refused before parsing
 * (a DOCTYPE, too deep: xml_guard.c), are answered with a Client fault
 * carrying a stable code.
 *
 * The answer goes out through soap->fsend, which the transport sets: to the
 * client's socket (gSOAP writes an HTTP status line because soap->socket is
 * valid) or to the FastCGI stream (gSOAP writes a CGI "Status:" line, as
 * ks_api_http_reply does when ctx->cgi is set).
 *
 * Each request is one database call (ks_db_session_begin, here, once the
 * request has arrived whole: never before a keep-alive wait, which may
 * outlast a change of the pool): its reads go to one server, and to the
 * master once it wrote. Signals only set flags (main.c's signal thread takes
 * them with sigwait()): SIGTERM/SIGINT stop the transport's main thread, and
 * SIGHUP (ks_api_reload_ask) has that same thread, when it next wakes, call
 * the reload function (main.c: the pool's new configuration).
 * Workers adopt a new pool configuration at their next request; idle ones
 * within KS_IDLE_CHECK_S (the transports call ks_api_worker_idle).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api_metrics.h"
#include "dispatch.h"
#include "embedded.h"
#include "http_avatar.h"
#include "http_frame.h"
#include "log.h"
#include "reply.h"
#include "xml_guard.h"
#include "Kisekae.nsmap"

extern const ks_embedded_t ks_embedded_wsdl[];

/* The endpoint soapcpp2 wrote into the WSDL (wsdl/kisekae.h), replaced by the
 * address the client used. */
#define KS_WSDL_LOCATION "http://127.0.0.1:17010/"

/* ---- gSOAP reads the request from memory ----------------------------------------- */

static size_t mem_frecv(struct soap *soap, char *buf, size_t len)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    size_t n = 0;

    if (ctx->handed < ctx->head_len) {
        n = ctx->head_len - ctx->handed;
        if (n > len)
            n = len;
        memcpy(buf, ctx->head + ctx->handed, n);
    } else if (ctx->handed < ctx->head_len + ctx->body_len) {
        size_t at = ctx->handed - ctx->head_len;
        n = ctx->body_len - at;
        if (n > len)
            n = len;
        memcpy(buf, ctx->body + at, n);
    }
    ctx->handed += n;
    return n;
}

/* 1 when host is a plain host[:port] we may echo into a URL. */
static int host_is_safe(const char *host)
{
    if (!*host || strlen(host) >= sizeof ((ks_api_ctx_t *)0)->host)
        return 0;
    for (const char *p = host; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(".-:[]", *p)))
            return 0;
    return 1;
}

/* Each header field as gSOAP parses it: keep the Host the client used. */
static int parse_header_field(struct soap *soap, const char *key, const char *value)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);

    if (key && value && !soap_tag_cmp(key, "Host") && host_is_safe(value))
        snprintf(ctx->host, sizeof ctx->host, "%s", value);
    return ctx->fparsehdr(soap, key, value);
}

/* The transport owns the connection: gSOAP must never close it. */
static int keep_socket(struct soap *soap)
{
    (void)soap;
    return SOAP_OK;
}

/* ---- answers that are not SOAP operations ------------------------------------------ */

/* Answers a request refused before or by gSOAP's parser with a Client fault
 * (HTTP 500, as SOAP 1.1 wants) and closes the connection afterwards. */
static void send_client_fault(struct soap *soap, const char *code, const char *reason)
{
    char body[KS_FAULT_XML_MAX];
    size_t length = ks_fault_xml(body, sizeof body, code, reason);

    ks_log_info("rejected a request: %s", reason);
    ks_api_ctx(soap)->fault_code = code;         /* a string literal */
    soap->error = SOAP_OK;
    soap->keep_alive = 0;
    ks_api_http_reply(soap, 500, "text/xml; charset=utf-8", NULL, body, length);
}

/* A request gSOAP rejected (malformed XML, a missing element, too deep...).
 * gSOAP's own fault writer is not used: after a failed parse it drops the
 * typed detail. */
static void send_parse_fault(struct soap *soap)
{
    int error = soap->error;
    const char **text, *reason;
    char message[300];

    soap_set_fault(soap);
    text = soap_faultstring(soap);
    reason = text && *text ? *text : "malformed request";
    if (error == SOAP_LEVEL) {
        snprintf(message, sizeof message, "XML nested deeper than %u levels", soap->maxlevel);
        send_client_fault(soap, "TooLarge", message);
    } else if (error == SOAP_EOM) {
        snprintf(message, sizeof message, "request over a limit: %s", reason);
        send_client_fault(soap, "TooLarge", message);
    } else {
        send_client_fault(soap, "InvalidArgument", reason);
    }
}

/* ---- GET: the WSDL and the avatar redirects ------------------------------------------ */

static int serve_wsdl(struct soap *soap)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    const ks_embedded_t *wsdl = &ks_embedded_wsdl[0];
    const char *text = (const char *)wsdl->data;
    const char *at = strstr(text, KS_WSDL_LOCATION);
    char location[300], *body;
    size_t before, after, length;

    snprintf(location, sizeof location, "%s://%s/", ctx->scheme,
             ctx->host[0] ? ctx->host : ctx->conf->listen);
    before = at ? (size_t)(at - text) : wsdl->size;
    after = at ? wsdl->size - before - strlen(KS_WSDL_LOCATION) : 0;
    length = before + (at ? strlen(location) : 0) + after;
    if (!(body = soap_malloc(soap, length)))
        return soap->error = SOAP_EOM;
    memcpy(body, text, before);
    if (at) {
        memcpy(body + before, location, strlen(location));
        memcpy(body + before + strlen(location), at + strlen(KS_WSDL_LOCATION), after);
    }
    return ks_api_http_reply(soap, 200, "text/xml; charset=utf-8", NULL, body, length);
}

/* soap->fget: every GET. */
static int serve_get(struct soap *soap)
{
    static const char not_found[] =
        "not found: the SOAP API answers POST /, its WSDL is at /?wsdl and avatars at "
        "/avatar/{user_id}.png and /avatar/{user_id}/thumb.png\n";
    const char *path = soap->path;
    const char *query = strchr(path, '?');

    if (strncmp(path, "/avatar/", 8) == 0)
        return ks_api_avatar_redirect(soap, path);
    if (query && (!strcmp(query, "?wsdl") || !strcmp(query, "?WSDL")))
        return serve_wsdl(soap);
    return ks_api_http_reply(soap, 404, "text/plain; charset=utf-8", NULL, not_found,
                             sizeof not_found - 1);
}

/* ---- one request ---------------------------------------------------------------------- */

/* Reads the name of the operation the body holds (gSOAP dispatches on the
 * element peeked here) into name, without its prefix; returns gSOAP's error. */
static int peek_operation(struct soap *soap, char *name, size_t size)
{
    const char *colon;

    if (soap_peek_element(soap))
        return soap->error;
    colon = strchr(soap->tag, ':');
    colon = colon ? colon + 1 : soap->tag;
    if (strlen(colon) < size)                     /* a longer one names no operation */
        memcpy(name, colon, strlen(colon) + 1);
    return SOAP_OK;
}

/* The pseudo-operation of a GET serve_get answered. */
static const char *get_operation(const char *path)
{
    const char *query = strchr(path, '?');

    if (strncmp(path, "/avatar/", 8) == 0)
        return KS_API_OP_AVATAR;
    if (query && (!strcmp(query, "?wsdl") || !strcmp(query, "?WSDL")))
        return KS_API_OP_WSDL;
    return KS_API_OP_GET_OTHER;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

void ks_api_serve_request(struct soap *soap, int *keep_alive)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    const char *operation = KS_API_OP_INVALID, *fault_code = NULL;
    char operation_name[64] = "";
    struct timespec start;
    int counted = 1;
    ks_rc rc;

    clock_gettime(CLOCK_MONOTONIC, &start);
    /* Each request is a database call of its own, begun once it arrived. */
    ks_db_session_begin(ctx->db);
    soap_begin(soap);
    /* The request is all gSOAP may read: nothing of an earlier one lingers. */
    soap->bufidx = soap->buflen = 0;
    soap->keep_alive = *keep_alive;
    if (soap->keep_alive > 0 && soap->max_keep_alive > 0)
        soap->keep_alive--;
    ctx->handed = 0;
    ctx->host[0] = '\0';
    ctx->err.msg[0] = '\0';
    ctx->fault_code = NULL;

    rc = ks_xml_guard(ctx->body, ctx->body_len, ctx->conf->max_xml_depth, &ctx->err);
    if (rc != KS_OK) {
        send_client_fault(soap, rc == KS_TOOLARGE ? "TooLarge" : "InvalidArgument", ctx->err.msg);
    } else if (soap_begin_recv(soap)) {
        if (soap->error == SOAP_STOP) {
            /* a GET that serve_get answered */
            operation = get_operation(soap->path);
        } else if (soap->error == 401 || soap->error == 404 || soap->error == 405) {
            fault_code = soap->error == 401 ? "Unauthorized" : "other";
            soap_send_fault(soap);
        } else if (ctx->handed > 0) {
            send_parse_fault(soap);
        } else {
            soap->keep_alive = 0;
            counted = 0;                          /* nothing arrived, nothing answered */
        }
    } else if (soap_envelope_begin_in(soap) || soap_recv_header(soap) ||
               soap_body_begin_in(soap) ||
               peek_operation(soap, operation_name, sizeof operation_name) ||
               soap_serve_request(soap)) {
        if (soap->error != SOAP_NO_METHOD && operation_name[0])
            operation = operation_name;           /* gSOAP dispatched it: a real name */
        if (soap->error >= SOAP_STOP || !soap->error)
            soap->error = SOAP_SYNTAX_ERROR;
        if (soap->fault && soap->fault->detail && soap->fault->detail->ks__KisekaeFault) {
            fault_code = soap->fault->detail->ks__KisekaeFault->code;
            soap_send_fault(soap);                /* an operation's own fault */
        } else {
            send_parse_fault(soap);
        }
        soap->keep_alive = 0;                     /* gSOAP closes after a fault */
    } else {
        operation = operation_name;
    }
    if (counted)
        ks_api_metrics_request(ks_api_metrics_op(operation),
                               fault_code ? fault_code : ctx->fault_code, seconds_since(&start));
    *keep_alive = soap->keep_alive;
    soap_destroy(soap);
    soap_end(soap);
}

/* ---- workers ------------------------------------------------------------------------------ */

struct soap *ks_api_worker_new(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_api_ctx_t *ctx)
{
    /* SOAP_C_UTFSTRING: strings stay UTF-8 both ways (without it gSOAP hands
     * the operations Latin-1 and mangles what lies beyond it). */
    struct soap *soap = soap_new1(SOAP_XML_STRICT | SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING);

    memset(ctx, 0, sizeof *ctx);
    if (!soap)
        return NULL;
    /* SOAP_IO_STORE: the answer is serialized once into memory and leaves in
     * one send() with its Content-Length (gSOAP's default would count it in a
     * first pass, or send the header apart). */
    soap_set_omode(soap, SOAP_IO_KEEPALIVE | SOAP_XML_TREE | SOAP_IO_STORE | SOAP_C_UTFSTRING);
    soap_set_namespaces(soap, namespaces);
    soap->user = ctx;
    soap->max_keep_alive = conf->max_keep_alive;
    /* The transport received the request and bounded it already; these are a
     * second line of defence. */
    soap->recv_maxlength = conf->max_request_bytes + conf->max_header_bytes + 1024;
    soap->maxlevel = (unsigned)conf->max_xml_depth;
    soap->maxoccurs = 1024;
    soap->recv_timeout = 0;                  /* memory does not time out */
    soap->send_timeout = conf->send_timeout_s;
    soap->frecv = mem_frecv;
    soap->fget = serve_get;
    soap->fclose = keep_socket;
    ctx->fparsehdr = soap->fparsehdr;
    soap->fparsehdr = parse_header_field;
    ctx->conf = conf;
    ctx->scheme = "http";
    ctx->db = ks_db_session_new(pool);
    ctx->http = ks_http_new((long)conf->image_timeout_s * 1000);
    if (!ctx->db || !ctx->http) {
        ks_api_worker_free(soap, ctx);
        return NULL;
    }
    return soap;
}

void ks_api_worker_idle(ks_api_ctx_t *ctx)
{
    /* let go of connections to database servers no longer configured */
    ks_db_session_begin(ctx->db);
}

void ks_api_worker_free(struct soap *soap, ks_api_ctx_t *ctx)
{
    if (soap) {
        soap->socket = SOAP_INVALID_SOCKET;  /* the transport's, already closed */
        soap_free(soap);
    }
    ks_db_session_free(ctx->db);
    ks_http_free(ctx->http);
    ctx->db = NULL;
    ctx->http = NULL;
}

/* ---- reloading on SIGHUP -------------------------------------------------------------------- */

static volatile sig_atomic_t reload_requested;
static ks_db_pool_t *serving_pool;
static ks_api_reload_fn serving_reload;

void ks_api_reload_init(ks_db_pool_t *pool, ks_api_reload_fn reload)
{
    serving_pool = pool;
    serving_reload = reload;
}

void ks_api_reload_ask(int sig)
{
    reload_requested = sig;
}

void ks_api_reload_if_asked(void)
{
    ks_err_t err;

    if (!reload_requested)
        return;
    reload_requested = 0;
    ks_log_info("SIGHUP: reloading the database pool configuration");
    if (serving_reload && serving_reload(serving_pool, &err) != KS_OK)
        ks_log_error("SIGHUP: the configuration was not reloaded, the old one stays: %s", err.msg);
}
