/* test_db_pool.c: unit tests of common/db_pool.c without a database: the
 * weighted pick (100k reads split by weight), which servers may take reads
 * in each state, generations (reconfiguration), the verdict on a replica's
 * SHOW SLAVE STATUS, and the configuration helpers. The pool's behaviour
 * against real servers is tested by tests/dbpool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "db_pool.h"

#define READS 100000

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t test_random(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A pool of a master and replicas with the given weights on ports nothing
 * listens on (these tests never connect, but one: to port 1). */
static ks_db_conf_t conf_of(int master_weight, int replica_count, const int *weights)
{
    ks_db_conf_t conf;
    memset(&conf, 0, sizeof conf);
    snprintf(conf.master.host, sizeof conf.master.host, "127.0.0.1");
    conf.master.port = 1;
    conf.master.weight = master_weight;
    for (int i = 0; i < replica_count; i++) {
        snprintf(conf.replicas[i].host, sizeof conf.replicas[i].host, "127.0.0.%d", 2 + i);
        conf.replicas[i].port = 1;
        conf.replicas[i].weight = weights[i];
    }
    conf.replica_count = replica_count;
    snprintf(conf.name, sizeof conf.name, "kisekae");
    snprintf(conf.user, sizeof conf.user, "kisekae");
    conf.connect_timeout_s = conf.read_timeout_s = conf.write_timeout_s = 1;
    conf.health_interval_ms = 1000;
    conf.health_timeout_s = 1;
    conf.max_lag_s = 5;
    return conf;
}

/* Share of READS picks per node index, in percent. */
static void count_picks(ks_db_session_t *s, double *percent, int count)
{
    int hits[KS_DB_NODES_MAX] = {0};
    for (int i = 0; i < READS; i++) {
        int index = ks__db_session_pick(s);
        assert_true(index >= 0 && index < count);
        hits[index]++;
    }
    for (int i = 0; i < count; i++)
        percent[i] = 100.0 * hits[i] / READS;
}

static void test_pick_weighted_splits_by_weight(void **state)
{
    const int weights[3] = {0, 1, 3};
    int hits[3] = {0};
    (void)state;
    for (int i = 0; i < READS; i++)
        hits[ks_db_pick_weighted(weights, 3, test_random())]++;
    assert_int_equal(hits[0], 0);
    assert_in_range(hits[1], 23000, 27000);      /* 25% +- 2 */
    assert_in_range(hits[2], 73000, 77000);      /* 75% +- 2 */
}

static void test_pick_weighted_without_weight(void **state)
{
    const int zeros[3] = {0, 0, 0}, negative[2] = {-5, 0}, one[3] = {0, 0, 7};
    (void)state;
    assert_int_equal(ks_db_pick_weighted(zeros, 3, 12345), -1);
    assert_int_equal(ks_db_pick_weighted(negative, 2, 12345), -1);
    assert_int_equal(ks_db_pick_weighted(zeros, 0, 12345), -1);
    for (uint64_t r = 0; r < 50; r++)
        assert_int_equal(ks_db_pick_weighted(one, 3, r * 7919), 2);
}

static void test_pool_reads_split_1_to_3(void **state)
{
    const int weights[2] = {1, 3};
    ks_db_conf_t conf = conf_of(0, 2, weights);
    ks_db_pool_t *pool = ks_db_pool_new(&conf);
    ks_db_session_t *s = ks_db_session_new(pool);
    double percent[3];
    (void)state;

    for (int i = 0; i < 3; i++)
        ks__db_pool_set_state(pool, i, KS_DB_HEALTHY, i ? 0 : -1);
    count_picks(s, percent, 3);
    assert_true(percent[0] == 0.0);               /* master read weight 0 */
    assert_true(percent[1] >= 23.0 && percent[1] <= 27.0);
    assert_true(percent[2] >= 73.0 && percent[2] <= 77.0);
    ks_db_session_free(s);
    ks_db_pool_free(pool);
}

