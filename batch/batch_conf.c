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

#define KS_CFG_STRUCT ks_batch_conf_t

static const ks_cfg_option_t options[] = {
    KS_CFG_FN("api_url", NULL, parse_api_url,
        "URL [URL...] (repeatable): the API's SOAP endpoints, tried in turn"),
    KS_CFG_STR("api_user", "", api_user, "API client of role admin"),
    KS_CFG_STR("api_password", "", api_password, "its secret"),
    KS_CFG_OPT("api_timeout_s", KS_CFG_INT, 1, 3600, "120", api_timeout_s,
        "seconds to wait for the API (connect, send, receive; a batch call composes many images)"),
    KS_CFG_OPT("parallel", KS_CFG_INT, 1, 64, "2", parallel,
        "batches in flight at once, one per worker thread (--parallel); at most the image "
        "server's max_batches"),
    KS_CFG_OPT("batch_size", KS_CFG_INT, 1, KS_BATCH_IDS_MAX, "50", batch_size,
        "members per RebuildAvatars call (--batch)"),
    KS_CFG_OPT("rate", KS_CFG_INT, 0, 1000000, "0", rate,
        "members per second at most, 0 for no limit (--rate)"),
    KS_CFG_OPT("retries", KS_CFG_INT, 0, 100, "8", retries,
        "attempts after the first when no API server or the image server answers (backoff 0.5 s "
        "doubling up to 8 s)"),
    KS_CFG_OPT("progress_interval_s", KS_CFG_INT, 1, 3600, "10", progress_interval_s,
        "seconds between progress lines when stdout is not a terminal"),
    KS_CFG_STR("checkpoint_dir", ".", checkpoint_dir,
        "folder of the checkpoint files (<command>-<server>.checkpoint)"),
    KS_CFG_STR("log_file", "-", log_file, "log file (\"-\" for stderr)"),
    KS_CFG_OPT("log_level", KS_CFG_LOG_LEVEL, 0, 0, "warn", log_level,
        "error | warn | info | debug (info logs every batch)"),
    KS_CFG_END
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
