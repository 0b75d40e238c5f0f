/* main.c: kisekae-admin, the staff's web UI (a FastCGI application).
 *
 *     kisekae-admin -c FILE [-o name=value]... [--check | --migrate]
 *     kisekae-admin -c FILE --add-staff NAME --role ROLE   (password on stdin)
 *
 * Loads the configuration (the table below; kisekae-admin.conf.sample is
 * its commented copy), applies the admin database's migrations
 * (migrations/NNN_*.sql, with common/db_migrate.c), then serves FastCGI
 * until SIGTERM or SIGINT, which finish the requests under way and stop it
 * (exit 0). SIGHUP reopens the log (log_file and log_level re-read); other
 * options apply at the next start. Signals are blocked in every thread and
 * taken by sigwait() here, as in kisekae-image.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "admin.h"
#include "admin_metrics.h"
#include "auth.h"
#include "config.h"
#include "daemon.h"
#include "db_migrate.h"
#include "front.h"
#include "log.h"
#include "session.h"
#include "store_audit.h"
#include "store_staff.h"

#define PROGRAM "kisekae-admin"

extern const ks_embedded_t ks_admin_migrations[];

/* api_url URL [URL...]: repeatable; tried in the order given. */
static ks_rc parse_api_url(void *conf_arg, const char *value, ks_err_t *err)
{
    ks_admin_conf_t *conf = conf_arg;

    return ks_config_add_urls("api_url", value, conf->api_urls[0], KS_ADMIN_URL_SIZE,
                              KS_ADMIN_API_URLS_MAX, &conf->api_url_count, err);
}

/* preview_outfit ID [ID...]: items the preview mannequin wears. */
static ks_rc parse_outfit(void *conf_arg, const char *value, ks_err_t *err)
{
    ks_admin_conf_t *conf = conf_arg;
    char copy[1024], *words[KS_ADMIN_OUTFIT_MAX];
    int count;

    if (strlen(value) >= sizeof copy)
        return ks_err(err, KS_INVALID, "preview_outfit: line too long");
    strcpy(copy, value);
    count = ks_config_split(copy, words, KS_ADMIN_OUTFIT_MAX);
    if (count > KS_ADMIN_OUTFIT_MAX)
        return ks_err(err, KS_INVALID, "preview_outfit: more than %d items",
                      KS_ADMIN_OUTFIT_MAX);
    conf->preview_outfit_count = 0;
    for (int i = 0; i < count; i++) {
        char *end;
        long id = strtol(words[i], &end, 10);
        if (*end || id < 1 || id > 2147483647L)
            return ks_err(err, KS_INVALID, "preview_outfit: \"%s\" is not an item id", words[i]);
        conf->preview_outfit[conf->preview_outfit_count++] = (int)id;
    }
    return KS_OK;
}

#define KS_CFG_STRUCT ks_admin_conf_t