static void test_master_read_weight(void **state)
{
    const int weights[2] = {1, 3};
    ks_db_conf_t conf = conf_of(1, 2, weights);
    ks_db_pool_t *pool = ks_db_pool_new(&conf);
    ks_db_session_t *s = ks_db_session_new(pool);
    double percent[3];
    (void)state;

    for (int i = 0; i < 3; i++)
        ks__db_pool_set_state(pool, i, KS_DB_HEALTHY, i ? 0 : -1);
    count_picks(s, percent, 3);
    assert_true(percent[0] >= 18.0 && percent[0] <= 22.0);
    assert_true(percent[1] >= 18.0 && percent[1] <= 22.0);
    assert_true(percent[2] >= 58.0 && percent[2] <= 62.0);
    ks_db_session_free(s);
    ks_db_pool_free(pool);
}

/* Shunned, down and unchecked replicas get no reads; with none left the
 * master takes them all, whatever its read weight. */
static void test_unhealthy_replicas_get_no_reads(void **state)
{
    const int weights[2] = {1, 3};
    ks_db_conf_t conf = conf_of(0, 2, weights);
    ks_db_pool_t *pool = ks_db_pool_new(&conf);
    ks_db_session_t *s = ks_db_session_new(pool);
    ks_db_pool_status_t status;
    double percent[3];
    (void)state;

    /* Not checked yet: the master. */
    count_picks(s, percent, 3);
    assert_true(percent[0] == 100.0);
    ks_db_pool_status(pool, &status);
    assert_int_equal(status.nodes[1].state, KS_DB_PENDING);

    ks__db_pool_set_state(pool, 1, KS_DB_HEALTHY, 0);
    ks__db_pool_set_state(pool, 2, KS_DB_SHUNNED, 30);
    count_picks(s, percent, 3);
    assert_true(percent[1] == 100.0);
    ks_db_pool_status(pool, &status);
    assert_int_equal(status.nodes[2].state, KS_DB_SHUNNED);
    assert_int_equal(status.nodes[2].lag_s, 30);
    assert_string_equal(ks_db_state_name(status.nodes[2].state), "shunned");

    ks__db_pool_set_state(pool, 1, KS_DB_DOWN, -1);
    count_picks(s, percent, 3);
    assert_true(percent[0] == 100.0);

    ks__db_pool_set_state(pool, 2, KS_DB_HEALTHY, 1);       /* re-admitted */
    count_picks(s, percent, 3);
    assert_true(percent[2] == 100.0);
    ks_db_session_free(s);
    ks_db_pool_free(pool);
}

/* A new generation: a removed replica gets no reads from a session once it
 * begins its next call; a kept one keeps its health; a new one waits for a
 * check; a weight change applies; an invalid configuration changes nothing. */
static void test_reconfigure(void **state)
{
    const int weights[2] = {1, 1}, weights2[2] = {1, 4};
    ks_db_conf_t conf = conf_of(0, 2, weights), conf2;
    ks_db_pool_t *pool = ks_db_pool_new(&conf);
    ks_db_session_t *s = ks_db_session_new(pool);
    ks_db_pool_status_t status;
    ks_err_t err;
    double percent[3];
    (void)state;

    for (int i = 0; i < 3; i++)
        ks__db_pool_set_state(pool, i, KS_DB_HEALTHY, i ? 0 : -1);

    /* Drop replica 1 (127.0.0.2), add 127.0.0.9 with weight 4. */
    conf2 = conf_of(0, 2, weights2);
    conf2.replicas[0] = conf.replicas[1];
    conf2.replicas[0].weight = 1;
    snprintf(conf2.replicas[1].host, sizeof conf2.replicas[1].host, "127.0.0.9");
    assert_int_equal(ks_db_pool_reconfigure(pool, &conf2, &err), KS_OK);
    ks_db_pool_status(pool, &status);
    assert_int_equal(status.generation, 2);
    assert_int_equal(status.node_count, 3);
    assert_string_equal(status.nodes[1].host, "127.0.0.3");
    assert_int_equal(status.nodes[1].state, KS_DB_HEALTHY);    /* carried over */
    assert_string_equal(status.nodes[2].host, "127.0.0.9");
    assert_int_equal(status.nodes[2].state, KS_DB_PENDING);
    assert_int_equal(status.nodes[2].weight, 4);

    ks_db_session_begin(s);
    count_picks(s, percent, 3);
    assert_true(percent[1] == 100.0);               /* the new one is unchecked */
    ks__db_pool_set_state(pool, 2, KS_DB_HEALTHY, 0);
    count_picks(s, percent, 3);
    assert_true(percent[1] >= 18.0 && percent[1] <= 22.0);
    assert_true(percent[2] >= 78.0 && percent[2] <= 82.0);

    /* Listed twice: refused, generation 2 stays. */
    conf2.replicas[1] = conf2.replicas[0];
    assert_int_equal(ks_db_pool_reconfigure(pool, &conf2, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "listed twice"));
    ks_db_pool_status(pool, &status);
    assert_int_equal(status.generation, 2);

    ks_db_session_free(s);
    ks_db_pool_free(pool);
}

