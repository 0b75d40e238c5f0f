/* miss_cache.h: the image server's short memory of public misses.
 *
 * A GET that nginx did not find in the store reaches the rebuilder
 * (rebuild.h), which asks the API (GetImageRecipe). Its answers that say
 * "not here" — 404 (no such member, photo or version) and 302 (an old
 * version, or another server's member) — are kept here for a few seconds,
 * keyed by the path, so a flood of requests for missing images costs one
 * API call per path and per ttl instead of one per request. This is safe
 * because nginx serves a file that is on disk before the app is ever asked:
 * an image composed meanwhile is served at once, whatever this remembers.
 *
 * The table is bounded: a fixed number of slots chosen by a hash of the
 * path, a newer miss replacing whatever held its slot. One mutex guards it
 * (each call copies at most one entry). Times are the caller's, in
 * milliseconds of a monotonic clock (ks_miss_cache_now_ms).
 */
#ifndef KS_MISS_CACHE_H
#define KS_MISS_CACHE_H

#include <stddef.h>

#define KS_MISS_PATH_MAX 255          /* longer paths are not remembered */
#define KS_MISS_LOCATION_MAX 1023     /* the same as rebuild.h's location */

typedef struct ks_miss_cache ks_miss_cache_t;

/* A table of entries slots keeping each miss ttl_ms (0: remembers nothing),
 * or NULL without memory. Free with ks_miss_cache_free (NULL is ignored). */
ks_miss_cache_t *ks_miss_cache_new(size_t entries, int ttl_ms);
void ks_miss_cache_free(ks_miss_cache_t *cache);

/* Milliseconds of CLOCK_MONOTONIC. */
long long ks_miss_cache_now_ms(void);

/* Remembers that path was answered status (404 or 302; other statuses are
 * ignored) with location (a 302's, else "" or NULL) at now_ms. */
void ks_miss_cache_put(ks_miss_cache_t *cache, const char *path, int status,
                       const char *location, long long now_ms);

/* 1 when path's miss is remembered and younger than the ttl at now_ms:
 * *status and location (location_size bytes, at least
 * KS_MISS_LOCATION_MAX + 1 for any 302) are set and the hit is counted;
 * else 0. */
int ks_miss_cache_get(ks_miss_cache_t *cache, const char *path, long long now_ms, int *status,
                      char *location, size_t location_size);

/* Hits since the start (kisekae_image_miss_cache_hits_total). */
unsigned long long ks_miss_cache_hits(ks_miss_cache_t *cache);

#endif
