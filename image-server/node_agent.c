/* node_agent.c: registration, start-up sync and heartbeats (node_agent.h),
 * through the gSOAP client stubs of wsdl/kisekae.h.
 *
 * The sync trusts only the API: each layer's PNG is hashed here and compared
 * with the manifest's sha256, and what is missing or stale is fetched from
 * the database's canonical copy (GetItemLayer) and stored through
 * ks_item_store_put, which checks the sha256 again and writes atomically. A
 * layer that cannot be fetched is counted and logged; the API's pushes and
 * compose repairs still reach it later, and the next start tries again.
 */
#include "node_agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "soapH.h"
#include "Kisekae.nsmap"
#include "log.h"

#define KS__MANIFEST_PAGE 500
#define KS__BACKOFF_MAX_S 60
#define KS__PROGRESS_EVERY 1000     /* layers between progress lines of the sync */

struct ks_node_agent {
    const ks_image_conf_t *conf;
    ks_item_store_t *items;
    ks_fcgi_server_t *server;
    struct soap *soap;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;            /* on CLOCK_MONOTONIC */
    int stopping;
};

/* Waits seconds, or less when the agent is stopped; returns 1 when stopping. */
static int ks__sleep(ks_node_agent_t *agent, int seconds)
{
    struct timespec until;
    int stopping;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&agent->lock);
    while (!agent->stopping &&
           pthread_cond_timedwait(&agent->cond, &agent->lock, &until) == 0)
        ;
    stopping = agent->stopping;
    pthread_mutex_unlock(&agent->lock);
    return stopping;
}

static int ks__stopping(ks_node_agent_t *agent)
{
    int stopping;

    pthread_mutex_lock(&agent->lock);
    stopping = agent->stopping;
    pthread_mutex_unlock(&agent->lock);
    return stopping;
}

/* Prepares the next call: gSOAP clears the credentials after every call. */
static struct soap *ks__call(ks_node_agent_t *agent)
{
    struct soap *soap = agent->soap;

    soap_destroy(soap);
    soap_end(soap);
    soap->userid = agent->conf->api_user;
    soap->passwd = agent->conf->api_password;
    return soap;
}

/* What a failed call says: the KisekaeFault's code and message, or gSOAP's. */
static void ks__describe(struct soap *soap, char *code, size_t code_size, ks_err_t *err)
{
    const char *fault_code = "";
    const char *message = NULL;

    if (soap->fault && soap->fault->detail && soap->fault->detail->ks__KisekaeFault) {
        fault_code = soap->fault->detail->ks__KisekaeFault->code;
        message = soap->fault->detail->ks__KisekaeFault->message;
    }
    snprintf(code, code_size, "%s", fault_code ? fault_code : "");
    if (!message) {
        const char *string = soap_fault_string(soap);
        const char *detail = soap_fault_detail(soap);
        message = string ? string : detail ? detail : "no answer";
    }
    ks_err(err, KS_UNAVAILABLE, "%s (gSOAP error %d%s%s)", message, soap->error,
           *code ? ", " : "", code);
}

static ks_rc ks__register(ks_node_agent_t *agent, ks_err_t *err)
{
    const ks_image_conf_t *conf = agent->conf;
    struct ks__RegisterImageServerResponse response = {0};
    struct soap *soap = ks__call(agent);
    char code[64];

    if (soap_call_ks__RegisterImageServer(soap, conf->api_url, NULL, (char *)conf->name,
                                          (char *)conf->internal_url, (char *)conf->public_url,
                                          conf->weight, &response) != SOAP_OK) {
        ks__describe(soap, code, sizeof code, err);
        return KS_UNAVAILABLE;
    }
    ks_log_info("registered with the API at %s as \"%s\" (id %d, mode %s)", conf->api_url,
                conf->name, response.server ? response.server->id : 0,
                response.server && response.server->mode ? response.server->mode : "?");
    return KS_OK;
}

typedef struct {
    long long checked, missing, stale, fetched, failed;
} ks__sync_counts_t;

