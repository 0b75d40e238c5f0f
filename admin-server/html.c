/* html.c: escaping and templates (html.h). */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "log.h"

extern const ks_embedded_t ks_admin_templates[];

void ks_html_escape(ks_buf_t *out, const char *s)
{
    const char *run = s;

    if (!s)
        return;
    for (; *s; s++) {
        const char *entity;
        switch (*s) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: continue;
        }
        ks_buf_append(out, run, (size_t)(s - run));
        ks_buf_append(out, entity, strlen(entity));
        run = s + 1;
    }
    ks_buf_append(out, run, (size_t)(s - run));
}

void ks_tpl_init(ks_tpl_t *tpl)
{
    memset(tpl, 0, sizeof *tpl);
}

void ks_tpl_free(ks_tpl_t *tpl)
{
    for (int i = 0; i < tpl->count; i++) {
        free(tpl->vars[i].name);
        free(tpl->vars[i].value);
    }
    tpl->count = 0;
}

static int find_var(const ks_tpl_t *tpl, const char *name, size_t len)
{
    for (int i = 0; i < tpl->count; i++)
        if (strlen(tpl->vars[i].name) == len && memcmp(tpl->vars[i].name, name, len) == 0)
            return i;
    return -1;
}

static void set(ks_tpl_t *tpl, const char *name, const char *value, int html)
{
    int i = find_var(tpl, name, strlen(name));
    char *copy = strdup(value ? value : "");

    if (!copy) {
        tpl->overflow = 1;
        return;
    }
    if (i < 0) {
        if (tpl->count == KS_TPL_VARS_MAX || !(tpl->vars[tpl->count].name = strdup(name))) {
            if (!tpl->overflow)
                ks_log_error("template variables: no room for \"%s\"", name);
            tpl->overflow = 1;
            free(copy);
            return;
        }
        i = tpl->count++;
    } else {
        free(tpl->vars[i].value);
    }
    tpl->vars[i].value = copy;
    tpl->vars[i].html = html;
}

void ks_tpl_set(ks_tpl_t *tpl, const char *name, const char *value)
{
    set(tpl, name, value, 0);
}

void ks_tpl_setf(ks_tpl_t *tpl, const char *name, const char *fmt, ...)
{
    char value[1024];
    va_list args;

    va_start(args, fmt);
    vsnprintf(value, sizeof value, fmt, args);
    va_end(args);
    set(tpl, name, value, 0);
}

void ks_tpl_set_int(ks_tpl_t *tpl, const char *name, long long value)
{
    ks_tpl_setf(tpl, name, "%lld", value);
}

void ks_tpl_set_html(ks_tpl_t *tpl, const char *name, const char *html)
{
    set(tpl, name, html, 1);
}

const char *ks_tpl_source(const char *name)
{
    for (const ks_embedded_t *t = ks_admin_templates; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return (const char *)t->data;
    return NULL;
}

static int truthy(const ks_tpl_t *vars, const char *name, size_t len)
{
    int i = find_var(vars, name, len);
    return i >= 0 && vars->vars[i].value[0] && strcmp(vars->vars[i].value, "0") != 0;
}

/* Renders [p, end). */
static ks_rc render(ks_buf_t *out, const char *p, const char *end, const ks_tpl_t *vars,
                    ks_err_t *err)
{
    while (p < end) {
        const char *open = strstr(p, "{{"), *name, *close;
        size_t len;
        int triple;

        if (!open || open >= end) {
            ks_buf_append(out, p, (size_t)(end - p));
            return KS_OK;
        }
        ks_buf_append(out, p, (size_t)(open - p));
        triple = open[2] == '{';
        name = open + (triple ? 3 : 2);
        close = strstr(name, triple ? "}}}" : "}}");
        if (!close || close >= end)
            return ks_err(err, KS_INVALID, "a {{ without its }}");
        len = (size_t)(close - name);
        p = close + (triple ? 3 : 2);
        if (!triple && len > 0 && (name[0] == '#' || name[0] == '^')) {
            char closing[80];
            const char *section_end;
            int keep;
            if (len - 1 >= sizeof closing - 5)
                return ks_err(err, KS_INVALID, "a section name is too long");
            snprintf(closing, sizeof closing, "{{/%.*s}}", (int)(len - 1), name + 1);
            section_end = strstr(p, closing);
            if (!section_end || section_end >= end)
                return ks_err(err, KS_INVALID, "section \"%.*s\" does not end", (int)(len - 1),
                              name + 1);
            keep = truthy(vars, name + 1, len - 1) == (name[0] == '#');
            if (keep) {
                ks_rc rc = render(out, p, section_end, vars, err);
                if (rc != KS_OK)
                    return rc;
            }
            p = section_end + strlen(closing);
            continue;
        }
        int i = find_var(vars, name, len);
        if (i < 0)
            continue;
        if (triple && vars->vars[i].html)
            ks_buf_append(out, vars->vars[i].value, strlen(vars->vars[i].value));
        else
            ks_html_escape(out, vars->vars[i].value);
    }
    return KS_OK;
}

ks_rc ks_tpl_render_text(ks_buf_t *out, const char *text, const ks_tpl_t *vars, ks_err_t *err)
{
    return render(out, text, text + strlen(text), vars, err);
}

ks_rc ks_tpl_render(ks_buf_t *out, const char *name, const ks_tpl_t *vars, ks_err_t *err)
{
    const char *text = ks_tpl_source(name);
    ks_rc rc;

    if (!text)
        return ks_err(err, KS_NOTFOUND, "no template \"%s\"", name);
    rc = ks_tpl_render_text(out, text, vars, err);
    if (rc != KS_OK)
        return ks_err(err, rc, "template %s: %s", name, err->msg);
    return KS_OK;
}
