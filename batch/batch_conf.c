/* batch_conf.c: the option table of kisekae-batch.conf (batch_conf.h). The
 * file is flat `name value` lines, one API URL per api_url line, so the
 * launcher (or any template) can render it from a stack's settings.
 */
#include "batch_conf.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "batch_api.h"
#include "config.h"
#include "log.h"

/* api_url URL [URL...]: may be repeated; tried in the order given. */
static ks_rc parse_api_url(void *conf_arg, const char *value, ks_err_t *err)
{
    ks_batch_conf_t *conf = conf_arg;

    return ks_config_add_urls("api_url", value, conf->api_urls[0], KS_BATCH_URL_SIZE,
                              KS_FAILOVER_URLS_MAX, &conf->api_url_count, err);
}

#define FIELD(name) offsetof(ks_batch_conf_t, name)
#define STRING_SIZE(name) ((long long)sizeof(((ks_batch_conf_t *)0)->name))

static const ks_cfg_option_t options[] = {
    {"api_url", KS_CFG_CUSTOM, 0, 0, NULL, 0, parse_api_url,
     "URL [URL...] (repeatable): the API's SOAP endpoints, tried in turn"},
    {"api_user", KS_CFG_STRING, 0, STRING_SIZE(api_user), "", FIELD(api_user), NULL,
     "API client of role admin"},
    {"api_password", KS_CFG_STRING, 0, STRING_SIZE(api_password), "", FIELD(api_password), NULL,
     "its secret"},
    {"api_timeout_s", KS_CFG_INT, 1, 3600, "120", FIELD(api_timeout_s), NULL,
     "seconds to wait for the API (connect, send, receive; a batch call composes many images)"},
    {"parallel", KS_CFG_INT, 1, 64, "2", FIELD(parallel), NULL,
     "batches in flight at once, one per worker thread (--parallel); at most the image "
     "server's max_batches"},
    {"batch_size", KS_CFG_INT, 1, KS_BATCH_IDS_MAX, "50", FIELD(batch_size), NULL,
     "members per RebuildAvatars call (--batch)"},
    {"rate", KS_CFG_INT, 0, 1000000, "0", FIELD(rate), NULL,
     "members per second at most, 0 for no limit (--rate)"},
    {"retries", KS_CFG_INT, 0, 100, "8", FIELD(retries), NULL,
     "attempts after the first when no API server or the image server answers "
     "(backoff 0.5 s doubling up to 8 s)"},
    {"progress_interval_s", KS_CFG_INT, 1, 3600, "10", FIELD(progress_interval_s), NULL,
     "seconds between progress lines when stdout is not a terminal"},
    {"checkpoint_dir", KS_CFG_STRING, 0, STRING_SIZE(checkpoint_dir), ".",
     FIELD(checkpoint_dir), NULL,
     "folder of the checkpoint files (<command>-<server>.checkpoint)"},
    {"log_file", KS_CFG_STRING, 0, STRING_SIZE(log_file), "-", FIELD(log_file), NULL,
     "log file (\"-\" for stderr)"},
    {"log_level", KS_CFG_LOG_LEVEL, 0, 0, "warn", FIELD(log_level), NULL,
     "error | warn | info | debug (info logs every batch)"},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL},
};

ks_rc ks_batch_conf_load(const char *path, const char *const *overrides, int count,
                         ks_batch_conf_t *conf, ks_err_t *err)
{
    ks_rc rc;

    memset(conf, 0, sizeof *conf);
    rc = ks_config_load(path, options, conf, err);
    if (rc != KS_OK)
        return rc;
    for (int i = 0; i < count; i++) {
        char name[128];
        const char *equals = strchr(overrides[i], '=');
        size_t length = equals ? (size_t)(equals - overrides[i]) : sizeof name;
        if (length >= sizeof name)
            return ks_err(err, KS_INVALID, "-o \"%s\": expected name=value", overrides[i]);
        memcpy(name, overrides[i], length);
        name[length] = '\0';
        rc = ks_config_set(options, conf, name, equals + 1, err);
        if (rc != KS_OK)
            return rc;
    }
    if (conf->api_url_count == 0)
        return ks_err(err, KS_INVALID, "%s: api_url is not set", path ? path : "configuration");
    if (!conf->api_user[0])
        return ks_err(err, KS_INVALID, "%s: api_user is not set", path ? path : "configuration");
    return KS_OK;
}

void ks_batch_conf_print_help(void)
{
    ks_config_print_help(options);
}

ks_rc ks_batch_conf_failover(const ks_batch_conf_t *conf, ks_failover_t *fo, ks_err_t *err)
{
    ks_failover_init(fo, conf->api_user, conf->api_password, conf->api_timeout_s);
    for (int i = 0; i < conf->api_url_count; i++) {
        ks_rc rc = ks_failover_add_url(fo, conf->api_urls[i], err);
        if (rc != KS_OK)
            return rc;
    }
    return KS_OK;
}
