/* api_conf.c: kisekae-api's configuration: the option table (the reference
 * of kisekae-api.conf; the commented sample is kisekae-api.conf.sample,
 * checked against it by ctest conf_sample/api), the parsers of its custom
 * options, and the checks across options. main.c loads it at start and on
 * SIGHUP; unit tests load it from files (tests/unit/api/test_api_conf.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_conf.h"

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

/* Checks what single options cannot: the thumbnail crop lies in the canvas. */
static ks_rc check_conf(const ks_api_conf_t *c, ks_err_t *err)
{
    if (c->thumb_x + c->thumb_width > c->canvas.width ||
        c->thumb_y + c->thumb_height > c->canvas.height)
        return ks_err(err, KS_INVALID,
                      "thumb_crop %d,%d,%d,%d does not lie inside the %dx%d canvas",
                      c->thumb_x, c->thumb_y, c->thumb_width, c->thumb_height, c->canvas.width,
                      c->canvas.height);
    return KS_OK;
}

#define KS_CFG_STRUCT ks_api_conf_t

static const ks_cfg_option_t options[] = {
    KS_CFG_FN("mode", "standalone", parse_mode, "standalone (HTTP) or fastcgi (behind nginx)"),
    KS_CFG_STR("listen", "127.0.0.1:17010", listen,
        "host:port (or unix:/path for fastcgi) to listen on"),
    KS_CFG_OPT("workers", KS_CFG_INT, 1, 256, "8", workers, "worker threads"),
    KS_CFG_OPT("max_request_bytes", KS_CFG_SIZE, 1024, 1LL << 30, "16m", max_request_bytes,
        "largest request body"),
    KS_CFG_OPT("max_header_bytes", KS_CFG_SIZE, 1024, 1LL << 20, "16k", max_header_bytes,
        "largest request line and header"),
    KS_CFG_OPT("max_xml_depth", KS_CFG_INT, 8, 1000, "32", max_xml_depth, "deepest XML nesting"),
    KS_CFG_OPT("recv_timeout", KS_CFG_INT, 1, 3600, "10", recv_timeout_s,
        "seconds to receive a whole request, from its first byte"),
    KS_CFG_OPT("send_timeout", KS_CFG_INT, 1, 3600, "10", send_timeout_s,
        "seconds to send an answer"),
    KS_CFG_OPT("keepalive_timeout", KS_CFG_INT, 1, 3600, "15", keepalive_timeout_s,
        "seconds an idle keep-alive connection is kept"),
    KS_CFG_OPT("max_keep_alive", KS_CFG_INT, 1, 1000000, "1000", max_keep_alive,
        "requests per connection"),
    KS_CFG_OPT("max_connections", KS_CFG_INT, 16, 1000000, "1024", max_connections,
        "connections held at once (standalone)"),
    KS_CFG_OPT("max_buffered_bytes", KS_CFG_SIZE, 1LL << 20, 1LL << 40, "256m", max_buffered_bytes,
        "memory for all requests being received (standalone)"),
    KS_CFG_OPT("avatar_cache_ms", KS_CFG_INT, 0, 60000, "1000", avatar_cache_ms,
        "milliseconds GetAvatar may answer from memory (0: always ask the database)"),
    KS_CFG_OPT("avatar_cache_entries", KS_CFG_INT, 0, 10000000, "16384", avatar_cache_entries,
        "members whose avatar view is kept"),
    KS_CFG_FN("db_master", "127.0.0.1:17030", parse_db_master, "host:port of the master"),
    KS_CFG_OPT("db_master_read_weight", KS_CFG_INT, 0, 1000, "0", db.master.weight,
        "master's share of the reads (0: only when no replica is healthy)"),
    KS_CFG_FN("db_replica", NULL, parse_db_replica, "host:port [weight] of a replica (repeat)"),
    KS_CFG_STR("db_name", "kisekae", db.name, "database name"),
    KS_CFG_STR("db_user", "kisekae", db.user, "database user"),
    KS_CFG_STR("db_password", "", db.password, "database password"),
    KS_CFG_OPT("db_connect_timeout", KS_CFG_INT, 1, 60, "2", db.connect_timeout_s,
        "seconds to connect to a database server"),
    KS_CFG_OPT("db_read_timeout", KS_CFG_INT, 1, 600, "10", db.read_timeout_s,
        "seconds to wait for a query's answer"),
    KS_CFG_OPT("db_write_timeout", KS_CFG_INT, 1, 600, "10", db.write_timeout_s,
        "seconds to send a query"),
    KS_CFG_OPT("db_max_lag_s", KS_CFG_INT, 0, 86400, "5", db.max_lag_s,
        "seconds a replica may lag before it is shunned"),
    KS_CFG_OPT("db_health_interval_ms", KS_CFG_INT, 100, 600000, "1000", db.health_interval_ms,
        "milliseconds between health checks of the servers"),
    KS_CFG_OPT("db_health_timeout_s", KS_CFG_INT, 1, 60, "1", db.health_timeout_s,
        "seconds a health check waits (connect, read, write)"),
    KS_CFG_FN("image_server", NULL, parse_image_server,
        "NAME INTERNAL_URL PUBLIC_URL [WEIGHT] (repeat)"),
    KS_CFG_STR("cluster_secret", "", cluster_secret, "secret shared with image servers"),
    KS_CFG_OPT("image_timeout", KS_CFG_INT, 1, 600, "10", image_timeout_s,
        "seconds to wait for an image server"),
    KS_CFG_OPT("canvas", KS_CFG_WXH, 16, 2048, "240x320", canvas, "avatar canvas WIDTHxHEIGHT"),
    KS_CFG_OPT("max_layer_bytes", KS_CFG_SIZE, 1024, 64LL << 20, "2m", max_layer_bytes,
        "largest layer PNG"),
    KS_CFG_OPT("max_layers", KS_CFG_INT, 1, 8, "8", max_layers, "layers per item"),
    KS_CFG_FN("thumb_crop", "30,30,180,180", parse_thumb_crop,
        "bust-up crop X,Y,WIDTH,HEIGHT of the canvas"),
    KS_CFG_OPT("thumb_size", KS_CFG_WXH, 8, 1024, "96x96", thumb_size, "thumbnail WIDTHxHEIGHT"),
    KS_CFG_OPT("max_scene_bytes", KS_CFG_SIZE, 1024, 64LL << 20, "4m", max_scene_bytes,
        "largest scene PNG"),
    KS_CFG_OPT("album_quality", KS_CFG_INT, 1, 100, "85", album_quality,
        "JPEG quality of album photos"),
    KS_CFG_OPT("max_album_photos", KS_CFG_INT, 1, 1000000, "1000", max_album_photos,
        "album photos per member"),
    KS_CFG_OPT("render_batch", KS_CFG_INT, 1, 10000, "32", render_batch,
        "avatars re-rendered per round"),
    KS_CFG_OPT("render_interval", KS_CFG_INT, 1, 3600, "2", render_interval_s,
        "seconds between looks at an idle render queue"),
    KS_CFG_OPT("render_retry", KS_CFG_INT, 1, 86400, "30", render_retry_s,
        "seconds before a failed re-render is retried"),
    KS_CFG_OPT("image_server_timeout", KS_CFG_INT, 0, 86400, "60", image_server_timeout_s,
        "seconds without a heartbeat before an image server is marked down (0: never)"),
    KS_CFG_OPT("replica_retry", KS_CFG_INT, 1, 86400, "30", replica_retry_s,
        "seconds before a failed layer push is tried again (times its attempts, at most 10)"),
    KS_CFG_OPT("auth_recheck_ms", KS_CFG_INT, 0, 60000, "1000", auth_recheck_ms,
        "milliseconds a verified API client is trusted before its row is read again (0: at"
        " every call, so a revocation counts at once)"),
    KS_CFG_OPT("deletion_retry", KS_CFG_INT, 1, 86400, "30", deletion_retry_s,
        "seconds before a failed deletion of images is tried again (times its attempts, at most "
        "10)"),
    KS_CFG_OPT("webhook_timeout", KS_CFG_INT, 1, 60, "5", webhook_timeout_s,
        "seconds a webhook's endpoint has to answer a POST"),
    KS_CFG_OPT("webhook_retry", KS_CFG_INT, 1, 3600, "10", webhook_retry_s,
        "seconds before a failed webhook delivery is tried again, doubled per attempt up to an "
        "hour"),
    KS_CFG_OPT("webhook_give_up", KS_CFG_INT, 24, 720, "48", webhook_give_up_h,
        "hours after an event when its failing deliveries stop being tried"),
    KS_CFG_OPT("webhook_interval", KS_CFG_INT, 50, 60000, "1000", webhook_interval_ms,
        "milliseconds between looks for due webhook deliveries"),
    KS_CFG_OPT("expiry_interval", KS_CFG_INT, 100, 60000, "1000", expiry_interval_ms,
        "milliseconds between looks for time-limited items that ended on someone"),
    KS_CFG_OPT("replica_retry_batch", KS_CFG_INT, 1, 10000, "50", replica_retry_batch,
        "failed layer pushes tried per round of the renderer"),
    KS_CFG_STR("placeholder_png", "", placeholder_png,
        "PNG a browser gets from /avatar/ while a member's image can't be served (empty: a grey"
        " silhouette of the canvas size)"),
    KS_CFG_STR("placeholder_thumb_png", "", placeholder_thumb_png,
        "the same for /avatar/{id}/thumb.png (empty: the silhouette at the thumbnail size)"),
    KS_CFG_STR("metrics_listen", "", metrics_listen,
        "host:port of the internal GET /metrics listener (Prometheus), empty for none"),
    KS_CFG_STR("log_file", "-", log_file, "log file, - for stderr"),
    KS_CFG_OPT("log_level", KS_CFG_LOG_LEVEL, 0, 0, "info", log_level,
        "error | warn | info | debug"),
    KS_CFG_END
};

const ks_cfg_option_t *ks_api_conf_options(void)
{
    return options;
}

ks_rc ks_api_conf_load(ks_api_conf_t *conf, const char *path, const char *const *overrides,
                       int override_count, ks_err_t *err)
{
    ks_rc rc;

    memset(conf, 0, sizeof *conf);
    if ((rc = ks_config_load_overridden(path, options, conf, overrides, override_count, err)) !=
        KS_OK)
        return rc;
    if ((rc = check_conf(conf, err)) != KS_OK)
        return rc;
    return ks_db_conf_check(&conf->db, err);
}

ks_rc ks_api_conf_check_secret(const ks_api_conf_t *conf, ks_err_t *err)
{
    if (strlen(conf->cluster_secret) < 16)
        return ks_err(err, KS_INVALID, "cluster_secret must be at least 16 characters");
    return KS_OK;
}
