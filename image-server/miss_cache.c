/* miss_cache.c: the bounded, direct-mapped table of recent public misses
 * (miss_cache.h). Each slot holds one path; a hash of the path picks the
 * slot, so lookups and inserts cost one hash and one compare, and memory is
 * fixed at start.
 */
#include "miss_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char path[KS_MISS_PATH_MAX + 1];  /* "" when the slot is empty */
    int status;
    long long expires_ms;
    char location[KS_MISS_LOCATION_MAX + 1];
} entry_t;

struct ks_miss_cache {
    pthread_mutex_t lock;
    entry_t *entries;
    size_t count;
    int ttl_ms;
    atomic_ullong hits;
};

ks_miss_cache_t *ks_miss_cache_new(size_t entries, int ttl_ms)
{
    ks_miss_cache_t *cache = calloc(1, sizeof *cache);

    if (!cache)
        return NULL;
    cache->count = entries > 0 ? entries : 1;
    cache->entries = calloc(cache->count, sizeof *cache->entries);
    if (!cache->entries) {
        free(cache);
        return NULL;
    }
    cache->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
    atomic_init(&cache->hits, 0);
    pthread_mutex_init(&cache->lock, NULL);
    return cache;
}

void ks_miss_cache_free(ks_miss_cache_t *cache)
{
    if (!cache)
        return;
    pthread_mutex_destroy(&cache->lock);
    free(cache->entries);
    free(cache);
}

long long ks_miss_cache_now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The slot of path: FNV-1a, 64 bits. */
static entry_t *slot(ks_miss_cache_t *cache, const char *path)
{
    uint64_t hash = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        hash = (hash ^ *p) * 1099511628211ULL;
    return &cache->entries[hash % cache->count];
}

void ks_miss_cache_put(ks_miss_cache_t *cache, const char *path, int status,
                       const char *location, long long now_ms)
{
    entry_t *entry;

    if (cache->ttl_ms == 0 || (status != 404 && status != 302) || !path[0] ||
        strlen(path) > KS_MISS_PATH_MAX ||
        (location && strlen(location) > KS_MISS_LOCATION_MAX) ||
        (status == 302 && (!location || !location[0])))
        return;
    pthread_mutex_lock(&cache->lock);
    entry = slot(cache, path);
    strcpy(entry->path, path);
    entry->status = status;
    entry->expires_ms = now_ms + cache->ttl_ms;
    snprintf(entry->location, sizeof entry->location, "%s", status == 302 ? location : "");
    pthread_mutex_unlock(&cache->lock);
}

int ks_miss_cache_get(ks_miss_cache_t *cache, const char *path, long long now_ms, int *status,
                      char *location, size_t location_size)
{
    entry_t *entry;
    int hit = 0;

    if (cache->ttl_ms == 0)
        return 0;
    pthread_mutex_lock(&cache->lock);
    entry = slot(cache, path);
    if (entry->path[0] && strcmp(entry->path, path) == 0) {
        if (now_ms < entry->expires_ms && strlen(entry->location) < location_size) {
            *status = entry->status;
            strcpy(location, entry->location);
            hit = 1;
        } else if (now_ms >= entry->expires_ms) {
            entry->path[0] = '\0';             /* expired: the slot is free again */
        }
    }
    pthread_mutex_unlock(&cache->lock);
    if (hit)
        atomic_fetch_add(&cache->hits, 1);
    return hit;
}

unsigned long long ks_miss_cache_hits(ks_miss_cache_t *cache)
{
    return (unsigned long long)atomic_load(&cache->hits);
}
