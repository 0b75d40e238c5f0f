/* main.c: kisekae-image, the image server's FastCGI application.
 *
 *     kisekae-image -c FILE [-o name=value]... [--check] [--help]
 *
 * Loads the configuration (the table below; kisekae-image.conf.sample is its
 * commented copy), opens the log, prepares the store (items/ and avatars/,
 * leftover ".tmp-*" files of an interrupted write removed), then serves
 * FastCGI (and, with api_url, registers and syncs with the API tier in the
 * background, node_agent.c, and rebuilds lost images, rebuild.c) until
 * SIGTERM or SIGINT, which stop it gracefully (exit 0).
 * SIGHUP (or SIGUSR1, as for nginx) reopens the log, rereading log_file and
 * log_level from the file; other options apply at the next start. Only logs
 * go to stdout/stderr.
 *
 * Signals follow the model of every kisekae daemon (common/daemon.h): blocked
 * in every thread and taken by sigwait() in the main thread, so no handler
 * ever runs inside a request.
 */
#define _GNU_SOURCE   /* nftw's FTW_PHYS */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "fcgi_server.h"
#include "fsutil.h"
#include "item_store.h"
#include "ks.h"
#include "log.h"
#include "node_agent.h"

#define PROGRAM "kisekae-image"
#define THREADS_FREE 2     /* workers rebuilds and batches leave to /internal/ */
#define SECRET_MIN 16      /* characters of cluster_secret, as the API asks of its own */

/* api_url URL [URL...]: may be repeated; the URLs are tried in the order
 * given (node_api.h). */
static ks_rc parse_api_url(void *conf_arg, const char *value, ks_err_t *err)
{
    ks_image_conf_t *conf = conf_arg;

    return ks_config_add_urls("api_url", value, conf->api_urls[0], KS_NODE_API_URL_SIZE,
                              KS_NODE_API_URLS_MAX, &conf->api_url_count, err);
}

#define KS_CFG_STRUCT ks_image_conf_t

