/* test_assign.c: unit tests of api-server/assign.c, the choice of a new
 * member's image server, without a database.
 *
 * A simulated cluster stands for the image_servers table: each server's
 * weight, mode and member_count. Pickers (one per simulated API server)
 * place creations, keep some in flight (as worker threads do), finish them
 * and add their pending members to member_count: right after each creation
 * (as store.c does), or every so many creations (the renderer's round, after
 * a failed update), or never (counts that stay stale).
 * Shares are checked within 2% of the weights over 10,000 creations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include "assign.h"

#define CREATIONS 10000
#define SERVERS_MAX 8
#define IN_FLIGHT_MAX 16

typedef struct {
    ks_assign_server_t servers[SERVERS_MAX];
    int count;
    long long placed[SERVERS_MAX];    /* creations committed on each */
} cluster_t;

/* One simulated API server: its picker and its creations in flight. */
typedef struct {
    ks_assign_t *picker;
    int ring[IN_FLIGHT_MAX];           /* server indices, oldest first */
    int in_flight;
} api_t;

enum { FLUSH_AT_FINISH = 0, FLUSH_NEVER = -1 };

static void cluster_init(cluster_t *c, const int *weights, int count)
{
    *c = (cluster_t){.count = count};
    for (int i = 0; i < count; i++)
        c->servers[i] = (ks_assign_server_t){.id = 10 + i, .weight = weights[i], .active = 1};
}

static int index_of(const cluster_t *c, int id)
{
    for (int i = 0; i < c->count; i++)
        if (c->servers[i].id == id)
            return i;
    fail_msg("no server %d", id);
    return -1;
}

/* Adds what picker has taken of its pending members to member_count. */
static void flush_all(cluster_t *c, ks_assign_t *picker)
{
    int ids[SERVERS_MAX];
    long long counts[SERVERS_MAX];
    int n = ks_assign_take_all_pending(picker, ids, counts, SERVERS_MAX);

    for (int i = 0; i < n; i++)
        c->servers[index_of(c, ids[i])].member_count += counts[i];
}

/* Ends api's oldest creation (committed), then, with FLUSH_AT_FINISH, adds
 * the server's pending members to its member_count. */
static void finish_oldest(cluster_t *c, api_t *api, int flush)
{
    int server = api->ring[0];
    int id = c->servers[server].id;

    for (int i = 1; i < api->in_flight; i++)
        api->ring[i - 1] = api->ring[i];
    api->in_flight--;
    ks_assign_finish(api->picker, id, 1);
    c->placed[server]++;
    if (flush == FLUSH_AT_FINISH)
        c->servers[server].member_count += ks_assign_take_pending(api->picker, id);
}

/* creations creations taken in turn by apis[0..n_api), each keeping up to
 * in_flight of its own in flight; flush: FLUSH_AT_FINISH, FLUSH_NEVER, or
 * every that many creations (all pending members of every API). Ends with
 * every creation finished. */
static void run(cluster_t *c, api_t *apis, int n_api, int creations, int in_flight, int flush)
{
    for (int k = 0; k < creations; k++) {
        api_t *api = &apis[k % n_api];
        int server;

        if (api->in_flight == in_flight)
            finish_oldest(c, api, flush);
        server = ks_assign_pick(api->picker, c->servers, c->count, NULL, 0);
        assert_in_range(server, 0, c->count - 1);
        api->ring[api->in_flight++] = server;
        if (flush > 0 && (k + 1) % flush == 0)
            for (int a = 0; a < n_api; a++)
                flush_all(c, apis[a].picker);
    }
    for (int a = 0; a < n_api; a++)
        while (apis[a].in_flight > 0)
            finish_oldest(c, &apis[a], flush);
}

/* Each active server's share of the creations within 2% of its weight's
 * share (relative; a share under 100 creations within 2 creations per API
 * server, 2% of it being under one); inactive servers none. */
static void check_shares(const cluster_t *c, int creations, int n_api)
{
    long long total_weight = 0, placed = 0;

    for (int i = 0; i < c->count; i++) {
        if (c->servers[i].active)
            total_weight += c->servers[i].weight;
        placed += c->placed[i];
    }
    assert_int_equal(placed, creations);
    for (int i = 0; i < c->count; i++) {
        double expected = (double)creations * c->servers[i].weight / (double)total_weight;
        double slack = expected >= 100 ? 0.02 * expected : 2.0 * n_api;
        if (!c->servers[i].active) {
            assert_int_equal(c->placed[i], 0);
            continue;
        }
        if (fabs((double)c->placed[i] - expected) > slack)
            fail_msg("server %d (weight %d) took %lld of %d, expected %.1f +- %.1f",
                     c->servers[i].id, c->servers[i].weight, c->placed[i], creations, expected,
                     slack);
    }
}

