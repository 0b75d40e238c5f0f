/* reply.c: answers kisekae-api writes itself rather than through a SOAP
 * operation (below dispatch, which refuses requests with them, and the GET
 * handlers such as http_avatar.c): an HTTP answer in one send
 * (ks_api_http_reply, with a CGI "Status:" line behind FastCGI), and the
 * Client fault of a request refused before gSOAP parsed it (its envelope
 * from ks_fault_xml, fault.c).
 */
#include <stdio.h>
#include <string.h>
#include "http_frame.h"
#include "log.h"
#include "reply.h"

/* Written here rather than through soap_response(), which sends the header
 * and the body in two packets: one send() for a small answer. */
int ks_api_http_reply(struct soap *soap, int status, const char *content_type,
                      const char *extra_headers, const char *body, size_t length)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    char head[1536], *whole;
    int n;

    if (ctx->cgi)
        n = snprintf(head, sizeof head, "Status: %d %s\r\n", status, ks_http_reason(status));
    else
        n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nServer: kisekae-api\r\n"
                     "Connection: %s\r\n", status, ks_http_reason(status),
                     soap->keep_alive ? "keep-alive" : "close");
    n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n"
                  "%s%s\r\n", content_type, length, extra_headers ? extra_headers : "",
                  extra_headers ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof head)
        return soap->error = SOAP_EOM;
    whole = soap_malloc(soap, (size_t)n + length);
    if (!whole)
        return soap->error = SOAP_EOM;
    memcpy(whole, head, (size_t)n);
    memcpy(whole + n, body, length);
    return soap->error = soap->fsend(soap, whole, (size_t)n + length);
}


void ks_api_refuse(struct soap *soap, int status, const char *code, const char *reason)
{
    char body[KS_FAULT_XML_MAX];
    size_t length = ks_fault_xml(body, sizeof body, code, reason);

    ks_log_info("refused a request: %s", reason);
    soap_begin(soap);
    soap->keep_alive = 0;
    ks_api_http_reply(soap, status, "text/xml; charset=utf-8", NULL, body, length);
    soap_destroy(soap);
    soap_end(soap);
}
