/* api_metrics.c: kisekae-api's counters and their exposition (api_metrics.h).
 *
 * Operations are interned into a fixed table: the name is written under a
 * lock the first time it is seen, then the count published (release); the
 * request path reads the count (acquire) and compares names, lock-free.
 * Only names gSOAP dispatched (wsdl/kisekae.h's operations) and the
 * pseudo-operations are interned, so the table cannot be filled by callers.
 * Fault codes are the stable codes of wsdl/kisekae.h (anything else counts
 * as "other").
 */
#include "api_metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "prom.h"
#include "store.h"

#define OPS_MAX 128
#define OP_NAME_MAX 48

static const char *const fault_codes[] = {
    "NotFound", "InvalidArgument", "NotOwned", "Conflict", "Unauthorized", "Forbidden",
    "TooLarge", "ImageServerUnavailable", "DatabaseUnavailable", "Internal", "other"};
#define FAULT_CODES (int)(sizeof fault_codes / sizeof fault_codes[0])

static struct {
    pthread_mutex_t lock;
    atomic_int count;
    char names[OPS_MAX][OP_NAME_MAX];
    atomic_ullong requests[OPS_MAX];
    atomic_ullong faults[OPS_MAX][FAULT_CODES];
    ks_prom_histogram_t duration[OPS_MAX];
    atomic_ullong cache_hits, cache_misses;
} m = {.lock = PTHREAD_MUTEX_INITIALIZER};

static ks_prom_server_t *listener;
static ks_db_pool_t *listener_pool;
static ks_api_ctx_t listener_ctx;

static int find_op(const char *name, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(m.names[i], name) == 0)
            return i;
    return -1;
}

int ks_api_metrics_op(const char *name)
{
    int count, slot;

    if (!name || !*name || strlen(name) >= OP_NAME_MAX)
        name = KS_API_OP_INVALID;
    count = atomic_load_explicit(&m.count, memory_order_acquire);
    if ((slot = find_op(name, count)) >= 0)
        return slot;
    pthread_mutex_lock(&m.lock);
    count = atomic_load_explicit(&m.count, memory_order_relaxed);
    slot = find_op(name, count);
    if (slot < 0 && count < OPS_MAX) {
        snprintf(m.names[count], OP_NAME_MAX, "%s", name);
        atomic_store_explicit(&m.count, count + 1, memory_order_release);
        slot = count;
    }
    pthread_mutex_unlock(&m.lock);
    /* A full table (it holds every operation: it cannot fill) counts under
     * "invalid", or nowhere (-1) when even that is not in it. */
    return slot >= 0 ? slot : find_op(KS_API_OP_INVALID, count);
}

void ks_api_metrics_request(int op, const char *fault_code, double seconds)
{
    if (op < 0 || op >= OPS_MAX)
        return;
    atomic_fetch_add_explicit(&m.requests[op], 1, memory_order_relaxed);
    if (fault_code) {
        int code = FAULT_CODES - 1;
        for (int i = 0; i < FAULT_CODES - 1; i++)
            if (strcmp(fault_codes[i], fault_code) == 0)
                code = i;
        atomic_fetch_add_explicit(&m.faults[op][code], 1, memory_order_relaxed);
    }
    ks_prom_observe(&m.duration[op], seconds);
}

void ks_api_metrics_avatar_cache(int hit)
{
    atomic_fetch_add_explicit(hit ? &m.cache_hits : &m.cache_misses, 1, memory_order_relaxed);
}

static void render_requests(ks_buf_t *out)
{
    int count = atomic_load_explicit(&m.count, memory_order_acquire), family_written = 0;

    ks_prom_family(out, "kisekae_api_requests_total", "counter",
                   "Requests served, by SOAP operation (or http_avatar, http_wsdl, http_other, "
                   "invalid).");
    for (int i = 0; i < count; i++)
        ks_buf_addf(out, "kisekae_api_requests_total{operation=\"%s\"} %llu\n", m.names[i],
                    atomic_load(&m.requests[i]));
    ks_prom_family(out, "kisekae_api_faults_total", "counter",
                   "Requests answered with a fault, by operation and stable fault code.");
    for (int i = 0; i < count; i++)
        for (int c = 0; c < FAULT_CODES; c++) {
            unsigned long long n = atomic_load(&m.faults[i][c]);
            if (n)
                ks_buf_addf(out, "kisekae_api_faults_total{operation=\"%s\",code=\"%s\"} %llu\n",
                            m.names[i], fault_codes[c], n);
        }
    /* A histogram family is written with its first series (none before a request). */
    for (int i = 0; i < count; i++) {
        char labels[OP_NAME_MAX + 16];
        if (!atomic_load(&m.duration[i].count))
            continue;                  /* once counted, it is written: counts only grow */
        if (!family_written++)
            ks_prom_family(out, "kisekae_api_request_duration_seconds", "histogram",
                           "Time from a request received whole to its answer written, by "
                           "operation.");
        snprintf(labels, sizeof labels, "operation=\"%s\"", m.names[i]);
        ks_prom_histogram(out, "kisekae_api_request_duration_seconds", labels, &m.duration[i]);
    }
}