static const ks_cfg_option_t options[] = {
    KS_CFG_STR("listen", "127.0.0.1:17022", listen,
        "where nginx reaches the FastCGI app: host:port or unix:/path/to/socket"),
    KS_CFG_OPT("threads", KS_CFG_INT, 3, 1024, "8", threads,
        "threads serving FastCGI requests (at least nginx's upstream connections; at least "
        "max_rebuilds + max_batches + 2)"),
    KS_CFG_STR("store", "./store", store,
        "folder holding items/ and avatars/; nginx serves it as its root"),
    KS_CFG_STR("cluster_secret", "change-me", cluster_secret,
        "secret shared with the API tier (X-Kisekae-Secret)"),
    KS_CFG_OPT("max_layer_bytes", KS_CFG_SIZE, 1024, 256LL << 20, "2m", max_layer_bytes,
        "largest item layer PNG accepted, in bytes"),
    KS_CFG_OPT("max_canvas_width", KS_CFG_INT, 1, 16384, "2048", max_canvas_width,
        "widest canvas a compose request may ask for"),
    KS_CFG_OPT("max_canvas_height", KS_CFG_INT, 1, 16384, "2048", max_canvas_height,
        "tallest canvas a compose request may ask for"),
    KS_CFG_OPT("layer_cache_bytes", KS_CFG_SIZE, 0, 1LL << 40, "64m", layer_cache_bytes,
        "decoded item layers kept in memory, in bytes (least recently used go first)"),
    KS_CFG_FN("api_url", NULL, parse_api_url,
        "URL [URL...] (repeatable): the API's SOAP endpoints, tried in turn; set, the server "
        "registers, syncs its items, beats and rebuilds lost images"),
    KS_CFG_STR("api_user", "", api_user, "API client of role node"),
    KS_CFG_STR("api_password", "", api_password, "its secret"),
    KS_CFG_OPT("api_timeout", KS_CFG_INT, 1, 600, "10", api_timeout_s,
        "seconds to wait for the API (connect, send, receive)"),
    KS_CFG_STR("name", "", name, "this server's name in the cluster (1..64 of A-Z a-z 0-9 . _ -)"),
    KS_CFG_STR("internal_url", "", internal_url,
        "where the API reaches this server's /internal/ (nginx)"),
    KS_CFG_STR("public_url", "", public_url, "where browsers fetch this server's images"),
    KS_CFG_OPT("weight", KS_CFG_INT, 1, 1000, "1", weight,
        "share of new members this server takes"),
    KS_CFG_OPT("heartbeat_interval", KS_CFG_INT, 1, 3600, "10", heartbeat_interval_s,
        "seconds between heartbeats (below the API's image_server_timeout)"),
    KS_CFG_OPT("sync_interval", KS_CFG_INT, 0, 86400, "300", sync_interval_s,
        "seconds between re-syncs of the item store with the catalog (0: at start only)"),
    KS_CFG_OPT("max_rebuilds", KS_CFG_INT, 1, 1024, "4", max_rebuilds,
        "lost avatars and album photos rebuilt at once (beyond: 503 with Retry-After); with "
        "max_batches at most threads - 2, so /internal/ always finds a worker"),
    KS_CFG_OPT("max_batches", KS_CFG_INT, 1, 1024, "2", max_batches,
        "batch requests (POST /internal/batch) composed at once (beyond: 503 with Retry-After); "
        "with max_rebuilds at most threads - 2"),
    KS_CFG_OPT("miss_cache_ms", KS_CFG_INT, 0, 600000, "5000", miss_cache_ms,
        "milliseconds a rebuild's 404 or 302 is answered again without asking the API (0: never)"),
    KS_CFG_OPT("miss_cache_entries", KS_CFG_INT, 1, 1 << 20, "4096", miss_cache_entries,
        "misses remembered at most (each about 1.3 KiB)"),
    KS_CFG_STR("placeholder_png", "", placeholder_png,
        "PNG answered (no-cache) for an avatar that can't be served or rebuilt; empty: a grey "
        "silhouette of placeholder_size"),
    KS_CFG_OPT("placeholder_size", KS_CFG_WXH, 1, 4096, "240x320", placeholder_size,
        "WIDTHxHEIGHT of the built-in placeholder (the API's canvas)"),
    KS_CFG_STR("placeholder_thumb_png", "", placeholder_thumb_png,
        "the same for thumbnails; empty: the silhouette of placeholder_thumb_size"),
    KS_CFG_OPT("placeholder_thumb_size", KS_CFG_WXH, 1, 4096, "96x96", placeholder_thumb_size,
        "WIDTHxHEIGHT of the built-in thumbnail placeholder (the API's thumb_size)"),
    KS_CFG_STR("log_file", "-", log_file, "log file (\"-\" for stderr)"),
    KS_CFG_OPT("log_level", KS_CFG_LOG_LEVEL, 0, 0, "info", log_level,
        "error | warn | info | debug"),
    KS_CFG_END
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROGRAM " -c FILE [-o name=value]... [--check] [--help]\n"
            "  -c FILE          configuration file (see kisekae-image.conf.sample)\n"
            "  -o name=value    override an option of the file (repeatable)\n"
            "  --check          validate the configuration and exit\n"
            "  --help           show this and the options\n");
}

/* Loads the file and the -o overrides into conf and checks what the table
 * cannot: the listen address and the secret. */
