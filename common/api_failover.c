/* api_failover.c: STAND-IN for the lead's failover core (api_failover.h). */
#include "api_failover.h"

#include <stdio.h>
#include <string.h>
#include "soapH.h"
#include "log.h"

void ks_failover_init(ks_failover_t *fo, const char *user, const char *password, int timeout_s)
{
    memset(fo, 0, sizeof *fo);
    fo->user = user;
    fo->password = password;
    fo->timeout_s = timeout_s;
    atomic_init(&fo->preferred, 0);
}

ks_rc ks_failover_add_url(ks_failover_t *fo, const char *url, ks_err_t *err)
{
    if (fo->url_count == KS_FAILOVER_URLS_MAX)
        return ks_err(err, KS_INVALID, "more than %d API URLs", KS_FAILOVER_URLS_MAX);
    fo->urls[fo->url_count++] = url;
    return KS_OK;
}

struct soap *ks_failover_soap_new(const ks_failover_t *fo, ks_err_t *err)
{
    struct soap *soap = soap_new1(SOAP_XML_STRICT);

    if (!soap) {
        ks_err(err, KS_NOMEM, "out of memory for a gSOAP context");
        return NULL;
    }
    soap->connect_timeout = fo->timeout_s;
    soap->send_timeout = fo->timeout_s;
    soap->recv_timeout = fo->timeout_s;
    return soap;
}

const char *ks_failover_fault_code(struct soap *soap)
{
    int fault = soap->error == SOAP_CLI_FAULT || soap->error == SOAP_SVR_FAULT ||
                soap->error == SOAP_FAULT;

    if (fault && soap->fault && soap->fault->detail &&
        soap->fault->detail->ks__KisekaeFault && soap->fault->detail->ks__KisekaeFault->code)
        return soap->fault->detail->ks__KisekaeFault->code;
    return NULL;
}

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

ks_rc ks_failover_call(ks_failover_t *fo, struct soap *soap, const char *operation,
                       int resend_safe, ks_failover_attempt_fn attempt, void *args,
                       ks_err_t *err)
{
    int first = atomic_load(&fo->preferred);
    char failures[KS_ERR_MAX] = "", why[KS_ERR_MAX];
    size_t used = 0;

    if (fo->url_count <= 0)
        return ks_err(err, KS_UNAVAILABLE, "%s: no api_url configured", operation);
    if (first < 0 || first >= fo->url_count)
        first = 0;
    for (int i = 0; i < fo->url_count; i++) {
        int index = (first + i) % fo->url_count;
        const char *url = fo->urls[index], *code;
        int status;

        soap_destroy(soap);
        soap_end(soap);
        soap->userid = fo->user;
        soap->passwd = fo->password;
        status = attempt(soap, url, args);
        code = ks_failover_fault_code(soap);
        if (status == SOAP_OK || (code && strcmp(code, "DatabaseUnavailable") != 0)) {
            if (index != first)
                atomic_store(&fo->preferred, index);
            if (status == SOAP_OK)
                return KS_OK;
            describe(soap, why, sizeof why);
            return ks_err(err, strcmp(code, "NotFound") == 0 ? KS_NOTFOUND : KS_ERROR,
                          "%s at %s: %s", operation, url, why);
        }
        describe(soap, why, sizeof why);
        if (!resend_safe && status != SOAP_TCP_ERROR)
            return ks_err(err, KS_UNAVAILABLE, "%s at %s: outcome unknown: %s", operation, url,
                          why);
        if (used < sizeof failures) {
            int n = snprintf(failures + used, sizeof failures - used, "%s%s (%s)",
                             used ? ", " : "", url, why);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    return ks_err(err, KS_UNAVAILABLE, "%s: no API server answered: %s", operation, failures);
}
