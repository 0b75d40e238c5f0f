/* form.c: query strings, form bodies and cookies (form.h). */
#define _GNU_SOURCE   /* strcasestr */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_frame.h"

/* Decodes %XX and '+' in place; returns the new length, or -1. */
static long url_decode(char *s)
{
    char *out = s;
    for (char *in = s; *in; in++) {
        if (*in == '+') {
            *out++ = ' ';
        } else if (*in == '%') {
            int hi = ks_http_hex_value(in[1]), lo = hi < 0 ? -1 : ks_http_hex_value(in[2]);
            if (hi < 0 || lo < 0)
                return -1;
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return out - s;
}

static ks_rc add_field(ks_form_t *form, const char *name, const char *value, size_t size,
                       const char *filename, const char *content_type, ks_err_t *err)
{
    ks_form_field_t *f;

    if (form->count == KS_FORM_FIELDS_MAX)
        return ks_err(err, KS_TOOLARGE, "the form has more than %d fields", KS_FORM_FIELDS_MAX);
    f = &form->fields[form->count++];
    f->name = name;
    f->value = value;
    f->size = size;
    f->filename = filename;
    f->content_type = content_type;
    return KS_OK;
}

ks_rc ks_form_parse_urlencoded(ks_form_t *form, const char *text, size_t size, ks_err_t *err)
{
    char *s, *next;

    memset(form, 0, sizeof *form);
    if (!(form->buffer = malloc(size + 1)))
        return ks_err(err, KS_NOMEM, "out of memory for a form of %zu bytes", size);
    memcpy(form->buffer, text, size);
    form->buffer[size] = '\0';
    if (strlen(form->buffer) != size)
        return ks_err(err, KS_INVALID, "the form holds a NUL byte");
    for (s = form->buffer; s && *s; s = next) {
        char *equals;
        long name_len, value_len;
        ks_rc rc;

        next = strchr(s, '&');
        if (next)
            *next++ = '\0';
        if (!*s)
            continue;
        equals = strchr(s, '=');
        if (equals)
            *equals++ = '\0';
        name_len = url_decode(s);
        value_len = equals ? url_decode(equals) : 0;
        if (name_len < 0 || value_len < 0)
            return ks_err(err, KS_INVALID, "the form holds a bad %%-escape");
        if ((size_t)name_len != strlen(s) || (equals && (size_t)value_len != strlen(equals)))
            return ks_err(err, KS_INVALID, "the form holds a NUL byte");
        if ((rc = add_field(form, s, equals ? equals : "", (size_t)value_len, NULL, NULL, err)))
            return rc;
    }
    return KS_OK;
}

/* Finds needle (of size n) in [p, end); NULL when absent. */
static char *find(char *p, const char *end, const char *needle, size_t n)
{
    while ((size_t)(end - p) >= n) {
        char *hit = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!hit)
            return NULL;
        if (memcmp(hit, needle, n) == 0)
            return hit;
        p = hit + 1;
    }
    return NULL;
}

/* Where the value of a header parameter (name="value" or name=value) in
 * line starts, its length in *len; NULL when absent. line is not changed. */
static char *header_param(char *line, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (char *p = line; (p = strcasestr(p, name)) != NULL; p += n) {
        char *value, *end;
        if (p != line && p[-1] != ' ' && p[-1] != ';' && p[-1] != '\t')
            continue;
        if (p[n] != '=')
            continue;
        value = p + n + 1;
        if (*value == '"') {
            value++;
            end = strchr(value, '"');
        } else {
            end = value + strcspn(value, "; \t");
        }
        if (!end)
            return NULL;
        *len = (size_t)(end - value);
        return value;
    }
    return NULL;
}

ks_rc ks_form_parse_multipart(ks_form_t *form, const char *content_type, char *body,
                              size_t size, const ks_form_limits_t *limits, ks_err_t *err)
{
    char type[512], delimiter[256], *boundary, *p, *end = body + size;
    size_t delimiter_len, length;
    int files = 0;

    memset(form, 0, sizeof *form);
    form->buffer = body;
    if (strlen(content_type) >= sizeof type)
        return ks_err(err, KS_INVALID, "Content-Type too long");
    strcpy(type, content_type);
    boundary = header_param(type, "boundary", &length);
    if (boundary)
        boundary[length] = '\0';
    if (!boundary || !*boundary || strlen(boundary) > 200)
        return ks_err(err, KS_INVALID, "multipart/form-data without a usable boundary");
    delimiter_len = (size_t)snprintf(delimiter, sizeof delimiter, "\r\n--%s", boundary);
    /* The body starts with the delimiter without its CRLF. */
    if (size < delimiter_len - 2 || memcmp(body, delimiter + 2, delimiter_len - 2) != 0)
        return ks_err(err, KS_INVALID, "the form does not start with its boundary");
    p = body + delimiter_len - 2;
    for (;;) {
        char *headers, *headers_end, *data, *data_end, *name = NULL, *filename = NULL,
             *part_type = NULL, *line;
        ks_rc rc;

        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return KS_OK;                       /* the closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return ks_err(err, KS_INVALID, "the form is cut short");
        headers = p + 2;
        headers_end = find(headers, end, "\r\n\r\n", 4);
        if (!headers_end)
            return ks_err(err, KS_INVALID, "a part of the form has no end of headers");
        *headers_end = '\0';
        data = headers_end + 4;
        data_end = find(data, end, delimiter, delimiter_len);
        if (!data_end)
            return ks_err(err, KS_INVALID, "the form is cut short");
        for (line = headers; line; ) {
            char *next = strstr(line, "\r\n");
            if (next) {
                *next = '\0';
                next += 2;
            }
            if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
                size_t name_len = 0, filename_len = 0;
                name = header_param(line + 20, "name", &name_len);
                filename = header_param(line + 20, "filename", &filename_len);
                if (name)
                    name[name_len] = '\0';
                if (filename)
                    filename[filename_len] = '\0';
            } else if (strncasecmp(line, "Content-Type:", 13) == 0) {
                part_type = line + 13;
                while (*part_type == ' ')
                    part_type++;
            }
            line = next;
        }
        if (!name || !*name || strlen(name) > KS_FORM_NAME_MAX)
            return ks_err(err, KS_INVALID, "a part of the form has no usable name");
        p = data_end + delimiter_len;
        *data_end = '\0';                       /* the CR before the delimiter */
        if (filename && !*filename && data_end == data)
            continue;                           /* a file input left empty */
        if (filename) {
            size_t file_size = (size_t)(data_end - data);
            if (++files > limits->max_files || file_size > limits->max_file_bytes) {
                if (!form->refused[0] && files > limits->max_files)
                    snprintf(form->refused, sizeof form->refused, "more than %d files in one "
                             "form", limits->max_files);
                else if (!form->refused[0])
                    snprintf(form->refused, sizeof form->refused, "the file \"%.100s\" is %zu "
                             "bytes, over the limit of %zu", filename, file_size,
                             limits->max_file_bytes);
                continue;
            }
        } else if (strlen(data) != (size_t)(data_end - data)) {
            return ks_err(err, KS_INVALID, "the field \"%.64s\" holds a NUL byte", name);
        }
        rc = add_field(form, name, data, (size_t)(data_end - data), filename, part_type, err);
        if (rc != KS_OK)
            return rc;
    }
}

void ks_form_free(ks_form_t *form)
{
    free(form->buffer);
    memset(form, 0, sizeof *form);
}

const ks_form_field_t *ks_form_field(const ks_form_t *form, const char *name)
{
    for (int i = 0; i < form->count; i++)
        if (strcmp(form->fields[i].name, name) == 0)
            return &form->fields[i];
    return NULL;
}

const char *ks_form_get(const ks_form_t *form, const char *name)
{
    const ks_form_field_t *f = ks_form_field(form, name);
    return f ? f->value : NULL;
}

int ks_form_cookie(const char *header, const char *name, char *out, size_t outsize)
{
    size_t n = strlen(name);

    for (const char *p = header; p && *p; ) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *value = p + n + 1;
            size_t len = strcspn(value, ";");
            while (len > 0 && value[len - 1] == ' ')
                len--;
            if (len >= outsize)
                return -1;
            memcpy(out, value, len);
            out[len] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}
