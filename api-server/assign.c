/* assign.c: the image server of a new member, chosen in memory (assign.h).
 *
 * The rule is the one kisekae always had: the active server with the fewest
 * members per unit of weight takes the next member (ties: the lowest id).
 * What changed is where the counts come from. CreateAvatar used to lock
 * every active server's row FOR UPDATE until its COMMIT, so that the next
 * creation saw this one's count: creations ran one after another, compose
 * included. Now each API process reads the servers' rows without a lock and
 * adds what it knows that they do not show yet: its creations in flight and
 * its committed members not yet added to member_count (pending). The count
 * is added right after the COMMIT in a statement of its own (store.c,
 * ks_store_assigned; the member's INSERT skips the foreign key's shared lock
 * on the server's row, so that statement waits for no compose), and when
 * that fails by the renderer's next round (ks_store_member_counts_flush).
 *
 * Why this and not the alternatives:
 * - Weighted rendezvous hashing on the user id needs no counts, but its
 *   shares are only statistical (about 0.4 points of spread at 10,000
 *   members) and it never fills a server added later or one that lost
 *   members: it keeps splitting new members by weight whatever each holds.
 * - A smooth weighted round robin per API server is exact per process but
 *   blind to the counts: it needs seeding and re-seeding from them to fill a
 *   new server, which is this rule again.
 * Fewest-per-weight on counts corrected by what the process itself is doing
 * gives each process exact shares (it is a divisor method of apportionment:
 * after n picks from equal starting loads each server is within about one
 * member of n * weight / total), several processes creating at once each spread
 * their own creations that way, so together they stay within a member or
 * two per process of the weights, and a new or emptied server is filled
 * first as before. What it gives up: a process does not see another's
 * creations in flight (at most its worker threads' number), so when the
 * loads differ two processes may both fill the emptiest server with those
 * few; member_count lags a creation from its COMMIT to the statement right
 * after it (longer only when that statement fails); and a creation that
 * picked a server just before SetImageServerMode drained it still lands
 * there (the row lock used to make the mode change wait for it); every call
 * that starts after the change leaves the server out.
 */
#include <pthread.h>
#include <stdlib.h>
#include "assign.h"

typedef struct {
    int id;                       /* 0: a free slot */
    long long in_flight;          /* creations picked here and not finished */
    long long pending;            /* created here, not yet in member_count */
} slot_t;

struct ks_assign {
    pthread_mutex_t lock;
    slot_t slots[KS_ASSIGN_SERVERS_MAX];
};

ks_assign_t *ks_assign_new(void)
{
    ks_assign_t *picker = calloc(1, sizeof *picker);

    if (picker && pthread_mutex_init(&picker->lock, NULL) != 0) {
        free(picker);
        return NULL;
    }
    return picker;
}

void ks_assign_free(ks_assign_t *picker)
{
    if (!picker)
        return;
    pthread_mutex_destroy(&picker->lock);
    free(picker);
}

static ks_assign_t *process_picker;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void make_process_picker(void)
{
    process_picker = ks_assign_new();
}

ks_assign_t *ks_assign_process(void)
{
    pthread_once(&process_once, make_process_picker);
    return process_picker;
}

/* The slot of server id, taking a free one when create and it has none
 * (NULL when it has none and there is no room). Under the lock. */
static slot_t *slot_of(ks_assign_t *picker, int id, int create)
{
    slot_t *free_slot = NULL;

    for (int i = 0; i < KS_ASSIGN_SERVERS_MAX; i++) {
        slot_t *s = &picker->slots[i];
        if (s->id == id)
            return s;
        if (s->id == 0 && !free_slot)
            free_slot = s;
    }
    if (!create || !free_slot)
        return NULL;
    *free_slot = (slot_t){.id = id};
    return free_slot;
}

/* A slot with nothing in it is given back, so servers removed over the
 * process's life do not fill the table. */
static void release_if_empty(slot_t *s)
{
    if (s && s->in_flight == 0 && s->pending == 0)
        s->id = 0;
}

static int excluded(int id, const int *exclude, int n_exclude)
{
    for (int i = 0; i < n_exclude; i++)
        if (exclude[i] == id)
            return 1;
    return 0;
}

int ks_assign_pick(ks_assign_t *picker, const ks_assign_server_t *servers, int count,
                   const int *exclude, int n_exclude)
{
    long long best_load = 0, best_weight = 1;
    int best = -1;

    pthread_mutex_lock(&picker->lock);
    for (int i = 0; i < count; i++) {
        const ks_assign_server_t *s = &servers[i];
        const slot_t *known;
        long long load;

        if (!s->active || s->weight <= 0 || excluded(s->id, exclude, n_exclude))
            continue;
        known = slot_of(picker, s->id, 0);
        load = (s->member_count > 0 ? s->member_count : 0) +
               (known ? known->in_flight + known->pending : 0);
        /* load / weight against the best's, without division (a weight is
         * at most 1000, a load far below 2^53). */
        if (best < 0 || load * best_weight < best_load * s->weight ||
            (load * best_weight == best_load * s->weight && s->id < servers[best].id)) {
            best = i;
            best_load = load;
            best_weight = s->weight;
        }
    }
    if (best >= 0) {
        slot_t *s = slot_of(picker, servers[best].id, 1);
        if (s)
            s->in_flight++;
    }
    pthread_mutex_unlock(&picker->lock);
    return best;
}

void ks_assign_hold(ks_assign_t *picker, int id)
{
    slot_t *s;

    pthread_mutex_lock(&picker->lock);
    if ((s = slot_of(picker, id, 1)))
        s->in_flight++;
    pthread_mutex_unlock(&picker->lock);
}

void ks_assign_finish(ks_assign_t *picker, int id, int created)
{
    slot_t *s;

    pthread_mutex_lock(&picker->lock);
    if ((s = slot_of(picker, id, created))) {
        if (s->in_flight > 0)
            s->in_flight--;
        if (created)
            s->pending++;
        release_if_empty(s);
    }
    pthread_mutex_unlock(&picker->lock);
}

long long ks_assign_take_pending(ks_assign_t *picker, int id)
{
    long long taken = 0;
    slot_t *s;

    pthread_mutex_lock(&picker->lock);
    if ((s = slot_of(picker, id, 0))) {
        taken = s->pending;
        s->pending = 0;
        release_if_empty(s);
    }
    pthread_mutex_unlock(&picker->lock);
    return taken;
}

int ks_assign_take_all_pending(ks_assign_t *picker, int *ids, long long *counts, int max)
{
    int n = 0;

    pthread_mutex_lock(&picker->lock);
    for (int i = 0; i < KS_ASSIGN_SERVERS_MAX && n < max; i++) {
        slot_t *s = &picker->slots[i];
        if (s->id == 0 || s->pending == 0)
            continue;
        ids[n] = s->id;
        counts[n++] = s->pending;
        s->pending = 0;
        release_if_empty(s);
    }
    pthread_mutex_unlock(&picker->lock);
    return n;
}

void ks_assign_give_back(ks_assign_t *picker, int id, long long count)
{
    slot_t *s;

    if (count <= 0)
        return;
    pthread_mutex_lock(&picker->lock);
    if ((s = slot_of(picker, id, 1)))
        s->pending += count;
    pthread_mutex_unlock(&picker->lock);
}
