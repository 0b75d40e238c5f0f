"""The API server's database pool against real MariaDB replicas that fail.

Under a read load of several SOAP clients (GetAvatar, ListItems), the
replicas are killed, hung (SIGSTOP), lagged, stopped from replicating and
removed from the configuration; no call may fail, reads must leave a replica
that is unwell and come back to it once it is healthy, and a read that asks
for a version (minVersion) must never be answered with an older one. Every
check reads the pool's state and per-server read counters from
GetSystemStatus.
"""

import signal
import time
import uuid

import pytest
import zeep.exceptions

from conftest import Load, api_client
from timescale import scaled


HUNG_S = 10                     # how long a replica stays SIGSTOPped


def test_pool_status_lists_every_server(healthy):
    status = healthy.status()
    servers = status.dbServer
    assert [s.role for s in servers] == ["master", "replica", "replica"]
    assert [s.address for s in servers] == [healthy.master] + healthy.replicas
    assert servers[0].weight == 0 and servers[0].lagSeconds is None
    for s in servers[1:]:
        assert s.state == "healthy" and s.weight == 1 and 0 <= s.lagSeconds <= 2
        assert s.reason is None
    assert status.maxLagSeconds == 2
    assert status.counts.members >= 1 and status.counts.items >= 1
    assert status.counts.categories >= 1
    assert status.imageServer and status.imageServer[0].mode == "active"
    assert status.imageServer[0].publicUrl.startswith("http://")


def test_pool_status_is_for_staff(stack):
    """A site client may not read the system's status: Forbidden."""
    env = stack.env
    site, session = api_client(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"],
                               env["KISEKAE_SITE_PASSWORD"])
    with pytest.raises(zeep.exceptions.Fault) as fault:
        site.GetSystemStatus()
    codes = [node.text for node in fault.value.detail.iter()
             if isinstance(node.tag, str) and node.tag == "{urn:kisekae:v1}code"]
    assert codes == ["Forbidden"], fault.value.message
    session.close()


def test_reads_split_by_weight(healthy):
    """Weights 1:3 (set by SIGHUP): the replicas share the reads 25/75. A
    call's reads all go to the server picked for it, so the sample is the
    ~2000 calls, not the ~6000 statements: 75% +- 7 is 7 standard deviations
    (the unit test holds the pick itself to +- 2% over 100k picks)."""
    r1, r2 = healthy.replicas
    healthy.write_conf([(r1, 1), (r2, 3)])
    before = healthy.reads()
    with Load(healthy, threads=4) as load:
        deadline = time.monotonic() + scaled(30)
        while time.monotonic() < deadline:
            now = healthy.reads()
            if now[r1] + now[r2] - before[r1] - before[r2] >= 6000:
                break
            time.sleep(0.2)
        assert healthy.master_idle(), "the master serves reads while the replicas are healthy"
    load.check(min_calls=200)
    after = healthy.reads()
    d1, d2 = after[r1] - before[r1], after[r2] - before[r2]
    share = d2 / (d1 + d2)
    print("reads: replica 1 %d, replica 2 %d: %.1f%% on the weight-3 one" % (d1, d2, 100 * share))
    assert d1 + d2 >= 2000
    assert 0.68 <= share <= 0.82


def test_replica_killed_then_hung_under_load(healthy):
    """kill -9 one replica, SIGSTOP the other, SIGCONT it, restart the first:
    no call fails, and reads follow the replicas' health."""
    r1, r2 = healthy.replicas
    m = healthy.master
    with Load(healthy, threads=4) as load:
        time.sleep(1)
        healthy.kill9("db-r1")
        healthy.wait_state(r1, "down", timeout=5)
        before = healthy.reads()
        healthy.wait_reads(r2)        # the other replica takes the reads
        time.sleep(1)
        assert healthy.reads()[r1] == before[r1], "the killed replica still counts reads"

        healthy.signal("db-r2", signal.SIGSTOP)
        stopped_at = time.monotonic()
        healthy.wait_state(r2, "down", timeout=8)
        print("hung replica shunned after %.1f s" % (time.monotonic() - stopped_at))
        before = healthy.reads()
        healthy.wait_reads(m)         # with both replicas down, the master
        time.sleep(1)
        assert healthy.reads()[r2] == before[r2], "the hung replica still counts reads"
        # Hung for HUNG_S in all: a call that waited for it until it woke
        # (no timeout on its connection) would take about that long.
        time.sleep(max(0.0, HUNG_S - (time.monotonic() - stopped_at)))

        healthy.signal("db-r2", signal.SIGCONT)
        healthy.wait_state(r2, "healthy")
        healthy.wait_reads(r2)        # reads come back to it

        healthy.start_db("db-r1")
        healthy.wait_state(r1, "healthy")
        healthy.wait_reads(r1)        # and to the restarted one
        assert healthy.master_idle(), "the master still serves reads with replicas healthy"
    load.check(min_calls=100)
    print("%d calls, none failed; the slowest took %.1f s" % (load.calls, load.slowest))
    # A call that met the hung replica waited at most db_read_timeout (2 s)
    # for it, or db_connect_timeout (1 s) to connect, then went elsewhere
    # (the margin is for a busy machine).
    assert load.slowest < HUNG_S - 2


