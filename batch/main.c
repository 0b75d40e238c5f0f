/* main.c: kisekae-batch, the operators' batch tool. An API client only: it
 * calls the SOAP API as an admin (never the database, never an image
 * server's internal routes) to regenerate, audit, move or sync a whole
 * image server.
 *
 *     kisekae-batch -c FILE [-o name=value]... [--log FILE] COMMAND [OPTIONS]
 *
 * Reads the arguments and the configuration (batch_conf.c), installs the
 * SIGINT/SIGTERM handlers (the first asks the run to stop after the batches
 * in flight, a second one quits at once: the checkpoint on disk stays
 * valid), then runs the command (commands.c). Exit status: commands.h.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch_conf.h"
#include "commands.h"
#include "log.h"
#include "paths.h"
#include "runner.h"

#define PROGRAM "kisekae-batch"
#define MAX_OVERRIDES 64

static const char usage_text[] =
    "usage: " PROGRAM " -c FILE [-o name=value]... [--log FILE] COMMAND [OPTIONS]\n"
    "\n"
    "Regenerates, audits, moves or syncs a whole image server through the SOAP\n"
    "API, as an admin. Commands (" PROGRAM " COMMAND --help for each):\n"
    "  regenerate  compose again every image of every member of a server\n"
    "  audit       find members whose files are missing or differ (--repair rebuilds them)\n"
    "  move        move members from one server to another until none remain\n"
    "  sync-items  check the server's item layers against the catalog and fetch what differs\n"
    "\n"
    "  -c FILE        the configuration (kisekae-batch.conf.sample describes it)\n"
    "  -o NAME=VALUE  override one option of the file (repeatable)\n"
    "  --log FILE     log to FILE at level info (every batch sent and done)\n"
    "  --config-help  list the configuration's options and defaults\n"
    "  --check        check the configuration (-c FILE and -o) and exit\n"
    "\n"
    "Exit status: 0 done and nothing failed; 1 members failed, an unknown server\n"
    "or no API server answered; 2 bad arguments or configuration; 3 stopped by\n"
    "SIGINT or SIGTERM after the batches in flight (resume with --resume).\n";

static const char regenerate_help[] =
    "usage: " PROGRAM " -c FILE regenerate --server NAME [--parallel N] [--batch N]\n"
    "                     [--rate N] [--resume | --restart] [--dry-run] [--checkpoint FILE]\n"
    "\n"
    "Composes again, on image server NAME, every image of every member assigned to it\n"
    "(avatar, thumbnail, album photos) from what the database records, at the\n"
    "members' current versions: a file already right is left alone, a missing or\n"
    "different one is written (same bytes, same version, same URL as before).\n"
    "\n"
    "  --server NAME     the image server\n"
    "  --parallel N      batches in flight at once, 1..64 (config: parallel)\n"
    "  --batch N         members per RebuildAvatars call, 1..100 (config: batch_size)\n"
    "  --rate N          at most N members per second, 0 for no limit (config: rate)\n"
    "  --resume          carry on from the checkpoint an interrupted run left\n"
    "  --restart         forget that checkpoint and start from the first member\n"
    "  --dry-run         list and count the members, change nothing\n"
    "  --checkpoint FILE the checkpoint (default: checkpoint_dir/regenerate-NAME.checkpoint)\n"
    "\n"
    "The checkpoint is written after every batch; SIGINT or SIGTERM stops after\n"
    "the batches in flight (a second one at once); --resume skips no member and\n"
    "does again at most the batches that were in flight.\n";

static const char audit_help[] =
    "usage: " PROGRAM " -c FILE audit --server NAME [--repair] [--parallel N] [--batch N]\n"
    "                     [--rate N] [--resume | --restart] [--checkpoint FILE]\n"
    "\n"
    "Compares every image of every member of image server NAME with what its recipe\n"
    "composes (RebuildAvatars with checkOnly: nothing is written) and lists the\n"
    "members with a missing or different file. --repair then rebuilds exactly those.\n"
    "Exit status 0 when nothing is missing or different (or all was repaired).\n"
    "Options as for regenerate.\n";

static const char move_help[] =
    "usage: " PROGRAM " -c FILE move --from NAME --to NAME [--limit N] [--batch N] [--rate N]\n"
    "\n"
    "Moves members from image server --from to the active server --to with\n"
    "MoveAvatars, --batch members per call (default batch_size), until none remain\n"
    "on --from or --limit members have moved. Works while --from is down (the\n"
    "images are composed again from the database). Safe to stop and run again.\n";

static const char sync_help[] =
    "usage: " PROGRAM " -c FILE sync-items --server NAME\n"
    "\n"
    "Has image server NAME check every item layer it holds (and the archived art it\n"
    "keeps) against the catalog by sha256, now, and fetch what is missing or\n"
    "differs; prints what was checked, missing, stale, extra and failed.\n";

typedef struct {
    const char *config_path;
    const char *overrides[MAX_OVERRIDES];
    int override_count;
    const char *log_path;
    int help, config_help, check_only;
    ks_batch_args_t cmd;
} args_t;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the message and where help is; returns -1. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROGRAM ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see " PROGRAM " --help)\n");
    return -1;
}

static int parse_int(const char *option, const char *value, int min, int max, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = value ? strtol(value, &end, 10) : 0;
    if (!value || errno || end == value || *end || n < min || n > max) {
        fprintf(stderr, PROGRAM ": %s needs a whole number from %d to %d, not \"%s\"\n", option,
                min, max, value ? value : "");
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int server_name(const char *option, const char *value, const char **out)
{
    if (!value || !value[0] || strlen(value) > 64 || value[0] == '-') {
        fprintf(stderr, PROGRAM ": %s needs a server name\n", option);
        return -1;
    }
    *out = value;
    return 0;
}

/* Reads argv into a; returns 0, or -1 after printing what is wrong. */
static int parse_args(int argc, char **argv, args_t *a)
{
    ks_batch_args_t *c = &a->cmd;

    memset(a, 0, sizeof *a);
    c->rate = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 1;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            a->help = 1;
            takes_value = 0;
        } else if (strcmp(arg, "--config-help") == 0) {
            a->config_help = 1;
            takes_value = 0;
        } else if (strcmp(arg, "--check") == 0) {
            a->check_only = 1;
            takes_value = 0;
        } else if (strcmp(arg, "-c") == 0) {
            if (!value)
                return usage_error("%s needs a file", arg);
            a->config_path = value;
        } else if (strcmp(arg, "-o") == 0) {
            if (!value || !strchr(value, '='))
                return usage_error("%s needs name=value", arg);
            if (a->override_count == MAX_OVERRIDES)
                return usage_error("more than 64 %s options", arg);
            a->overrides[a->override_count++] = value;
        } else if (strcmp(arg, "--log") == 0) {
            if (!value)
                return usage_error("%s needs a file", arg);
            a->log_path = value;
        } else if (arg[0] != '-') {
            if (c->command)
                return usage_error("unexpected argument \"%s\"", arg);
            if (strcmp(arg, "regenerate") != 0 && strcmp(arg, "audit") != 0 &&
                strcmp(arg, "move") != 0 && strcmp(arg, "sync-items") != 0)
                return usage_error("unknown command \"%s\"", arg);
            c->command = arg;
            takes_value = 0;
        } else if (!c->command) {
            return usage_error("unknown option \"%s\" (the command comes first)", arg);
        } else if (strcmp(arg, "--server") == 0) {
            if (server_name(arg, value, &c->server))
                return -1;
        } else if (strcmp(arg, "--from") == 0) {
            if (server_name(arg, value, &c->from))
                return -1;
        } else if (strcmp(arg, "--to") == 0) {
            if (server_name(arg, value, &c->to))
                return -1;
        } else if (strcmp(arg, "--parallel") == 0) {
            if (parse_int(arg, value, 1, 64, &c->parallel))
                return -1;
        } else if (strcmp(arg, "--batch") == 0) {
            if (parse_int(arg, value, 1, 100, &c->batch_size))
                return -1;
        } else if (strcmp(arg, "--rate") == 0) {
            if (parse_int(arg, value, 0, 1000000, &c->rate))
                return -1;
        } else if (strcmp(arg, "--limit") == 0) {
            if (parse_int(arg, value, 1, INT_MAX, &c->limit))
                return -1;
        } else if (strcmp(arg, "--checkpoint") == 0) {
            if (!value || !value[0])
                return usage_error("%s needs a file", arg);
            c->checkpoint = value;
        } else {
            takes_value = 0;
            if (strcmp(arg, "--resume") == 0)
                c->resume = 1;
            else if (strcmp(arg, "--restart") == 0)
                c->restart = 1;
            else if (strcmp(arg, "--dry-run") == 0)
                c->dry_run = 1;
            else if (strcmp(arg, "--repair") == 0)
                c->repair = 1;
            else
                return usage_error("unknown option \"%s\"", arg);
        }
        i += takes_value;
    }
    return 0;
}

