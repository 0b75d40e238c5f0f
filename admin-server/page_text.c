/* page_text.c: small text helpers the pages share (pages.h): query strings
 * and times as staff read them. */
#define _DEFAULT_SOURCE     /* timegm */
#include <stdio.h>
#include <string.h>
#include <time.h>

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

int ks_parse_datetime_local(const char *s, long long *out)
{
    struct tm tm = {0};
    int year, month, day, hour, minute, second = 0, used = 0;
    time_t at;

    if (!s || strlen(s) > 19)
        return -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &year, &month, &day, &hour, &minute, &used) != 5)
        return -1;
    if (s[used] == ':' && sscanf(s + used, ":%2d%n", &second, &used) == 1)
        used = (int)strlen(s);
    if (s[used] != '\0' || (used != 16 && used != 19) || year < 1970 || year > 9999 ||
        month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 59 || hour < 0 || minute < 0 || second < 0)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    at = timegm(&tm);
    if (at == (time_t)-1 || tm.tm_mday != day)        /* 2026-02-31 rolled over */
        return -1;
    *out = (long long)at;
    return 0;
}

void ks_format_datetime_local(char *out, size_t size, long long at)
{
    ks_format_utc(out, size, at, at % 60 ? 19 : 16);
    if (strlen(out) > 10)
        out[10] = 'T';
}
