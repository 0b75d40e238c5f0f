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
 *
 * SIGHUP reads the file again and applies its database pool options (db_*)
 * at once when the whole file is valid; SIGTERM stops the server.
 *
 * The options table below is the reference of kisekae-api.conf (the commented
 * sample is api-server/kisekae-api.conf.sample).
 */
#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "api_metrics.h"
#include "avatar_read.h"
#include "config.h"
#include "dispatch.h"
#include "fastcgi.h"
#include "http_avatar.h"
#include "image_client.h"
#include "log.h"
#include "standalone.h"
#include "webhook.h"

static ks_rc parse_db_master(void *conf, const char *value, ks_err_t *err)
{
    ks_db_node_conf_t *m = &((ks_api_conf_t *)conf)->db.master;
    return ks_config_parse_hostport(value, m->host, sizeof m->host, &m->port, err);
}

static ks_rc parse_db_replica(void *conf, const char *value, ks_err_t *err)
{
    return ks_db_conf_add_replica(&((ks_api_conf_t *)conf)->db, value, err);
}

static ks_rc parse_image_server(void *conf, const char *value, ks_err_t *err)
{
    ks_api_conf_t *c = conf;
    ks_api_image_server_conf_t *s;
    char copy[1024], *words[4];
    int n;

    if (c->image_server_count >= KS_IMAGE_SERVERS_MAX)
        return ks_err(err, KS_INVALID, "more than %d image servers", KS_IMAGE_SERVERS_MAX);
    snprintf(copy, sizeof copy, "%s", value);
    n = ks_config_split(copy, words, 4);
    if (n < 3 || n > 4)
        return ks_err(err, KS_INVALID, "image_server needs NAME INTERNAL_URL PUBLIC_URL [WEIGHT]");
    s = &c->image_servers[c->image_server_count];
    if (strlen(words[0]) >= sizeof s->name || strlen(words[1]) >= sizeof s->internal_url ||
        strlen(words[2]) >= sizeof s->public_url)
        return ks_err(err, KS_INVALID, "image_server name or URL too long");
    if (strncmp(words[1], "http://", 7) && strncmp(words[1], "https://", 8))
        return ks_err(err, KS_INVALID, "image_server URLs must start with http:// or https://");
    strcpy(s->name, words[0]);
    strcpy(s->internal_url, words[1]);
    strcpy(s->public_url, words[2]);
    s->weight = n == 4 ? atoi(words[3]) : 1;
    if (s->weight < 0 || s->weight > 1000)
        return ks_err(err, KS_INVALID, "image_server weight must be 0..1000");
    c->image_server_count++;
    return KS_OK;
}

static ks_rc parse_mode(void *conf, const char *value, ks_err_t *err)
{
    ks_api_conf_t *c = conf;
    if (strcmp(value, "standalone") == 0)
        c->mode = KS_API_STANDALONE;
    else if (strcmp(value, "fastcgi") == 0)
        c->mode = KS_API_FASTCGI;
    else
        return ks_err(err, KS_INVALID, "mode must be standalone or fastcgi, not \"%s\"", value);
    return KS_OK;
}

static ks_rc parse_canvas(void *conf, const char *value, ks_err_t *err)
{
    ks_api_conf_t *c = conf;
    if (sscanf(value, "%dx%d", &c->canvas_width, &c->canvas_height) != 2 ||
        c->canvas_width < 16 || c->canvas_width > 2048 || c->canvas_height < 16 ||
        c->canvas_height > 2048)
        return ks_err(err, KS_INVALID, "canvas needs WIDTHxHEIGHT within 16..2048, not \"%s\"",
                      value);
    return KS_OK;
}

static ks_rc parse_thumb_crop(void *conf, const char *value, ks_err_t *err)
{
    ks_api_conf_t *c = conf;
    char end;
    if (sscanf(value, "%d,%d,%d,%d%c", &c->thumb_x, &c->thumb_y, &c->thumb_width,
               &c->thumb_height, &end) != 4 || c->thumb_x < 0 || c->thumb_y < 0 ||
        c->thumb_width < 1 || c->thumb_height < 1)
        return ks_err(err, KS_INVALID, "thumb_crop needs X,Y,WIDTH,HEIGHT (X, Y >= 0, sizes >= 1),"
                      " not \"%s\"", value);
    return KS_OK;
}

