/* xml_guard.c: the XML body checks of xml_guard.h. */
#include "xml_guard.h"

#include <string.h>

/* The byte after the first occurrence of marker in [p, end), or NULL. */
static const char *skip_past(const char *p, const char *end, const char *marker)
{
    size_t m = strlen(marker);

    while (p + m <= end) {
        const char *hit = memchr(p, marker[0], (size_t)(end - p) - m + 1);
        if (!hit)
            return NULL;
        if (memcmp(hit, marker, m) == 0)
            return hit + m;
        p = hit + 1;
    }
    return NULL;
}

/* The '>' closing the tag that starts at p, skipping quoted attribute
 * values (which may hold '>'), or NULL. */
static const char *tag_end(const char *p, const char *end)
{
    char quote = 0;

    for (; p < end; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            return p;
        }
    }
    return NULL;
}

ks_rc ks_xml_guard(const char *body, size_t len, int max_depth, ks_err_t *err)
{
    const char *p = body, *end = body + len;
    int depth = 0;

    while (p < end && (p = memchr(p, '<', (size_t)(end - p)))) {
        size_t left = (size_t)(end - p);
        const char *close;

        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            p = skip_past(p + 4, end, "-->");
        } else if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            p = skip_past(p + 9, end, "]]>");
        } else if (left >= 2 && p[1] == '?') {
            p = skip_past(p + 2, end, "?>");
        } else if (left >= 2 && p[1] == '!') {
            return ks_err(err, KS_INVALID, "a SOAP message must not contain a DOCTYPE or other "
                          "<!...> declaration (no DTDs, no entities)");
        } else if (left >= 2 && p[1] == '/') {
            depth--;
            p = tag_end(p + 2, end);
        } else {
            if (!(close = tag_end(p + 1, end)))
                return KS_OK;
            if (close[-1] != '/' && ++depth > max_depth)
                return ks_err(err, KS_TOOLARGE, "XML nested deeper than %d levels", max_depth);
            p = close + 1;
        }
        if (!p)
            return KS_OK;               /* unterminated: the parser will say so */
    }
    return KS_OK;
}
