/* standalone.h: the API's own HTTP listener (standalone.c). */
#ifndef KS_API_STANDALONE_H
#define KS_API_STANDALONE_H

#include "api.h"

/* Serves until stop is set (by a signal); returns the exit status. */
int ks_api_serve_standalone(const ks_api_conf_t *conf, ks_db_pool_t *pool,
                            volatile sig_atomic_t *stop);

#endif
