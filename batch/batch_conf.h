/* batch_conf.h: kisekae-batch's configuration (kisekae-batch.conf; the
 * option table is in batch_conf.c, kisekae-batch.conf.sample its commented
 * copy). Command-line options (--parallel, --rate...) override the defaults
 * read here.
 */
#ifndef KS_BATCH_CONF_H
#define KS_BATCH_CONF_H

#include "api_failover.h"
#include "ks.h"
#include "log.h"

#define KS_BATCH_URL_SIZE 512

typedef struct {
    char api_urls[KS_FAILOVER_URLS_MAX][KS_BATCH_URL_SIZE];   /* tried in this order */
    int api_url_count;
    char api_user[64];
    char api_password[128];
    int api_timeout_s;
    int parallel;                  /* worker threads, each with a batch in flight */
    int batch_size;                /* members per RebuildAvatars call */
    int rate;                      /* members per second; 0: no limit */
    int retries;                   /* attempts after the first for an unavailable server */
    int progress_interval_s;       /* seconds between progress lines when not on a terminal */
    char checkpoint_dir[1024];
    char log_file[1024];
    ks_log_level_t log_level;
} ks_batch_conf_t;

/* Loads path (NULL: defaults only) into conf, then each "name=value" of
 * overrides[0..count), and checks that api_url and api_user are set. */
ks_rc ks_batch_conf_load(const char *path, const char *const *overrides, int count,
                         ks_batch_conf_t *conf, ks_err_t *err);

/* Prints every option with its default and help. */
void ks_batch_conf_print_help(void);

/* The failover core over conf's URLs and credentials (conf must outlive it). */
ks_rc ks_batch_conf_failover(const ks_batch_conf_t *conf, ks_failover_t *fo, ks_err_t *err);

#endif