def test_every_replica_down(healthy):
    """Both replicas killed: reads, auth included, are answered by the master."""
    r1, r2 = healthy.replicas
    m = healthy.master
    with Load(healthy, threads=3) as load:
        time.sleep(0.5)
        healthy.kill9("db-r1")
        healthy.kill9("db-r2")
        healthy.wait(lambda s: all(x.state == "down" for x in s.dbServer[1:]), "both replicas down",
                     timeout=5)
        before = healthy.reads()
        healthy.wait_reads(m)
        time.sleep(1)
        after = healthy.reads()
        assert after[r1] == before[r1] and after[r2] == before[r2]
        status = healthy.status()
        assert status.counts is not None and status.databaseError is None
    load.check(min_calls=50)
    for name in ("db-r1", "db-r2"):
        healthy.start_db(name)
    for r in (r1, r2):
        healthy.wait_state(r, "healthy")


def test_master_down(healthy):
    """The master killed: writes fail at once with DatabaseUnavailable, reads
    go on from the replicas (healthy, or shunned once their master is gone:
    stale beats nothing); the master restarted, all is well again."""
    r1, r2 = healthy.replicas
    m = healthy.master
    env = healthy.env
    site, session = api_client(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"],
                               env["KISEKAE_SITE_PASSWORD"])
    with Load(healthy, threads=3) as load:
        time.sleep(0.5)
        healthy.kill9("db-m")
        healthy.wait_state(m, "down", timeout=5)
        before = healthy.reads()
        started = time.monotonic()
        with pytest.raises(zeep.exceptions.Fault) as fault:
            site.CreateAvatar(userId="dbpool-%s" % uuid.uuid4().hex[:10])
        assert time.monotonic() - started < 1.5
        codes = [node.text for node in fault.value.detail.iter()
                 if isinstance(node.tag, str) and node.tag == "{urn:kisekae:v1}code"]
        assert codes == ["DatabaseUnavailable"], fault.value.message
        healthy.wait(lambda s: sum(x.readsServed for x in s.dbServer[1:]) -
                     before[r1] - before[r2] >= 20, "reads on the replicas", timeout=10)
        assert healthy.reads()[m] == before[m]
        healthy.start_db("db-m")
        healthy.wait(lambda s: all(x.state == "healthy" for x in s.dbServer),
                     "master and replicas healthy")
    load.check(min_calls=50)
    assert site.CreateAvatar(userId="dbpool-%s" % uuid.uuid4().hex[:10]).version == 1
    session.close()


def wear_ids(site, count):
    """Ids of `count` published items of one exclusive, non-required category."""
    categories = site.ListCategories()
    items = site.ListItems(limit=100).item
    for c in categories:
        if c.exclusive and not c.required:
            ids = [i.id for i in items if i.categoryId == c.id]
            if len(ids) >= count:
                return ids[:count]
    pytest.skip("the sample catalog has no exclusive category with %d items" % count)


