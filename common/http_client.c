/* http_client.c: the libcurl client of http_client.h. */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "http_client.h"

struct ks_http {
    CURL *curl;
    long timeout_ms;
};

typedef struct {
    ks_http_response_t *resp;
    size_t cap, max;
    int overflow;
} sink_t;

ks_http_t *ks_http_new(long timeout_ms)
{
    ks_http_t *http = calloc(1, sizeof *http);
    if (!http)
        return NULL;
    http->curl = curl_easy_init();
    if (!http->curl) {
        free(http);
        return NULL;
    }
    http->timeout_ms = timeout_ms;
    return http;
}

void ks_http_free(ks_http_t *http)
{
    if (!http)
        return;
    curl_easy_cleanup(http->curl);
    free(http);
}

static size_t on_data(char *data, size_t size, size_t count, void *user)
{
    sink_t *sink = user;
    ks_http_response_t *resp = sink->resp;
    size_t n = size * count;

    if (resp->body_size + n > sink->max) {
        sink->overflow = 1;
        return 0;                      /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (resp->body_size + n + 1 > sink->cap) {
        size_t cap = sink->cap ? sink->cap * 2 : 1024;
        char *body;
        while (cap < resp->body_size + n + 1)
            cap *= 2;
        body = realloc(resp->body, cap);
        if (!body)
            return 0;
        resp->body = body;
        sink->cap = cap;
    }
    memcpy(resp->body + resp->body_size, data, n);
    resp->body_size += n;
    resp->body[resp->body_size] = '\0';
    return n;
}

ks_rc ks_http_request(ks_http_t *http, const char *method, const char *url,
                      const char *const *headers, const void *body, size_t body_size,
                      size_t max_response, ks_http_response_t *resp, ks_err_t *err)
{
    CURL *c = http->curl;
    struct curl_slist *list = NULL;
    sink_t sink = {resp, 0, max_response, 0};
    CURLcode code;

    memset(resp, 0, sizeof *resp);
    curl_easy_reset(c);
    for (int i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    list = curl_slist_append(list, "Expect:");      /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, http->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, http->timeout_ms < 2000 ? http->timeout_ms : 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_size);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    code = curl_easy_perform(c);
    curl_slist_free_all(list);
    if (code != CURLE_OK) {
        ks_http_response_free(resp);
        if (sink.overflow)
            return ks_err(err, KS_TOOLARGE, "%s %s: answer larger than %zu bytes", method, url,
                          max_response);
        return ks_err(err, KS_UNAVAILABLE, "%s %s failed: %s", method, url,
                      curl_easy_strerror(code));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    return KS_OK;
}

void ks_http_response_free(ks_http_response_t *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_size = 0;
}