static void apis_new(api_t *apis, int n)
{
    for (int i = 0; i < n; i++) {
        apis[i] = (api_t){.picker = ks_assign_new()};
        assert_non_null(apis[i].picker);
    }
}

static void apis_free(api_t *apis, int n)
{
    for (int i = 0; i < n; i++)
        ks_assign_free(apis[i].picker);
}

/* One API server, then two creating at once, each way of flushing, one
 * creation at a time and 8 in flight per API server. */
static void check_weights(const int *weights, int count)
{
    const int flushes[] = {FLUSH_AT_FINISH, FLUSH_NEVER, 1, 250};

    for (int n_api = 1; n_api <= 2; n_api++)
        for (size_t f = 0; f < sizeof flushes / sizeof *flushes; f++)
            for (int in_flight = 1; in_flight <= 8; in_flight += 7) {
                cluster_t c;
                api_t apis[2];
                cluster_init(&c, weights, count);
                apis_new(apis, n_api);
                run(&c, apis, n_api, CREATIONS, in_flight, flushes[f]);
                check_shares(&c, CREATIONS, n_api);
                apis_free(apis, n_api);
            }
}

static void test_weights_1_2_3(void **state)
{
    (void)state;
    check_weights((const int[]){1, 2, 3}, 3);
}

static void test_weights_1_1_1(void **state)
{
    (void)state;
    check_weights((const int[]){1, 1, 1}, 3);
}

static void test_weights_1000_1(void **state)
{
    (void)state;
    check_weights((const int[]){1000, 1}, 2);
}

/* A server drained or marked down takes nothing from the next pick on, and
 * the others share the rest by weight; back to active, it is filled first. */
static void test_draining_and_down_are_left_out(void **state)
{
    cluster_t c;
    api_t apis[2];

    (void)state;
    cluster_init(&c, (const int[]){1, 2, 3, 4}, 4);
    apis_new(apis, 2);
    c.servers[1].active = 0;                         /* draining */
    c.servers[3].active = 0;                         /* down */
    run(&c, apis, 2, CREATIONS, 4, FLUSH_AT_FINISH);
    check_shares(&c, CREATIONS, 2);

    /* Drained between two picks: the very next pick leaves it out. */
    c.servers[2].active = 0;
    for (int k = 0; k < 100; k++) {
        int server = ks_assign_pick(apis[k % 2].picker, c.servers, c.count, NULL, 0);
        assert_int_equal(server, 0);
        ks_assign_finish(apis[k % 2].picker, c.servers[server].id, 1);
    }
    /* Nothing active: no server. */
    c.servers[0].active = 0;
    assert_int_equal(ks_assign_pick(apis[0].picker, c.servers, c.count, NULL, 0), -1);
    /* A weight of 0 takes none either. */
    c.servers[0] = (ks_assign_server_t){.id = 10, .weight = 0, .active = 1};
    assert_int_equal(ks_assign_pick(apis[0].picker, c.servers, c.count, NULL, 0), -1);
    apis_free(apis, 2);
}

/* The servers in the exclusion list are never picked (the next one after a
 * dead server's), the others still share by weight. */
static void test_exclusion_list(void **state)
{
    cluster_t c;
    ks_assign_t *picker = ks_assign_new();
    const int exclude[] = {11, 99};
    long long taken = 0;

    (void)state;
    assert_non_null(picker);
    cluster_init(&c, (const int[]){1, 1, 2}, 3);
    for (int k = 0; k < 3000; k++) {
        int server = ks_assign_pick(picker, c.servers, c.count, exclude, 2);
        assert_int_not_equal(server, 1);
        assert_in_range(server, 0, 2);
        c.placed[server]++;
        ks_assign_finish(picker, c.servers[server].id, 1);
        c.servers[server].member_count += ks_assign_take_pending(picker, c.servers[server].id);
    }
    assert_int_equal(c.placed[0], 1000);
    assert_int_equal(c.placed[2], 2000);
    /* Every active server excluded: none. */
    assert_int_equal(ks_assign_pick(picker, c.servers, c.count, (const int[]){10, 11, 12}, 3),
                     -1);
    for (int i = 0; i < c.count; i++)
        taken += ks_assign_take_pending(picker, c.servers[i].id);
    assert_int_equal(taken, 0);                      /* all flushed already */
    ks_assign_free(picker);
}