def test_lagging_replicas(healthy):
    """Replica 2's SQL thread stopped: shunned (no lag known), no reads.
    Replica 1 delayed 6 s (MASTER_DELAY) with db_max_lag_s 2: right after a
    write it is healthy but behind, so a plain GetAvatar may be stale while
    one with minVersion never is; then its lag passes 2 s and it is shunned
    with that lag; once the delayed events apply it is healthy again."""
    r1, r2 = healthy.replicas
    env = healthy.env
    site, session = api_client(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"],
                               env["KISEKAE_SITE_PASSWORD"])
    user = "dbpool-%s" % uuid.uuid4().hex[:10]
    version = site.CreateAvatar(userId=user).version
    items = wear_ids(site, 2)
    for item in items:
        site.GrantItem(userId=user, itemId=item)

    healthy.sql("db-r2", "STOP SLAVE SQL_THREAD")
    status = healthy.wait_state(r2, "shunned", timeout=5)
    s2 = healthy.servers(status)[r2]
    assert s2.lagSeconds is None and "SQL thread is No" in s2.reason
    healthy.sync("db-r1")             # what came before is not delayed
    healthy.sql("db-r1", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=6; START SLAVE")
    healthy.wait_state(r1, "healthy")
    reads_r2 = healthy.reads()[r2]

    stale_plain = stale_min = 0
    shunned_lag = shunned_reason = None
    for round_no in range(2):
        version = site.ChangeOutfit(userId=user, wear=[items[round_no % 2]]).version
        written = time.monotonic()
        # Right after the write replica 1 is healthy but behind.
        for _ in range(5):
            if site.GetAvatar(userId=user).version < version:
                stale_plain += 1
            if site.GetAvatar(userId=user, minVersion=version).version < version:
                stale_min += 1
        # Then its lag passes db_max_lag_s: shunned, with the lag it has.
        if shunned_lag is None:
            status = healthy.wait(lambda s: healthy.servers(s)[r1].state == "shunned",
                                  "replica 1 shunned for lag", timeout=8)
            shunned_lag = healthy.servers(status)[r1].lagSeconds
            shunned_reason = healthy.servers(status)[r1].reason
            print("shunned %.1f s after the write, lag %s s" % (time.monotonic() - written,
                                                                 shunned_lag))
            for _ in range(5):
                assert site.GetAvatar(userId=user).version == version
        # Once the delayed events are applied it is healthy again.
        healthy.wait_state(r1, "healthy", timeout=15)
    assert stale_min == 0, "a GetAvatar with minVersion returned an older version"
    assert stale_plain > 0, "replica 1 was never seen behind: the test proved nothing"
    assert shunned_lag is not None and shunned_lag > 2
    assert "behind the master (more than 2 s)" in shunned_reason
    assert healthy.reads()[r2] == reads_r2, "the replica whose SQL thread stopped got reads"

    healthy.sql("db-r2", "START SLAVE SQL_THREAD")
    healthy.wait_state(r2, "healthy")
    session.close()


def com_select(stack, name):
    return int(stack.sql(name, "SHOW GLOBAL STATUS LIKE 'Com_select'")[0][1])


def api_connections(stack, name):
    rows = stack.sql(name, "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                           " WHERE USER = '%s'" % stack.env["KISEKAE_DB_USER"])
    return int(rows[0][0])


def test_sighup_removes_and_adds_a_replica(healthy):
    """SIGHUP without replica 2: it leaves GetSystemStatus, gets no reads and
    the API servers close their connections to it. A broken file changes
    nothing. SIGHUP with it back: it returns and takes reads again. Both
    API servers, standalone and FastCGI, are loaded and reloaded alike."""
    r1, r2 = healthy.replicas
    apis = list(healthy.api_urls)
    loads = [Load(healthy, threads=2, api=name) for name in apis]
    for load in loads:
        load.__enter__()
    try:
        time.sleep(1)
        generations = {name: healthy.status(name).poolGeneration for name in apis}
        status = healthy.write_conf([(r1, 1)])
        for name in apis:
            status = healthy.status(name)
            assert status.poolGeneration == generations[name] + 1, name
            assert r2 not in healthy.servers(status), name
        time.sleep(1.5)               # every worker began a call since (or idled 1 s)
        selects = com_select(healthy, "db-r2")
        time.sleep(2)
        assert com_select(healthy, "db-r2") == selects, "the removed replica still gets reads"
        deadline = time.monotonic() + scaled(5)
        while api_connections(healthy, "db-r2") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert api_connections(healthy, "db-r2") == 0, "connections to the removed replica stay"

        # A broken configuration: logged, and the pool stays as it is.
        for name in apis:
            good = healthy.api_confs[name].read_text()
            healthy.reload_raw(good + "db_replica nonsense\n", name)
            log = healthy.api_logs[name]
            deadline = time.monotonic() + scaled(5)
            while "the old one stays" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "the old one stays" in log.read_text(), name
            assert healthy.status(name).poolGeneration == generations[name] + 1, name

        status = healthy.write_conf([(r1, 1), (r2, 2)])
        assert healthy.servers(status)[r2].weight == 2
        healthy.wait_state(r2, "healthy")
        healthy.wait_reads(r2)        # the replica added back takes reads
    finally:
        for load in loads:
            load.__exit__(None, None, None)
    for load in loads:
        load.check(min_calls=50)