static ks_rc parse_thumb_size(void *conf, const char *value, ks_err_t *err)
{
    ks_api_conf_t *c = conf;
    char end;
    if (sscanf(value, "%dx%d%c", &c->thumb_out_width, &c->thumb_out_height, &end) != 2 ||
        c->thumb_out_width < 8 || c->thumb_out_width > 1024 || c->thumb_out_height < 8 ||
        c->thumb_out_height > 1024)
        return ks_err(err, KS_INVALID, "thumb_size needs WIDTHxHEIGHT within 8..1024, not \"%s\"",
                      value);
    return KS_OK;
}

/* Checks what single options cannot: the thumbnail crop lies in the canvas. */
static ks_rc check_conf(const ks_api_conf_t *c, ks_err_t *err)
{
    if (c->thumb_x + c->thumb_width > c->canvas_width ||
        c->thumb_y + c->thumb_height > c->canvas_height)
        return ks_err(err, KS_INVALID, "thumb_crop %d,%d,%d,%d does not lie inside the %dx%d canvas",
                      c->thumb_x, c->thumb_y, c->thumb_width, c->thumb_height, c->canvas_width,
                      c->canvas_height);
    return KS_OK;
}

#define OPT(name, type, min, max, def, field, help) \
    {name, type, min, max, def, offsetof(ks_api_conf_t, field), NULL, help}
#define CUSTOM(name, def, fn, help) {name, KS_CFG_CUSTOM, 0, 0, def, 0, fn, help}