static ks_rc load_conf(const ks_daemon_args_t *args, void *conf_arg, ks_err_t *err)
{
    ks_image_conf_t *conf = conf_arg;
    ks_rc rc;

    memset(conf, 0, sizeof *conf);
    if ((rc = ks_daemon_load_conf(args, conf, err)) != KS_OK)
        return rc;

    if (strncmp(conf->listen, "unix:", 5) == 0) {
        if (conf->listen[5] != '/')
            return ks_err(err, KS_INVALID, "listen \"%s\": the socket path must be absolute",
                          conf->listen);
    } else {
        char host[256];
        int port;
        rc = ks_config_parse_hostport(conf->listen, host, sizeof host, &port, err);
        if (rc != KS_OK)
            return rc;
    }
    if (strcmp(conf->cluster_secret, "change-me") == 0)
        return ks_err(err, KS_INVALID, "cluster_secret is the sample's \"change-me\": set this"
                      " server's own secret (kisekae-api --image-secret NAME prints it)");
    if (strlen(conf->cluster_secret) < SECRET_MIN)
        return ks_err(err, KS_INVALID, "cluster_secret must be at least %d characters",
                      SECRET_MIN);
    if (conf->store[0] == '\0')
        return ks_err(err, KS_INVALID, "store must not be empty");
    /* Rebuilds (public misses) and batches may never hold every worker: the
     * API's composes and deletes on /internal/ keep THREADS_FREE of them. */
    if (conf->max_rebuilds + conf->max_batches > conf->threads - THREADS_FREE)
        return ks_err(err, KS_INVALID, "max_rebuilds (%d) + max_batches (%d) must leave %d of "
                      "the %d threads to /internal/: raise threads or lower them",
                      conf->max_rebuilds, conf->max_batches, THREADS_FREE, conf->threads);
    if (conf->api_url_count > 0) {
        if (!conf->api_user[0] || !conf->name[0] || !conf->internal_url[0] ||
            !conf->public_url[0])
            return ks_err(err, KS_INVALID, "with api_url, api_user, name, internal_url and "
                          "public_url must be set too");
    }
    return KS_OK;
}

/* ---- store preparation -------------------------------------------------------- */

static size_t temp_removed;

static int remove_temp(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F && strncmp(path + ftw->base, ".tmp-", 5) == 0) {
        if (unlink(path) == 0)
            temp_removed++;
        else
            ks_log_warn("unlink() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
    }
    return 0;
}

/* Creates store/, items/ and avatars/, makes conf->store absolute and removes
 * temp files left by writes that a crash interrupted. */
static ks_rc prepare_store(ks_image_conf_t *conf, ks_err_t *err)
{
    char path[PATH_MAX + 32], absolute[PATH_MAX];
    const char *folders[] = {"items", "scenes", "avatars", "albums"};
    ks_rc rc;

    rc = ks_mkdir_p(conf->store, err);
    if (rc != KS_OK)
        return rc;
    if (realpath(conf->store, absolute) == NULL)
        return ks_err(err, KS_ERROR, "realpath() \"%s\" failed (%d: %s)", conf->store, errno,
                      strerror(errno));
    if (strlen(absolute) >= sizeof conf->store)
        return ks_err(err, KS_INVALID, "store \"%s\": path too long", absolute);
    strcpy(conf->store, absolute);
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", conf->store, folders[i]);
        rc = ks_mkdir_p(path, err);
        if (rc != KS_OK)
            return rc;
    }
    if (nftw(conf->store, remove_temp, 32, FTW_PHYS) != 0)
        return ks_err(err, KS_ERROR, "nftw() \"%s\" failed (%d: %s)", conf->store, errno,
                      strerror(errno));
    if (temp_removed > 0)
        ks_log_info("removed %zu temp files left in \"%s\"", temp_removed, conf->store);
    return KS_OK;
}

/* ---- SIGHUP ------------------------------------------------------------------------ */

/* What a reload (ks_daemon_wait) reads: the command line and the running
 * configuration. */
typedef struct {
    const ks_daemon_args_t *args;
    const ks_image_conf_t *running;
} reload_t;

