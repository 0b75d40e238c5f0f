/* ceiling.c: ks-bench-batch-ceiling, the compose ceiling of bench/batch.
 *
 *     ks-bench-batch-ceiling --api-url URL... --admin USER:PASSWORD
 *                            --node USER:PASSWORD --server NAME --store DIR
 *                            --out DIR --threads N
 *
 * Fetches once, before any timing, the avatar recipe of every member of
 * image server NAME (ListAvatarsByServer as admin, then GetImageRecipe as a
 * node, the recipe the API sends the image server), then times the image
 * server's own code doing that work in this process with N threads: parse
 * the recipe (compose_request.c), compose it from the item layers in DIR
 * (the image server's store, read through its item store and layer cache,
 * as kisekae-image sets them up by default), encode the avatar and its
 * thumbnail and write both atomically under --out (render.c, as a missing
 * file is written). No API, database or network inside the timing. Prints
 *
 *     ceiling: 20000 members in 25.1 s: 797.0 members/s (4 threads)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_api.h"
#include "compose_request.h"
#include "item_store.h"
#include "progress.h"
#include "render.h"

#define MAX_URLS 8

typedef struct {
    const char *urls[MAX_URLS];
    int url_count;
    char admin_user[64], admin_password[128], node_user[64], node_password[128];
    const char *server, *store, *out;
    int threads;
} options_t;

typedef struct {
    const options_t *o;
    ks_failover_t *fo;
    char **user_ids, **recipes;
    long count;
    atomic_long next;
    atomic_int failed;
    ks_item_store_t *items, *scenes;
} work_t;

static int credentials(const char *value, char *user, size_t user_size, char *password,
                       size_t password_size)
{
    const char *colon = value ? strchr(value, ':') : NULL;

    if (!colon || (size_t)(colon - value) >= user_size || strlen(colon + 1) >= password_size)
        return -1;
    memcpy(user, value, (size_t)(colon - value));
    user[colon - value] = '\0';
    strcpy(password, colon + 1);
    return 0;
}

static int parse(int argc, char **argv, options_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *name = argv[i], *value = argv[i + 1];
        if (strcmp(name, "--api-url") == 0 && o->url_count < MAX_URLS)
            o->urls[o->url_count++] = value;
        else if (strcmp(name, "--admin") == 0)
            credentials(value, o->admin_user, sizeof o->admin_user, o->admin_password,
                        sizeof o->admin_password);
        else if (strcmp(name, "--node") == 0)
            credentials(value, o->node_user, sizeof o->node_user, o->node_password,
                        sizeof o->node_password);
        else if (strcmp(name, "--server") == 0)
            o->server = value;
        else if (strcmp(name, "--store") == 0)
            o->store = value;
        else if (strcmp(name, "--out") == 0)
            o->out = value;
        else if (strcmp(name, "--threads") == 0)
            o->threads = atoi(value);
        else
            return -1;
    }
    return o->url_count && o->admin_user[0] && o->node_user[0] && o->server && o->store &&
                   o->out && o->threads >= 1 && o->threads <= 64
               ? 0 : -1;
}

/* Every member of the server, in userId order. */
static ks_rc list_members(const options_t *o, work_t *w, ks_err_t *err)
{
    ks_failover_t fo;
    ks_batch_api_t *api;
    char after[KS_USER_ID_MAX + 1] = "";
    long capacity = 0;
    ks_rc rc;

    ks_failover_init(&fo, o->admin_user, o->admin_password, 120);
    for (int i = 0; i < o->url_count; i++)
        ks_failover_add_url(&fo, o->urls[i], err);
    rc = ks_batch_api_new(&fo, &api, err);
    while (rc == KS_OK) {
        ks_batch_member_t *page;
        const char *next;
        int count, member_count;
        rc = ks_batch_api_list(api, o->server, after[0] ? after : NULL, 1000, &page, &count,
                               &next, &member_count, err);
        for (int i = 0; rc == KS_OK && i < count; i++) {
            if (w->count == capacity) {
                capacity = capacity ? capacity * 2 : 1024;
                w->user_ids = realloc(w->user_ids, sizeof *w->user_ids * (size_t)capacity);
                if (!w->user_ids)
                    return ks_err(err, KS_NOMEM, "out of memory");
            }
            w->user_ids[w->count++] = strdup(page[i].user_id);
        }
        if (rc != KS_OK || !next || count == 0)
            break;
        snprintf(after, sizeof after, "%s", page[count - 1].user_id);
    }
    ks_batch_api_free(api);
    return rc;
}

static void *fetch_main(void *arg)
{
    work_t *w = arg;
    ks_batch_api_t *api;
    ks_err_t err;
    long i;

    if (ks_batch_api_new(w->fo, &api, &err) != KS_OK) {
        atomic_fetch_add(&w->failed, 1);
        return NULL;
    }
    while ((i = atomic_fetch_add(&w->next, 1)) < w->count) {
        const char *route, *recipe;
        if (ks_batch_api_recipe(api, w->user_ids[i], &route, &recipe, &err) != KS_OK ||
            strcmp(route, "compose") != 0) {
            fprintf(stderr, "ks-bench-batch-ceiling: %s: %s\n", w->user_ids[i], err.msg);
            atomic_fetch_add(&w->failed, 1);
            continue;
        }
        w->recipes[i] = strdup(recipe);
    }
    ks_batch_api_free(api);
    return NULL;
}

