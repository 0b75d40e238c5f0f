/* item_store.h: the item layers an image server holds, on disk and decoded.
 *
 * On disk each layer is its canonical PNG at <store>/items/<id>/<layer>.png,
 * replaced atomically by PUT. For composing, decoded layers are kept in a
 * bounded LRU cache in memory, premultiplied and keyed by (item, layer) with
 * the sha256 they were decoded from, so a compose that names another sha256
 * than the cached one rereads the file. A layer handed out by acquire stays
 * valid until it is released, even if the cache drops it meanwhile. All
 * functions are thread-safe.
 */
#ifndef KS_ITEM_STORE_H
#define KS_ITEM_STORE_H

#include <stddef.h>
#include "image.h"
#include "ks.h"
#include "png_codec.h"
#include "sha256.h"

typedef struct ks_item_store ks_item_store_t;
typedef struct ks_item_layer ks_item_layer_t;   /* a decoded layer, reference-counted */

typedef struct {
    const char *folder;            /* "items" (NULL too) or "scenes": the store's
                                      <folder>/<id>/<layer>.png; scenes are
                                      stored as layer 0 of their id */
    size_t max_layer_bytes;        /* largest PNG accepted or read back */
    ks_png_limits_t png_limits;    /* decoding limits */
    size_t cache_bytes;            /* decoded layers kept in memory; 0 keeps none */
} ks_item_store_options_t;

typedef struct {
    size_t layers_stored;          /* layer files in the store (counted at start, then
                                      kept up to date by put) */
    size_t cache_entries;
    size_t cache_bytes;            /* bytes held by the cache (pixels and bookkeeping) */
    size_t cache_capacity;
    unsigned long long cache_hits, cache_misses, cache_evictions;
} ks_item_store_stats_t;

/* Opens the store under store_dir (which must hold items/ or be able to) and
 * counts the layers it holds. *out is freed with ks_item_store_free. */
ks_rc ks_item_store_new(const char *store_dir, const ks_item_store_options_t *options,
                        ks_item_store_t **out, ks_err_t *err);

/* Frees the store and its cache. Every acquired layer must be released first. */
void ks_item_store_free(ks_item_store_t *store);

/* Stores one layer: checks that png hashes to sha256_hex (KS_INVALID when
 * not), decodes it under the limits (KS_INVALID or KS_TOOLARGE when it does
 * not decode) and writes it atomically. Nothing changes on failure. Messages
 * start with "layer <item>/<layer>: ". */
ks_rc ks_item_store_put(ks_item_store_t *store, int item_id, int layer_no, const void *png,
                        size_t size, const char *sha256_hex, ks_err_t *err);

/* Keeps old art of a layer, replaced since, for the album photos drawn with
 * it (items only): checks the sha256 and that it decodes as put does, then
 * writes <store>/archive/<item>/<layer>-<sha256>.png atomically. The layer's
 * current art is untouched. */
ks_rc ks_item_store_put_archived(ks_item_store_t *store, int item_id, int layer_no,
                                 const void *png, size_t size, const char *sha256_hex,
                                 ks_err_t *err);

/* Whether the store holds (item_id, layer_no) as the PNG of sha256_hex,
 * judged by hashing the PNG file itself (not the layer file's header): KS_OK
 * when it does, KS_NOTFOUND when there is no file, KS_CONFLICT "... stale"
 * when it hashes to something else or is over max_layer_bytes, KS_ERROR when
 * it cannot be read. For the start-up sync; touches no cache. */
ks_rc ks_item_store_check(ks_item_store_t *store, int item_id, int layer_no,
                          const char *sha256_hex, ks_err_t *err);

/* 1 when the store has a PNG file for (item_id, layer_no), whatever its
 * sha256 (a stat(), nothing read), else 0. */
int ks_item_store_has(ks_item_store_t *store, int item_id, int layer_no);

/* Hands out the decoded, premultiplied layer (item_id, layer_no) whose PNG has
 * the given sha256: the current art, or archived old art of that sha256.
 * KS_CONFLICT "layer 12/0 missing" when the store has no such
 * layer, "layer 12/0 stale" when it holds another sha256; KS_ERROR when the
 * stored file cannot be read or decoded. *layer is released with
 * ks_item_store_release. */
ks_rc ks_item_store_acquire(ks_item_store_t *store, int item_id, int layer_no,
                            const char *sha256_hex, ks_item_layer_t **layer, ks_err_t *err);

/* The image of an acquired layer (premultiplied; owned by the layer). */
const ks_image_t *ks_item_layer_image(const ks_item_layer_t *layer);

/* Gives back a layer from ks_item_store_acquire. NULL is ignored. */
void ks_item_store_release(ks_item_store_t *store, ks_item_layer_t *layer);

void ks_item_store_stats(ks_item_store_t *store, ks_item_store_stats_t *stats);

#endif
