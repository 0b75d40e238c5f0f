/* config.c: the table-driven configuration reader of config.h.
 *
 * Lines are "name value"; a '#' at a line's start or after a blank starts a
 * comment, one inside a value is part of the value. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"

#define KS_CFG_LINE_MAX 4096
#define KS_CFG_OPTIONS_MAX 128

static char *trim(char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static const ks_cfg_option_t *find_option(const ks_cfg_option_t *table, const char *name)
{
    for (const ks_cfg_option_t *o = table; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static ks_rc parse_number(const ks_cfg_option_t *o, const char *value, long long *out,
                          ks_err_t *err)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(value, &end, 10);
    if (end == value || errno)
        return ks_err(err, KS_INVALID, "\"%s\" needs a number, not \"%s\"", o->name, value);
    if (o->type == KS_CFG_SIZE && *end) {
        long long unit = 1;
        switch (tolower((unsigned char)*end)) {
        case 'k': unit = 1024LL; break;
        case 'm': unit = 1024LL * 1024; break;
        case 'g': unit = 1024LL * 1024 * 1024; break;
        default: unit = 0;
        }
        if (!unit || end[1] || n > (1LL << 40))
            return ks_err(err, KS_INVALID, "\"%s\" needs a size like 512k or 16m, not \"%s\"",
                          o->name, value);
        n *= unit;
        end++;
    }
    if (*end)
        return ks_err(err, KS_INVALID, "\"%s\" needs a number, not \"%s\"", o->name, value);
    if (n < o->min || n > o->max)
        return ks_err(err, KS_INVALID, "\"%s\" must be %lld..%lld, not %lld", o->name, o->min,
                      o->max, n);
    *out = n;
    return KS_OK;
}

static ks_rc apply(const ks_cfg_option_t *o, void *conf, const char *value, ks_err_t *err)
{
    char *field = (char *)conf + o->offset;
    long long n;
    ks_rc rc;

    switch (o->type) {
    case KS_CFG_STRING:
        if (strlen(value) >= (size_t)o->max)
            return ks_err(err, KS_INVALID, "\"%s\" is longer than %lld characters", o->name,
                          o->max - 1);
        memcpy(field, value, strlen(value) + 1);
        return KS_OK;
    case KS_CFG_INT:
        if ((rc = parse_number(o, value, &n, err)) != KS_OK)
            return rc;
        *(int *)field = (int)n;
        return KS_OK;
    case KS_CFG_SIZE:
        if ((rc = parse_number(o, value, &n, err)) != KS_OK)
            return rc;
        *(size_t *)field = (size_t)n;
        return KS_OK;
    case KS_CFG_BOOL:
        if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true") ||
            !strcmp(value, "1"))
            *(int *)field = 1;
        else if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false") ||
                 !strcmp(value, "0"))
            *(int *)field = 0;
        else
            return ks_err(err, KS_INVALID, "\"%s\" needs on or off, not \"%s\"", o->name, value);
        return KS_OK;
    case KS_CFG_LOG_LEVEL:
        if ((n = ks_log_level_parse(value)) < 0)
            return ks_err(err, KS_INVALID, "\"%s\" must be error, warn, info or debug, not \"%s\"",
                          o->name, value);
        *(ks_log_level_t *)field = (ks_log_level_t)n;
        return KS_OK;
    case KS_CFG_WXH: {
        long long w, h;
        char *x, *end = NULL;
        errno = 0;
        w = strtoll(value, &x, 10);
        h = *x == 'x' ? strtoll(x + 1, &end, 10) : 0;
        if (errno || x == value || *x != 'x' || !isdigit((unsigned char)x[1]) || *end ||
            w < o->min || w > o->max || h < o->min || h > o->max)
            return ks_err(err, KS_INVALID, "\"%s\" must be WIDTHxHEIGHT, each %lld..%lld, not"
                          " \"%s\"", o->name, o->min, o->max, value);
        ((ks_wxh_t *)field)->width = (int)w;
        ((ks_wxh_t *)field)->height = (int)h;
        return KS_OK;
    }
    case KS_CFG_CUSTOM:
        return o->parse(conf, value, err);
    }
    return ks_err(err, KS_ERROR, "\"%s\" has an unknown type", o->name);
}

ks_rc ks_config_set(const ks_cfg_option_t *table, void *conf, const char *name,
                    const char *value, ks_err_t *err)
{
    const ks_cfg_option_t *o = find_option(table, name);
    if (!o)
        return ks_err(err, KS_INVALID, "unknown option \"%s\"", name);
    return apply(o, conf, value, err);
}

ks_rc ks_config_load(const char *path, const ks_cfg_option_t *table, void *conf,
                     ks_err_t *err)
{
    char line[KS_CFG_LINE_MAX];
    unsigned char seen[KS_CFG_OPTIONS_MAX] = {0};
    ks_err_t inner;
    FILE *f;
    int lineno = 0;
    ks_rc rc = KS_OK;

    for (const ks_cfg_option_t *o = table; o->name; o++)
        if (o->default_value && apply(o, conf, o->default_value, &inner) != KS_OK)
            return ks_err(err, KS_ERROR, "default of %s", inner.msg);
    if (!path)
        return KS_OK;
    f = fopen(path, "r");
    if (!f)
        return ks_err(err, errno == ENOENT ? KS_NOTFOUND : KS_ERROR,
                      "fopen() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        char *s, *name, *value, *hash;
        const ks_cfg_option_t *o;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = ks_err(err, KS_INVALID, "%s:%d: line is longer than %d characters", path,
                        lineno, KS_CFG_LINE_MAX - 2);
            break;
        }
        /* a comment starts at the line's start or after a blank: a '#'
         * inside a value (a secret, a URL's fragment) is part of it */
        for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
            if (hash == line || isspace((unsigned char)hash[-1])) {
                *hash = '\0';
                break;
            }
        s = trim(line);
        if (!*s)
            continue;
        name = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
        value = trim(s);
        o = find_option(table, name);
        if (!o) {
            rc = ks_err(err, KS_INVALID, "%s:%d: unknown option \"%s\"", path, lineno, name);
            break;
        }
        if (!*value) {
            rc = ks_err(err, KS_INVALID, "%s:%d: \"%s\" needs a value", path, lineno, name);
            break;
        }
        if (o->type != KS_CFG_CUSTOM && (o - table) < KS_CFG_OPTIONS_MAX) {
            if (seen[o - table]++) {
                rc = ks_err(err, KS_INVALID, "%s:%d: \"%s\" is set twice", path, lineno, name);
                break;
            }
        }
        if ((rc = apply(o, conf, value, &inner)) != KS_OK) {
            ks_err(err, rc, "%s:%d: %s", path, lineno, inner.msg);
            break;
        }
    }
    if (rc == KS_OK && ferror(f))
        rc = ks_err(err, KS_ERROR, "read \"%s\" failed", path);
    fclose(f);
    return rc;
}

