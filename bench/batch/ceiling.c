/* ceiling.c: ks-bench-batch-ceiling, the compose ceiling of bench/batch.
 *
 *     ks-bench-batch-ceiling --api-url URL... --admin USER:PASSWORD
 *                            --node USER:PASSWORD --server NAME --store DIR
 *                            --out DIR --threads N --mode compare|write
 *                            --recipes FILE
 *
 * Takes the avatar recipe of every member of image server NAME from FILE,
 * or when there is no FILE yet fetches them (ListAvatarsByServer as admin,
 * then GetImageRecipe as a node: the recipes the API sends the image server)
 * and saves them there, so later rounds fetch nothing. Then it times the
 * image server's own code doing a regenerate's work in this process with N
 * threads: parse the recipe (compose_request.c), compose it from the
 * item layers in DIR (the image server's store, read through its item store
 * and layer cache, as kisekae-image sets them up by default), encode the
 * avatar and its thumbnail (image-server/output.c), then
 *
 *   compare  read the stored files in DIR and compare them byte for byte
 *            (what the image server does for an intact member);
 *   write    write both files atomically under --out (temp file, fsync,
 *            rename: what it does for a member whose files are lost).
 *
 * No API, database or network inside the timing. Prints the wall-clock
 * time and the process's CPU time (getrusage: all its threads), e.g.
 *
 *     ceiling compare: 20001 members in 25.10 s, 48.31 CPU-s (4 threads, 0 differ)
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_api.h"
#include "fsutil.h"
#include "compose_request.h"
#include "item_store.h"
#include "progress.h"
#include "output.h"

#define MAX_URLS 8

typedef struct {
    const char *urls[MAX_URLS];
    int url_count;
    char admin_user[64], admin_password[128], node_user[64], node_password[128];
    const char *server, *store, *out, *recipes;
    int threads, write;
} options_t;

typedef struct {
    const options_t *o;
    ks_failover_t *fo;
    char **user_ids, **recipes;
    long count;
    atomic_long next;
    atomic_int failed, differ;
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
        else if (strcmp(name, "--recipes") == 0)
            o->recipes = value;
        else if (strcmp(name, "--mode") == 0 && strcmp(value, "compare") == 0)
            o->write = 0;
        else if (strcmp(name, "--mode") == 0 && strcmp(value, "write") == 0)
            o->write = 1;
        else
            return -1;
    }
    return o->url_count && o->admin_user[0] && o->node_user[0] && o->server && o->store &&
                   o->out && o->recipes && o->threads >= 1 && o->threads <= 64
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

/* 1 when store/relative holds exactly data[0..size). */
static int same_file(const char *store, const char *relative, const void *data, size_t size)
{
    char path[4096];
    unsigned char *stored;
    size_t stored_size;
    ks_err_t err;
    int same;

    snprintf(path, sizeof path, "%s/%s", store, relative);
    if (ks_file_read(path, size, &stored, &stored_size, &err) != KS_OK)
        return 0;
    same = stored_size == size && memcmp(stored, data, size) == 0;
    free(stored);
    return same;
}

/* The timed work: what the image server does for a member. */
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
        ks_output_t output;
        ks_err_t err;
        ks_rc rc;

        if (!w->recipes[i])
            continue;
        rc = ks_compose_request_parse(w->recipes[i], strlen(w->recipes[i]), KS_REQUEST_COMPOSE,
                                      2048, 2048, req, &err);
        if (rc == KS_OK)
            rc = ks_output_render(w->items, w->scenes, req, &canvas, &err);
        if (rc == KS_OK) {
            if (w->o->write) {
                rc = ks_output_store(w->o->out, w->items, w->scenes, req, &canvas, &output, &err);
            } else {
                rc = ks_output_encode(req, &canvas, &output, &err);
                if (rc == KS_OK && (!same_file(w->o->store, output.path, output.image,
                                               output.image_size) ||
                                    (output.thumb &&
                                     !same_file(w->o->store, output.thumb_path, output.thumb,
                                                output.thumb_size))))
                    atomic_fetch_add(&w->differ, 1);
            }
            ks_output_free(&output);
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

/* Saves the recipes: per member "<user_id> <bytes>\n" and the recipe. */
static int save_recipes(const char *path, const work_t *w)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    for (long i = 0; i < w->count; i++)
        fprintf(f, "%s %zu\n%s", w->user_ids[i], strlen(w->recipes[i]), w->recipes[i]);
    return fclose(f) == 0 ? 0 : -1;
}