static const ks_cfg_option_t options[] = {
    KS_CFG_STR("listen", "127.0.0.1:17041", listen,
        "where nginx reaches the FastCGI app: host:port or unix:/path/to/socket"),
    KS_CFG_OPT("threads", KS_CFG_INT, 1, 256, "4", threads,
        "threads serving requests (at least nginx's kept upstream connections)"),
    KS_CFG_STR("db_host", "127.0.0.1", db_host, "MariaDB server of the admin database"),
    KS_CFG_OPT("db_port", KS_CFG_INT, 1, 65535, "3306", db_port, "its port"),
    KS_CFG_STR("db_user", "kisekae_admin", db_user, "its user (all privileges on db_name only)"),
    KS_CFG_STR("db_password", "", db_password, "its password"),
    KS_CFG_STR("db_name", "kisekae_admin", db_name,
        "the admin database (staff, sessions, login attempts, audit log)"),
    KS_CFG_OPT("db_timeout", KS_CFG_INT, 1, 600, "5", db_timeout_s,
        "seconds to wait for the database (connect, read, write)"),
    KS_CFG_FN("api_url", NULL, parse_api_url,
        "URL [URL...] (repeatable): the API's SOAP endpoints, tried in turn"),
    KS_CFG_STR("api_user", "", api_user, "API client of role admin"),
    KS_CFG_STR("api_password", "", api_password, "its secret"),
    KS_CFG_OPT("api_timeout", KS_CFG_INT, 1, 600, "30", api_timeout_s,
        "seconds to wait for the API (connect, send, receive)"),
    KS_CFG_OPT("session_idle", KS_CFG_INT, 10, 86400, "1800", session_idle_s,
        "seconds a session may stay unused before it ends"),
    KS_CFG_OPT("session_max_age", KS_CFG_INT, 60, 7 * 86400, "28800", session_max_age_s,
        "seconds a session lasts at most, used or not"),
    KS_CFG_OPT("cookie_secure", KS_CFG_BOOL, 0, 0, "off", cookie_secure,
        "on: cookies always Secure; off: Secure when nginx passes HTTPS (TLS)"),
    KS_CFG_OPT("argon2_opslimit", KS_CFG_INT, 1, 16, "2", argon2_opslimit,
        "Argon2id passes (a password hashed with other costs is rehashed at sign-in)"),
    KS_CFG_OPT("argon2_memlimit", KS_CFG_SIZE, 8 << 20, 1LL << 30, "64m", argon2_memlimit,
        "Argon2id memory per hash"),
    KS_CFG_OPT("login_throttle_after", KS_CFG_INT, 1, 1000, "3", login_throttle_after,
        "failed sign-ins (of an account or an address) before each attempt waits 1, 2, 4... s"),
    KS_CFG_OPT("login_throttle_max", KS_CFG_INT, 1, 3600, "60", login_throttle_max_s,
        "the longest wait, in seconds"),
    KS_CFG_OPT("login_lock_after", KS_CFG_INT, 1, 1000, "10", login_lock_after,
        "failed sign-ins in a row that lock an account (an owner unlocks it)"),
    KS_CFG_OPT("login_address_window", KS_CFG_INT, 60, 86400, "900", login_address_window_s,
        "seconds an address's failed sign-ins count for its throttle"),
    KS_CFG_OPT("max_request_bytes", KS_CFG_SIZE, 64 << 10, 1LL << 30, "24m", max_request_bytes,
        "largest form accepted (nginx's client_max_body_size should match)"),
    KS_CFG_OPT("max_upload_bytes", KS_CFG_SIZE, 1024, 256LL << 20, "2m", max_upload_bytes,
        "largest uploaded file (a layer PNG, a scene background)"),
    KS_CFG_OPT("max_upload_files", KS_CFG_INT, 1, 72, "24", max_upload_files,
        "files in one form (an item's layers and their animation frames)"),
    KS_CFG_STR("mannequin_user", "kisekae-admin-mannequin", mannequin_user,
        "member the previews are drawn on (created through the API when missing)"),
    KS_CFG_FN("preview_outfit", NULL, parse_outfit,
        "ID [ID...]: items the mannequin wears under a preview (default: the required "
        "categories' defaults)"),
    KS_CFG_STR("metrics_listen", "", metrics_listen,
        "host:port of the internal GET /metrics listener (Prometheus), empty for none"),
    KS_CFG_STR("log_file", "-", log_file, "log file (\"-\" for stderr)"),
    KS_CFG_OPT("log_level", KS_CFG_LOG_LEVEL, 0, 0, "info", log_level,
        "error | warn | info | debug"),
    KS_CFG_END
};

/* The admin commands besides serving. */
typedef struct {
    int migrate_only;
    const char *add_staff, *role;
} commands_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROGRAM " -c FILE [-o name=value]... [--check | --migrate]\n"
            "       " PROGRAM " -c FILE --add-staff NAME --role ROLE   (password on stdin)\n"
            "  -c FILE            configuration file (see kisekae-admin.conf.sample)\n"
            "  -o name=value      override an option of the file (repeatable)\n"
            "  --check            validate the configuration and exit\n"
            "  --migrate          apply the admin database's migrations and exit\n"
            "  --add-staff NAME   add a staff member (or give an existing one this role and\n"
            "                     password, enabled and unlocked); reads the password, %d to %d\n"
            "                     characters, from the first line of stdin\n"
            "  --role ROLE        owner | editor | operator | viewer\n"
            "  --help             show this and the options\n", KS_PASSWORD_MIN,
            KS_PASSWORD_MAX);
}