ks_rc ks_config_load_overridden(const char *path, const ks_cfg_option_t *table, void *conf,
                                const char *const *overrides, int count, ks_err_t *err)
{
    ks_rc rc = ks_config_load(path, table, conf, err);

    for (int i = 0; i < count && rc == KS_OK; i++) {
        char name[128];
        const char *equals = strchr(overrides[i], '=');
        size_t length = equals ? (size_t)(equals - overrides[i]) : 0;
        if (!equals || length >= sizeof name)
            return ks_err(err, KS_INVALID, "-o \"%s\": expected a known name=value", overrides[i]);
        memcpy(name, overrides[i], length);
        name[length] = '\0';
        rc = ks_config_set(table, conf, name, equals + 1, err);
    }
    return rc;
}

void ks_config_print_help(const ks_cfg_option_t *table)
{
    for (const ks_cfg_option_t *o = table; o->name; o++)
        printf("  %-22s %-28s %s\n", o->name, o->default_value ? o->default_value : "(none)",
               o->help ? o->help : "");
}

int ks_config_split(char *s, char **words, int max)
{
    int n = 0;
    while (n < max) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        words[n++] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
    while (isspace((unsigned char)*s))
        s++;
    return *s ? max + 1 : n;    /* more words than max: report max + 1 */
}

ks_rc ks_config_parse_hostport(const char *s, char *host, size_t hostsz, int *port,
                               ks_err_t *err)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long p;

    if (!colon || colon == s || (size_t)(colon - s) >= hostsz)
        return ks_err(err, KS_INVALID, "\"%s\" is not host:port", s);
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno || *end || p < 1 || p > 65535)
        return ks_err(err, KS_INVALID, "\"%s\" has no valid port", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return KS_OK;
}

ks_rc ks_config_add_urls(const char *option, const char *value, char *urls, size_t url_size,
                         int max, int *count, ks_err_t *err)
{
    char copy[KS_CFG_LINE_MAX], *words[64];
    int n;

    if (strlen(value) >= sizeof copy)
        return ks_err(err, KS_INVALID, "%s: line too long", option);
    strcpy(copy, value);
    n = ks_config_split(copy, words, 64);
    if (n > 64)
        return ks_err(err, KS_INVALID, "%s: more than %d URLs", option, max);
    for (int i = 0; i < n; i++) {
        if (*count >= max)
            return ks_err(err, KS_INVALID, "%s: more than %d URLs", option, max);
        if (strncmp(words[i], "http://", 7) != 0 && strncmp(words[i], "https://", 8) != 0)
            return ks_err(err, KS_INVALID, "%s \"%.200s\" must start with http:// or https://",
                          option, words[i]);
        if (strlen(words[i]) >= url_size)
            return ks_err(err, KS_INVALID, "%s \"%.60s...\" is longer than %zu characters",
                          option, words[i], url_size - 1);
        strcpy(urls + (size_t)*count * url_size, words[i]);
        (*count)++;
    }
    return KS_OK;
}
