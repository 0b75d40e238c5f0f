/* node_agent.c: registration, the item store's syncs and heartbeats
 * (node_agent.h), through node_api.h (which fails over between the
 * configured API URLs).
 *
 * A sync trusts only the API: each layer's PNG is hashed here and compared
 * with the manifest's sha256, and what is missing or stale is fetched from
 * the database's canonical copy (GetItemLayer) and stored through
 * ks_item_store_put, which checks the sha256 again and writes atomically. A
 * layer that cannot be fetched is counted and logged; the API's pushes and
 * compose repairs still reach it later, and the next sync tries again.
 *
 * The first sync runs at start; then one every sync_interval seconds. To
 * keep those cheap when nothing changed, a pass remembers, for every layer
 * it found right, the file's identity (device, inode, size, mtime, ctime)
 * and the sha256 it hashed to: the next pass hashes a file again only when
 * the manifest names another sha256 or the file is not that same file any
 * more. A pass with nothing to do costs the manifest's pages and one stat()
 * per layer. Heartbeats go on during a long pass.
 *
 * A pass asked for now (POST /internal/sync, the API's SyncImageServer:
 * ks_node_agent_sync_now) runs in the agent's thread, so passes never
 * overlap, and goes further than a periodic one: it also counts the layer
 * files the manifest does not name (extra, left alone) and hashes every
 * archived art file (archive/I/L-<sha256>.png) against the sha256 its name
 * carries, fetching again from the API (GetItemLayer with that sha256) what
 * differs.
 */
#include "node_agent.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "fsutil.h"
#include "log.h"
#include "paths.h"

#define MANIFEST_PAGE 500
#define BACKOFF_MAX_S 60
#define PROGRESS_EVERY 1000     /* layers between progress lines of the sync */

/* A layer file a pass found right: its identity and what it hashed to. */
typedef struct {
    int item_id, layer_no;
    char sha256[KS_SHA256_HEX_SIZE];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} verified_t;

/* The layers of a pass in manifest order (by item, then layer), so the
 * previous pass's list can be searched by bisection. */
typedef struct {
    verified_t *entries;
    size_t count, capacity;
} verified_list_t;

struct ks_node_agent {
    const ks_image_conf_t *conf;
    ks_item_store_t *items;
    ks_fcgi_server_t *server;
    ks_node_api_client_t *client;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;            /* on CLOCK_MONOTONIC */
    int stopping;
    int registered;                 /* heartbeats only once registered */
    int beating;                    /* the last heartbeat got through */
    time_t next_beat;               /* CLOCK_MONOTONIC seconds */
    verified_list_t verified;   /* what the last complete pass found right */
    /* Passes asked for now (guarded by lock): wanted counts the requests,
     * done the passes run for them; each waiter waits until done reaches
     * the number it took, on done_cond. */
    unsigned long long wanted, done;
    int waiters;
    pthread_cond_t done_cond;       /* on CLOCK_MONOTONIC */
    ks_rc last_rc;
    ks_err_t last_err;
    ks_node_sync_counts_t last_counts;
};

/* An (item, layer) the manifest names, in manifest order. */
typedef struct {
    int item_id, layer_no;
} layer_key_t;

typedef struct {
    layer_key_t *entries;
    size_t count, capacity;
    int overflow;                   /* an allocation failed: extras are not counted */
} key_list_t;

static time_t monotonic_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec;
}

/* Waits until the monotonic second `until`, or less when the agent is
 * stopped (or, with wake_for_sync, a pass is asked for now); returns 1 when
 * stopping. */
static int sleep_until(ks_node_agent_t *agent, time_t until, int wake_for_sync)
{
    struct timespec deadline = {until, 0};
    int stopping;

    pthread_mutex_lock(&agent->lock);
    while (!agent->stopping && (!wake_for_sync || agent->wanted == agent->done) &&
           pthread_cond_timedwait(&agent->cond, &agent->lock, &deadline) == 0)
        ;
    stopping = agent->stopping;
    pthread_mutex_unlock(&agent->lock);
    return stopping;
}

static int stopping(ks_node_agent_t *agent)
{
    int stopping;

    pthread_mutex_lock(&agent->lock);
    stopping = agent->stopping;
    pthread_mutex_unlock(&agent->lock);
    return stopping;
}

