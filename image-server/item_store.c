/* item_store.c: item layers on disk and the LRU cache of decoded layers.
 *
 * Cache entries live in a chained hash table keyed by (item_id, layer_no) and
 * on an LRU list, both guarded by one mutex. An entry's refs counts the cache
 * (1 while it is in the table) plus every caller holding it: eviction or
 * replacement only unlinks the entry and drops the cache's reference, and the
 * last release frees it. So a compose never sees its layer freed under it;
 * the memory of layers in use can briefly exceed the budget, by at most what
 * the running composes hold.
 *
 * On disk each layer has its canonical PNG and, beside it, its layer file
 * (layer_file.h): the same pixels premultiplied, which a miss maps instead
 * of decoding. Loading happens outside the lock; two threads that miss on
 * the same layer both load it and the second one to finish uses the first
 * one's entry.
 *
 * Art an item layer had before it was replaced is kept only for the album
 * photos drawn with it, at <store>/archive/<item>/<layer>-<sha256>.png: it is
 * written when a photo must be composed again (ks_item_store_put_archived),
 * and read by a load that finds the layer's current art under another
 * sha256. Such a layer is decoded each time and never cached (the cache
 * holds one sha256 per layer: the current art).
 */
#include "item_store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "layer_file.h"
#include "paths.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct ks_item_layer {
    int item_id, layer_no;
    char sha256[KS_SHA256_HEX_SIZE];
    ks_image_t image;                  /* premultiplied; in map when mapped */
    ks_layer_map_t map;                /* the layer file, when loaded from one */
    size_t bytes;                      /* what it costs the cache */
    unsigned refs;                     /* callers, plus 1 while cached */
    int cached;                        /* in the table and on the LRU list */
    int archived;                      /* old art from archive/: never cached */
    struct ks_item_layer *hash_next;
    struct ks_item_layer *lru_prev, *lru_next;   /* lru_head is the most recent */
};

struct ks_item_store {
    char *dir;                         /* the store root */
    const char *folder;                /* "items" or "scenes", under dir */
    ks_item_store_options_t options;

    pthread_mutex_t lock;              /* guards everything below */
    ks_item_layer_t **buckets;
    size_t bucket_count;               /* a power of two */
    ks_item_layer_t *lru_head, *lru_tail;
    size_t entries, bytes;
    size_t layers_stored;
    unsigned long long hits, misses, evictions;
};

static size_t hash(int item_id, int layer_no)
{
    uint64_t h = ((uint64_t)(uint32_t)item_id << 32) | (uint32_t)layer_no;

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h;
}

static ks_item_layer_t **find_slot(ks_item_store_t *store, int item_id, int layer_no)
{
    ks_item_layer_t **slot = &store->buckets[hash(item_id, layer_no)
                                             & (store->bucket_count - 1)];

    while (*slot != NULL && ((*slot)->item_id != item_id || (*slot)->layer_no != layer_no))
        slot = &(*slot)->hash_next;
    return slot;
}

static void layer_unref(ks_item_layer_t *layer)
{
    if (--layer->refs == 0) {
        if (layer->map.map != NULL)
            ks_layer_file_unmap(&layer->map);
        else
            ks_image_free(&layer->image);
        free(layer);
    }
}

static void lru_unlink(ks_item_store_t *store, ks_item_layer_t *layer)
{
    if (layer->lru_prev != NULL)
        layer->lru_prev->lru_next = layer->lru_next;
    else
        store->lru_head = layer->lru_next;
    if (layer->lru_next != NULL)
        layer->lru_next->lru_prev = layer->lru_prev;
    else
        store->lru_tail = layer->lru_prev;
    layer->lru_prev = layer->lru_next = NULL;
}

static void lru_push_front(ks_item_store_t *store, ks_item_layer_t *layer)
{
    layer->lru_prev = NULL;
    layer->lru_next = store->lru_head;
    if (store->lru_head != NULL)
        store->lru_head->lru_prev = layer;
    store->lru_head = layer;
    if (store->lru_tail == NULL)
        store->lru_tail = layer;
}

/* Takes a cached entry out of the cache (lock held) and drops the cache's
 * reference; callers still holding it keep it alive. */
