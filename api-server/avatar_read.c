/* avatar_read.c: the reads of avatar_read.h.
 *
 * The view cache is a direct-mapped table (a slot per hash of the user id; a
 * newer view takes the slot) under striped locks, so workers seldom wait on
 * each other; it allocates nothing after start.
 *
 * The image servers change rarely (an operator adds one or changes its mode)
 * and are few, so each worker thread keeps a copy of them (its own: read on
 * every request, a shared one would need a lock the workers queue for),
 * loaded again once it is KS_IMAGE_SERVERS_TTL_MS old: a changed public URL
 * reaches the answers within that time.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "avatar_read.h"
#include "api_metrics.h"
#include "paths.h"

#define KS_IMAGE_SERVERS_TTL_MS 2000
#define KS_CACHE_STRIPES 64

typedef struct {
    char user_id[KS_USER_ID_MAX + 1];    /* "" when the slot is empty */
    long long member_id;
    long long loaded_ms;
    unsigned version;
    int image_server_id;
    int animated;
    int worn_count;
    int worn[KS_OUTFIT_MAX];
    uint32_t worn_tint[KS_OUTFIT_MAX];
} cache_entry_t;

static struct {
    cache_entry_t *entries;
    size_t count;                        /* 0: no cache */
    long long ttl_ms;
    pthread_mutex_t stripes[KS_CACHE_STRIPES];
} cache;

static __thread struct {
    ks_image_server_t servers[KS_IMAGE_SERVERS_MAX];
    int count;
    long long loaded_ms;             /* 0: never */
} image_servers;

static size_t slot_of(const char *user_id)
{
    return ks_fnv1a(user_id) % cache.count;
}

ks_rc ks_avatar_cache_init(const ks_api_conf_t *conf, ks_err_t *err)
{
    cache.count = 0;
    cache.ttl_ms = conf->avatar_cache_ms;
    if (!conf->avatar_cache_ms || !conf->avatar_cache_entries)
        return KS_OK;
    cache.entries = calloc((size_t)conf->avatar_cache_entries, sizeof *cache.entries);
    if (!cache.entries)
        return ks_err(err, KS_NOMEM, "out of memory for %d cached avatars",
                      conf->avatar_cache_entries);
    for (int i = 0; i < KS_CACHE_STRIPES; i++)
        pthread_mutex_init(&cache.stripes[i], NULL);
    cache.count = (size_t)conf->avatar_cache_entries;
    return KS_OK;
}

void ks_avatar_cache_free(void)
{
    if (cache.count)
        for (int i = 0; i < KS_CACHE_STRIPES; i++)
            pthread_mutex_destroy(&cache.stripes[i]);
    free(cache.entries);
    cache.entries = NULL;
    cache.count = 0;
}

int ks_avatar_cache_get(const char *user_id, ks_avatar_view_t *out)
{
    size_t slot;
    cache_entry_t *e;
    int found = 0;

    if (!cache.count)
        return 0;
    slot = slot_of(user_id);
    e = &cache.entries[slot];
    pthread_mutex_lock(&cache.stripes[slot % KS_CACHE_STRIPES]);
    if (strcmp(e->user_id, user_id) == 0 && ks_now_ms() - e->loaded_ms < cache.ttl_ms) {
        out->member.id = e->member_id;
        snprintf(out->member.user_id, sizeof out->member.user_id, "%s", user_id);
        out->member.image_server_id = e->image_server_id;
        out->member.version = e->version;
        out->animated = e->animated;
        out->worn_count = e->worn_count;
        memcpy(out->worn, e->worn, (size_t)e->worn_count * sizeof *e->worn);
        memcpy(out->worn_tint, e->worn_tint, (size_t)e->worn_count * sizeof *e->worn_tint);
        found = 1;
    }
    pthread_mutex_unlock(&cache.stripes[slot % KS_CACHE_STRIPES]);
    return found;
}

void ks_avatar_cache_put(const ks_avatar_view_t *view)
{
    size_t slot;
    cache_entry_t *e;

    if (!cache.count || view->worn_count > KS_OUTFIT_MAX)
        return;
    slot = slot_of(view->member.user_id);
    e = &cache.entries[slot];
    pthread_mutex_lock(&cache.stripes[slot % KS_CACHE_STRIPES]);
    snprintf(e->user_id, sizeof e->user_id, "%s", view->member.user_id);
    e->member_id = view->member.id;
    e->loaded_ms = ks_now_ms();
    e->version = view->member.version;
    e->image_server_id = view->member.image_server_id;
    e->animated = view->animated;
    e->worn_count = view->worn_count;
    memcpy(e->worn, view->worn, (size_t)view->worn_count * sizeof *e->worn);
    memcpy(e->worn_tint, view->worn_tint, (size_t)view->worn_count * sizeof *e->worn_tint);
    pthread_mutex_unlock(&cache.stripes[slot % KS_CACHE_STRIPES]);
}

void ks_avatar_forget(const char *user_id)
{
    size_t slot;

    if (!cache.count || !user_id)
        return;
    slot = slot_of(user_id);
    pthread_mutex_lock(&cache.stripes[slot % KS_CACHE_STRIPES]);
    if (strcmp(cache.entries[slot].user_id, user_id) == 0)
        cache.entries[slot].user_id[0] = '\0';
    pthread_mutex_unlock(&cache.stripes[slot % KS_CACHE_STRIPES]);
}

/* Copies server id from the thread's copy when it is fresh; 1 when found. */
static int cached_server(int id, ks_image_server_t *out)
{
    if (!image_servers.loaded_ms || ks_now_ms() - image_servers.loaded_ms >= KS_IMAGE_SERVERS_TTL_MS)
        return 0;
    for (int i = 0; i < image_servers.count; i++)
        if (image_servers.servers[i].id == id) {
            *out = image_servers.servers[i];
            return 1;
        }
    return 0;
}