/* --migrate, --add-staff NAME, --role ROLE: how many arguments it took. */
static int command_arg(void *ctx, int argc, char **argv, int i)
{
    commands_t *commands = ctx;

    if (strcmp(argv[i], "--migrate") == 0) {
        commands->migrate_only = 1;
        return 1;
    }
    if (strcmp(argv[i], "--add-staff") == 0 && i + 1 < argc) {
        commands->add_staff = argv[i + 1];
        return 2;
    }
    if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
        commands->role = argv[i + 1];
        return 2;
    }
    return 0;
}

/* 0 to go on, 1 to exit 0 (help), -1 on a usage error. */
static int parse_args(int argc, char **argv, ks_daemon_args_t *args, commands_t *commands)
{
    int rc = ks_daemon_parse_args(args, argc, argv, command_arg, commands);

    if (rc != 0)
        return rc;
    if (!commands->add_staff != !commands->role) {
        fprintf(stderr, PROGRAM ": --add-staff and --role go together\n");
        return -1;
    }
    if (commands->role && ks_staff_role_parse(commands->role) < 0) {
        fprintf(stderr, PROGRAM ": --role must be owner, editor, operator or viewer\n");
        return -1;
    }
    if (args->check_only + commands->migrate_only + (commands->add_staff != NULL) > 1) {
        fprintf(stderr, PROGRAM ": give one of --check, --migrate, --add-staff\n");
        return -1;
    }
    return 0;
}

static ks_rc load_conf(const ks_daemon_args_t *args, void *conf_arg, ks_err_t *err)
{
    ks_admin_conf_t *conf = conf_arg;
    char host[256];
    int port;
    ks_rc rc;

    memset(conf, 0, sizeof *conf);
    if ((rc = ks_daemon_load_conf(args, conf, err)) != KS_OK)
        return rc;
    if (strncmp(conf->listen, "unix:/", 6) != 0 &&
        (rc = ks_config_parse_hostport(conf->listen, host, sizeof host, &port, err)) != KS_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return ks_err(err, rc, "listen: %s", why);
    }
    if (conf->api_url_count == 0 || !conf->api_user[0])
        return ks_err(err, KS_INVALID, "api_url and api_user must be set");
    if (conf->session_max_age_s < conf->session_idle_s)
        return ks_err(err, KS_INVALID, "session_max_age must be at least session_idle");
    if (conf->max_request_bytes < conf->max_upload_bytes)
        return ks_err(err, KS_INVALID, "max_request_bytes must be at least max_upload_bytes");
    return KS_OK;
}

static ks_db_pool_t *open_db(const ks_admin_conf_t *conf)
{
    ks_db_conf_t db = {0};

    snprintf(db.master.host, sizeof db.master.host, "%s", conf->db_host);
    db.master.port = conf->db_port;
    db.master.weight = 1;
    snprintf(db.name, sizeof db.name, "%s", conf->db_name);
    snprintf(db.user, sizeof db.user, "%s", conf->db_user);
    snprintf(db.password, sizeof db.password, "%s", conf->db_password);
    db.connect_timeout_s = db.read_timeout_s = db.write_timeout_s = conf->db_timeout_s;
    db.health_interval_ms = 1000;
    db.health_timeout_s = conf->db_timeout_s;
    db.max_lag_s = 30;
    return ks_db_pool_new(&db);
}

