/* main.c: kisekae-api, the SOAP API server.
 *
 *   kisekae-api -c FILE                 serve (standalone HTTP, or FastCGI
 *                                       behind nginx with `mode fastcgi`)
 *   kisekae-api -c FILE --migrate       bring the database schema up to date
 *   kisekae-api -c FILE --add-client NAME ROLE [--image-server SERVER]
 *                                       create or update API credentials; the
 *                                       secret is read from the first line of stdin
 *                                       (a node client acts for image server SERVER)
 *   kisekae-api -c FILE --revoke-client NAME
 *                                       disable API credentials, at once everywhere
 *   kisekae-api -c FILE --image-secret SERVER
 *                                       print the secret of image server SERVER
 *   kisekae-api -c FILE --set-image-server SERVER INTERNAL_URL PUBLIC_URL
 *                                       register an image server or change its URLs
 *   kisekae-api -c FILE --check         validate the configuration
 *   kisekae-api -c FILE --write-placeholders DIR
 *                                       write the placeholder pictures for nginx
 *
 * SIGHUP reads the file again and applies its database pool options (db_*)
 * at once when the whole file is valid; SIGTERM stops the server. Signals are
 * taken as in every kisekae daemon (common/daemon.h): blocked in all threads
 * and taken by one thread with sigwait().
 *
 * The options table of api_conf.c is the reference of kisekae-api.conf (the
 * commented sample is api-server/kisekae-api.conf.sample).
 */
#include <curl/curl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "api_conf.h"
#include "api_metrics.h"
#include "avatar_read.h"
#include "config.h"
#include "daemon.h"
#include "dispatch.h"
#include "expiry.h"
#include "fastcgi.h"
#include "http_avatar.h"
#include "image_client.h"
#include "log.h"
#include "standalone.h"
#include "webhook.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kisekae-api -c FILE [-o NAME=VALUE]... [--migrate | --add-client NAME ROLE\n"
            "                   [--image-server SERVER] | --revoke-client NAME |\n"
            "                   --image-secret SERVER |\n"
            "                   --set-image-server SERVER INTERNAL_URL PUBLIC_URL | --check |\n"
            "                   --write-placeholders DIR]\n"
            "       kisekae-api --fault-xml CODE [MESSAGE]\n"
            "\n"
            "The SOAP API server of kisekae. Without a command it serves until SIGTERM:\n"
            "standalone HTTP, or FastCGI behind nginx (option `mode fastcgi`). SIGHUP\n"
            "reloads the file's database pool options (db_*) without a restart.\n"
            "  -c FILE                 configuration file (see kisekae-api.conf.sample)\n"
            "  -o NAME=VALUE           override one option of the file\n"
            "  --migrate               apply the pending database migrations and exit\n"
            "  --add-client NAME ROLE  create or update API credentials (ROLE: site, admin,\n"
            "                          node); the secret is the first line of stdin\n"
            "  --image-server SERVER   the image server a node client acts for (required)\n"
            "  --revoke-client NAME    disable API credentials (refused at once by every\n"
            "                          API server; --add-client gives them a new secret)\n"
            "  --image-secret SERVER   print the secret image server SERVER is configured\n"
            "                          with (its cluster_secret), derived from ours\n"
            "  --set-image-server SERVER INTERNAL_URL PUBLIC_URL\n"
            "                          register an image server or change its URLs (an\n"
            "                          image server's own registration never does)\n"
            "  --check                 validate the configuration and exit\n"
            "  --write-placeholders DIR\n"
            "                          write the placeholder pictures (placeholder_png or\n"
            "                          the silhouette) as DIR/avatar.png and DIR/thumb.png,\n"
            "                          for the nginx in front to answer /avatar/ with when\n"
            "                          no API server answers, and exit\n"
            "  --fault-xml CODE [MESSAGE]\n"
            "                          print the SOAP envelope of the fault with stable code\n"
            "                          CODE (TooLarge...) as the API sends it (no -c needed;\n"
            "                          the message defaults to the code)\n"
            "  -h, --help              this help\n"
            "\noptions of the configuration file, with their defaults:\n");
    if (out == stdout)
        ks_config_print_help(ks_api_conf_options());
}

/* --fault-xml CODE [MESSAGE]: the envelope a refused request gets (the
 * nginx in front of the API answers with it too). Exit status 2 for a code
 * that is not one of the stable ones. */
