/* buf.h: a growing byte buffer with a declared maximum (as curl's dynbuf):
 * input can never make it grow without bound. The text is always
 * NUL-terminated. An append that would pass the maximum, or find no memory,
 * sets `overflow` and leaves the buffer as it was; later appends do nothing,
 * so a builder checks once at the end. */
#ifndef KS_BUF_H
#define KS_BUF_H

#include <stddef.h>

typedef struct {
    char *data;            /* malloc'd, owned by the buffer; NULL while empty */
    size_t len, cap, max;
    int overflow;
} ks_buf_t;

void ks_buf_init(ks_buf_t *buf, size_t max);
void ks_buf_free(ks_buf_t *buf);
/* Empties the buffer and clears overflow, keeping its memory. */
void ks_buf_reset(ks_buf_t *buf);
void ks_buf_addf(ks_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ks_buf_append(ks_buf_t *buf, const void *data, size_t size);
/* Room for extra more bytes at buf->data + buf->len, or NULL (overflow set);
 * the caller writes there and adds what it wrote to buf->len (and the NUL). */
char *ks_buf_reserve(ks_buf_t *buf, size_t extra);

/* Appends s (NULL: "") as a JSON string: quotes, backslashes and control
 * characters escaped, and < > & too, so the text is safe inside HTML. */
void ks_buf_add_json_str(ks_buf_t *buf, const char *s);

#endif