static ks_rc register_node(ks_node_agent_t *agent, ks_err_t *err)
{
    char mode[16];
    int id;
    ks_rc rc = ks_node_api_register(agent->client, &id, mode, err);

    if (rc != KS_OK)
        return rc;
    ks_log_info("registered with the API at %s as \"%s\" (id %d, mode %s)",
                ks_node_api_client_url(agent->client), agent->conf->name, id, mode);
    agent->registered = 1;
    return KS_OK;
}

/* Sends a heartbeat; when the API no longer knows this server (the row was
 * removed, or the database lost it), registers again. Logs once per outage. */
static void beat(ks_node_agent_t *agent)
{
    ks_item_store_stats_t stats;
    struct statvfs fs;
    long long free_bytes = 0;
    ks_err_t err = {{0}};
    ks_rc rc;

    ks_item_store_stats(agent->items, &stats);
    if (statvfs(agent->conf->store, &fs) == 0)
        free_bytes = (long long)fs.f_bavail * (long long)fs.f_frsize;
    rc = ks_node_api_heartbeat(agent->client, (long long)stats.layers_stored,
                          (long long)ks_fcgi_server_avatars_composed(agent->server), free_bytes,
                          &err);
    if (rc == KS_NOTFOUND)
        rc = register_node(agent, &err);
    if (rc == KS_OK) {
        if (!agent->beating)
            ks_log_info("heartbeat: the API answers again");
        agent->beating = 1;
        return;
    }
    if (agent->beating)   /* once per outage, not once per beat */
        ks_log_warn("heartbeat failed: %s", err.msg);
    agent->beating = 0;
}

/* Beats when one is due (also between the layers of a long sync). */
static void beat_if_due(ks_node_agent_t *agent)
{
    time_t now = monotonic_now();

    if (!agent->registered || now < agent->next_beat)
        return;
    beat(agent);
    agent->next_beat = monotonic_now() + agent->conf->heartbeat_interval_s;
}

/* ---- the verified list ------------------------------------------------------------ */

