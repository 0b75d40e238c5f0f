/* daemon.h: what the FastCGI daemons (kisekae-image, kisekae-admin) share
 * around their own work: the command line (-c FILE, -o name=value...,
 * --check, --help) and the signal model, which kisekae-api follows too (its
 * signal thread calls ks_daemon_wait).
 *
 * Signals: TERM, INT, HUP and USR1 are blocked in every thread (block them
 * before starting any) and taken by sigwait() in the main thread, so no
 * handler ever runs inside a request; SIGPIPE is ignored (nginx may close a
 * connection that is still written to). HUP or USR1 reopens the log
 * (reload), TERM or INT stops the daemon after the requests under way.
 */
#ifndef KS_DAEMON_H
#define KS_DAEMON_H

#include <signal.h>
#include <stdio.h>
#include "config.h"

#define KS_DAEMON_OVERRIDES_MAX 64

typedef struct {
    const char *program;                 /* "kisekae-image", for messages */
    const ks_cfg_option_t *options;      /* its table, for --help */
    void (*usage)(FILE *out);            /* its usage lines */
    const char *config_path;             /* -c FILE */
    const char *overrides[KS_DAEMON_OVERRIDES_MAX];   /* -o name=value */
    int override_count;
    int check_only;                      /* --check */
} ks_daemon_args_t;

/* Parses argv into args (program, options and usage set by the caller).
 * An argument it does not know goes to extra (NULL: none), which returns
 * how many arguments it took from argv[i] on (0: not its own). Returns 0
 * to go on, 1 after --help (exit 0), -1 on a usage error, said on stderr
 * (exit 2). -c FILE is required. */
int ks_daemon_parse_args(ks_daemon_args_t *args, int argc, char **argv,
                         int (*extra)(void *ctx, int argc, char **argv, int i), void *ctx);

/* Loads args->config_path and the -o overrides into conf with the table. */
ks_rc ks_daemon_load_conf(const ks_daemon_args_t *args, void *conf, ks_err_t *err);

/* A daemon's own loading: ks_daemon_load_conf and the checks its table
 * cannot make. */
typedef ks_rc (*ks_daemon_load_fn)(const ks_daemon_args_t *args, void *conf, ks_err_t *err);

/* What every daemon does once its command line is parsed: blocks the
 * signals into set (ks_daemon_block_signals: before any thread starts),
 * loads the configuration into conf with load, logging to stderr, and with
 * --check says that it is valid. Returns -1 to go on, else the exit status:
 * 0 after --check, 1 for a bad configuration (said in the log). */
int ks_daemon_start(const ks_daemon_args_t *args, sigset_t *set, ks_daemon_load_fn load,
                    void *conf);

/* Blocks the daemon's signals in the calling thread (and so in every
 * thread it starts later) into set, and ignores SIGPIPE. */
void ks_daemon_block_signals(sigset_t *set);

/* Blocks TERM, INT and HUP in the calling thread: a worker or job thread
 * does so first, so that they reach the signal thread even where the
 * thread was started without the daemon's mask (a test). */
void ks_daemon_block_stop_signals(void);

/* Waits for the signals of set: on HUP or USR1 calls reload(arg); returns
 * the signal (TERM or INT) that asks to stop. */
int ks_daemon_wait(const sigset_t *set, void (*reload)(void *arg), void *arg);

#endif