static const ks_cfg_option_t options[] = {
    CUSTOM("mode", "standalone", parse_mode, "standalone (HTTP) or fastcgi (behind nginx)"),
    OPT("listen", KS_CFG_STRING, 0, 160, "127.0.0.1:17010", listen,
        "host:port (or unix:/path for fastcgi) to listen on"),
    OPT("workers", KS_CFG_INT, 1, 256, "8", workers, "worker threads"),
    OPT("max_request_bytes", KS_CFG_SIZE, 1024, 1LL << 30, "16m", max_request_bytes,
        "largest request body"),
    OPT("max_header_bytes", KS_CFG_SIZE, 1024, 1LL << 20, "16k", max_header_bytes,
        "largest request line and header"),
    OPT("max_xml_depth", KS_CFG_INT, 8, 1000, "32", max_xml_depth, "deepest XML nesting"),
    OPT("recv_timeout", KS_CFG_INT, 1, 3600, "10", recv_timeout_s,
        "seconds to receive a whole request, from its first byte"),
    OPT("send_timeout", KS_CFG_INT, 1, 3600, "10", send_timeout_s, "seconds to send an answer"),
    OPT("keepalive_timeout", KS_CFG_INT, 1, 3600, "15", keepalive_timeout_s,
        "seconds an idle keep-alive connection is kept"),
    OPT("max_keep_alive", KS_CFG_INT, 1, 1000000, "1000", max_keep_alive, "requests per connection"),
    OPT("max_connections", KS_CFG_INT, 16, 1000000, "1024", max_connections,
        "connections held at once (standalone)"),
    OPT("max_buffered_bytes", KS_CFG_SIZE, 1LL << 20, 1LL << 40, "256m", max_buffered_bytes,
        "memory for all requests being received (standalone)"),
    OPT("avatar_cache_ms", KS_CFG_INT, 0, 60000, "1000", avatar_cache_ms,
        "milliseconds GetAvatar may answer from memory (0: always ask the database)"),
    OPT("avatar_cache_entries", KS_CFG_INT, 0, 10000000, "16384", avatar_cache_entries,
        "members whose avatar view is kept"),
    CUSTOM("db_master", "127.0.0.1:17030", parse_db_master, "host:port of the master"),
    OPT("db_master_read_weight", KS_CFG_INT, 0, 1000, "0", db.master.weight, "master's share of the reads (0: only when no replica is healthy)"),
    CUSTOM("db_replica", NULL, parse_db_replica, "host:port [weight] of a replica (repeat)"),
    OPT("db_name", KS_CFG_STRING, 0, 64, "kisekae", db.name, "database name"),
    OPT("db_user", KS_CFG_STRING, 0, 64, "kisekae", db.user, "database user"),
    OPT("db_password", KS_CFG_STRING, 0, 128, "", db.password, "database password"),
    OPT("db_connect_timeout", KS_CFG_INT, 1, 60, "2", db.connect_timeout_s, "seconds to connect to a database server"),
    OPT("db_read_timeout", KS_CFG_INT, 1, 600, "10", db.read_timeout_s, "seconds to wait for a query's answer"),
    OPT("db_write_timeout", KS_CFG_INT, 1, 600, "10", db.write_timeout_s, "seconds to send a query"),
    OPT("db_max_lag_s", KS_CFG_INT, 0, 86400, "5", db.max_lag_s, "seconds a replica may lag before it is shunned"),
    OPT("db_health_interval_ms", KS_CFG_INT, 100, 600000, "1000", db.health_interval_ms, "milliseconds between health checks of the servers"),
    OPT("db_health_timeout_s", KS_CFG_INT, 1, 60, "1", db.health_timeout_s, "seconds a health check waits (connect, read, write)"),
    CUSTOM("image_server", NULL, parse_image_server, "NAME INTERNAL_URL PUBLIC_URL [WEIGHT] (repeat)"),
    OPT("cluster_secret", KS_CFG_STRING, 0, 128, "", cluster_secret, "secret shared with image servers"),
    OPT("image_timeout", KS_CFG_INT, 1, 600, "10", image_timeout_s, "seconds to wait for an image server"),
    CUSTOM("canvas", "240x320", parse_canvas, "avatar canvas WIDTHxHEIGHT"),
    OPT("max_layer_bytes", KS_CFG_SIZE, 1024, 64LL << 20, "2m", max_layer_bytes, "largest layer PNG"),
    OPT("max_layers", KS_CFG_INT, 1, 8, "8", max_layers, "layers per item"),
    CUSTOM("thumb_crop", "30,30,180,180", parse_thumb_crop, "bust-up crop X,Y,WIDTH,HEIGHT of the canvas"),
    CUSTOM("thumb_size", "96x96", parse_thumb_size, "thumbnail WIDTHxHEIGHT"),
    OPT("max_scene_bytes", KS_CFG_SIZE, 1024, 64LL << 20, "4m", max_scene_bytes, "largest scene PNG"),
    OPT("album_quality", KS_CFG_INT, 1, 100, "85", album_quality, "JPEG quality of album photos"),
    OPT("max_album_photos", KS_CFG_INT, 1, 1000000, "1000", max_album_photos, "album photos per member"),
    OPT("render_batch", KS_CFG_INT, 1, 10000, "32", render_batch, "avatars re-rendered per round"),
    OPT("render_interval", KS_CFG_INT, 1, 3600, "2", render_interval_s, "seconds between looks at an idle render queue"),
    OPT("render_retry", KS_CFG_INT, 1, 86400, "30", render_retry_s, "seconds before a failed re-render is retried"),
    OPT("image_server_timeout", KS_CFG_INT, 0, 86400, "60", image_server_timeout_s,
        "seconds without a heartbeat before an image server is marked down (0: never)"),
    OPT("replica_retry", KS_CFG_INT, 1, 86400, "30", replica_retry_s,
        "seconds before a failed layer push is tried again (times its attempts, at most 10)"),
    OPT("auth_recheck_ms", KS_CFG_INT, 0, 60000, "1000", auth_recheck_ms,
        "milliseconds a verified API client is trusted before its row is read again (0: at"
        " every call, so a revocation counts at once)"),
    OPT("deletion_retry", KS_CFG_INT, 1, 86400, "30", deletion_retry_s,
        "seconds before a failed deletion of images is tried again (times its attempts, at most 10)"),
    OPT("webhook_timeout", KS_CFG_INT, 1, 60, "5", webhook_timeout_s,
        "seconds a webhook's endpoint has to answer a POST"),
    OPT("webhook_retry", KS_CFG_INT, 1, 3600, "10", webhook_retry_s,
        "seconds before a failed webhook delivery is tried again, doubled per attempt up to an hour"),
    OPT("webhook_give_up", KS_CFG_INT, 24, 720, "48", webhook_give_up_h,
        "hours after an event when its failing deliveries stop being tried"),
    OPT("webhook_interval", KS_CFG_INT, 50, 60000, "1000", webhook_interval_ms,
        "milliseconds between looks for due webhook deliveries"),
    OPT("replica_retry_batch", KS_CFG_INT, 1, 10000, "50", replica_retry_batch,
        "failed layer pushes tried per round of the renderer"),
    OPT("placeholder_png", KS_CFG_STRING, 0, 512, "", placeholder_png,
        "PNG a browser gets from /avatar/ while a member's image can't be served (empty: a grey"
        " silhouette of the canvas size)"),
    OPT("placeholder_thumb_png", KS_CFG_STRING, 0, 512, "", placeholder_thumb_png,
        "the same for /avatar/{id}/thumb.png (empty: the silhouette at the thumbnail size)"),
    OPT("metrics_listen", KS_CFG_STRING, 0, 160, "", metrics_listen,
        "host:port of the internal GET /metrics listener (Prometheus), empty for none"),
    OPT("log_file", KS_CFG_STRING, 0, 512, "-", log_file, "log file, - for stderr"),
    OPT("log_level", KS_CFG_STRING, 0, 16, "info", log_level, "error | warn | info | debug"),
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL}
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kisekae-api -c FILE [-o NAME=VALUE]... [--migrate | --add-client NAME ROLE\n"
            "                   [--image-server SERVER] | --revoke-client NAME |\n"
            "                   --image-secret SERVER |\n"
            "                   --set-image-server SERVER INTERNAL_URL PUBLIC_URL | --check]\n"
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
            "  -h, --help              this help\n"
            "\noptions of the configuration file, with their defaults:\n");
    if (out == stdout)
        ks_config_print_help(options);
}

