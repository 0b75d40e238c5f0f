/* form.h: what a browser sends: the query string, a form body (urlencoded
 * or multipart/form-data with files) and cookies, parsed under limits.
 *
 * A parsed form keeps pointers into one buffer it owns (the body, decoded
 * in place), freed by ks_form_free. A file over a limit (more than
 * max_files, or larger than max_file_bytes) is left out and the first such
 * reason kept in form->refused, so the page shows it next to the upload
 * and saves nothing, while the text fields (the CSRF token among them)
 * still arrive. More fields than KS_FORM_FIELDS_MAX refuse the whole form.
 */
#ifndef KS_ADMIN_FORM_H
#define KS_ADMIN_FORM_H

#include <stddef.h>
#include "ks.h"

#define KS_FORM_FIELDS_MAX 128      /* an item form: ~40 fields and up to 72 files */
#define KS_FORM_NAME_MAX 64

typedef struct {
    const char *name;
    const char *value;          /* NUL-terminated (a file's bytes are followed by a NUL) */
    size_t size;                /* bytes of value */
    const char *filename;       /* a file's name as sent, or NULL for a plain field */
    const char *content_type;   /* a file's Content-Type, or NULL */
} ks_form_field_t;

typedef struct {
    ks_form_field_t fields[KS_FORM_FIELDS_MAX];
    int count;
    char refused[256];          /* why files were left out, or "" */
    char *buffer;               /* owned: every pointer above points into it */
} ks_form_t;

typedef struct {
    int max_files;
    size_t max_file_bytes;
} ks_form_limits_t;

/* Parses "a=1&b=x%20y" (a query string or an urlencoded body) from text
 * of size bytes, copied into form. KS_INVALID for bad %-escapes,
 * KS_TOOLARGE for too many fields. */
ks_rc ks_form_parse_urlencoded(ks_form_t *form, const char *text, size_t size, ks_err_t *err);

/* Parses a multipart/form-data body whose Content-Type is content_type.
 * Takes body (malloc'd) over: it is freed with the form, even on failure. */
ks_rc ks_form_parse_multipart(ks_form_t *form, const char *content_type, char *body,
                              size_t size, const ks_form_limits_t *limits, ks_err_t *err);

void ks_form_free(ks_form_t *form);

/* The first field named name (a file's too), or NULL. */
const ks_form_field_t *ks_form_field(const ks_form_t *form, const char *name);
/* Its value, or NULL. */
const char *ks_form_get(const ks_form_t *form, const char *name);

/* The value of cookie name in a Cookie header into out (size outsize);
 * 0 when found and it fits, -1 otherwise. */
int ks_form_cookie(const char *header, const char *name, char *out, size_t outsize);

#endif