static void uncache(ks_item_store_t *store, ks_item_layer_t *layer)
{
    ks_item_layer_t **slot = find_slot(store, layer->item_id, layer->layer_no);

    if (*slot == layer)
        *slot = layer->hash_next;
    layer->hash_next = NULL;
    lru_unlink(store, layer);
    layer->cached = 0;
    store->entries--;
    store->bytes -= layer->bytes;
    layer_unref(layer);
}

/* Doubles the table when it gets as many entries as buckets (lock held). A
 * failed allocation just keeps the chains longer. */
static void maybe_grow(ks_item_store_t *store)
{
    size_t count = store->bucket_count * 2;
    ks_item_layer_t **buckets;

    if (store->entries < store->bucket_count)
        return;
    buckets = calloc(count, sizeof *buckets);
    if (buckets == NULL)
        return;
    for (size_t i = 0; i < store->bucket_count; i++) {
        ks_item_layer_t *layer = store->buckets[i];
        while (layer != NULL) {
            ks_item_layer_t *next = layer->hash_next;
            size_t index = hash(layer->item_id, layer->layer_no) & (count - 1);
            layer->hash_next = buckets[index];
            buckets[index] = layer;
            layer = next;
        }
    }
    free(store->buckets);
    store->buckets = buckets;
    store->bucket_count = count;
}

/* Counts <store>/items/<digits>/<name>.png files, not temp files. */
static size_t count_layers(const char *items_dir)
{
    DIR *items = opendir(items_dir);
    struct dirent *entry;
    size_t count = 0;

    if (items == NULL)
        return 0;
    while ((entry = readdir(items)) != NULL) {
        char path[PATH_MAX];
        DIR *item;
        struct dirent *file;

        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", items_dir, entry->d_name) >= (int)sizeof path)
            continue;
        item = opendir(path);
        if (item == NULL)
            continue;
        while ((file = readdir(item)) != NULL) {
            size_t length = strlen(file->d_name);
            if (file->d_name[0] != '.' && length > 4
                && strcmp(file->d_name + length - 4, ".png") == 0)
                count++;
        }
        closedir(item);
    }
    closedir(items);
    return count;
}

ks_rc ks_item_store_new(const char *store_dir, const ks_item_store_options_t *options,
                        ks_item_store_t **out, ks_err_t *err)
{
    ks_item_store_t *store;
    char items_dir[PATH_MAX];

    *out = NULL;
    const char *folder = options->folder != NULL ? options->folder : "items";
    if (strcmp(folder, "items") != 0 && strcmp(folder, "scenes") != 0)
        return ks_err(err, KS_INVALID, "item store: folder \"%s\" is not items or scenes",
                      folder);
    if (snprintf(items_dir, sizeof items_dir, "%s/%s", store_dir, folder) >= (int)sizeof items_dir)
        return ks_err(err, KS_INVALID, "store path too long \"%.64s...\"", store_dir);
    store = calloc(1, sizeof *store);
    if (store == NULL)
        return ks_err(err, KS_NOMEM, "item store: out of memory");
    store->dir = strdup(store_dir);
    store->bucket_count = 256;
    store->buckets = calloc(store->bucket_count, sizeof *store->buckets);
    if (store->dir == NULL || store->buckets == NULL) {
        free(store->dir);
        free(store->buckets);
        free(store);
        return ks_err(err, KS_NOMEM, "item store: out of memory");
    }
    store->options = *options;
    store->folder = folder;
    pthread_mutex_init(&store->lock, NULL);
    store->layers_stored = count_layers(items_dir);
    *out = store;
    return KS_OK;
}

void ks_item_store_free(ks_item_store_t *store)
{
    if (store == NULL)
        return;
    while (store->lru_head != NULL)
        uncache(store, store->lru_head);
    pthread_mutex_destroy(&store->lock);
    free(store->buckets);
    free(store->dir);
    free(store);
}

/* What messages call an entry: "layer 12/0" or "scene 3/0". */
static const char *noun(const ks_item_store_t *store)
{
    return strcmp(store->folder, "scenes") == 0 ? "scene" : "layer";
}