/* What the options given must satisfy for the command; 0 or -1 (printed). */
static int check_command(const args_t *a)
{
    const ks_batch_args_t *c = &a->cmd;
    int listing = strcmp(c->command, "regenerate") == 0 || strcmp(c->command, "audit") == 0;
    int move = strcmp(c->command, "move") == 0;

    if (!a->config_path)
        return usage_error("%s needs -c FILE (the configuration)", c->command);
    if (move) {
        if (!c->from || !c->to)
            return usage_error("%s needs --from NAME and --to NAME", c->command);
        if (c->server || c->parallel || c->resume || c->restart || c->dry_run || c->repair ||
            c->checkpoint)
            return usage_error("%s takes only --from, --to, --limit, --batch and --rate",
                               c->command);
        return 0;
    }
    if (!c->server)
        return usage_error("%s needs --server NAME", c->command);
    if (c->from || c->to || c->limit)
        return usage_error("%s takes no --from, --to or --limit", c->command);
    if (!listing && (c->parallel || c->batch_size || c->rate >= 0 || c->resume || c->restart ||
                     c->dry_run || c->repair || c->checkpoint))
        return usage_error("%s takes only --server", c->command);
    if (c->resume && c->restart)
        return usage_error("%s: --resume and --restart exclude each other", c->command);
    if (c->dry_run && strcmp(c->command, "regenerate") != 0)
        return usage_error("--dry-run is for regenerate, not %s", c->command);
    if (c->repair && strcmp(c->command, "audit") != 0)
        return usage_error("--repair is for audit, not %s", c->command);
    if (c->dry_run && (c->resume || c->restart))
        return usage_error("%s: --dry-run changes nothing; no --resume or --restart",
                           c->command);
    return 0;
}