static int print_fault_xml(const char *code, const char *message)
{
    char xml[KS_FAULT_XML_MAX];

    if (!ks_fault_code_known(code)) {
        fprintf(stderr, "kisekae-api: --fault-xml: \"%s\" is not a stable fault code "
                "(see struct ks__KisekaeFault in wsdl/kisekae.h)\n", code);
        return 2;
    }
    if (!ks_fault_xml(xml, sizeof xml, code, message ? message : code)) {
        fprintf(stderr, "kisekae-api: --fault-xml: out of memory\n");
        return 1;
    }
    fputs(xml, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* The command line's -c and -o, kept for a reload. */
static const char *config_path;
static const char *overrides[32];
static int override_count;

/* Reads the configuration file, then the -o overrides, into conf. */
static ks_rc load_conf(ks_api_conf_t *conf, ks_err_t *err)
{
    return ks_api_conf_load(conf, config_path, overrides, override_count, err);
}

/* SIGHUP: the file is read again; if it is valid, its database pool options
 * take effect at once (the others need a restart). */
static ks_rc reload_pool(ks_db_pool_t *pool, ks_err_t *err)
{
    ks_api_conf_t *fresh = malloc(sizeof *fresh);
    ks_rc rc;

    if (!fresh)
        return ks_err(err, KS_NOMEM, "out of memory to reload the configuration");
    rc = load_conf(fresh, err);
    if (rc == KS_OK)
        rc = ks_db_pool_reconfigure(pool, &fresh->db, err);
    free(fresh);
    return rc;
}

/* ---- serving: signals and the transport ----------------------------------------------- */

/* The signals, as in every kisekae daemon (common/daemon.h): blocked in
 * every thread before the first one starts, and taken by one thread of
 * their own with sigwait(), so no handler runs inside a request. SIGHUP
 * asks the transport's main thread for a reload (dispatch.h), SIGTERM or
 * SIGINT to stop; that thread wakes at least once a second to look. */
static sigset_t signals;
static volatile sig_atomic_t stop_requested;

static void ask_reload(void *arg)
{
    (void)arg;
    ks_api_reload_ask(SIGHUP);
}

static void *signal_main(void *arg)
{
    (void)arg;
    stop_requested = ks_daemon_wait(&signals, ask_reload, NULL);
    return NULL;
}

/* Serves in conf->mode until SIGTERM/SIGINT, calling reload (in the
 * transport's main thread) on SIGHUP. Returns the exit status. */
static int serve(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_api_reload_fn reload)
{
    pthread_t taker;
    ks_err_t err;
    int status, error;

    ks_api_reload_init(pool, reload);
    if ((error = pthread_create(&taker, NULL, signal_main, NULL)) != 0) {
        ks_log_error("pthread_create() of the signal thread failed (%d: %s)", error,
                     strerror(error));
        return 1;
    }
    if (ks_api_metrics_start(conf, pool, &err) != KS_OK) {
        ks_log_error("metrics_listen %s: %s", conf->metrics_listen, err.msg);
        status = 1;
    } else {
        if (conf->mode == KS_API_FASTCGI)
            status = ks_api_serve_fastcgi(conf, pool, &stop_requested);
        else
            status = ks_api_serve_standalone(conf, pool, &stop_requested);
        ks_api_metrics_stop();
    }
    if (!stop_requested)                 /* the transport ended on its own */
        pthread_kill(taker, SIGTERM);    /* blocked: sigwait() takes it */
    pthread_join(taker, NULL);
    if (status == 0 || stop_requested)
        ks_log_info("stopped (signal %d)", (int)stop_requested);
    return status;
}

int main(int argc, char **argv)
{
    static ks_api_conf_t conf;
    const char *client_name = NULL, *client_role = NULL, *client_server = NULL;
    const char *secret_of = NULL, *set_server = NULL, *revoke = NULL;
    const char *fault_code = NULL, *fault_message = NULL, *placeholder_dir = NULL;
    static ks_api_conf_t scratch;       /* --set-image-server's server, parsed as a line */
    int migrate = 0, check = 0, status;
    ks_db_pool_t *pool;
    ks_err_t err;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc && override_count < 32) {
            overrides[override_count++] = argv[++i];
        } else if (!strcmp(argv[i], "--migrate")) {
            migrate = 1;
        } else if (!strcmp(argv[i], "--check")) {
            check = 1;
        } else if (!strcmp(argv[i], "--add-client") && i + 2 < argc) {
            client_name = argv[++i];
            client_role = argv[++i];
        } else if (!strcmp(argv[i], "--image-server") && i + 1 < argc) {
            client_server = argv[++i];
        } else if (!strcmp(argv[i], "--revoke-client") && i + 1 < argc) {
            revoke = argv[++i];
        } else if (!strcmp(argv[i], "--image-secret") && i + 1 < argc) {
            secret_of = argv[++i];
        } else if (!strcmp(argv[i], "--write-placeholders") && i + 1 < argc) {
            placeholder_dir = argv[++i];
        } else if (!strcmp(argv[i], "--fault-xml") && i + 1 < argc) {
            fault_code = argv[++i];
            if (i + 1 < argc && argv[i + 1][0] != '-')
                fault_message = argv[++i];
        } else if (!strcmp(argv[i], "--set-image-server") && i + 3 < argc) {
            char line[1024];
            snprintf(line, sizeof line, "%s %s %s", argv[i + 1], argv[i + 2], argv[i + 3]);
            i += 3;
            if (ks_config_set(ks_api_conf_options(), &scratch, "image_server", line, &err) !=
                KS_OK) {
                fprintf(stderr, "kisekae-api: --set-image-server: %s\n", err.msg);
                return 2;
            }
            set_server = scratch.image_servers[0].name;
        } else {
            fprintf(stderr, "kisekae-api: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (fault_code)
        return print_fault_xml(fault_code, fault_message);
    if (load_conf(&conf, &err) != KS_OK) {
        fprintf(stderr, "kisekae-api: %s\n", err.msg);
        return 1;
    }
    if (placeholder_dir) {
        status = ks_api_placeholder_init(&conf, &err) == KS_OK &&
                 ks_api_placeholder_publish(placeholder_dir, &err) == KS_OK ? 0 : 1;
        if (status)
            fprintf(stderr, "kisekae-api: --write-placeholders %s: %s\n", placeholder_dir, err.msg);
        else
            printf("kisekae-api: wrote %s/avatar.png and %s/thumb.png\n", placeholder_dir,
                   placeholder_dir);
        ks_api_placeholder_free();
        return status;
    }
    if (client_server && !client_name) {
        fprintf(stderr, "kisekae-api: --image-server goes with --add-client NAME node\n");
        return 2;
    }
    if (!migrate && !client_name && !set_server && !revoke &&
        ks_api_conf_check_secret(&conf, &err) != KS_OK) {
        fprintf(stderr, "kisekae-api: %s\n", err.msg);
        return 1;
    }
    if (secret_of) {
        char secret[KS_SHA256_HEX_SIZE];
        ks_image_server_secret(conf.cluster_secret, secret_of, secret);
        printf("%s\n", secret);
        return 0;
    }
    if (check) {
        printf("kisekae-api: configuration %s is valid\n", config_path ? config_path : "(defaults)");
        return 0;
    }
    /* Commands print to the terminal; the server logs where it is told. */
    ks_log_open("kisekae-api", migrate || client_name || set_server || revoke ? "-"
                                                                              : conf.log_file,
                conf.log_level);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mysql_library_init(0, NULL, NULL);
    pool = ks_db_pool_new(&conf.db);
    if (!pool) {
        ks_log_error("out of memory");
        return 1;
    }
    if (migrate) {
        status = ks_migrate(pool, &err) == KS_OK ? 0 : 1;
        if (status)
            ks_log_error("%s", err.msg);
    } else if (client_name) {
        char secret[300] = "";
        size_t len;
        if (!fgets(secret, sizeof secret, stdin)) {
            ks_log_error("--add-client reads the secret from stdin, and stdin was empty");
            return 1;
        }
        len = strcspn(secret, "\r\n");
        secret[len] = '\0';
        status = ks_add_client(pool, client_name, client_role, client_server, secret, &err)
                 == KS_OK ? 0 : 1;
        if (status)
            ks_log_error("%s", err.msg);
        else
            ks_log_info("API client \"%s\" (%s) saved", client_name, client_role);
    } else if (revoke) {
        status = ks_revoke_client(pool, revoke, &err) == KS_OK ? 0 : 1;
        if (status)
            ks_log_error("%s", err.msg);
        else
            ks_log_info("API client \"%s\" revoked", revoke);
    } else if (set_server) {
        status = ks_set_image_server(pool, &scratch.image_servers[0], &err) == KS_OK ? 0 : 1;
        if (status)
            ks_log_error("%s", err.msg);
        else
            ks_log_info("image server \"%s\" is at %s (internal), %s (public)", set_server,
                        scratch.image_servers[0].internal_url, scratch.image_servers[0].public_url);
    } else {
        ks_daemon_block_signals(&signals);   /* before the first thread starts */
        if (ks_register_image_servers(pool, &conf, &err) != KS_OK) {
            ks_log_error("registering image servers: %s", err.msg);
            status = 1;
        } else if (ks_db_pool_start_health(pool, &err) != KS_OK) {
            ks_log_error("%s", err.msg);
            status = 1;
        } else if (ks_avatar_cache_init(&conf, &err) != KS_OK ||
                   ks_api_placeholder_init(&conf, &err) != KS_OK) {
            ks_log_error("%s", err.msg);
            status = 1;
        } else {
            /* The cache outlives the renderer, which forgets what it changes. */
            if (ks_renderer_start(&conf, pool, &err) != KS_OK) {
                ks_log_error("starting the renderer: %s", err.msg);
                status = 1;
            } else if (ks_webhooks_start(&conf, pool, &err) != KS_OK) {
                ks_log_error("starting the webhook sender: %s", err.msg);
                ks_renderer_stop();
                status = 1;
            } else if (ks_expiry_start(&conf, pool, &err) != KS_OK) {
                ks_log_error("starting the expiry job: %s", err.msg);
                ks_webhooks_stop();
                ks_renderer_stop();
                status = 1;
            } else {
                status = serve(&conf, pool, reload_pool);
                ks_expiry_stop();
                ks_webhooks_stop();
                ks_renderer_stop();
            }
            ks_avatar_cache_free();
        }
        ks_api_placeholder_free();
    }
    ks_db_pool_free(pool);
    mysql_library_end();
    curl_global_cleanup();
    return status;
}
