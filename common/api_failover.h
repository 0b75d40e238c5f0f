/* api_failover.h: how every C client of the API (the image servers,
 * kisekae-admin, kisekae-batch) makes a SOAP call: through the gSOAP client
 * stubs of wsdl/kisekae.h, against a list of API servers, moving on to the
 * next when one does not answer.
 *
 * ks_failover_t is shared by every thread of a process: the API URLs in the
 * order configured, the credentials, the timeout and the index of the URL
 * that answered last. A call starts at that URL and sticks to it while it
 * answers. Each thread has its own gSOAP context (ks_failover_soap_new):
 * gSOAP contexts are not shared between threads.
 *
 * A server counts as not answering when the connection is refused or times
 * out, on an HTTP error without a SOAP fault (nginx's 502, a 404 of a wrong
 * path), an answer that does not parse, a fault without a KisekaeFault (a
 * server that does not know the operation yet), or the DatabaseUnavailable
 * fault (its database pool is down; another API server may reach one). Any
 * other KisekaeFault is the API's answer to the call itself (NotFound,
 * InvalidArgument...) and would be the same from every server: it is
 * returned at once.
 *
 * Built as its own library (ks_api_failover) because it needs the generated
 * client stubs, which ks_common does not link.
 */
#ifndef KS_API_FAILOVER_H
#define KS_API_FAILOVER_H

#include <stdatomic.h>
#include "ks.h"

struct soap;

#define KS_FAILOVER_URLS_MAX 8

typedef struct {
    const char *urls[KS_FAILOVER_URLS_MAX];   /* tried in this order; not owned */
    int url_count;
    const char *user, *password;              /* HTTP Basic; not owned */
    int timeout_s;                            /* connect, send and receive */
    atomic_int preferred;                     /* index of the URL that answered last */
} ks_failover_t;

/* One attempt of an operation against url: makes the soap_call_ks__X call
 * and returns gSOAP's status. */
typedef int (*ks_failover_attempt_fn)(struct soap *soap, const char *url, void *args);

/* Prepares fo with no URL yet. user, password and every URL added must
 * outlive it. */
void ks_failover_init(ks_failover_t *fo, const char *user, const char *password, int timeout_s);

/* Adds url (http:// or https://) at the end of the list; KS_TOOLARGE past
 * KS_FAILOVER_URLS_MAX, KS_INVALID for another scheme. */
ks_rc ks_failover_add_url(ks_failover_t *fo, const char *url, ks_err_t *err);

/* A gSOAP context for one thread: strict XML, fo's timeouts. Free it with
 * ks_failover_soap_free. NULL (with the message) when out of memory. */
struct soap *ks_failover_soap_new(const ks_failover_t *fo, ks_err_t *err);
void ks_failover_soap_free(struct soap *soap);

/* Runs attempt against the URLs from the preferred one on (see the top of
 * the file). Returns KS_OK; KS_NOTFOUND for a NotFound fault; KS_ERROR for
 * any other fault, with "<operation> at <url>: <Code>: <message>" in err
 * and the code in ks_failover_fault_code(soap); KS_UNAVAILABLE when no API
 * server answered (err names each URL's failure).
 *
 * resend_safe says the call may reach the API twice without harm (a read,
 * or a write whose second sending ends as one); it counts only for an
 * operation marked `// @resendable` in wsdl/kisekae.h (ks_resendable.h), so
 * a caller can be more careful than the API, never less. When it is 0, the call
 * moves on to the next URL only when the request cannot have been received
 * (no connection was made); after that it returns KS_UNAVAILABLE with
 * "outcome unknown" in err, and the caller reads the state again.
 *
 * What the call answered lives in soap's arena until the next call on soap.
 * *url_used (when not NULL) gets the URL of the last attempt. */
ks_rc ks_failover_call(ks_failover_t *fo, struct soap *soap, const char *operation,
                       int resend_safe, ks_failover_attempt_fn attempt, void *args,
                       const char **url_used, ks_err_t *err);

/* The KisekaeFault code of soap's last answer ("NotOwned"...), or NULL when
 * the last answer was no such fault. */
const char *ks_failover_fault_code(struct soap *soap);

#endif