/* Fetches one layer from the API and stores it. */
static ks_rc ks__fetch(ks_node_agent_t *agent, int item_id, int layer_no, ks_err_t *err)
{
    struct ks__GetItemLayerResponse response = {0};
    struct soap *soap = ks__call(agent);
    char code[64];

    if (soap_call_ks__GetItemLayer(soap, agent->conf->api_url, NULL, item_id, layer_no,
                                   &response) != SOAP_OK) {
        ks__describe(soap, code, sizeof code, err);
        return KS_UNAVAILABLE;
    }
    if (!response.sha256 || !response.png.__ptr || response.png.__size <= 0)
        return ks_err(err, KS_ERROR, "GetItemLayer %d/%d: empty answer", item_id, layer_no);
    return ks_item_store_put(agent->items, item_id, layer_no, response.png.__ptr,
                             (size_t)response.png.__size, response.sha256, err);
}

/* One pass over the manifest. KS_UNAVAILABLE when the manifest could not be
 * read (the pass is then tried again); failed layers are only counted. */
static ks_rc ks__sync(ks_node_agent_t *agent, ks__sync_counts_t *counts, ks_err_t *err)
{
    int offset = 0;

    memset(counts, 0, sizeof *counts);
    for (;;) {
        struct ks__GetCatalogManifestResponse page = {0};
        struct ks__ManifestLayer *layers;
        int limit = KS__MANIFEST_PAGE, count, page_offset = offset;
        struct soap *soap = ks__call(agent);
        char code[64];

        if (soap_call_ks__GetCatalogManifest(soap, agent->conf->api_url, NULL, &page_offset,
                                             &limit, &page) != SOAP_OK) {
            ks__describe(soap, code, sizeof code, err);
            return KS_UNAVAILABLE;
        }
        count = page.__sizelayer;
        if (count == 0)
            return KS_OK;
        /* The next calls reuse the arena: keep this page's layers aside. */
        layers = malloc((size_t)count * sizeof *layers);
        if (!layers)
            return ks_err(err, KS_NOMEM, "out of memory for a manifest page");
        for (int i = 0; i < count; i++) {
            layers[i] = page.layer[i];
            layers[i].sha256 = NULL;
            if (page.layer[i].sha256 && strlen(page.layer[i].sha256) < KS_SHA256_HEX_SIZE)
                layers[i].sha256 = strdup(page.layer[i].sha256);
        }
        for (int i = 0; i < count && !ks__stopping(agent); i++) {
            ks_err_t layer_err = {{0}};
            ks_rc rc;

            if (++counts->checked % KS__PROGRESS_EVERY == 0)
                ks_log_info("sync: %lld of %lld layers checked", counts->checked,
                            (long long)page.total);
            if (!layers[i].sha256) {
                counts->failed++;
                ks_log_warn("sync: layer %d/%d: the manifest gives no valid sha256",
                            layers[i].itemId, layers[i].layerNo);
                continue;
            }
            rc = ks_item_store_check(agent->items, layers[i].itemId, layers[i].layerNo,
                                     layers[i].sha256, &layer_err);
            if (rc == KS_OK)
                continue;
            if (rc == KS_NOTFOUND)
                counts->missing++;
            else
                counts->stale++;
            ks_log_info("sync: %s: fetching it from the API", layer_err.msg);
            if ((rc = ks__fetch(agent, layers[i].itemId, layers[i].layerNo, &layer_err)) == KS_OK)
                counts->fetched++;
            else {
                counts->failed++;
                ks_log_warn("sync: layer %d/%d not repaired: %s", layers[i].itemId,
                            layers[i].layerNo, layer_err.msg);
            }
        }
        for (int i = 0; i < count; i++)
            free(layers[i].sha256);
        free(layers);
        if (ks__stopping(agent))
            return KS_OK;
        if (count < limit)
            return KS_OK;
        offset += count;
    }
}

