/* api_failover.c: SOAP calls to the API with failover between API servers
 * (api_failover.h).
 *
 * Whether a request may have been received is known from the connection:
 * every context made here opens its connections through count_open, which
 * records in the calling thread whether the last attempt connected. The
 * contexts do not keep connections alive between calls, so an attempt
 * that failed without connecting sent nothing.
 */
#include "api_failover.h"
#include "ks_resendable.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"
#include "log.h"

/* gSOAP's own connect function (the same for every context), and whether
 * this thread's last attempt got a connection. */
static SOAP_SOCKET (*gsoap_open)(struct soap *, const char *, const char *, int);
static pthread_once_t gsoap_open_once = PTHREAD_ONCE_INIT;
static _Thread_local int attempt_connected;

static void find_gsoap_open(void)
{
    struct soap probe;

    soap_init(&probe);
    gsoap_open = probe.fopen;
    soap_done(&probe);
}

static SOAP_SOCKET count_open(struct soap *soap, const char *endpoint, const char *host, int port)
{
    SOAP_SOCKET socket = gsoap_open(soap, endpoint, host, port);

    if (soap_valid_socket(socket))
        attempt_connected = 1;
    return socket;
}

void ks_failover_init(ks_failover_t *fo, const char *user, const char *password, int timeout_s)
{
    memset(fo->urls, 0, sizeof fo->urls);
    fo->url_count = 0;
    fo->user = user;
    fo->password = password;
    fo->timeout_s = timeout_s;
    atomic_init(&fo->preferred, 0);
}

ks_rc ks_failover_add_url(ks_failover_t *fo, const char *url, ks_err_t *err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return ks_err(err, KS_INVALID, "API URL \"%.200s\" must start with http:// or https://",
                      url);
    if (fo->url_count == KS_FAILOVER_URLS_MAX)
        return ks_err(err, KS_TOOLARGE, "more than %d API URLs", KS_FAILOVER_URLS_MAX);
    fo->urls[fo->url_count++] = url;
    return KS_OK;
}

struct soap *ks_failover_soap_new(const ks_failover_t *fo, ks_err_t *err)
{
    struct soap *soap = soap_new1(SOAP_XML_STRICT);

    if (!soap) {
        ks_err(err, KS_NOMEM, "out of memory for a SOAP client");
        return NULL;
    }
    pthread_once(&gsoap_open_once, find_gsoap_open);
    soap->fopen = count_open;
    soap->connect_timeout = fo->timeout_s;
    soap->send_timeout = fo->timeout_s;
    soap->recv_timeout = fo->timeout_s;
    return soap;
}

void ks_failover_soap_free(struct soap *soap)
{
    if (!soap)
        return;
    soap_destroy(soap);
    soap_end(soap);
    soap_free(soap);
}

const char *ks_failover_fault_code(struct soap *soap)
{
    /* A received fault is SOAP_CLI_FAULT or SOAP_SVR_FAULT by its faultcode. */
    int fault = soap->error == SOAP_CLI_FAULT || soap->error == SOAP_SVR_FAULT ||
                soap->error == SOAP_FAULT;

    if (fault && soap->fault && soap->fault->detail &&
        soap->fault->detail->ks__KisekaeFault && soap->fault->detail->ks__KisekaeFault->code)
        return soap->fault->detail->ks__KisekaeFault->code;
    return NULL;
}

/* What the last failed attempt says: the KisekaeFault's message, or gSOAP's
 * fault string and detail ("connect failed in tcp_connect()"...). */
static void describe(struct soap *soap, char *buf, size_t size)
{
    const char *code = ks_failover_fault_code(soap);
    const char *string, *detail;

    if (code) {
        const char *message = soap->fault->detail->ks__KisekaeFault->message;
        snprintf(buf, size, "%s: %s", code, message ? message : "");
        return;
    }
    string = soap_fault_string(soap);
    detail = soap_fault_detail(soap);
    snprintf(buf, size, "%s%s%s (gSOAP error %d)", string ? string : "no answer",
             detail ? ": " : "", detail ? detail : "", soap->error);
}

/* 1 when the failed attempt says nothing about the call itself, only that
 * this API server could not serve it. */
static int server_failed(struct soap *soap)
{
    const char *code = ks_failover_fault_code(soap);

    return code == NULL || strcmp(code, "DatabaseUnavailable") == 0;
}

ks_rc ks_failover_call(ks_failover_t *fo, struct soap *soap, const char *operation,
                       int resend_safe, ks_failover_attempt_fn attempt, void *args,
                       const char **url_used, ks_err_t *err)
{
    int count = fo->url_count;
    int first = atomic_load(&fo->preferred);
    char failures[KS_ERR_MAX] = "", why[KS_ERR_MAX];
    size_t used = 0;

    if (count <= 0)
        return ks_err(err, KS_UNAVAILABLE, "%s: no API URL configured", operation);
    /* Only what wsdl/kisekae.h marks @resendable is ever sent twice. */
    resend_safe = resend_safe && ks_op_resendable(operation);
    if (first < 0 || first >= count)
        first = 0;
    for (int i = 0; i < count; i++) {
        int index = (first + i) % count;
        const char *url = fo->urls[index];
        int status;

        /* Each attempt starts clean; gSOAP also clears the credentials
         * after every call. */
        soap_destroy(soap);
        soap_end(soap);
        soap->userid = fo->user;
        soap->passwd = fo->password;
        if (url_used)
            *url_used = url;
        attempt_connected = 0;
        status = attempt(soap, url, args);
        if (status == SOAP_OK || !server_failed(soap)) {
            if (index != first) {
                atomic_store(&fo->preferred, index);
                ks_log_warn("API: %s failed at %s; %s answers, so calls go there now",
                            operation, failures, url);
            }
            if (status == SOAP_OK)
                return KS_OK;
            describe(soap, why, sizeof why);
            return ks_err(err,
                          strcmp(ks_failover_fault_code(soap), "NotFound") == 0 ? KS_NOTFOUND
                                                                               : KS_ERROR,
                          "%s at %s: %s", operation, url, why);
        }
        describe(soap, why, sizeof why);
        if (!resend_safe && attempt_connected && !ks_failover_fault_code(soap))
            return ks_err(err, KS_UNAVAILABLE,
                          "%s at %s: %s; the request may have been received: outcome unknown",
                          operation, url, why);
        if (used < sizeof failures) {
            int n = snprintf(failures + used, sizeof failures - used, "%s%s (%s)",
                             used ? ", " : "", url, why);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    return ks_err(err, KS_UNAVAILABLE, "%s: no API server answered: %s", operation, failures);
}
