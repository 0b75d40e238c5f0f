/* prom.h: the Prometheus text exposition (format 0.0.4) every daemon's
 * /metrics writes, and the small internal HTTP listener that serves it for
 * the daemons that have no internal side of their own (kisekae-api,
 * kisekae-admin: the metrics_listen option).
 *
 * A daemon keeps its counters as atomics (recording takes no lock, so every
 * worker records at once) and renders them on a scrape with these helpers:
 * a family header (# HELP, # TYPE), one-series counters and gauges, and
 * duration histograms with fixed buckets (1 ms to 10 s).
 * See https://prometheus.io/docs/instrumenting/exposition_formats/.
 */
#ifndef KS_PROM_H
#define KS_PROM_H

#include <stdatomic.h>
#include "buf.h"
#include "ks.h"

/* The Content-Type of an exposition. */
#define KS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Bucket bounds: 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
 * 2.5, 5, 10 seconds, then +Inf. */
#define KS_PROM_BUCKETS 13

/* A duration histogram; all-zero (calloc, static) is empty. */
typedef struct {
    atomic_ullong buckets[KS_PROM_BUCKETS];   /* each observation counts in its first bucket only */
    atomic_ullong count;
    atomic_ullong sum_ns;
} ks_prom_histogram_t;

/* Records one duration (negative counts as 0), without a lock. */
void ks_prom_observe(ks_prom_histogram_t *h, double seconds);

/* Appends "# HELP name help" and "# TYPE name type". */
void ks_prom_family(ks_buf_t *out, const char *name, const char *type, const char *help);
/* A family of one series without labels. */
void ks_prom_counter(ks_buf_t *out, const char *name, const char *help, unsigned long long value);
void ks_prom_gauge(ks_buf_t *out, const char *name, const char *help, unsigned long long value);
/* The series of histogram h (cumulative _bucket lines up to +Inf, _sum,
 * _count) under name with labels ("route=\"compose\"", no braces); writes
 * nothing while h is empty. The family header is the caller's. */
void ks_prom_histogram(ks_buf_t *out, const char *name, const char *labels,
                       ks_prom_histogram_t *h);
/* Appends value escaped for a label value (backslash, double quote, newline). */
void ks_prom_label_value(ks_buf_t *out, const char *value);

/* The internal listener: one thread answering GET (or HEAD) /metrics with
 * what render appends to its buffer (up to 1 MiB), 404 elsewhere, one
 * connection at a time, each closed after its answer. */
typedef void (*ks_prom_render_fn)(void *arg, ks_buf_t *out);
typedef struct ks_prom_server ks_prom_server_t;

/* Listens on listen ("host:port", see net.h) and starts the thread. Returns
 * KS_OK with *out set (stop it with ks_prom_server_stop), or the error. */
ks_rc ks_prom_server_start(const char *listen, ks_prom_render_fn render, void *arg,
                           ks_prom_server_t **out, ks_err_t *err);
/* Stops the thread, closes the socket and frees server; NULL does nothing. */
void ks_prom_server_stop(ks_prom_server_t *server);

#endif