static ks_rc layer_path(const ks_item_store_t *store, int item_id, int layer_no,
                            char *path, size_t size, ks_err_t *err)
{
    int length;

    if (item_id < 0 || layer_no < 0)
        return ks_err(err, KS_INVALID, "%s %d/%d: invalid number", noun(store), item_id,
                      layer_no);
    length = snprintf(path, size, "%s/%s/%d/%d.png", store->dir, store->folder, item_id,
                      layer_no);
    if (length < 0 || (size_t)length >= size)
        return ks_err(err, KS_INVALID, "%s %d/%d: store path too long", noun(store), item_id, layer_no);
    return KS_OK;
}

/* The layer file beside the PNG: ".../<layer>.kl". */
static ks_rc layer_file_path(const ks_item_store_t *store, int item_id, int layer_no,
                                 char *path, size_t size, ks_err_t *err)
{
    ks_rc rc = layer_path(store, item_id, layer_no, path, size, err);
    size_t length = strlen(path);

    if (rc != KS_OK)
        return rc;
    if (length < 4)
        return ks_err(err, KS_INVALID, "%s %d/%d: store path too long", noun(store), item_id, layer_no);
    strcpy(path + length - 4, ".kl");
    return KS_OK;
}

/* Old art of a layer: ".../archive/<item>/<layer>-<sha256>.png". */
static ks_rc archived_path(const ks_item_store_t *store, int item_id, int layer_no,
                               const char *sha256_hex, char *path, size_t size, ks_err_t *err)
{
    int length;

    if (strcmp(store->folder, "items") != 0)
        return ks_err(err, KS_INVALID, "%s %d/%d: only item layers are archived",
                      noun(store), item_id, layer_no);
    if (item_id < 0 || layer_no < 0 || !ks_sha256_hex_valid(sha256_hex))
        return ks_err(err, KS_INVALID, "%s %d/%d: invalid number or sha256", noun(store),
                      item_id, layer_no);
    length = snprintf(path, size, "%s/archive/%d/%d-%s.png", store->dir, item_id, layer_no,
                      sha256_hex);
    if (length < 0 || (size_t)length >= size)
        return ks_err(err, KS_INVALID, "%s %d/%d: store path too long", noun(store),
                      item_id, layer_no);
    return KS_OK;
}

ks_rc ks_item_store_check(ks_item_store_t *store, int item_id, int layer_no,
                          const char *sha256_hex, ks_err_t *err)
{
    char path[PATH_MAX], actual[KS_SHA256_HEX_SIZE];
    ks_err_t read_err = {{0}};
    unsigned char *png = NULL;
    size_t size = 0;
    ks_rc rc;

    rc = layer_path(store, item_id, layer_no, path, sizeof path, err);
    if (rc != KS_OK)
        return rc;
    rc = ks_file_read(path, store->options.max_layer_bytes, &png, &size, &read_err);
    if (rc == KS_NOTFOUND)
        return ks_err(err, KS_NOTFOUND, "%s %d/%d missing", noun(store), item_id, layer_no);
    if (rc == KS_TOOLARGE)
        return ks_err(err, KS_CONFLICT, "%s %d/%d stale: stored file is over max_layer_bytes",
                      noun(store), item_id, layer_no);
    if (rc != KS_OK)
        return ks_err(err, KS_ERROR, "%s %d/%d: %s", noun(store), item_id, layer_no,
                      read_err.msg);
    ks_sha256_hex(png, size, actual);
    free(png);
    if (strcmp(actual, sha256_hex) != 0)
        return ks_err(err, KS_CONFLICT, "%s %d/%d stale", noun(store), item_id, layer_no);
    return KS_OK;
}

