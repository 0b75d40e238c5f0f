/* daemon.c: the command line and signals of the daemons (daemon.h). */
#include "daemon.h"

#include <pthread.h>
#include <string.h>
#include "log.h"

int ks_daemon_parse_args(ks_daemon_args_t *args, int argc, char **argv,
                         int (*extra)(void *ctx, int argc, char **argv, int i), void *ctx)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int taken;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            args->usage(stdout);
            printf("\noptions (with their defaults):\n");
            ks_config_print_help(args->options);
            return 1;
        } else if (strcmp(arg, "--check") == 0) {
            args->check_only = 1;
        } else if (strcmp(arg, "-c") == 0 && i + 1 < argc) {
            args->config_path = argv[++i];
        } else if (strcmp(arg, "-o") == 0 && i + 1 < argc) {
            if (args->override_count == KS_DAEMON_OVERRIDES_MAX || !strchr(argv[i + 1], '=')) {
                fprintf(stderr, "%s: -o \"%s\": expected name=value (at most %d)\n",
                        args->program, argv[i + 1], KS_DAEMON_OVERRIDES_MAX);
                return -1;
            }
            args->overrides[args->override_count++] = argv[++i];
        } else if (extra && (taken = extra(ctx, argc, argv, i)) > 0) {
            i += taken - 1;
        } else {
            fprintf(stderr, "%s: unexpected argument \"%s\"\n", args->program, arg);
            args->usage(stderr);
            return -1;
        }
    }
    if (args->config_path == NULL) {
        fprintf(stderr, "%s: -c FILE is required\n", args->program);
        args->usage(stderr);
        return -1;
    }
    return 0;
}

ks_rc ks_daemon_load_conf(const ks_daemon_args_t *args, void *conf, ks_err_t *err)
{
    return ks_config_load_overridden(args->config_path, args->options, conf, args->overrides,
                                     args->override_count, err);
}

void ks_daemon_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);    /* libfcgi's own handler would stop the workers */
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void ks_daemon_block_stop_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int ks_daemon_wait(const sigset_t *set, void (*reload)(void *arg), void *arg)
{
    int signal_number;

    for (;;) {
        if (sigwait(set, &signal_number) != 0)
            continue;
        if (signal_number == SIGHUP || signal_number == SIGUSR1) {
            reload(arg);
            continue;
        }
        return signal_number;
    }
}

int ks_daemon_start(const ks_daemon_args_t *args, sigset_t *set, ks_daemon_load_fn load,
                    void *conf)
{
    ks_err_t err = {{0}};

    ks_daemon_block_signals(set);
    ks_log_open(args->program, "-", KS_LOG_INFO);
    if (load(args, conf, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    if (args->check_only) {
        ks_log_info("configuration \"%s\" is valid", args->config_path);
        return 0;
    }
    return -1;
}