static const verified_t *verified_find(const verified_list_t *list, int item_id,
                                               int layer_no)
{
    size_t low = 0, high = list->count;

    while (low < high) {
        size_t middle = low + (high - low) / 2;
        const verified_t *v = &list->entries[middle];
        if (v->item_id == item_id && v->layer_no == layer_no)
            return v;
        if (v->item_id < item_id || (v->item_id == item_id && v->layer_no < layer_no))
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

/* Appends a layer found right (manifest order keeps the list sorted); an
 * allocation failure only costs a hash next time. */
static void verified_add(verified_list_t *list, int item_id, int layer_no,
                             const char *sha256, const struct stat *st)
{
    verified_t *v;

    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 1024;
        verified_t *entries = realloc(list->entries, capacity * sizeof *entries);
        if (!entries)
            return;
        list->entries = entries;
        list->capacity = capacity;
    }
    if (list->count > 0) {   /* out of order: the bisection would miss it */
        const verified_t *last = &list->entries[list->count - 1];
        if (last->item_id > item_id || (last->item_id == item_id && last->layer_no >= layer_no))
            return;
    }
    v = &list->entries[list->count++];
    v->item_id = item_id;
    v->layer_no = layer_no;
    memcpy(v->sha256, sha256, KS_SHA256_HEX_SIZE);
    v->dev = st->st_dev;
    v->ino = st->st_ino;
    v->size = st->st_size;
    v->mtime = st->st_mtim;
    v->ctime = st->st_ctim;
}

static int same_file(const verified_t *v, const struct stat *st)
{
    return v->dev == st->st_dev && v->ino == st->st_ino && v->size == st->st_size &&
           v->mtime.tv_sec == st->st_mtim.tv_sec && v->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           v->ctime.tv_sec == st->st_ctim.tv_sec && v->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* stat() of a layer's PNG in the store; 0 or -1. */
static int stat_layer(ks_node_agent_t *agent, int item_id, int layer_no, struct stat *st)
{
    char relative[64], path[sizeof agent->conf->store + 64];

    if (ks_item_layer_path(item_id, layer_no, relative, sizeof relative) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", agent->conf->store, relative);
    return stat(path, st);
}

/* ---- sync ----------------------------------------------------------------------------- */

/* Fetches one layer from the API and stores it. */
static ks_rc fetch(ks_node_agent_t *agent, int item_id, int layer_no, const char *sha256,
                       ks_err_t *err)
{
    ks_node_api_png_t png;
    ks_rc rc = ks_node_api_get_item_layer(agent->client, item_id, layer_no, NULL, &png, err);

    if (rc != KS_OK)
        return rc;
    if (strcmp(png.sha256, sha256) != 0)   /* replaced since the manifest page was read */
        return ks_err(err, KS_CONFLICT, "layer %d/%d changed during the sync", item_id,
                      layer_no);
    return ks_item_store_put(agent->items, item_id, layer_no, png.png, png.size, png.sha256, err);
}

/* Checks one manifest layer, fetching it when it is missing or stale, and
 * records it in *seen when it ends right. */
static void sync_layer(ks_node_agent_t *agent, const ks_node_api_layer_t *layer,
                           verified_list_t *seen, ks_node_sync_counts_t *counts)
{
    const verified_t *before;
    ks_err_t layer_err = {{0}};
    struct stat st;
    ks_rc rc;

    if (!layer->sha256[0]) {
        counts->failed++;
        ks_log_warn("sync: layer %d/%d: the manifest gives no valid sha256", layer->item_id,
                    layer->layer_no);
        return;
    }
    before = verified_find(&agent->verified, layer->item_id, layer->layer_no);
    if (before && strcmp(before->sha256, layer->sha256) == 0 &&
        stat_layer(agent, layer->item_id, layer->layer_no, &st) == 0 &&
        same_file(before, &st)) {
        verified_add(seen, layer->item_id, layer->layer_no, layer->sha256, &st);
        return;
    }
    rc = ks_item_store_check(agent->items, layer->item_id, layer->layer_no, layer->sha256,
                             &layer_err);
    if (rc != KS_OK) {
        if (rc == KS_NOTFOUND)
            counts->missing++;
        else
            counts->stale++;
        ks_log_info("sync: %s: fetching it from the API", layer_err.msg);
        rc = fetch(agent, layer->item_id, layer->layer_no, layer->sha256, &layer_err);
        if (rc != KS_OK) {
            counts->failed++;
            ks_log_warn("sync: layer %d/%d not repaired: %s", layer->item_id, layer->layer_no,
                        layer_err.msg);
            return;
        }
        counts->fetched++;
        ks_log_info("sync: layer %d/%d fetched (sha256 %s)", layer->item_id, layer->layer_no,
                    layer->sha256);
    }
    /* The file as it is now: the one just hashed, or just written. */
    if (stat_layer(agent, layer->item_id, layer->layer_no, &st) == 0)
        verified_add(seen, layer->item_id, layer->layer_no, layer->sha256, &st);
}

static void key_add(key_list_t *list, int item_id, int layer_no)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 1024;
        layer_key_t *entries = realloc(list->entries, capacity * sizeof *entries);
        if (!entries) {
            list->overflow = 1;
            return;
        }
        list->entries = entries;
        list->capacity = capacity;
    }
    list->entries[list->count++] = (layer_key_t){item_id, layer_no};
}

static int key_compare(const void *a, const void *b)
{
    const layer_key_t *x = a, *y = b;

    if (x->item_id != y->item_id)
        return x->item_id < y->item_id ? -1 : 1;
    return (x->layer_no > y->layer_no) - (x->layer_no < y->layer_no);
}

/* Parses a whole decimal name ("12", or "3" of "3.png" with suffix) into
 * *out; 0 or -1. */
static int number_name(const char *name, const char *suffix, int *out)
{
    long long value = 0;
    const char *p = name;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((value = value * 10 + (*p - '0')) > 0x7fffffff)
            return -1;
    if (strcmp(p, suffix) != 0)
        return -1;
    *out = (int)value;
    return 0;
}

/* Counts the layer files of items/ that the manifest (listed, sorted) does
 * not name. */
static long long count_extra(ks_node_agent_t *agent, const key_list_t *listed)
{
    char top[sizeof agent->conf->store + 16];
    long long extra = 0;
    struct dirent *entry;
    DIR *items;

    snprintf(top, sizeof top, "%s/items", agent->conf->store);
    if (!(items = opendir(top)))
        return 0;
    while ((entry = readdir(items))) {
        char folder[sizeof top + 258];
        struct dirent *file;
        layer_key_t key;
        DIR *dir;

        if (number_name(entry->d_name, "", &key.item_id) != 0)
            continue;
        snprintf(folder, sizeof folder, "%s/%s", top, entry->d_name);
        if (!(dir = opendir(folder)))
            continue;
        while ((file = readdir(dir)))
            if (number_name(file->d_name, ".png", &key.layer_no) == 0 &&
                (listed->count == 0 || !bsearch(&key, listed->entries, listed->count,
                                                sizeof key, key_compare))) {
                extra++;
                ks_log_info("sync: items/%d/%d.png is not in the catalog's manifest",
                            key.item_id, key.layer_no);
            }
        closedir(dir);
    }
    closedir(items);
    return extra;
}

/* Hashes one archived art file against the sha256 of its name and fetches
 * it again when it differs. */
static void check_archived(ks_node_agent_t *agent, const char *path, int item_id,
                               int layer_no, const char *sha256, ks_node_sync_counts_t *counts)
{
    char actual[KS_SHA256_HEX_SIZE];
    unsigned char *png = NULL;
    size_t size = 0;
    ks_node_api_png_t fetched;
    ks_err_t err = {{0}};
    ks_rc rc;

    counts->checked++;
    if (ks_file_read(path, agent->conf->max_layer_bytes, &png, &size, &err) == KS_OK) {
        ks_sha256_hex(png, size, actual);
        free(png);
        if (strcmp(actual, sha256) == 0)
            return;
    }
    counts->stale++;
    ks_log_info("sync: archived art %d/%d at sha256 %s differs: fetching it from the API",
                item_id, layer_no, sha256);
    rc = ks_node_api_get_item_layer(agent->client, item_id, layer_no, sha256, &fetched, &err);
    if (rc == KS_OK && strcmp(fetched.sha256, sha256) != 0)
        rc = ks_err(&err, KS_CONFLICT, "the API answered sha256 %s", fetched.sha256);
    if (rc == KS_OK)
        rc = ks_item_store_put_archived(agent->items, item_id, layer_no, fetched.png,
                                        fetched.size, sha256, &err);
    if (rc != KS_OK) {
        counts->failed++;
        ks_log_warn("sync: archived art %d/%d at sha256 %s not repaired: %s", item_id,
                    layer_no, sha256, err.msg);
        return;
    }
    counts->fetched++;
}

/* Checks every archived art file (archive/<item>/<layer>-<sha256>.png). */
static void sync_archive(ks_node_agent_t *agent, ks_node_sync_counts_t *counts)
{
    char top[sizeof agent->conf->store + 16];
    struct dirent *entry;
    DIR *archive;

    snprintf(top, sizeof top, "%s/archive", agent->conf->store);
    if (!(archive = opendir(top)))
        return;
    while ((entry = readdir(archive)) && !stopping(agent)) {
        char folder[sizeof top + 258];
        struct dirent *file;
        int item_id;
        DIR *dir;

        if (number_name(entry->d_name, "", &item_id) != 0)
            continue;
        snprintf(folder, sizeof folder, "%s/%s", top, entry->d_name);
        if (!(dir = opendir(folder)))
            continue;
        while ((file = readdir(dir))) {
            char path[sizeof folder + 258], sha256[KS_SHA256_HEX_SIZE], number[16];
            const char *dash = strchr(file->d_name, '-');
            int layer_no;

            if (!dash || (size_t)(dash - file->d_name) >= sizeof number ||
                strlen(dash + 1) != 64 + 4 || strcmp(dash + 65, ".png") != 0)
                continue;
            memcpy(number, file->d_name, (size_t)(dash - file->d_name));
            number[dash - file->d_name] = '\0';
            memcpy(sha256, dash + 1, 64);
            sha256[64] = '\0';
            if (number_name(number, "", &layer_no) != 0 || !ks_sha256_hex_valid(sha256))
                continue;
            snprintf(path, sizeof path, "%s/%s", folder, file->d_name);
            check_archived(agent, path, item_id, layer_no, sha256, counts);
            beat_if_due(agent);
        }
        closedir(dir);
    }
    closedir(archive);
}

/* One pass over the manifest (full: also the extra files and the archived
 * art). KS_UNAVAILABLE (or another failure) when the manifest could not be
 * read; failed layers are only counted. A complete pass becomes the
 * verified list of the next. */
static ks_rc sync(ks_node_agent_t *agent, int full, ks_node_sync_counts_t *counts,
                      ks_err_t *err)
{
    verified_list_t seen = {0};
    key_list_t listed = {0};
    int offset = 0;

    memset(counts, 0, sizeof *counts);
    for (;;) {
        ks_node_api_layer_t *layers;
        long long total;
        int count;
        ks_rc rc = ks_node_api_manifest_page(agent->client, offset, MANIFEST_PAGE, &layers,
                                        &count, &total, err);

        if (rc != KS_OK) {
            free(seen.entries);
            free(listed.entries);
            return rc;
        }
        for (int i = 0; i < count && !stopping(agent); i++) {
            if (++counts->checked % PROGRESS_EVERY == 0)
                ks_log_info("sync: %lld of %lld layers checked", counts->checked, total);
            sync_layer(agent, &layers[i], &seen, counts);
            if (full)
                key_add(&listed, layers[i].item_id, layers[i].layer_no);
            beat_if_due(agent);
        }
        free(layers);
        if (stopping(agent) || count < MANIFEST_PAGE)
            break;
        offset += count;
    }
    if (stopping(agent)) {
        free(seen.entries);
        free(listed.entries);
        return KS_OK;
    }
    free(agent->verified.entries);
    agent->verified = seen;
    if (full) {
        if (!listed.overflow)
            counts->extra = count_extra(agent, &listed);
        free(listed.entries);
        sync_archive(agent, counts);
    }
    return KS_OK;
}

/* ---- the thread ------------------------------------------------------------------------ */

/* Registers and syncs, trying again with a growing delay. Returns 1 when the
 * agent was stopped meanwhile. */
static int start_up(ks_node_agent_t *agent)
{
    ks_node_sync_counts_t counts;
    ks_err_t err = {{0}};
    int delay = 1;

    for (;;) {
        ks_rc rc = agent->registered ? KS_OK : register_node(agent, &err);
        if (rc == KS_OK) {
            agent->next_beat = monotonic_now() + agent->conf->heartbeat_interval_s;
            ks_log_info("sync: comparing the item store with the API's manifest");
            rc = sync(agent, 0, &counts, &err);
        }
        if (stopping(agent))
            return 1;
        if (rc == KS_OK) {
            ks_log_info("sync: done: %lld layers checked, %lld missing, %lld stale, %lld fetched,"
                        " %lld failed", counts.checked, counts.missing, counts.stale,
                        counts.fetched, counts.failed);
            return 0;
        }
        ks_log_warn("%s failed: %s; trying again in %d s",
                    agent->registered ? "sync" : "registration", err.msg, delay);
        if (sleep_until(agent, monotonic_now() + delay, 0))
            return 1;
        delay = delay * 2 < BACKOFF_MAX_S ? delay * 2 : BACKOFF_MAX_S;
    }
}

/* Runs the passes asked for now (ks_node_agent_sync_now), if any; returns
 * 1 when it ran one. */
static int sync_if_wanted(ks_node_agent_t *agent)
{
    ks_node_sync_counts_t counts;
    unsigned long long wanted;
    ks_err_t err = {{0}};
    ks_rc rc;

    pthread_mutex_lock(&agent->lock);
    wanted = agent->wanted;
    pthread_mutex_unlock(&agent->lock);
    if (wanted == agent->done)       /* done is written by this thread only */
        return 0;
    rc = sync(agent, 1, &counts, &err);
    if (rc == KS_OK)
        ks_log_info("sync: asked for now: %lld layers checked, %lld missing, %lld stale, "
                    "%lld extra, %lld fetched, %lld failed", counts.checked, counts.missing,
                    counts.stale, counts.extra, counts.fetched, counts.failed);
    else
        ks_log_warn("sync: asked for now: failed: %s", err.msg);
    pthread_mutex_lock(&agent->lock);
    agent->last_rc = rc;
    agent->last_err = err;
    agent->last_counts = counts;
    agent->done = wanted;
    pthread_cond_broadcast(&agent->done_cond);
    pthread_mutex_unlock(&agent->lock);
    return 1;
}

/* A periodic pass: quiet (debug) when nothing was amiss. */
static void resync(ks_node_agent_t *agent)
{
    ks_node_sync_counts_t counts;
    ks_err_t err = {{0}};

    if (sync(agent, 0, &counts, &err) != KS_OK) {
        ks_log_warn("sync: periodic pass failed: %s; next one in %d s", err.msg,
                    agent->conf->sync_interval_s);
        return;
    }
    if (counts.missing || counts.stale || counts.failed)
        ks_log_info("sync: periodic pass: %lld layers checked, %lld missing, %lld stale,"
                    " %lld fetched, %lld failed", counts.checked, counts.missing, counts.stale,
                    counts.fetched, counts.failed);
    else
        ks_log_debug("sync: periodic pass: %lld layers checked, all right", counts.checked);
}

static void *agent_main(void *arg)
{
    ks_node_agent_t *agent = arg;
    const ks_image_conf_t *conf = agent->conf;
    time_t next_sync;

    agent->beating = 1;
    if (start_up(agent))
        return NULL;
    next_sync = conf->sync_interval_s > 0 ? monotonic_now() + conf->sync_interval_s : 0;
    for (;;) {
        time_t wake = agent->next_beat;
        if (next_sync && next_sync < wake)
            wake = next_sync;
        if (sleep_until(agent, wake, 1))
            return NULL;
        beat_if_due(agent);
        /* A pass asked for now also counts as the periodic one. */
        if (sync_if_wanted(agent) && next_sync)
            next_sync = monotonic_now() + conf->sync_interval_s;
        if (next_sync && monotonic_now() >= next_sync) {
            resync(agent);
            if (stopping(agent))
                return NULL;
            next_sync = monotonic_now() + conf->sync_interval_s;
        }
    }
}

ks_rc ks_node_agent_start(const ks_image_conf_t *conf, ks_node_api_t *api, ks_item_store_t *items,
                          ks_fcgi_server_t *server, ks_node_agent_t **out, ks_err_t *err)
{
    ks_node_agent_t *agent = calloc(1, sizeof *agent);
    pthread_condattr_t attr;
    ks_rc rc;
    int error;

    *out = NULL;
    if (!agent)
        return ks_err(err, KS_NOMEM, "out of memory for the node agent");
    rc = ks_node_api_client_new(api, &agent->client, err);
    if (rc != KS_OK) {
        free(agent);
        return rc;
    }
    agent->conf = conf;
    agent->items = items;
    agent->server = server;
    pthread_mutex_init(&agent->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&agent->cond, &attr);
    pthread_cond_init(&agent->done_cond, &attr);
    pthread_condattr_destroy(&attr);
    error = pthread_create(&agent->thread, NULL, agent_main, agent);
    if (error != 0) {
        ks_node_api_client_free(agent->client);
        pthread_cond_destroy(&agent->cond);
        pthread_cond_destroy(&agent->done_cond);
        pthread_mutex_destroy(&agent->lock);
        free(agent);
        return ks_err(err, KS_ERROR, "pthread_create() of the node agent failed (%d: %s)", error,
                      strerror(error));
    }
    *out = agent;
    return KS_OK;
}

void ks_node_agent_stop(ks_node_agent_t *agent)
{
    if (!agent)
        return;
    pthread_mutex_lock(&agent->lock);
    agent->stopping = 1;
    pthread_cond_signal(&agent->cond);
    pthread_cond_broadcast(&agent->done_cond);
    while (agent->waiters > 0)      /* requests waiting for a pass see the stop and leave */
        pthread_cond_wait(&agent->done_cond, &agent->lock);
    pthread_mutex_unlock(&agent->lock);
    pthread_join(agent->thread, NULL);
    ks_node_api_client_free(agent->client);
    free(agent->verified.entries);
    pthread_cond_destroy(&agent->cond);
    pthread_cond_destroy(&agent->done_cond);
    pthread_mutex_destroy(&agent->lock);
    free(agent);
}

ks_rc ks_node_agent_sync_now(ks_node_agent_t *agent, int timeout_s,
                             ks_node_sync_counts_t *counts, ks_err_t *err)
{
    struct timespec deadline;
    unsigned long long ticket;
    ks_rc rc;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_s;
    pthread_mutex_lock(&agent->lock);
    if (agent->stopping) {
        pthread_mutex_unlock(&agent->lock);
        return ks_err(err, KS_UNAVAILABLE, "the server is stopping");
    }
    ticket = ++agent->wanted;
    agent->waiters++;
    pthread_cond_signal(&agent->cond);
    while (!agent->stopping && agent->done < ticket &&
           pthread_cond_timedwait(&agent->done_cond, &agent->lock, &deadline) == 0)
        ;
    if (agent->done >= ticket) {
        rc = agent->last_rc;
        *counts = agent->last_counts;
        if (rc != KS_OK)
            ks_err(err, rc, "%s", agent->last_err.msg);
    } else {
        rc = ks_err(err, KS_UNAVAILABLE, agent->stopping ? "the server is stopping"
                    : "the sync did not end within %d s (it goes on)", timeout_s);
    }
    if (--agent->waiters == 0 && agent->stopping)
        pthread_cond_broadcast(&agent->done_cond);
    pthread_mutex_unlock(&agent->lock);
    return rc;
}