int ks_item_store_has(ks_item_store_t *store, int item_id, int layer_no)
{
    char path[PATH_MAX];
    struct stat st;

    if (layer_path(store, item_id, layer_no, path, sizeof path, NULL) != KS_OK)
        return 0;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Decodes png into a straight RGBA image, prefixing errors with the layer. */
static ks_rc decode(const ks_item_store_t *store, int item_id, int layer_no,
                        const void *png, size_t size, ks_image_t *image, ks_err_t *err)
{
    ks_err_t decode_err = {{0}};
    ks_rc rc = ks_png_decode(png, size, &store->options.png_limits, image, &decode_err);

    if (rc != KS_OK)
        return ks_err(err, rc, "%s %d/%d: %s", noun(store), item_id, layer_no, decode_err.msg);
    return KS_OK;
}

ks_rc ks_item_store_put(ks_item_store_t *store, int item_id, int layer_no, const void *png,
                        size_t size, const char *sha256_hex, ks_err_t *err)
{
    char path[PATH_MAX], layer_file[PATH_MAX], actual[KS_SHA256_HEX_SIZE];
    ks_image_t image = {0};
    ks_item_layer_t **slot;
    int existed;
    ks_rc rc;

    rc = layer_path(store, item_id, layer_no, path, sizeof path, err);
    if (rc != KS_OK)
        return rc;
    if (size > store->options.max_layer_bytes)
        return ks_err(err, KS_TOOLARGE, "%s %d/%d: PNG is %zu bytes, over the limit of %zu",
                      noun(store), item_id, layer_no, size, store->options.max_layer_bytes);
    if (!ks_sha256_hex_valid(sha256_hex))
        return ks_err(err, KS_INVALID, "%s %d/%d: sha256 is not 64 lowercase hex digits",
                      noun(store), item_id, layer_no);
    ks_sha256_hex(png, size, actual);
    if (strcmp(actual, sha256_hex) != 0)
        return ks_err(err, KS_INVALID, "%s %d/%d: body has sha256 %s, expected %s", noun(store), item_id,
                      layer_no, actual, sha256_hex);

    rc = decode(store, item_id, layer_no, png, size, &image, err);
    if (rc != KS_OK)
        return rc;

    /* The layer file first: if the PNG write then fails, the old PNG stays
     * with a layer file of another sha256, which loading ignores. */
    ks_image_premultiply(&image);
    rc = layer_file_path(store, item_id, layer_no, layer_file, sizeof layer_file, err);
    if (rc == KS_OK)
        rc = ks_layer_file_write(layer_file, &image, sha256_hex, err);
    ks_image_free(&image);
    if (rc != KS_OK)
        return rc;

    existed = access(path, F_OK) == 0;
    rc = ks_file_write_atomic(path, png, size, err);
    if (rc != KS_OK)
        return rc;

    pthread_mutex_lock(&store->lock);
    if (!existed)
        store->layers_stored++;
    slot = find_slot(store, item_id, layer_no);
    if (*slot != NULL && strcmp((*slot)->sha256, sha256_hex) != 0)
        uncache(store, *slot);
    pthread_mutex_unlock(&store->lock);
    return KS_OK;
}

ks_rc ks_item_store_put_archived(ks_item_store_t *store, int item_id, int layer_no,
                                 const void *png, size_t size, const char *sha256_hex,
                                 ks_err_t *err)
{
    char path[PATH_MAX], actual[KS_SHA256_HEX_SIZE];
    ks_image_t image = {0};
    ks_rc rc;

    rc = archived_path(store, item_id, layer_no, sha256_hex, path, sizeof path, err);
    if (rc != KS_OK)
        return rc;
    if (size > store->options.max_layer_bytes)
        return ks_err(err, KS_TOOLARGE, "%s %d/%d: PNG is %zu bytes, over the limit of %zu",
                      noun(store), item_id, layer_no, size, store->options.max_layer_bytes);
    ks_sha256_hex(png, size, actual);
    if (strcmp(actual, sha256_hex) != 0)
        return ks_err(err, KS_INVALID, "%s %d/%d: body has sha256 %s, expected %s",
                      noun(store), item_id, layer_no, actual, sha256_hex);
    rc = decode(store, item_id, layer_no, png, size, &image, err);
    ks_image_free(&image);
    if (rc != KS_OK)
        return rc;
    return ks_file_write_atomic(path, png, size, err);
}

/* Reads the archived art of (item_id, layer_no) at sha256_hex into *png:
 * KS_OK, or KS_NOTFOUND when there is none (or it does not hash right). */
static ks_rc read_archived(ks_item_store_t *store, int item_id, int layer_no,
                               const char *sha256_hex, unsigned char **png, size_t *size)
{
    char path[PATH_MAX], actual[KS_SHA256_HEX_SIZE];
    ks_err_t ignored = {{0}};

    if (archived_path(store, item_id, layer_no, sha256_hex, path, sizeof path,
                          &ignored) != KS_OK ||
        ks_file_read(path, store->options.max_layer_bytes, png, size, &ignored) != KS_OK)
        return KS_NOTFOUND;
    ks_sha256_hex(*png, *size, actual);
    if (strcmp(actual, sha256_hex) == 0)
        return KS_OK;
    free(*png);
    *png = NULL;
    return KS_NOTFOUND;
}

/* Looks up a cached layer with the wanted sha256 and takes a reference on it
 * (lock held). */
static ks_item_layer_t *lookup(ks_item_store_t *store, int item_id, int layer_no,
                                   const char *sha256_hex)
{
    ks_item_layer_t *layer = *find_slot(store, item_id, layer_no);

    if (layer == NULL || strcmp(layer->sha256, sha256_hex) != 0)
        return NULL;
    layer->refs++;
    lru_unlink(store, layer);
    lru_push_front(store, layer);
    return layer;
}

/* A new uncached entry with one reference (the caller's) holding image. */
static ks_item_layer_t *layer_new(int item_id, int layer_no, const char *sha256_hex)
{
    ks_item_layer_t *layer = calloc(1, sizeof *layer);

    if (layer != NULL) {
        layer->item_id = item_id;
        layer->layer_no = layer_no;
        memcpy(layer->sha256, sha256_hex, KS_SHA256_HEX_SIZE);
        layer->refs = 1;
    }
    return layer;
}

/* Loads a layer from disk into a new uncached entry with one reference (the
 * caller's): mapped from its layer file when that is of the wanted sha256,
 * otherwise read from the PNG, checked, decoded, and its layer file written
 * again for the next time. */
static ks_rc load(ks_item_store_t *store, int item_id, int layer_no,
                      const char *sha256_hex, ks_item_layer_t **out, ks_err_t *err)
{
    char path[PATH_MAX], layer_file[PATH_MAX], actual[KS_SHA256_HEX_SIZE];
    unsigned char *png = NULL;
    size_t size = 0;
    ks_err_t read_err = {{0}};
    ks_item_layer_t *layer;
    ks_rc rc;

    rc = layer_file_path(store, item_id, layer_no, layer_file, sizeof layer_file, err);
    if (rc != KS_OK)
        return rc;
    layer = layer_new(item_id, layer_no, sha256_hex);
    if (layer == NULL)
        return ks_err(err, KS_NOMEM, "%s %d/%d: out of memory", noun(store), item_id, layer_no);
    if (ks_layer_file_map(layer_file, sha256_hex, store->options.png_limits.max_width,
                          store->options.png_limits.max_height, &layer->map,
                          &read_err) == KS_OK) {
        layer->image = layer->map.image;
        layer->bytes = sizeof *layer + layer->map.map_size;
        *out = layer;
        return KS_OK;
    }

    rc = layer_path(store, item_id, layer_no, path, sizeof path, err);
    if (rc == KS_OK)
        rc = ks_file_read(path, store->options.max_layer_bytes, &png, &size, &read_err);
    if (rc == KS_NOTFOUND)
        rc = ks_err(err, KS_CONFLICT, "%s %d/%d missing", noun(store), item_id, layer_no);
    else if (rc == KS_TOOLARGE)
        rc = ks_err(err, KS_CONFLICT, "%s %d/%d stale: stored file is over max_layer_bytes",
                    noun(store), item_id, layer_no);
    else if (rc != KS_OK && read_err.msg[0] != '\0')
        rc = ks_err(err, rc, "%s %d/%d: %s", noun(store), item_id, layer_no, read_err.msg);
    if (rc == KS_OK) {
        ks_sha256_hex(png, size, actual);
        if (strcmp(actual, sha256_hex) != 0)
            rc = ks_err(err, KS_CONFLICT, "%s %d/%d stale", noun(store), item_id, layer_no);
    }
    if (rc == KS_CONFLICT && strcmp(store->folder, "items") == 0) {
        free(png);
        png = NULL;
        if (read_archived(store, item_id, layer_no, sha256_hex, &png, &size) == KS_OK) {
            layer->archived = 1;
            rc = KS_OK;
        }
    }
    if (rc == KS_OK) {
        rc = decode(store, item_id, layer_no, png, size, &layer->image, err);
        /* It decoded when it was stored: the file or the limits changed since. */
        if (rc != KS_OK && rc != KS_NOMEM)
            rc = KS_ERROR;
    }
    free(png);
    if (rc != KS_OK) {
        free(layer);
        return rc;
    }
    ks_image_premultiply(&layer->image);
    /* Best effort: without its layer file the layer is decoded again next
     * time, which is slower but as right. (The layer file is the current
     * art's: old art never replaces it.) */
    if (!layer->archived)
        (void)ks_layer_file_write(layer_file, &layer->image, sha256_hex, &read_err);
    layer->bytes = sizeof *layer + layer->image.stride * layer->image.height;
    *out = layer;
    return KS_OK;
}

ks_rc ks_item_store_acquire(ks_item_store_t *store, int item_id, int layer_no,
                            const char *sha256_hex, ks_item_layer_t **out, ks_err_t *err)
{
    ks_item_layer_t *layer, *raced, **slot;
    ks_rc rc;

    *out = NULL;
    if (!ks_sha256_hex_valid(sha256_hex))
        return ks_err(err, KS_INVALID, "%s %d/%d: sha256 is not 64 lowercase hex digits",
                      noun(store), item_id, layer_no);

    pthread_mutex_lock(&store->lock);
    layer = lookup(store, item_id, layer_no, sha256_hex);
    if (layer != NULL)
        store->hits++;
    else
        store->misses++;
    pthread_mutex_unlock(&store->lock);
    if (layer != NULL) {
        *out = layer;
        return KS_OK;
    }

    rc = load(store, item_id, layer_no, sha256_hex, &layer, err);
    if (rc != KS_OK)
        return rc;

    pthread_mutex_lock(&store->lock);
    raced = lookup(store, item_id, layer_no, sha256_hex);
    if (raced != NULL) {
        layer_unref(layer);
        layer = raced;
    } else if (!layer->archived && layer->bytes <= store->options.cache_bytes) {
        slot = find_slot(store, item_id, layer_no);
        if (*slot != NULL)
            uncache(store, *slot);    /* another sha256 of the same layer */
        /* Make room first, so the new entry is never its own victim. */
        while (store->lru_tail != NULL
               && store->bytes + layer->bytes > store->options.cache_bytes) {
            uncache(store, store->lru_tail);
            store->evictions++;
        }
        maybe_grow(store);
        slot = find_slot(store, item_id, layer_no);
        layer->hash_next = NULL;
        *slot = layer;
        lru_push_front(store, layer);
        layer->cached = 1;
        layer->refs++;
        store->entries++;
        store->bytes += layer->bytes;
    }
    /* else: old art, or larger than the whole cache; the caller's reference
     * is the only one. */
    pthread_mutex_unlock(&store->lock);
    *out = layer;
    return KS_OK;
}

const ks_image_t *ks_item_layer_image(const ks_item_layer_t *layer)
{
    return &layer->image;
}

void ks_item_store_release(ks_item_store_t *store, ks_item_layer_t *layer)
{
    if (layer == NULL)
        return;
    pthread_mutex_lock(&store->lock);
    layer_unref(layer);
    pthread_mutex_unlock(&store->lock);
}

void ks_item_store_stats(ks_item_store_t *store, ks_item_store_stats_t *stats)
{
    pthread_mutex_lock(&store->lock);
    stats->layers_stored = store->layers_stored;
    stats->cache_entries = store->entries;
    stats->cache_bytes = store->bytes;
    stats->cache_capacity = store->options.cache_bytes;
    stats->cache_hits = store->hits;
    stats->cache_misses = store->misses;
    stats->cache_evictions = store->evictions;
    pthread_mutex_unlock(&store->lock);
}
