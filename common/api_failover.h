/* api_failover.h: the gSOAP client failover core every C client of the API
 * uses (STAND-IN on the admin branch until the lead's version lands on
 * main: same interface, see FAILOVER.md; main's replaces this file).
 */
#ifndef KS_API_FAILOVER_H
#define KS_API_FAILOVER_H

#include <stdatomic.h>
#include "ks.h"

struct soap;

#define KS_FAILOVER_URLS_MAX 8

typedef struct {
    const char *urls[KS_FAILOVER_URLS_MAX];  /* tried in this order */
    int url_count;
    const char *user, *password;             /* HTTP Basic, set before every attempt */
    int timeout_s;                           /* connect, send and receive */
    atomic_int preferred;                    /* index of the URL that answered last */
} ks_failover_t;

/* One attempt of an operation against url: makes the soap_call_ks__X and
 * returns gSOAP's status. */
typedef int (*ks_failover_attempt_fn)(struct soap *soap, const char *url, void *args);

void ks_failover_init(ks_failover_t *fo, const char *user, const char *password, int timeout_s);
ks_rc ks_failover_add_url(ks_failover_t *fo, const char *url, ks_err_t *err);
/* A gSOAP context for one thread (strict XML, the timeouts); soap_free it. */
struct soap *ks_failover_soap_new(const ks_failover_t *fo, ks_err_t *err);

/* Runs attempt against the URLs from the preferred one on. KS_OK; KS_NOTFOUND
 * for a NotFound fault; KS_ERROR for any other fault (code:
 * ks_failover_fault_code(soap); err: "<operation> at <url>: <Code>: <message>");
 * KS_UNAVAILABLE when no API server answered. resend_safe = 0 moves to the
 * next URL only when the request cannot have been received. */
ks_rc ks_failover_call(ks_failover_t *fo, struct soap *soap, const char *operation,
                       int resend_safe, ks_failover_attempt_fn attempt, void *args,
                       ks_err_t *err);

/* The KisekaeFault code of soap's last answer ("NotOwned", ...), or NULL. */
const char *ks_failover_fault_code(struct soap *soap);

#endif