static void reload(void *arg)
{
    const ks_daemon_args_t *args = ((reload_t *)arg)->args;
    const ks_image_conf_t *running = ((reload_t *)arg)->running;
    ks_image_conf_t fresh;
    ks_err_t err = {{0}};

    if (load_conf(args, &fresh, &err) != KS_OK) {
        ks_log_error("reload: configuration not reloaded: %s", err.msg);
        return;
    }
    if (ks_log_open(PROGRAM, fresh.log_file, fresh.log_level) != 0)
        ks_log_error("reload: cannot open log file \"%s\"; logging to stderr", fresh.log_file);
    if (strcmp(fresh.listen, running->listen) != 0 || fresh.threads != running->threads
        || strcmp(fresh.cluster_secret, running->cluster_secret) != 0
        || fresh.max_layer_bytes != running->max_layer_bytes
        || fresh.max_canvas_width != running->max_canvas_width
        || fresh.max_canvas_height != running->max_canvas_height
        || fresh.layer_cache_bytes != running->layer_cache_bytes)
        ks_log_warn("reload: log reopened; other changed options apply at the next start");
    else
        ks_log_info("reload: log reopened");
}

int main(int argc, char **argv)
{
    ks_daemon_args_t args = {.program = PROGRAM, .options = options, .usage = usage};
    ks_image_conf_t conf;
    ks_item_store_t *items = NULL, *scenes = NULL;
    ks_item_store_options_t store_options = {0};
    ks_fcgi_server_t *server = NULL;
    ks_node_agent_t *agent = NULL;
    ks_node_api_t api;
    ks_err_t err = {{0}};
    sigset_t signals;
    int rc, signal_number;

    rc = ks_daemon_parse_args(&args, argc, argv, NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    /* The signals are blocked before anything else, so one that comes during
     * start waits for the loop below, and every thread inherits the mask:
     * only sigwait() takes them. */
    if ((rc = ks_daemon_start(&args, &signals, load_conf, &conf)) >= 0)
        return rc;
    if (ks_log_open(PROGRAM, conf.log_file, conf.log_level) != 0) {
        ks_log_error("cannot open log file \"%s\"", conf.log_file);
        return 1;
    }

    umask(022);   /* nginx, as another user, must read what we store */
    if (prepare_store(&conf, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }

    ks_png_limits_default(&store_options.png_limits);
    store_options.png_limits.max_width = (uint32_t)conf.max_canvas_width;
    store_options.png_limits.max_height = (uint32_t)conf.max_canvas_height;
    store_options.png_limits.max_decoded_bytes =
        (size_t)conf.max_canvas_width * (size_t)conf.max_canvas_height * 4;
    store_options.max_layer_bytes = conf.max_layer_bytes;
    store_options.cache_bytes = conf.layer_cache_bytes;
    if (ks_item_store_new(conf.store, &store_options, &items, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    /* Scene backgrounds: few and large; a quarter of the budget. */
    store_options.folder = "scenes";
    store_options.cache_bytes = conf.layer_cache_bytes / 4;
    if (ks_item_store_new(conf.store, &store_options, &scenes, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        ks_item_store_free(items);
        return 1;
    }

    ks_node_api_init(&api, &conf);
    if (ks_fcgi_server_start(&conf, items, scenes, conf.api_url_count > 0 ? &api : NULL,
                             &server, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        ks_item_store_free(scenes);
        ks_item_store_free(items);
        return 1;
    }
    ks_log_info("listening on %s with %d threads, store \"%s\"", conf.listen, conf.threads,
                conf.store);
    /* After the server: it serves while the agent syncs, however long that takes. */
    if (conf.api_url_count > 0 &&
        ks_node_agent_start(&conf, &api, items, server, &agent, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        ks_fcgi_server_stop(server);
        ks_item_store_free(scenes);
        ks_item_store_free(items);
        return 1;
    }
    ks_fcgi_server_set_agent(server, agent);

    reload_t running = {&args, &conf};
    signal_number = ks_daemon_wait(&signals, reload, &running);
    ks_log_info("%s: stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    ks_fcgi_server_set_agent(server, NULL);
    ks_node_agent_stop(agent);
    ks_fcgi_server_stop(server);
    ks_item_store_free(scenes);
    ks_item_store_free(items);
    ks_log_info("stopped");
    return 0;
}