/* The timed work: what the image server does for a missing avatar. */
static void *compose_main(void *arg)
{
    work_t *w = arg;
    ks_compose_request_t *req = malloc(sizeof *req);
    long i;

    if (!req) {
        atomic_fetch_add(&w->failed, 1);
        return NULL;
    }
    while ((i = atomic_fetch_add(&w->next, 1)) < w->count) {
        ks_image_t canvas;
        ks_render_output_t output;
        ks_err_t err;
        ks_rc rc;

        if (!w->recipes[i])
            continue;
        rc = ks_compose_request_parse(w->recipes[i], strlen(w->recipes[i]), KS_REQUEST_COMPOSE,
                                      2048, 2048, req, &err);
        if (rc == KS_OK)
            rc = ks_render(w->items, w->scenes, req, &canvas, &err);
        if (rc == KS_OK) {
            rc = ks_render_store(w->o->out, req, &canvas, &output, &err);
            ks_render_output_free(&output);
            ks_image_free(&canvas);
        }
        if (rc != KS_OK) {
            fprintf(stderr, "ks-bench-batch-ceiling: %s: %s\n", w->user_ids[i], err.msg);
            atomic_fetch_add(&w->failed, 1);
        }
    }
    free(req);
    return NULL;
}

static int run_threads(int count, void *(*fn)(void *), work_t *w)
{
    pthread_t threads[64];
    int started = 0;

    atomic_store(&w->next, 0);
    for (; started < count; started++)
        if (pthread_create(&threads[started], NULL, fn, w) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    return started == count ? 0 : -1;
}

int main(int argc, char **argv)
{
    options_t o;
    work_t w = {0};
    ks_failover_t node;
    ks_item_store_options_t store_options = {0};
    ks_err_t err;
    double started, seconds;

    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: ks-bench-batch-ceiling --api-url URL... --admin USER:PASSWORD "
                        "--node USER:PASSWORD --server NAME --store DIR --out DIR --threads N\n");
        return 2;
    }
    w.o = &o;
    if (list_members(&o, &w, &err) != KS_OK) {
        fprintf(stderr, "ks-bench-batch-ceiling: %s\n", err.msg);
        return 1;
    }
    w.recipes = calloc((size_t)w.count + 1, sizeof *w.recipes);
    ks_failover_init(&node, o.node_user, o.node_password, 120);
    for (int i = 0; i < o.url_count; i++)
        ks_failover_add_url(&node, o.urls[i], &err);
    w.fo = &node;
    started = ks_progress_now();
    if (!w.recipes || run_threads(o.threads, fetch_main, &w) != 0 || atomic_load(&w.failed)) {
        fprintf(stderr, "ks-bench-batch-ceiling: fetching the recipes failed\n");
        return 1;
    }
    printf("fetched %ld recipes in %.1f s (not timed)\n", w.count, ks_progress_now() - started);

    /* As kisekae-image sets up its stores with its default options. */
    ks_png_limits_default(&store_options.png_limits);
    store_options.png_limits.max_width = 2048;
    store_options.png_limits.max_height = 2048;
    store_options.png_limits.max_decoded_bytes = (size_t)2048 * 2048 * 4;
    store_options.max_layer_bytes = 2u << 20;
    store_options.cache_bytes = 64u << 20;
    if (ks_item_store_new(o.store, &store_options, &w.items, &err) != KS_OK) {
        fprintf(stderr, "ks-bench-batch-ceiling: %s\n", err.msg);
        return 1;
    }
    store_options.folder = "scenes";
    store_options.cache_bytes = (64u << 20) / 4;
    if (ks_item_store_new(o.store, &store_options, &w.scenes, &err) != KS_OK) {
        fprintf(stderr, "ks-bench-batch-ceiling: %s\n", err.msg);
        return 1;
    }
    started = ks_progress_now();
    if (run_threads(o.threads, compose_main, &w) != 0) {
        fprintf(stderr, "ks-bench-batch-ceiling: pthread_create() failed\n");
        return 1;
    }
    seconds = ks_progress_now() - started;
    if (atomic_load(&w.failed)) {
        fprintf(stderr, "ks-bench-batch-ceiling: %d members failed\n", atomic_load(&w.failed));
        return 1;
    }
    printf("ceiling: %ld members in %.2f s: %.1f members/s (%d threads)\n", w.count, seconds,
           (double)w.count / seconds, o.threads);
    ks_item_store_free(w.items);
    ks_item_store_free(w.scenes);
    for (long i = 0; i < w.count; i++) {
        free(w.user_ids[i]);
        free(w.recipes[i]);
    }
    free(w.user_ids);
    free(w.recipes);
    return 0;
}
