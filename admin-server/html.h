/* html.h: HTML output. One function escapes every value written into a
 * page (ks_html_escape, as kcgi's khtml_puts); templates hold the markup.
 *
 * Templates are the files of admin-server/templates/, compiled into the
 * binary. In a template:
 *   {{name}}              the variable, escaped (the default: always safe)
 *   {{{name}}}            the variable as HTML, only when it was set with
 *                         ks_tpl_set_html (markup rendered from another
 *                         template); any other value is escaped all the same
 *   {{#name}}...{{/name}} the part is kept when name is set, not "" and not "0"
 *   {{^name}}...{{/name}} the part is kept when it is not
 * An unknown variable renders as nothing. Sections of the same name do not
 * nest.
 */
#ifndef KS_ADMIN_HTML_H
#define KS_ADMIN_HTML_H

#include <stddef.h>
#include "buf.h"
#include "ks.h"

/* Appends s to out with & < > " ' written as entities. NULL appends nothing. */
void ks_html_escape(ks_buf_t *out, const char *s);

#define KS_TPL_VARS_MAX 96

typedef struct {
    struct {
        char *name;
        char *value;             /* malloc'd copies, freed by ks_tpl_free */
        int html;                /* set with ks_tpl_set_html */
    } vars[KS_TPL_VARS_MAX];
    int count;
    int overflow;                /* a set found no room (logged once) */
} ks_tpl_t;

void ks_tpl_init(ks_tpl_t *tpl);
void ks_tpl_free(ks_tpl_t *tpl);
/* Sets name to value (copied; NULL: ""), replacing an earlier value. */
void ks_tpl_set(ks_tpl_t *tpl, const char *name, const char *value);
void ks_tpl_setf(ks_tpl_t *tpl, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ks_tpl_set_int(ks_tpl_t *tpl, const char *name, long long value);
/* Sets name to markup that {{{name}}} writes as it is. */
void ks_tpl_set_html(ks_tpl_t *tpl, const char *name, const char *html);

/* The embedded template file name ("layout.html"), or NULL. */
const char *ks_tpl_source(const char *name);

/* Renders the embedded template name with vars, appending to out.
 * KS_NOTFOUND for an unknown template, KS_INVALID for a section that does
 * not end (the message names the template). */
ks_rc ks_tpl_render(ks_buf_t *out, const char *name, const ks_tpl_t *vars, ks_err_t *err);

/* Renders template text (for tests and ks_tpl_render). */
ks_rc ks_tpl_render_text(ks_buf_t *out, const char *text, const ks_tpl_t *vars, ks_err_t *err);

#endif
