/* metrics.h: the image server's counters in the Prometheus text format.
 *
 * The FastCGI front (fcgi_server.c) records every request it answers, by
 * route (the PROTOCOL.md endpoint it reached) and HTTP status, with its
 * duration in a histogram per route, and every image it composed by kind;
 * GET /metrics on the internal side renders them with the gauges the caller
 * reads at that moment (store, layer cache, rebuilds) as exposition format
 * 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Recording is lock-free (atomics), so every worker thread records at once.
 */
#ifndef KS_METRICS_H
#define KS_METRICS_H

#include <stddef.h>
#include "buf.h"

/* What a request reached; ks_metrics_route_name gives its label. */
typedef enum {
    KS_ROUTE_OTHER,           /* anything else (404) */
    KS_ROUTE_HEALTH,          /* GET /health */
    KS_ROUTE_METRICS,         /* GET /metrics */
    KS_ROUTE_ITEM,            /* PUT /internal/items/I/L */
    KS_ROUTE_ARCHIVE,         /* PUT /internal/items/I/L/archive */
    KS_ROUTE_SCENE,           /* PUT /internal/scenes/S */
    KS_ROUTE_COMPOSE,         /* POST /internal/compose */
    KS_ROUTE_PREVIEW,         /* POST /internal/preview */
    KS_ROUTE_ALBUM,           /* POST /internal/album */
    KS_ROUTE_DELETE_MEMBER,   /* DELETE /internal/avatars/U */
    KS_ROUTE_DELETE_PHOTO,    /* DELETE /internal/albums/U/P */
    KS_ROUTE_REBUILD,         /* GET of a lost avatar or photo (nginx's fallback) */
    KS_ROUTE_BATCH,           /* POST /internal/batch */
    KS_ROUTE_SYNC,            /* POST /internal/sync */
    KS_ROUTE_COUNT
} ks_metrics_route_t;

/* What was composed and stored (a preview is composed, not stored). */
typedef enum {
    KS_COMPOSED_AVATAR,
    KS_COMPOSED_PREVIEW,
    KS_COMPOSED_ALBUM,
    KS_COMPOSED_COUNT
} ks_metrics_composed_t;

typedef struct ks_metrics ks_metrics_t;

/* The values read when /metrics is asked for. */
typedef struct {
    unsigned long long store_free_bytes;  /* statvfs of the store's file system */
    size_t items_stored;
    size_t layer_cache_entries, layer_cache_bytes, layer_cache_capacity;
    unsigned long long layer_cache_hits, layer_cache_misses, layer_cache_evictions;
    unsigned long long images_rebuilt;
    unsigned long long miss_cache_hits;   /* rebuild misses answered from memory */
    int threads;
} ks_metrics_gauges_t;

/* A new set of zeroed counters, or NULL without memory; free with ks_metrics_free. */
ks_metrics_t *ks_metrics_new(void);
void ks_metrics_free(ks_metrics_t *metrics);

const char *ks_metrics_route_name(ks_metrics_route_t route);

/* Records one answered request: its route, HTTP status and duration. */
void ks_metrics_request(ks_metrics_t *metrics, ks_metrics_route_t route, int status,
                        double seconds);

/* Records one image composed (and stored, but for a preview). */
void ks_metrics_composed(ks_metrics_t *metrics, ks_metrics_composed_t kind);

/* Avatars and album photos composed and stored since the start (the
 * avatars_composed of /health and the heartbeat). */
unsigned long long ks_metrics_stored_total(ks_metrics_t *metrics);

/* Appends the exposition text of every metric to out (check out->overflow). */
void ks_metrics_render(ks_metrics_t *metrics, const ks_metrics_gauges_t *gauges, ks_buf_t *out);

#endif