/* One series of a pool member: name{role,address} value. */
static void member_series(ks_buf_t *out, const char *name, const ks_db_node_status_t *node)
{
    ks_buf_addf(out, "%s{role=\"%s\",address=\"", name, node->is_master ? "master" : "replica");
    ks_prom_label_value(out, node->host);
    ks_buf_addf(out, ":%d\"", node->port);
}

static void render_pool(ks_db_pool_t *pool, ks_buf_t *out)
{
    static const ks_db_state_t states[] = {KS_DB_PENDING, KS_DB_HEALTHY, KS_DB_SHUNNED,
                                           KS_DB_DOWN};
    ks_db_pool_status_t status;

    ks_db_pool_status(pool, &status);
    ks_prom_gauge(out, "kisekae_api_db_pool_generation",
                  "The database pool's configuration generation (1, then +1 per reload).",
                  status.generation);
    ks_prom_family(out, "kisekae_api_db_member_state", "gauge",
                   "1 for the state each database server is in (pending, healthy, shunned, "
                   "down), 0 for the others.");
    for (int i = 0; i < status.node_count; i++)
        for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
            member_series(out, "kisekae_api_db_member_state", &status.nodes[i]);
            ks_buf_addf(out, ",state=\"%s\"} %d\n", ks_db_state_name(states[s]),
                        status.nodes[i].state == states[s]);
        }
    ks_prom_family(out, "kisekae_api_db_member_lag_seconds", "gauge",
                   "A replica's Seconds_Behind_Master at its last check (-1 unknown; the master "
                   "has none).");
    for (int i = 0; i < status.node_count; i++)
        if (!status.nodes[i].is_master) {
            member_series(out, "kisekae_api_db_member_lag_seconds", &status.nodes[i]);
            ks_buf_addf(out, "} %d\n", status.nodes[i].lag_s);
        }
    ks_prom_family(out, "kisekae_api_db_member_reads_total", "counter",
                   "Read statements each database server served for this API server.");
    for (int i = 0; i < status.node_count; i++) {
        member_series(out, "kisekae_api_db_member_reads_total", &status.nodes[i]);
        ks_buf_addf(out, "} %llu\n", status.nodes[i].reads);
    }
}

void ks_api_metrics_render(ks_db_pool_t *pool, ks_api_ctx_t *ctx, ks_buf_t *out)
{
    long long render_queue, deletions;

    render_requests(out);
    ks_prom_counter(out, "kisekae_api_avatar_cache_hits_total",
                    "Avatar reads answered from the memory cache (avatar_cache_ms).",
                    atomic_load(&m.cache_hits));
    ks_prom_counter(out, "kisekae_api_avatar_cache_misses_total",
                    "Avatar reads that went to the database.", atomic_load(&m.cache_misses));
    if (pool)
        render_pool(pool, out);
    if (ctx && ks_store_queue_depths(ctx, &render_queue, &deletions) == KS_OK) {
        ks_prom_gauge(out, "kisekae_api_render_queue_depth",
                      "Avatars waiting in render_queue to be composed again (all API servers).",
                      (unsigned long long)render_queue);
        ks_prom_gauge(out, "kisekae_api_deletion_queue_depth",
                      "Image deletions waiting in image_deletions (all API servers).",
                      (unsigned long long)deletions);
    }
}

static void render_listener(void *arg, ks_buf_t *out)
{
    (void)arg;
    ks_db_session_begin(listener_ctx.db);
    listener_ctx.err.msg[0] = '\0';
    ks_api_metrics_render(listener_pool, &listener_ctx, out);
}

ks_rc ks_api_metrics_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err)
{
    ks_rc rc;

    if (!conf->metrics_listen[0])
        return KS_OK;
    memset(&listener_ctx, 0, sizeof listener_ctx);
    listener_ctx.conf = conf;
    listener_ctx.db = ks_db_session_new(pool);
    if (!listener_ctx.db)
        return ks_err(err, KS_NOMEM, "out of memory for the metrics listener's session");
    listener_pool = pool;
    rc = ks_prom_server_start(conf->metrics_listen, render_listener, NULL, &listener, err);
    if (rc != KS_OK) {
        ks_db_session_free(listener_ctx.db);
        listener_ctx.db = NULL;
    }
    return rc;
}

void ks_api_metrics_stop(void)
{
    ks_prom_server_stop(listener);
    listener = NULL;
    ks_db_session_free(listener_ctx.db);
    listener_ctx.db = NULL;
}
