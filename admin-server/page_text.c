/* page_text.c: small text helpers the pages share (pages.h): query strings
 * and times as staff read them. */
#include <stdio.h>

#include "pages.h"
#include "store_audit.h"

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

    ks_admin_audit_time(at, full);        /* "YYYY-MM-DD HH:MM:SS UTC" */
    snprintf(out, size, "%.*s", chars, full);
}