/* The command line's -c and -o, kept for a reload. */
static const char *config_path;
static const char *overrides[32];
static int override_count;

/* Reads the configuration file, then the -o overrides, into conf. */
static ks_rc load_conf(ks_api_conf_t *conf, ks_err_t *err)
{
    ks_rc rc;

    memset(conf, 0, sizeof *conf);
    if ((rc = ks_config_load(config_path, options, conf, err)) != KS_OK)
        return rc;
    for (int i = 0; i < override_count; i++) {
        char name[64];
        const char *eq = strchr(overrides[i], '=');
        ks_err_t why;
        if (!eq || (size_t)(eq - overrides[i]) >= sizeof name)
            return ks_err(err, KS_INVALID, "-o needs NAME=VALUE, not \"%s\"", overrides[i]);
        snprintf(name, sizeof name, "%.*s", (int)(eq - overrides[i]), overrides[i]);
        if ((rc = ks_config_set(options, conf, name, eq + 1, &why)) != KS_OK)
            return ks_err(err, rc, "-o %s: %s", overrides[i], why.msg);
    }
    if ((rc = check_conf(conf, err)) != KS_OK)
        return rc;
    return ks_db_conf_check(&conf->db, err);
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

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    stop_requested = sig;
}

/* Serves in conf->mode until SIGTERM/SIGINT, calling reload (in the
 * transport's main thread) on SIGHUP. Returns the exit status. */
static int serve(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_api_reload_fn reload)
{
    struct sigaction sa = {0};
    ks_err_t err;
    int status;

    ks_api_reload_init(pool, reload);
    /* No SA_RESTART: a signal cuts the main thread's wait short. */
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = ks_api_reload_ask;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ks_api_metrics_start(conf, pool, &err) != KS_OK) {
        ks_log_error("metrics_listen %s: %s", conf->metrics_listen, err.msg);
        return 1;
    }
    if (conf->mode == KS_API_FASTCGI)
        status = ks_api_serve_fastcgi(conf, pool, &stop_requested);
    else
        status = ks_api_serve_standalone(conf, pool, &stop_requested);
    ks_api_metrics_stop();
    if (stop_requested)
        ks_log_info("stopped (signal %d)", (int)stop_requested);
    return status;
}

int main(int argc, char **argv)
{
    static ks_api_conf_t conf;
    const char *client_name = NULL, *client_role = NULL, *client_server = NULL;
    const char *secret_of = NULL, *set_server = NULL, *revoke = NULL;
    static ks_api_conf_t scratch;       /* --set-image-server's server, parsed as a line */
    int migrate = 0, check = 0, status;
    ks_db_pool_t *pool;
    ks_err_t err;
    int level;

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
        } else if (!strcmp(argv[i], "--set-image-server") && i + 3 < argc) {
            char line[1024];
            snprintf(line, sizeof line, "%s %s %s", argv[i + 1], argv[i + 2], argv[i + 3]);
            i += 3;
            if (parse_image_server(&scratch, line, &err) != KS_OK) {
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
    if (load_conf(&conf, &err) != KS_OK) {
        fprintf(stderr, "kisekae-api: %s\n", err.msg);
        return 1;
    }
    if ((level = ks_log_level_parse(conf.log_level)) < 0) {
        fprintf(stderr, "kisekae-api: log_level must be error, warn, info or debug\n");
        return 1;
    }
    if (client_server && !client_name) {
        fprintf(stderr, "kisekae-api: --image-server goes with --add-client NAME node\n");
        return 2;
    }
    if (!migrate && !client_name && !set_server && !revoke &&
        strlen(conf.cluster_secret) < 16) {
        fprintf(stderr, "kisekae-api: cluster_secret must be at least 16 characters\n");
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
                level);
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
            } else {
                status = serve(&conf, pool, reload_pool);
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