/* Nothing listens: reads try each replica, then the master, and fail with
 * KS_DBDOWN naming the last failure; so do writes. */
static void test_nothing_answers(void **state)
{
    const int weights[1] = {1};
    ks_db_conf_t conf = conf_of(0, 1, weights);
    ks_db_pool_t *pool;
    ks_db_session_t *s;
    MYSQL *conn;
    ks_err_t err;
    (void)state;

    snprintf(conf.replicas[0].host, sizeof conf.replicas[0].host, "127.0.0.1");
    conf.replicas[0].port = 2;
    mysql_library_init(0, NULL, NULL);
    pool = ks_db_pool_new(&conf);
    s = ks_db_session_new(pool);
    ks__db_pool_set_state(pool, 1, KS_DB_HEALTHY, 0);
    ks_db_session_begin(s);
    assert_int_equal(ks_db_reader(s, &conn, &err), KS_DBDOWN);
    assert_null(conn);
    assert_non_null(strstr(err.msg, "no database server can serve reads"));
    assert_non_null(strstr(err.msg, "127.0.0.1:1"));
    ks_db_session_begin(s);
    assert_int_equal(ks_db_master(s, &conn, &err), KS_DBDOWN);
    assert_non_null(strstr(err.msg, "master 127.0.0.1:1"));
    ks_db_session_free(s);
    ks_db_pool_free(pool);
    mysql_library_end();
}

/* A master known to be down is tried for reads only when no replica,
 * healthy or shunned, is left: a shunned replica answers rather than nobody.
 * (Nothing listens on port 1: the health thread's first round finds every
 * server down; it then sleeps, and the test sets the states it wants.) */
static void test_master_down_last_resort(void **state)
{
    const int weights[2] = {1, 3};
    ks_db_conf_t conf = conf_of(0, 2, weights);
    ks_db_pool_t *pool;
    ks_db_session_t *s;
    ks_db_pool_status_t status;
    struct timespec pause = {0, 10000000};
    ks_err_t err;
    double percent[3];
    (void)state;

    conf.health_interval_ms = 600000;
    mysql_library_init(0, NULL, NULL);
    pool = ks_db_pool_new(&conf);
    s = ks_db_session_new(pool);
    assert_int_equal(ks_db_pool_start_health(pool, &err), KS_OK);
    for (int tries = 0; tries < 500; tries++) {
        ks_db_pool_status(pool, &status);
        if (status.nodes[2].state == KS_DB_DOWN)
            break;
        nanosleep(&pause, NULL);
    }
    assert_int_equal(status.nodes[0].state, KS_DB_DOWN);
    assert_int_equal(status.nodes[2].state, KS_DB_DOWN);
    assert_non_null(strstr(status.nodes[2].reason, "127.0.0.3:1"));
    assert_int_equal(ks__db_session_pick(s), 0);       /* the master all the same */

    ks__db_pool_set_state(pool, 1, KS_DB_SHUNNED, -1);
    ks__db_pool_set_state(pool, 2, KS_DB_SHUNNED, -1);
    count_picks(s, percent, 3);
    assert_true(percent[0] == 0.0);
    assert_true(percent[1] >= 23.0 && percent[1] <= 27.0);

    ks__db_pool_set_state(pool, 0, KS_DB_HEALTHY, -1);   /* the master is back */
    count_picks(s, percent, 3);
    assert_true(percent[0] == 100.0);
    ks_db_session_free(s);
    ks_db_pool_free(pool);
    mysql_library_end();
}

