/* image_skip.c: a short in-process list of image servers that did not
 * answer when a new member's first images were composed on them.
 *
 * CreateAvatar tries the next candidate when the chosen server fails (a new
 * member has no images anywhere yet); the list makes the following
 * creations on this API server leave that server out at once, instead of
 * each waiting for it in turn until its silence marks it down in the
 * database. Each API server keeps its own list: no database write, and an
 * entry simply expires after KS_IMAGE_SKIP_S seconds, so a server that
 * comes back is chosen again soon. Shared by all worker threads under one
 * mutex.
 */
#include "image_skip.h"
#include <pthread.h>
#include <time.h>
#include "api.h"

static struct {
    pthread_mutex_t lock;
    int id[KS_IMAGE_SERVERS_MAX];
    double at[KS_IMAGE_SERVERS_MAX];     /* monotonic seconds of the failure */
    int count;
} skip = {.lock = PTHREAD_MUTEX_INITIALIZER};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Drops the entries older than KS_IMAGE_SKIP_S (lock held). */
static void expire(double now)
{
    int kept = 0;

    for (int i = 0; i < skip.count; i++) {
        if (now - skip.at[i] < KS_IMAGE_SKIP_S) {
            skip.id[kept] = skip.id[i];
            skip.at[kept++] = skip.at[i];
        }
    }
    skip.count = kept;
}

void ks_image_skip_add(int id)
{
    double now = now_s();
    int i;

    pthread_mutex_lock(&skip.lock);
    expire(now);
    for (i = 0; i < skip.count && skip.id[i] != id; i++)
        ;
    if (i < KS_IMAGE_SERVERS_MAX) {
        skip.id[i] = id;
        skip.at[i] = now;
        if (i == skip.count)
            skip.count++;
    }
    pthread_mutex_unlock(&skip.lock);
}

int ks_image_skip_list(int *ids, int max)
{
    int n = 0;

    pthread_mutex_lock(&skip.lock);
    expire(now_s());
    for (int i = 0; i < skip.count && n < max; i++)
        ids[n++] = skip.id[i];
    pthread_mutex_unlock(&skip.lock);
    return n;
}
