/* commands.h: kisekae-batch's commands (commands.c), called by main.c once
 * the arguments and the configuration are checked. Each returns the
 * process's exit status (KS_EXIT_*) and prints its own summary.
 */
#ifndef KS_BATCH_COMMANDS_H
#define KS_BATCH_COMMANDS_H

#include "api_failover.h"
#include "batch_conf.h"

#define KS_EXIT_OK 0               /* done, nothing failed */
#define KS_EXIT_FAILED 1           /* members failed, an unknown server, no API server answered */
#define KS_EXIT_USAGE 2            /* bad arguments or configuration */
#define KS_EXIT_STOPPED 3          /* stopped by SIGINT/SIGTERM: resume with --resume */

typedef struct {
    const char *command;           /* regenerate | audit | move | sync-items */
    const char *server, *from, *to;
    int parallel, batch_size, rate; /* from the configuration unless given */
    int limit;                     /* move: 0 for no limit */
    int resume, restart, dry_run, repair;
    const char *checkpoint;        /* the checkpoint file, when not the default */
    const char *config_path;       /* for the hint that says how to resume */
} ks_batch_args_t;

int ks_batch_regenerate(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                        ks_failover_t *fo);
int ks_batch_audit(const ks_batch_args_t *args, const ks_batch_conf_t *conf, ks_failover_t *fo);
int ks_batch_move(const ks_batch_args_t *args, const ks_batch_conf_t *conf, ks_failover_t *fo);
int ks_batch_sync_items(const ks_batch_args_t *args, const ks_batch_conf_t *conf,
                        ks_failover_t *fo);

#endif