/* --add-staff NAME --role ROLE, the password from stdin. */
static int add_staff(const ks_admin_conf_t *conf, ks_db_pool_t *pool, const char *name,
                     const char *role)
{
    char password[KS_PASSWORD_MAX + 3] = "", hash[KS_PASSWORD_HASH_MAX], after[128];
    ks_db_session_t *db;
    ks_err_t err = {{0}};
    int created = 0;
    ks_rc rc;

    if (!*name || strlen(name) > 64 || strcspn(name, " \t\r\n<>&\"'") != strlen(name)) {
        ks_log_error("a staff name is 1 to 64 characters without spaces, quotes, < > or &");
        return 1;
    }
    if (!fgets(password, sizeof password, stdin)) {
        ks_log_error("--add-staff reads the password from stdin, and stdin was empty");
        return 1;
    }
    password[strcspn(password, "\r\n")] = '\0';
    if (ks_password_check_policy(password, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    if (ks_password_hash(password, conf->argon2_opslimit, conf->argon2_memlimit, hash,
                         &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    if (!(db = ks_db_session_new(pool))) {
        ks_log_error("out of memory");
        return 1;
    }
    rc = ks_admin_store_staff_put(db, name, (ks_staff_role_t)ks_staff_role_parse(role), hash,
                                  (long long)time(NULL), &created, &err);
    if (rc == KS_OK) {
        char target[100];
        ks_audit_entry_t entry = {.at = (long long)time(NULL), .staff_name = "(command line)",
                                  .address = "-", .action = created ? "staff.add"
                                                                    : "staff.reset",
                                  .target = target, .after = after};
        snprintf(target, sizeof target, "staff %s", name);
        snprintf(after, sizeof after, "role %s, enabled, unlocked, new password", role);
        rc = ks_admin_store_audit_add(db, &entry, &err);
    }
    ks_db_session_free(db);
    if (rc != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    ks_log_info("staff member \"%s\" %s with role %s", name, created ? "added" : "updated", role);
    return 0;
}

static void reload(void *arg)
{
    const ks_daemon_args_t *args = arg;
    ks_admin_conf_t fresh;
    ks_err_t err = {{0}};

    if (load_conf(args, &fresh, &err) != KS_OK) {
        ks_log_error("reload: configuration not reloaded: %s", err.msg);
        return;
    }
    if (ks_log_open(PROGRAM, fresh.log_file, fresh.log_level) != 0)
        ks_log_error("reload: cannot open log file \"%s\"; logging to stderr", fresh.log_file);
    ks_log_info("reload: log reopened; other changed options apply at the next start");
}

static int serve(const ks_daemon_args_t *args, const ks_admin_conf_t *conf,
                 ks_db_pool_t *pool, sigset_t *signals)
{
    ks_admin_server_t server = {.conf = conf, .db = pool};
    ks_fcgi_pool_t *front = NULL;
    ks_err_t err = {{0}};
    int signal_number;

    ks_failover_init(&server.api, conf->api_user, conf->api_password, conf->api_timeout_s);
    for (int i = 0; i < conf->api_url_count; i++)
        ks_failover_add_url(&server.api, conf->api_urls[i], &err);
    if (ks_admin_auth_init(conf, &err) != KS_OK ||
        ks_admin_metrics_start(conf->metrics_listen, &err) != KS_OK ||
        ks_admin_front_start(&server, &front, &err)) {
        ks_admin_metrics_stop();
        ks_log_error("%s", err.msg);
        return 1;
    }
    ks_log_info("listening on %s with %d threads; API at %s%s", conf->listen, conf->threads,
                conf->api_urls[0], conf->api_url_count > 1 ? " and others" : "");
    signal_number = ks_daemon_wait(signals, reload, (void *)args);
    ks_log_info("%s: finishing the requests under way", signal_number == SIGINT ? "SIGINT"
                                                                                : "SIGTERM");
    ks_admin_front_stop(front);
    ks_admin_metrics_stop();
    ks_log_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    ks_daemon_args_t args = {.program = PROGRAM, .options = options, .usage = usage};
    commands_t commands = {0};
    ks_admin_conf_t conf;
    ks_db_pool_t *pool;
    ks_err_t err = {{0}};
    sigset_t signals;
    int rc, status;

    rc = parse_args(argc, argv, &args, &commands);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if ((rc = ks_daemon_start(&args, &signals, load_conf, &conf)) >= 0)
        return rc;
    if (ks_session_crypto_init() != 0) {
        ks_log_error("sodium_init() failed");
        return 1;
    }
    if (!commands.add_staff && !commands.migrate_only &&
        ks_log_open(PROGRAM, conf.log_file, conf.log_level) != 0) {
        ks_log_error("cannot open log file \"%s\"", conf.log_file);
        return 1;
    }
    mysql_library_init(0, NULL, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);   /* member images (page_members.c) */
    if (!(pool = open_db(&conf))) {
        ks_log_error("out of memory");
        return 1;
    }
    if (ks_db_migrate(pool, ks_admin_migrations, &err) != KS_OK) {
        ks_log_error("admin database %s at %s:%d: %s", conf.db_name, conf.db_host, conf.db_port,
                     err.msg);
        status = 1;
    } else if (commands.migrate_only) {
        status = 0;
    } else if (commands.add_staff) {
        status = add_staff(&conf, pool, commands.add_staff, commands.role);
    } else {
        status = serve(&args, &conf, pool, &signals);
    }
    ks_db_pool_free(pool);
    mysql_library_end();
    return status;
}
