/* http_client.h: HTTP requests to peers (API to image servers, image servers
 * to the API) through libcurl. A client belongs to one thread at a time and
 * keeps its connections alive between requests. Call curl_global_init() once
 * in main() before creating clients. */
#ifndef KS_HTTP_CLIENT_H
#define KS_HTTP_CLIENT_H

#include <stddef.h>
#include "ks.h"

typedef struct ks_http ks_http_t;

typedef struct {
    long status;              /* HTTP status, 0 before an answer */
    char *body;               /* NUL-terminated; malloc'd, owned by the caller */
    size_t body_size;
} ks_http_response_t;

/* timeout_ms bounds each whole request. Returns NULL when out of memory. */
ks_http_t *ks_http_new(long timeout_ms);
void ks_http_free(ks_http_t *http);

/* Sends method to url with the given headers ("Name: value", NULL-terminated
 * array, may be NULL) and body. An answer larger than max_response is an
 * error. Any HTTP status is KS_OK (look at resp->status); KS_UNAVAILABLE when
 * the peer could not be reached or did not answer in time. */
ks_rc ks_http_request(ks_http_t *http, const char *method, const char *url,
                      const char *const *headers, const void *body, size_t body_size,
                      size_t max_response, ks_http_response_t *resp, ks_err_t *err);

void ks_http_response_free(ks_http_response_t *resp);

#endif