static ks_rc load_servers(ks_api_ctx_t *ctx, MYSQL *conn)
{
    ks_rc rc;

    if ((rc = ks_store_image_servers(ctx, conn, image_servers.servers, &image_servers.count))
        != KS_OK)
        return rc;
    image_servers.loaded_ms = ks_now_ms();
    return KS_OK;
}

ks_rc ks_avatar_image_server(ks_api_ctx_t *ctx, MYSQL *conn, int id, ks_image_server_t *out)
{
    ks_rc rc;

    if (cached_server(id, out))
        return KS_OK;
    if ((rc = load_servers(ctx, conn)) != KS_OK)
        return rc;
    if (cached_server(id, out))
        return KS_OK;
    return ks_err(&ctx->err, KS_ERROR, "image server %d is in no row of image_servers", id);
}

/* Sorts the worn ids ascending (a handful: insertion sort). */
/* Sorts the worn items by id, each colour with its item. */
static void sort_worn(int *ids, uint32_t *tints, int count)
{
    for (int i = 1; i < count; i++) {
        int v = ids[i], j = i;
        uint32_t t = tints[i];
        for (; j > 0 && ids[j - 1] > v; j--) {
            ids[j] = ids[j - 1];
            tints[j] = tints[j - 1];
        }
        ids[j] = v;
        tints[j] = t;
    }
}

/* The view of member user_id but its image server (ks_store_member_view),
 * what it wears sorted. */
static ks_rc read_view(ks_api_ctx_t *ctx, MYSQL *conn, const char *user_id, ks_avatar_view_t *out)
{
    ks_rc rc;

    if ((rc = ks_store_member_view(ctx, conn, user_id, out)) == KS_OK)
        sort_worn(out->worn, out->worn_tint, out->worn_count);
    return rc;
}

ks_rc ks_avatar_read(ks_api_ctx_t *ctx, const char *user_id, unsigned min_version,
                     ks_avatar_view_t *out)
{
    MYSQL *conn = NULL;
    ks_rc rc;

    if (ks_avatar_cache_get(user_id, out) && out->member.version >= min_version &&
        cached_server(out->member.image_server_id, &out->server)) {
        ks_api_metrics_avatar_cache(1);
        return KS_OK;
    }
    ks_api_metrics_avatar_cache(0);
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    rc = read_view(ctx, conn, user_id, out);
    /* The server that answered (or, after a failover within the call, one of
     * them) is behind the version the caller has seen: read again from the
     * master, through the same connection (the pool sends the call's reads
     * there now, and counts them as the master's reads). */
    if (min_version && (rc == KS_NOTFOUND || (rc == KS_OK && out->member.version < min_version))) {
        ks_db_use_master(ctx->db);
        rc = read_view(ctx, conn, user_id, out);
    }
    if (rc == KS_OK && min_version && out->member.version < min_version)
        rc = ks_err(&ctx->err, KS_NOTFOUND, "member \"%s\" has no version %u yet (it is at %u)",
                    user_id, min_version, out->member.version);
    if (rc != KS_OK ||
        (rc = ks_avatar_image_server(ctx, conn, out->member.image_server_id, &out->server)))
        return rc;
    ks_avatar_cache_put(out);
    return KS_OK;
}

char *ks_avatar_url(struct soap *soap, const ks_avatar_view_t *view, ks_avatar_image_t image)
{
    const char *base = view->server.public_url;
    size_t base_len = strlen(base);
    char path[256], *url;
    int n;

    n = (image == KS_AVATAR_THUMB ? ks_avatar_thumb_path
         : image == KS_AVATAR_ANIM ? ks_avatar_anim_path
                                   : ks_avatar_path)(view->member.user_id, view->member.version,
                                                     path, sizeof path);
    if (n < 0)
        return NULL;
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    if ((url = soap_malloc(soap, base_len + (size_t)n + 2)))
        sprintf(url, "%.*s/%s", (int)base_len, base, path);
    return url;
}

struct ks__Avatar *ks_avatar_soap(struct soap *soap, const ks_avatar_view_t *view)
{
    struct ks__Avatar *a = soap_new_ks__Avatar(soap, -1);

    if (!a)
        return NULL;
    a->userId = soap_strdup(soap, view->member.user_id);
    a->version = (int)view->member.version;
    a->imageServer = soap_strdup(soap, view->server.name);
    a->url = ks_avatar_url(soap, view, KS_AVATAR_IMAGE);
    a->thumbUrl = ks_avatar_url(soap, view, KS_AVATAR_THUMB);
    if (view->animated && !(a->animUrl = ks_avatar_url(soap, view, KS_AVATAR_ANIM)))
        return NULL;
    a->__sizewornItemId = view->worn_count;
    a->wornItemId = soap_malloc(soap, ((size_t)view->worn_count + 1) * sizeof(int));
    if (!a->userId || !a->imageServer || !a->url || !a->thumbUrl || !a->wornItemId)
        return NULL;
    memcpy(a->wornItemId, view->worn, (size_t)view->worn_count * sizeof(int));
    {
        ks_item_tint_t tints[KS_OUTFIT_MAX * 2];
        int n = 0;
        for (int i = 0; i < view->worn_count; i++)
            if (view->worn_tint[i]) {
                tints[n].item_id = view->worn[i];
                snprintf(tints[n++].tint, sizeof tints->tint, "#%06X",
                         (unsigned)(view->worn_tint[i] & 0xffffffu));
            }
        if (ks_store_soap_colours(soap, tints, n, &a->wornColour, &a->__sizewornColour) != KS_OK)
            return NULL;
    }
    return a;
}
