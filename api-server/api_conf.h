/* api_conf.h: kisekae-api's configuration file (api_conf.c): the option
 * table and loading it, for main.c and the unit tests. ks_api_conf_t itself
 * is in api.h, which every module reads it through. */
#ifndef KS_API_CONF_H
#define KS_API_CONF_H

#include "api.h"
#include "config.h"

/* The option table of kisekae-api.conf (ends with a NULL name). */
const ks_cfg_option_t *ks_api_conf_options(void);

/* Fills conf with the defaults, then path's options (NULL: defaults only),
 * then overrides[0..override_count) ("name=value", the -o options), and
 * checks what no single option can (the thumbnail crop within the canvas,
 * the database pool). KS_INVALID (or the file's error) with the message in
 * err; conf is then only partly filled. */
ks_rc ks_api_conf_load(ks_api_conf_t *conf, const char *path, const char *const *overrides,
                       int override_count, ks_err_t *err);

/* The option serving and --image-secret require, which the file may leave
 * out for the other commands: cluster_secret, at least 16 characters.
 * KS_INVALID with the message in err. */
ks_rc ks_api_conf_check_secret(const ks_api_conf_t *conf, ks_err_t *err);

#endif
