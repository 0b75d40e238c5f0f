/* config.h: table-driven configuration files.
 *
 * Every binary describes its options in one table of ks_cfg_option_t: name,
 * type, bounds, default and where the value lands in the binary's own config
 * struct. Files are lines of `name value...`; `#` at a line's start or
 * after a blank starts a comment (one inside a value is kept). Errors
 * cite the file and line: `kisekae-api.conf:12: "workers" must be 1..256`.
 * A binary builds its config aside and swaps it in only when it loaded whole.
 */
#ifndef KS_CONFIG_H
#define KS_CONFIG_H

#include <stddef.h>
#include "ks.h"

typedef enum {
    KS_CFG_STRING,   /* char[] of size `max` inside the struct */
    KS_CFG_INT,      /* int in [min, max] */
    KS_CFG_SIZE,     /* size_t in [min, max], with an optional k/m/g suffix */
    KS_CFG_BOOL,     /* int 0/1 from on|off|yes|no|true|false|1|0 */
    KS_CFG_LOG_LEVEL,/* ks_log_level_t from error|warn|info|debug (log.h) */
    KS_CFG_WXH,      /* ks_wxh_t from "WIDTHxHEIGHT", each in [min, max] */
    KS_CFG_CUSTOM    /* parse() gets the rest of the line; may repeat */
} ks_cfg_type_t;

typedef struct {
    int width, height;
} ks_wxh_t;

typedef struct ks_cfg_option {
    const char *name;
    ks_cfg_type_t type;
    long long min, max;          /* bounds; for KS_CFG_STRING, max is the buffer size */
    const char *default_value;   /* applied before the file is read; NULL: none */
    size_t offset;               /* offsetof() the field in the config struct */
    /* KS_CFG_CUSTOM: value is the rest of the line after the name, trimmed. */
    ks_rc (*parse)(void *conf, const char *value, ks_err_t *err);
    const char *help;            /* one line, for --help and the sample file */
} ks_cfg_option_t;

/* The rows of a table. The file holding it first names its config struct:
 *
 *     #define KS_CFG_STRUCT ks_api_conf_t
 *     static const ks_cfg_option_t options[] = {
 *         KS_CFG_OPT("workers", KS_CFG_INT, 1, 256, "8", workers, "worker threads"),
 *         KS_CFG_STR("log_file", "-", log_file, "log file, - for stderr"),
 *         KS_CFG_FN("mode", "standalone", parse_mode, "standalone or fastcgi"),
 *         KS_CFG_END
 *     };
 *
 * KS_CFG_STR takes its bound from the size of the char array it fills. */
#define KS_CFG_OPT(name, type, min, max, def, field, help) \
    {name, type, min, max, def, offsetof(KS_CFG_STRUCT, field), NULL, help}
#define KS_CFG_STR(name, def, field, help)                                                    \
    KS_CFG_OPT(name, KS_CFG_STRING, 0, (long long)sizeof(((KS_CFG_STRUCT *)0)->field), def, \
               field, help)
#define KS_CFG_FN(name, def, fn, help) {name, KS_CFG_CUSTOM, 0, 0, def, 0, fn, help}
#define KS_CFG_END {NULL, 0, 0, 0, NULL, 0, NULL, NULL}

/* Applies the defaults of table to conf, then reads path (NULL: defaults only).
 * The table ends with an entry whose name is NULL. Unknown options, values out
 * of bounds and a missing file are errors, reported with file and line. */
ks_rc ks_config_load(const char *path, const ks_cfg_option_t *table, void *conf,
                     ks_err_t *err);

/* Sets one option by name, as a command-line override ("-o name=value"). */
ks_rc ks_config_set(const ks_cfg_option_t *table, void *conf, const char *name,
                    const char *value, ks_err_t *err);

/* ks_config_load, then each "name=value" of overrides[0..count) (a
 * command line's -o options) with ks_config_set. */
ks_rc ks_config_load_overridden(const char *path, const ks_cfg_option_t *table, void *conf,
                                const char *const *overrides, int count, ks_err_t *err);

/* Prints each option with its default and help to stdout. */
void ks_config_print_help(const ks_cfg_option_t *table);

/* Helpers for custom parsers. Splits s into at most max whitespace-separated
 * words in place; returns the count, or max + 1 when s has more words. */
int ks_config_split(char *s, char **words, int max);
/* Parses "host:port" into host (size hostsz) and port. */
ks_rc ks_config_parse_hostport(const char *s, char *host, size_t hostsz, int *port,
                               ks_err_t *err);

/* For a repeatable option listing URLs (`api_url URL [URL...]`): appends
 * each http:// or https:// URL of value to urls, an array of max strings of
 * url_size bytes holding *count already. KS_INVALID (naming option) for
 * another scheme, a URL too long or more than max in all. */
ks_rc ks_config_add_urls(const char *option, const char *value, char *urls, size_t url_size,
                         int max, int *count, ks_err_t *err);

#endif