/* Loads what save_recipes wrote; -1 when there is no such file. */
static int load_recipes(const char *path, work_t *w)
{
    FILE *f = fopen(path, "r");
    char user_id[KS_USER_ID_MAX + 1];
    size_t size;
    long capacity = 0;

    if (!f)
        return -1;
    while (fscanf(f, "%64s %zu", user_id, &size) == 2 && fgetc(f) == '\n' &&
           size <= KS_COMPOSE_MAX_BODY) {
        char *recipe = malloc(size + 1);
        if (w->count == capacity) {
            capacity = capacity ? capacity * 2 : 1024;
            w->user_ids = realloc(w->user_ids, sizeof *w->user_ids * (size_t)capacity);
            w->recipes = realloc(w->recipes, sizeof *w->recipes * (size_t)capacity);
        }
        if (!recipe || !w->user_ids || !w->recipes || fread(recipe, 1, size, f) != size)
            break;
        recipe[size] = '\0';
        w->user_ids[w->count] = strdup(user_id);
        w->recipes[w->count++] = recipe;
    }
    fclose(f);
    return w->count > 0 ? 0 : -1;
}

/* Lists the server's members and fetches their recipes through the API. */
static int fetch_recipes(const options_t *o, work_t *w)
{
    ks_failover_t node;
    ks_err_t err;
    double started = ks_progress_now();

    if (list_members(o, w, &err) != KS_OK) {
        fprintf(stderr, "ks-bench-batch-ceiling: %s\n", err.msg);
        return -1;
    }
    w->recipes = calloc((size_t)w->count + 1, sizeof *w->recipes);
    ks_failover_init(&node, o->node_user, o->node_password, 120);
    for (int i = 0; i < o->url_count; i++)
        ks_failover_add_url(&node, o->urls[i], &err);
    w->fo = &node;
    if (!w->recipes || run_threads(o->threads, fetch_main, w) != 0 || atomic_load(&w->failed)) {
        fprintf(stderr, "ks-bench-batch-ceiling: fetching the recipes failed\n");
        return -1;
    }
    printf("fetched %ld recipes in %.1f s (not timed)\n", w->count, ks_progress_now() - started);
    return 0;
}

static double cpu_seconds(void)
{
    struct rusage usage;

    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    options_t o;
    work_t w = {0};
    ks_item_store_options_t store_options = {0};
    ks_err_t err;
    double started, cpu, seconds;

    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: ks-bench-batch-ceiling --api-url URL... --admin USER:PASSWORD "
                        "--node USER:PASSWORD --server NAME --store DIR --out DIR --threads N "
                        "--mode compare|write --recipes FILE\n");
        return 2;
    }
    w.o = &o;
    if (load_recipes(o.recipes, &w) != 0) {
        if (fetch_recipes(&o, &w) != 0)
            return 1;
        if (save_recipes(o.recipes, &w) != 0) {
            fprintf(stderr, "ks-bench-batch-ceiling: cannot write \"%s\"\n", o.recipes);
            return 1;
        }
    }

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
    cpu = cpu_seconds();
    if (run_threads(o.threads, compose_main, &w) != 0) {
        fprintf(stderr, "ks-bench-batch-ceiling: pthread_create() failed\n");
        return 1;
    }
    seconds = ks_progress_now() - started;
    cpu = cpu_seconds() - cpu;
    if (atomic_load(&w.failed)) {
        fprintf(stderr, "ks-bench-batch-ceiling: %d members failed\n", atomic_load(&w.failed));
        return 1;
    }
    printf("ceiling %s: %ld members in %.2f s, %.2f CPU-s (%d threads, %d differ)\n",
           o.write ? "write" : "compare", w.count, seconds, cpu, o.threads,
           atomic_load(&w.differ));
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
