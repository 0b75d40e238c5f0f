/* admin_metrics.c: kisekae-admin's counters and their exposition
 * (admin_metrics.h). Requests are atomics indexed by route and status, as
 * the image server's are; only the series that counted something are
 * written.
 */
#include "admin_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include "prom.h"
#include "routes.h"

#define ROUTES_MAX 128              /* routes.c's table, and one for "none matched" */
#define STATUS_MIN 100
#define STATUS_MAX 599
#define STATUS_SLOTS (STATUS_MAX - STATUS_MIN + 1)

static const char *const sign_in_results[KS_SIGN_IN_RESULTS] = {
    [KS_SIGN_IN_OK] = "ok", [KS_SIGN_IN_REFUSED] = "refused", [KS_SIGN_IN_ERROR] = "error"};

static struct {
    atomic_ullong requests[ROUTES_MAX][STATUS_SLOTS];
    ks_prom_histogram_t duration[ROUTES_MAX];
    atomic_ullong sign_ins[KS_SIGN_IN_RESULTS];
    atomic_ullong api_failures[2];
} m;

static ks_prom_server_t *listener;

/* The slot of route index route: the last one for "none matched". */
static int slot_of(int route)
{
    return route >= 0 && route < ROUTES_MAX - 1 ? route : ROUTES_MAX - 1;
}

void ks_admin_metrics_request(int route, int status, double seconds)
{
    int slot = slot_of(route);

    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500;
    atomic_fetch_add_explicit(&m.requests[slot][status - STATUS_MIN], 1, memory_order_relaxed);
    ks_prom_observe(&m.duration[slot], seconds);
}

void ks_admin_metrics_sign_in(int result)
{
    if (result >= 0 && result < KS_SIGN_IN_RESULTS)
        atomic_fetch_add_explicit(&m.sign_ins[result], 1, memory_order_relaxed);
}

void ks_admin_metrics_api_failure(int unavailable)
{
    atomic_fetch_add_explicit(&m.api_failures[unavailable ? 1 : 0], 1, memory_order_relaxed);
}

/* The labels of slot: method="GET",page="/items/{}". */
static void route_labels(int slot, char *out, size_t size)
{
    int count = 0;

    while (ks_routes[count].path && count < ROUTES_MAX - 1)
        count++;
    if (slot < count)
        snprintf(out, size, "method=\"%s\",page=\"%s\"", ks_routes[slot].method,
                 ks_routes[slot].path);
    else
        snprintf(out, size, "method=\"other\",page=\"other\"");
}

void ks_admin_metrics_render(ks_buf_t *out)
{
    char labels[200];
    int family_written = 0;

    ks_prom_family(out, "kisekae_admin_requests_total", "counter",
                   "Requests answered, by page (route: method and path pattern) and HTTP status.");
    for (int r = 0; r < ROUTES_MAX; r++)
        for (int s = 0; s < STATUS_SLOTS; s++) {
            unsigned long long n = atomic_load(&m.requests[r][s]);
            if (!n)
                continue;
            route_labels(r, labels, sizeof labels);
            ks_buf_addf(out, "kisekae_admin_requests_total{%s,status=\"%d\"} %llu\n", labels,
                        s + STATUS_MIN, n);
        }
    /* A histogram family is written with its first series (none before a request). */
    for (int r = 0; r < ROUTES_MAX; r++) {
        if (!atomic_load(&m.duration[r].count))
            continue;                  /* once counted, it is written: counts only grow */
        if (!family_written++)
            ks_prom_family(out, "kisekae_admin_request_duration_seconds", "histogram",
                           "Time from a request's arrival at the app to its answer written, "
                           "by page.");
        route_labels(r, labels, sizeof labels);
        ks_prom_histogram(out, "kisekae_admin_request_duration_seconds", labels, &m.duration[r]);
    }
    ks_prom_family(out, "kisekae_admin_sign_ins_total", "counter",
                   "Sign-in attempts: ok, refused (a wrong name or password, a locked or "
                   "disabled account), error (the admin database did not answer).");
    for (int i = 0; i < KS_SIGN_IN_RESULTS; i++)
        ks_buf_addf(out, "kisekae_admin_sign_ins_total{result=\"%s\"} %llu\n", sign_in_results[i],
                    atomic_load(&m.sign_ins[i]));
    ks_prom_family(out, "kisekae_admin_api_failures_total", "counter",
                   "SOAP calls to the API that failed: answered with a fault, or unavailable "
                   "(no API server answered).");
    ks_buf_addf(out, "kisekae_admin_api_failures_total{kind=\"fault\"} %llu\n",
                atomic_load(&m.api_failures[0]));
    ks_buf_addf(out, "kisekae_admin_api_failures_total{kind=\"unavailable\"} %llu\n",
                atomic_load(&m.api_failures[1]));
}

static void render_listener(void *arg, ks_buf_t *out)
{
    (void)arg;
    ks_admin_metrics_render(out);
}

ks_rc ks_admin_metrics_start(const char *listen, ks_err_t *err)
{
    if (!listen[0])
        return KS_OK;
    return ks_prom_server_start(listen, render_listener, NULL, &listener, err);
}

void ks_admin_metrics_stop(void)
{
    ks_prom_server_stop(listener);
    listener = NULL;
}
