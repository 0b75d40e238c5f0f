/* metrics.c: the image server's counters and their Prometheus exposition
 * (metrics.h). Counters are atomics indexed by route and status, so the
 * FastCGI workers record without a lock; rendering reads each once (a
 * scrape may see one request counted in its status but not yet in its
 * histogram: Prometheus tolerates that). Only the series that counted
 * something are written, so a scrape stays short.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "prom.h"

#define STATUS_MIN 100
#define STATUS_MAX 599
#define STATUS_SLOTS (STATUS_MAX - STATUS_MIN + 1)

static const char *const route_names[KS_ROUTE_COUNT] = {
    [KS_ROUTE_HEALTH] = "health",
    [KS_ROUTE_METRICS] = "metrics",
    [KS_ROUTE_ITEM] = "item",
    [KS_ROUTE_ARCHIVE] = "archive",
    [KS_ROUTE_SCENE] = "scene",
    [KS_ROUTE_COMPOSE] = "compose",
    [KS_ROUTE_PREVIEW] = "preview",
    [KS_ROUTE_ALBUM] = "album",
    [KS_ROUTE_DELETE_MEMBER] = "delete_member",
    [KS_ROUTE_DELETE_PHOTO] = "delete_photo",
    [KS_ROUTE_REBUILD] = "rebuild",
    [KS_ROUTE_BATCH] = "batch",
    [KS_ROUTE_SYNC] = "sync",
    [KS_ROUTE_OTHER] = "other",
};

static const char *const composed_names[KS_COMPOSED_COUNT] = {
    [KS_COMPOSED_AVATAR] = "avatar",
    [KS_COMPOSED_PREVIEW] = "preview",
    [KS_COMPOSED_ALBUM] = "album",
};

struct ks_metrics {
    atomic_ullong requests[KS_ROUTE_COUNT][STATUS_SLOTS];
    ks_prom_histogram_t duration[KS_ROUTE_COUNT];
    atomic_ullong composed[KS_COMPOSED_COUNT];
};

ks_metrics_t *ks_metrics_new(void)
{
    ks_metrics_t *metrics = calloc(1, sizeof *metrics);   /* all-zero atomics are zero */
    return metrics;
}

void ks_metrics_free(ks_metrics_t *metrics)
{
    free(metrics);
}

const char *ks_metrics_route_name(ks_metrics_route_t route)
{
    return (unsigned)route < KS_ROUTE_COUNT ? route_names[route] : "other";
}

void ks_metrics_request(ks_metrics_t *metrics, ks_metrics_route_t route, int status,
                        double seconds)
{
    if ((unsigned)route >= KS_ROUTE_COUNT)
        route = KS_ROUTE_OTHER;
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500;
    atomic_fetch_add(&metrics->requests[route][status - STATUS_MIN], 1);
    ks_prom_observe(&metrics->duration[route], seconds);
}

void ks_metrics_composed(ks_metrics_t *metrics, ks_metrics_composed_t kind)
{
    if ((unsigned)kind < KS_COMPOSED_COUNT)
        atomic_fetch_add(&metrics->composed[kind], 1);
}

unsigned long long ks_metrics_stored_total(ks_metrics_t *metrics)
{
    return atomic_load(&metrics->composed[KS_COMPOSED_AVATAR]) +
           atomic_load(&metrics->composed[KS_COMPOSED_ALBUM]);
}

static void render_requests(ks_metrics_t *metrics, ks_buf_t *out)
{
    ks_prom_family(out, "kisekae_image_requests_total", "counter",
           "FastCGI requests answered, by route and HTTP status.");
    for (int r = 0; r < KS_ROUTE_COUNT; r++) {
        for (int s = 0; s < STATUS_SLOTS; s++) {
            unsigned long long n = atomic_load(&metrics->requests[r][s]);
            if (n)
                ks_buf_addf(out, "kisekae_image_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                            route_names[r], s + STATUS_MIN, n);
        }
    }
    ks_prom_family(out, "kisekae_image_request_duration_seconds", "histogram",
           "Time from a request's arrival at the app to its answer written, by route.");
    for (int r = 0; r < KS_ROUTE_COUNT; r++) {
        char labels[64];
        snprintf(labels, sizeof labels, "route=\"%s\"", route_names[r]);
        ks_prom_histogram(out, "kisekae_image_request_duration_seconds", labels,
                          &metrics->duration[r]);
    }
}

void ks_metrics_render(ks_metrics_t *metrics, const ks_metrics_gauges_t *g, ks_buf_t *out)
{
    render_requests(metrics, out);
    ks_prom_family(out, "kisekae_image_composed_total", "counter",
           "Images composed: avatars and album photos (stored), previews (answered only).");
    for (int k = 0; k < KS_COMPOSED_COUNT; k++)
        ks_buf_addf(out, "kisekae_image_composed_total{kind=\"%s\"} %llu\n", composed_names[k],
                    atomic_load(&metrics->composed[k]));
    ks_prom_counter(out, "kisekae_image_rebuilt_total",
            "Lost avatars and album photos composed again on a GET.", g->images_rebuilt);
    ks_prom_counter(out, "kisekae_image_miss_cache_hits_total",
            "GETs of missing images answered 404 or 302 from memory, without the API "
            "(miss_cache_ms).", g->miss_cache_hits);
    ks_prom_counter(out, "kisekae_image_layer_cache_hits_total",
            "Decoded item layers found in the memory cache.", g->layer_cache_hits);
    ks_prom_counter(out, "kisekae_image_layer_cache_misses_total",
            "Decoded item layers read from the store (not in the cache).", g->layer_cache_misses);
    ks_prom_counter(out, "kisekae_image_layer_cache_evictions_total",
            "Decoded item layers dropped from the cache for room.", g->layer_cache_evictions);
    ks_prom_gauge(out, "kisekae_image_layer_cache_entries", "Decoded item layers in the cache.",
          g->layer_cache_entries);
    ks_prom_gauge(out, "kisekae_image_layer_cache_bytes", "Bytes the cache holds.", g->layer_cache_bytes);
    ks_prom_gauge(out, "kisekae_image_layer_cache_capacity_bytes",
          "The cache's limit (layer_cache_bytes).", g->layer_cache_capacity);
    ks_prom_gauge(out, "kisekae_image_items_stored", "Item layers in the store.", g->items_stored);
    ks_prom_gauge(out, "kisekae_image_store_free_bytes",
          "Bytes free for the server on the store's file system.", g->store_free_bytes);
    ks_prom_gauge(out, "kisekae_image_threads", "FastCGI worker threads.", (unsigned long long)g->threads);
}
