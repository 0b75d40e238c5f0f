/* buf.c: the bounded growing buffer of buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

void ks_buf_init(ks_buf_t *buf, size_t max)
{
    memset(buf, 0, sizeof *buf);
    buf->max = max;
}

void ks_buf_free(ks_buf_t *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

void ks_buf_reset(ks_buf_t *buf)
{
    buf->len = 0;
    buf->overflow = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

char *ks_buf_reserve(ks_buf_t *buf, size_t extra)
{
    size_t need = buf->len + extra + 1, cap;
    char *data;

    if (buf->overflow || extra > buf->max || need > buf->max + 1) {
        buf->overflow = 1;
        return NULL;
    }
    if (need > buf->cap) {
        cap = buf->cap ? buf->cap : 256;
        while (cap < need)
            cap *= 2;
        if (cap > buf->max + 1)
            cap = buf->max + 1;
        data = realloc(buf->data, cap);
        if (!data) {
            buf->overflow = 1;
            return NULL;
        }
        buf->data = data;
        buf->cap = cap;
    }
    return buf->data + buf->len;
}

void ks_buf_append(ks_buf_t *buf, const void *data, size_t size)
{
    char *at = ks_buf_reserve(buf, size);
    if (!at)
        return;
    memcpy(at, data, size);
    buf->len += size;
    buf->data[buf->len] = '\0';
}

void ks_buf_addf(ks_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    char *at;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(at = ks_buf_reserve(buf, (size_t)n)))
        return;
    va_start(ap, fmt);
    vsnprintf(at, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

void ks_buf_add_json_str(ks_buf_t *buf, const char *s)
{
    ks_buf_append(buf, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ks_buf_addf(buf, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            ks_buf_addf(buf, "\\u%04x", c);
        else
            ks_buf_append(buf, s, 1);
    }
    ks_buf_append(buf, "\"", 1);
}