static void on_signal(int sig)
{
    static const char message[] =
        "\n" PROGRAM ": stopping after the batches in flight (again to quit at once)\n";

    if (ks_batch_stop_requested)
        _exit(KS_EXIT_STOPPED);
    ks_batch_stop_requested = 1;
    if (write(STDERR_FILENO, message, sizeof message - 1) < 0) {
        /* nothing to do: the stop goes ahead */
    }
}

int main(int argc, char **argv)
{
    args_t a;
    ks_batch_conf_t conf;
    ks_failover_t fo;
    struct sigaction sa;
    ks_err_t err;
    const char *help;

    if (parse_args(argc, argv, &a) != 0)
        return KS_EXIT_USAGE;
    if (a.help) {
        const char *command = a.cmd.command ? a.cmd.command : "";
        help = strcmp(command, "regenerate") == 0 ? regenerate_help
             : strcmp(command, "audit") == 0      ? audit_help
             : strcmp(command, "move") == 0       ? move_help
             : strcmp(command, "sync-items") == 0 ? sync_help
                                                  : usage_text;
        fputs(help, stdout);
        return KS_EXIT_OK;
    }
    if (a.config_help) {
        ks_batch_conf_print_help();
        return KS_EXIT_OK;
    }
    if (!a.cmd.command && !a.check_only) {
        fputs(usage_text, stderr);
        return KS_EXIT_USAGE;
    }
    if (a.cmd.command && check_command(&a) != 0)
        return KS_EXIT_USAGE;
    if (!a.cmd.command && !a.config_path)
        return usage_error("--check needs -c FILE (the configuration)");
    if (ks_batch_conf_load(a.config_path, a.overrides, a.override_count, &conf, &err) != KS_OK ||
        ks_batch_conf_failover(&conf, &fo, &err) != KS_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err.msg);
        return KS_EXIT_USAGE;
    }
    if (a.check_only) {
        printf(PROGRAM ": configuration \"%s\" is valid\n", a.config_path);
        return KS_EXIT_OK;
    }
    if (a.log_path) {
        snprintf(conf.log_file, sizeof conf.log_file, "%s", a.log_path);
        if (conf.log_level < KS_LOG_INFO)
            conf.log_level = KS_LOG_INFO;
    }
    if (ks_log_open(PROGRAM, conf.log_file, conf.log_level) != 0)
        fprintf(stderr, PROGRAM ": cannot open the log \"%s\"; logging to stderr\n",
                conf.log_file);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    a.cmd.config_path = a.config_path;

    ks_log_info("%s started", a.cmd.command);
    if (strcmp(a.cmd.command, "regenerate") == 0)
        return ks_batch_regenerate(&a.cmd, &conf, &fo);
    if (strcmp(a.cmd.command, "audit") == 0)
        return ks_batch_audit(&a.cmd, &conf, &fo);
    if (strcmp(a.cmd.command, "move") == 0)
        return ks_batch_move(&a.cmd, &conf, &fo);
    return ks_batch_sync_items(&a.cmd, &conf, &fo);
}