/* A server with fewer members per unit of weight than the others (added
 * later, or emptied) takes the new members until it has caught up. */
static void test_emptiest_server_filled_first(void **state)
{
    cluster_t c;
    ks_assign_t *picker = ks_assign_new();

    (void)state;
    assert_non_null(picker);
    cluster_init(&c, (const int[]){1, 1, 2}, 3);
    c.servers[0].member_count = 500;
    c.servers[1].member_count = 500;
    c.servers[2].member_count = 0;
    for (int k = 0; k < 1000; k++) {
        int server = ks_assign_pick(picker, c.servers, c.count, NULL, 0);
        assert_int_equal(server, 2);
        ks_assign_finish(picker, c.servers[server].id, 1);
    }
    /* The picker counted its own members though member_count was not told. */
    assert_int_equal(ks_assign_take_pending(picker, 12), 1000);
    ks_assign_free(picker);
}

/* Creations in flight count for the next pick; a failed one is forgotten;
 * pending members are taken once, and come back when a flush gives them
 * back. */
static void test_in_flight_and_pending(void **state)
{
    cluster_t c;
    ks_assign_t *picker = ks_assign_new();
    int ids[SERVERS_MAX];
    long long counts[SERVERS_MAX];
    int seen[3] = {0};

    (void)state;
    assert_non_null(picker);
    cluster_init(&c, (const int[]){1, 2, 3}, 3);
    for (int k = 0; k < 6; k++)                      /* six at once: 1, 2 and 3 */
        seen[ks_assign_pick(picker, c.servers, c.count, NULL, 0)]++;
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 2);
    assert_int_equal(seen[2], 3);
    ks_assign_finish(picker, 12, 1);
    ks_assign_finish(picker, 12, 0);                 /* rolled back */
    assert_int_equal(ks_assign_take_pending(picker, 12), 1);
    ks_assign_finish(picker, 12, 1);
    assert_int_equal(ks_assign_take_pending(picker, 12), 1);
    assert_int_equal(ks_assign_take_pending(picker, 12), 0);
    ks_assign_finish(picker, 10, 1);
    ks_assign_finish(picker, 11, 1);
    ks_assign_finish(picker, 11, 1);
    ks_assign_give_back(picker, 12, 5);              /* a flush that failed */
    assert_int_equal(ks_assign_take_all_pending(picker, ids, counts, SERVERS_MAX), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(counts[i], ids[i] == 10 ? 1 : ids[i] == 11 ? 2 : 5);
    assert_int_equal(ks_assign_take_all_pending(picker, ids, counts, SERVERS_MAX), 0);

    /* A named server's creation counts like a picked one. */
    ks_assign_hold(picker, 10);
    assert_int_equal(ks_assign_take_pending(picker, 10), 0);   /* in flight, not pending */
    ks_assign_finish(picker, 10, 1);
    assert_int_equal(ks_assign_take_pending(picker, 10), 1);
    ks_assign_free(picker);
}

/* More servers than a picker keeps counts for over its life: slots of
 * servers with nothing in flight or pending are reused. */
static void test_many_servers_over_time(void **state)
{
    ks_assign_t *picker = ks_assign_new();

    (void)state;
    assert_non_null(picker);
    for (int id = 1; id <= 10 * KS_ASSIGN_SERVERS_MAX; id++) {
        ks_assign_server_t one = {.id = id, .weight = 1, .active = 1};
        assert_int_equal(ks_assign_pick(picker, &one, 1, NULL, 0), 0);
        ks_assign_finish(picker, id, 1);
        assert_int_equal(ks_assign_take_pending(picker, id), 1);
    }
    assert_non_null(ks_assign_process());
    assert_ptr_equal(ks_assign_process(), ks_assign_process());
    ks_assign_free(picker);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_1_2_3),
        cmocka_unit_test(test_weights_1_1_1),
        cmocka_unit_test(test_weights_1000_1),
        cmocka_unit_test(test_draining_and_down_are_left_out),
        cmocka_unit_test(test_exclusion_list),
        cmocka_unit_test(test_emptiest_server_filled_first),
        cmocka_unit_test(test_in_flight_and_pending),
        cmocka_unit_test(test_many_servers_over_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