static ks_rc ks__heartbeat(ks_node_agent_t *agent, char *code, size_t code_size, ks_err_t *err)
{
    struct ks__HeartbeatResponse response = {0};
    ks_item_store_stats_t stats;
    struct statvfs fs;
    LONG64 free_bytes = 0;
    struct soap *soap;

    ks_item_store_stats(agent->items, &stats);
    if (statvfs(agent->conf->store, &fs) == 0)
        free_bytes = (LONG64)fs.f_bavail * (LONG64)fs.f_frsize;
    soap = ks__call(agent);
    code[0] = '\0';
    if (soap_call_ks__Heartbeat(soap, agent->conf->api_url, NULL, (char *)agent->conf->name,
                                (LONG64)stats.layers_stored,
                                (LONG64)ks_fcgi_server_avatars_composed(agent->server),
                                free_bytes, &response) != SOAP_OK) {
        ks__describe(soap, code, code_size, err);
        return KS_UNAVAILABLE;
    }
    return KS_OK;
}

static void *ks__main(void *arg)
{
    ks_node_agent_t *agent = arg;
    ks__sync_counts_t counts;
    ks_err_t err = {{0}};
    int delay = 1, registered = 0, synced = 0, beating = 1;

    /* Register and sync, trying again with a growing delay. */
    while (!synced) {
        ks_rc rc = registered ? KS_OK : ks__register(agent, &err);
        if (rc == KS_OK) {
            registered = 1;
            ks_log_info("sync: comparing the item store with the API's manifest");
            rc = ks__sync(agent, &counts, &err);
        }
        if (rc == KS_OK && ks__stopping(agent))
            return NULL;
        if (rc == KS_OK) {
            synced = 1;
            ks_log_info("sync: done: %lld layers checked, %lld missing, %lld stale, %lld fetched,"
                        " %lld failed", counts.checked, counts.missing, counts.stale,
                        counts.fetched, counts.failed);
            break;
        }
        ks_log_warn("%s with the API at %s failed: %s; trying again in %d s",
                    registered ? "sync" : "registration", agent->conf->api_url, err.msg, delay);
        if (ks__sleep(agent, delay))
            return NULL;
        delay = delay * 2 < KS__BACKOFF_MAX_S ? delay * 2 : KS__BACKOFF_MAX_S;
    }

    while (!ks__sleep(agent, agent->conf->heartbeat_interval_s)) {
        char code[64];
        if (ks__heartbeat(agent, code, sizeof code, &err) == KS_OK) {
            if (!beating)
                ks_log_info("heartbeat: the API answers again");
            beating = 1;
            continue;
        }
        /* The row was removed, or the database lost it: register again. */
        if (strcmp(code, "NotFound") == 0 && ks__register(agent, &err) == KS_OK)
            continue;
        if (beating)   /* once per outage, not once per beat */
            ks_log_warn("heartbeat to %s failed: %s", agent->conf->api_url, err.msg);
        beating = 0;
    }
    return NULL;
}

ks_rc ks_node_agent_start(const ks_image_conf_t *conf, ks_item_store_t *items,
                          ks_fcgi_server_t *server, ks_node_agent_t **out, ks_err_t *err)
{
    ks_node_agent_t *agent = calloc(1, sizeof *agent);
    pthread_condattr_t attr;
    int error;

    *out = NULL;
    if (!agent || !(agent->soap = soap_new1(SOAP_XML_STRICT))) {
        free(agent);
        return ks_err(err, KS_NOMEM, "out of memory for the node agent");
    }
    agent->conf = conf;
    agent->items = items;
    agent->server = server;
    agent->soap->connect_timeout = conf->api_timeout_s;
    agent->soap->send_timeout = conf->api_timeout_s;
    agent->soap->recv_timeout = conf->api_timeout_s;
    pthread_mutex_init(&agent->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&agent->cond, &attr);
    pthread_condattr_destroy(&attr);
    error = pthread_create(&agent->thread, NULL, ks__main, agent);
    if (error != 0) {
        soap_free(agent->soap);
        pthread_cond_destroy(&agent->cond);
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
    pthread_mutex_unlock(&agent->lock);
    pthread_join(agent->thread, NULL);
    soap_destroy(agent->soap);
    soap_end(agent->soap);
    soap_free(agent->soap);
    pthread_cond_destroy(&agent->cond);
    pthread_mutex_destroy(&agent->lock);
    free(agent);
}