static void test_replica_verdict(void **state)
{
    static const struct {
        const char *io, *sql, *behind;
        int max_lag;
        ks_db_state_t expect;
        int lag;
        const char *why;
    } cases[] = {
        {"Yes", "Yes", "0", 5, KS_DB_HEALTHY, 0, ""},
        {"Yes", "Yes", "5", 5, KS_DB_HEALTHY, 5, ""},
        {"Yes", "Yes", "6", 5, KS_DB_SHUNNED, 6, "6 s behind"},
        {"Yes", "Yes", "1", 0, KS_DB_SHUNNED, 1, "more than 0 s"},
        {"Yes", "Yes", NULL, 5, KS_DB_SHUNNED, -1, "Seconds_Behind_Master is NULL"},
        {"Yes", "No", NULL, 5, KS_DB_SHUNNED, -1, "SQL thread is No"},
        {"Connecting", "Yes", NULL, 5, KS_DB_SHUNNED, -1, "IO thread is Connecting"},
        {"No", "No", NULL, 5, KS_DB_SHUNNED, -1, "IO thread is No"},
        {NULL, NULL, NULL, 5, KS_DB_SHUNNED, -1, "IO thread is NULL"},
        {"Yes", "Yes", "soon", 5, KS_DB_SHUNNED, -1, "is soon"},
        {"Yes", "Yes", "-3", 5, KS_DB_SHUNNED, -1, "is -3"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[KS_DB_REASON_MAX];
        int lag = 1234;
        ks_db_state_t got = ks_db_replica_verdict(cases[i].io, cases[i].sql, cases[i].behind,
                                                  cases[i].max_lag, &lag, why, sizeof why);
        if (got != cases[i].expect || lag != cases[i].lag || !strstr(why, cases[i].why))
            fail_msg("case %zu: got %s lag %d \"%s\"", i, ks_db_state_name(got), lag, why);
    }
}

static void test_conf_helpers(void **state)
{
    static const char *bad[] = {"db1", "db1:0", "db1:70000", "db1:3306 x", "db1:3306 -1",
                                "db1:3306 1001", "db1:3306 1 2", ""};
    ks_db_conf_t conf;
    ks_err_t err;
    (void)state;

    memset(&conf, 0, sizeof conf);
    assert_int_equal(ks_db_conf_add_replica(&conf, "db1:3306", &err), KS_OK);
    assert_int_equal(ks_db_conf_add_replica(&conf, "  db2:3307   3 ", &err), KS_OK);
    assert_string_equal(conf.replicas[0].host, "db1");
    assert_int_equal(conf.replicas[0].weight, 1);
    assert_int_equal(conf.replicas[1].port, 3307);
    assert_int_equal(conf.replicas[1].weight, 3);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ks_db_conf_add_replica(&conf, bad[i], &err) != KS_INVALID)
            fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(conf.replica_count, 2);
    while (conf.replica_count < KS_DB_REPLICAS_MAX) {
        char value[32];
        snprintf(value, sizeof value, "db%d:3306", conf.replica_count + 1);
        assert_int_equal(ks_db_conf_add_replica(&conf, value, &err), KS_OK);
    }
    assert_int_equal(ks_db_conf_add_replica(&conf, "one-more:3306", &err), KS_INVALID);

    snprintf(conf.master.host, sizeof conf.master.host, "db9");
    conf.master.port = 3306;
    conf.replica_count = 2;
    assert_int_equal(ks_db_conf_check(&conf, &err), KS_OK);
    snprintf(conf.master.host, sizeof conf.master.host, "db2");
    conf.master.port = 3307;
    assert_int_equal(ks_db_conf_check(&conf, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "db2:3307 is listed twice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_weighted_splits_by_weight),
        cmocka_unit_test(test_pick_weighted_without_weight),
        cmocka_unit_test(test_pool_reads_split_1_to_3),
        cmocka_unit_test(test_master_read_weight),
        cmocka_unit_test(test_unhealthy_replicas_get_no_reads),
        cmocka_unit_test(test_reconfigure),
        cmocka_unit_test(test_nothing_answers),
        cmocka_unit_test(test_master_down_last_resort),
        cmocka_unit_test(test_replica_verdict),
        cmocka_unit_test(test_conf_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
