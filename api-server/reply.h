/* reply.h: answers written without a SOAP operation (reply.c). */
#ifndef KS_API_REPLY_H
#define KS_API_REPLY_H

#include "api.h"

/* Refuses a request before it is served: a Client fault with code and
 * reason, HTTP status status. */
void ks_api_refuse(struct soap *soap, int status, const char *code, const char *reason);
/* Answers with status, content_type and body; extra_headers ("Name: value"
 * lines joined by CRLF, or NULL) are added. Returns SOAP_OK or the error. */
int ks_api_http_reply(struct soap *soap, int status, const char *content_type,
                      const char *extra_headers, const char *body, size_t length);

#endif
