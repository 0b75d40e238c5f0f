/* ks.c: the error buffer, return-code names and small helpers of ks.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "ks.h"

ks_rc ks_err(ks_err_t *err, ks_rc rc, const char *fmt, ...)
{
    if (err) {
        /* Formatted aside, so a caller may quote err->msg in the new message
         * ("image server: %s", err->msg) without overlapping buffers. */
        char msg[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        memcpy(err->msg, msg, sizeof msg);
    }
    return rc;
}

const char *ks_rc_name(ks_rc rc)
{
    switch (rc) {
    case KS_OK: return "KS_OK";
    case KS_ERROR: return "KS_ERROR";
    case KS_INVALID: return "KS_INVALID";
    case KS_NOTFOUND: return "KS_NOTFOUND";
    case KS_TOOLARGE: return "KS_TOOLARGE";
    case KS_CONFLICT: return "KS_CONFLICT";
    case KS_UNAVAILABLE: return "KS_UNAVAILABLE";
    case KS_NOMEM: return "KS_NOMEM";
    case KS_NOTOWNED: return "KS_NOTOWNED";
    case KS_FORBIDDEN: return "KS_FORBIDDEN";
    case KS_DBDOWN: return "KS_DBDOWN";
    case KS_BUSY: return "KS_BUSY";
    }
    return "KS_UNKNOWN";
}

long long ks_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t ks_fnv1a(const char *s)
{
    uint32_t hash = 2166136261u;

    for (; *s != '\0'; s++)
        hash = (hash ^ (unsigned char)*s) * 16777619u;
    return hash;
}
