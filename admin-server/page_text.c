/* page_text.c: small text helpers the pages share (pages.h): query strings
 * and times as staff read them. */
#include <stdio.h>
#include <time.h>

#include "pages.h"

void ks_url_encode(ks_buf_t *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_')
            ks_buf_append(out, s, 1);
        else
            ks_buf_addf(out, "%%%02X", c);
    }
}

void ks_format_utc(char *out, size_t size, long long at, int chars)
{
    char full[32];
    time_t t = (time_t)at;
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(full, sizeof full, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(full, sizeof full, "%lld", at);
    snprintf(out, size, "%.*s", chars, full);
}
