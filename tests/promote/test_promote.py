"""Losing the database master loses nothing (run.sh brings the stack up with
`./kisekae up --api 2 --image 1 --replicas 2`: semi-synchronous replication).

Client threads call the balanced API in a loop (GetAvatar as reads,
ChangeOutfit and CreateAvatar as writes) and record every call: when it
started and ended, and what a successful write was answered. The master
(db-m) is killed with -9, then `./kisekae promote r1` makes db-r1 the master.
Checked: no read failed; writes failed only between the kill and the end of
the promotion, each within 2 s (scaled by KISEKAE_TIME_SCALE), and all
succeed after it; every write any client saw acknowledged is on the new
master; `./kisekae up` brings the old master back as a replica of db-r1 and
it catches up. Then the harder rejoin: a write waiting for an acknowledgement
no replica sends (never answered) is on the master when it dies; once back,
the old master drops it and follows the new one. Clients come from the
CHECKED-IN wsdl/Kisekae.wsdl.
"""

import importlib.util
import io
import os
import random
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from PIL import Image
from timescale import scaled

ROOT = Path(__file__).resolve().parents[2]
BUILD = os.environ["KISEKAE_BUILD"]
CALL_TIMEOUT_S = 10
THREADS = 3
LOAD_BEFORE_S = 3            # load before the kill
OUTAGE_S = 2                 # the master stays dead this long before promote
MAX_CALLS = 20000            # per thread: the loops are bounded in count too
FAIL_FAST_S = scaled(2)      # a write that fails, fails within this
SETTLE_S = scaled(1)         # after promote returns, API servers apply the SIGHUP
LOAD_AFTER_S = SETTLE_S + 3  # load after the promotion: 3 s of it judged


# The integration suite's helpers (its Api client, its stack.env reader), as
# tests/cluster uses them; loaded under another name (no fixtures registered).
_SPEC = importlib.util.spec_from_file_location("kisekae_integration_conftest",
                                               ROOT / "tests" / "integration" / "conftest.py")
HELPERS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(HELPERS)
ENV = HELPERS.read_env_file(os.environ["KISEKAE_ENV"])
STATE = Path(ENV["KISEKAE_STATE"])
SUFFIX = uuid.uuid4().hex[:8]


def client(role):
    """A zeep service as ROLE (ADMIN, SITE) through the balancer."""
    return HELPERS.Api(ENV["KISEKAE_API_URL"], ENV["KISEKAE_%s_USER" % role],
                       ENV["KISEKAE_%s_PASSWORD" % role], timeout=CALL_TIMEOUT_S).service


def kisekae(command, *args, timeout=180):
    """./kisekae COMMAND ARGS on this stack; its output, or the test fails with it."""
    done = subprocess.run([str(ROOT / "kisekae"), command, "--state", str(STATE), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)
    assert done.returncode == 0, "kisekae %s %s failed:\n%s" % (
        command, " ".join(args), done.stdout)
    return done.stdout


def sql(instance, query):
    """Rows (lists of strings) of query on a database instance (db-m, db-rK)."""
    done = subprocess.run([str(ROOT / "kisekae"), "sql", "--state", str(STATE), instance, "--",
                           "-N", "-B", "-e", query], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 0, "sql on %s failed: %s" % (instance, done.stderr)
    return [line.split("\t") for line in done.stdout.splitlines()]


def pid_of(name):
    return int((STATE / "run" / ("%s.pid" % name)).read_text().split()[0])


def item_art(seed):
    rng = random.Random(seed)
    width, height = (int(n) for n in ENV["KISEKAE_CANVAS"].split("x"))
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    corner = (rng.randrange(0, width // 2), rng.randrange(0, height // 2))
    image.paste(colour, corner + (width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Load:
    """THREADS clients calling until stopped; every call recorded as
    (kind, started, ended, error or None)."""

    def __init__(self, members, hats):
        self.members, self.hats = members, hats
        self.calls = []
        self.acked_outfits = {}      # user_id -> (version, hat) of its last answered change
        self.acked_creates = []      # user ids whose CreateAvatar was answered
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(THREADS)]

    def run(self, n):
        service = client("SITE")
        mine = self.members[n::THREADS]       # each member changed by one thread: ordered
        for turn in range(MAX_CALLS):
            if self.stop.is_set():
                return
            user_id = mine[(turn // 4) % len(mine)]
            kind = ("read", "outfit", "read", "create")[turn % 4]
            started, error = time.monotonic(), None
            try:
                if kind == "read":
                    assert service.GetAvatar(userId=user_id).userId == user_id
                elif kind == "outfit":
                    hat = self.hats[(turn // (4 * len(mine))) % 2]   # the other one each round
                    avatar = service.ChangeOutfit(userId=user_id, wear=[hat])
                    with self.lock:
                        self.acked_outfits[user_id] = (avatar.version, hat)
                else:
                    new_id = "pr-%s-%d-%05d" % (SUFFIX, n, turn)
                    assert service.CreateAvatar(userId=new_id).version >= 1
                    with self.lock:
                        self.acked_creates.append(new_id)
            except Exception as e:  # noqa: BLE001: every failure is recorded
                error = repr(e)[:300]
            with self.lock:
                self.calls.append((kind, started, time.monotonic(), error))
            if error:
                time.sleep(0.05)             # a failing call comes back at once: no spin

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(CALL_TIMEOUT_S * 2)
        assert not any(t.is_alive() for t in self.threads), "a client thread did not stop"


def test_master_killed_promote_loses_nothing_and_old_master_rejoins():
    admin, site = client("ADMIN"), client("SITE")
    category = admin.RegisterCategory(name="promote-hat-%s" % SUFFIX, zOrder=450,
                                      exclusive=True, required=False)
    hats = [admin.RegisterItem(categoryId=category.id, name="phat %s %d" % (SUFFIX, n), price=1,
                               layer=[{"png": item_art(n)}]).id for n in range(2)]
    members = ["pr-%s-m%02d" % (SUFFIX, n) for n in range(12)]
    for user_id in members:
        site.CreateAvatar(userId=user_id)
        for hat in hats:
            site.GrantItem(userId=user_id, itemId=hat)
    kisekae("sql", "--", "-e", "SELECT 1")      # the master answers; the stack is whole

    with Load(members, hats) as load:
        time.sleep(LOAD_BEFORE_S)
        killed = time.monotonic()
        os.kill(pid_of("db-m"), signal.SIGKILL)
        time.sleep(OUTAGE_S)
        out = kisekae("promote", "r1", "--build-dir", BUILD)
        promoted = time.monotonic()
        print(out)
        time.sleep(LOAD_AFTER_S)

    calls = load.calls
    failed = [c for c in calls if c[3]]
    print("calls made %d, failed %d (reads %d, writes %d), acknowledged writes %d "
          "(%d ChangeOutfit members, %d CreateAvatar); promote took %.1f s" % (
              len(calls), len(failed), sum(c[0] == "read" for c in failed),
              sum(c[0] != "read" for c in failed),
              sum(c[0] != "read" and not c[3] for c in calls), len(load.acked_outfits),
              len(load.acked_creates), promoted - killed - OUTAGE_S))
    if failed:
        print("writes failed from %+.2f s to %+.2f s after the kill (promote ended at %+.2f s); "
              "the slowest failure took %.2f s" % (
                  min(c[1] for c in failed) - killed, max(c[2] for c in failed) - killed,
                  promoted - killed, max(c[2] - c[1] for c in failed)))
    for kind, started, ended, error in sorted(calls, key=lambda c: c[1] - c[2])[:3]:
        print("slowest: %s %.2f s, from %+.2f s after the kill: %s" % (
            kind, ended - started, started - killed, error or "ok"))
    reads_failed = [c for c in failed if c[0] == "read"]
    assert not reads_failed, "reads failed: %r" % reads_failed[:3]
    before = [c for c in calls if c[2] < killed]
    after = [c for c in calls if c[1] > promoted + SETTLE_S]
    assert before and not [c for c in before if c[3]], "calls failed before the kill"
    assert [c for c in after if c[0] == "outfit"] and [c for c in after if c[0] == "create"], \
        "no writes after the promotion"
    late = [c for c in after if c[3]]
    assert not late, "writes failed after the promotion: %r" % late[:3]
    slow = [c for c in failed if c[2] - c[1] > FAIL_FAST_S]
    assert not slow, "writes that took over %.1f s to fail: %r" % (FAIL_FAST_S, slow[:3])
    outside = [c for c in failed if c[2] < killed or c[1] > promoted + SETTLE_S]
    assert not outside, "writes failed outside the outage: %r" % outside[:3]

    # Every acknowledged write is on the new master (db-r1). A change that
    # failed after the last acknowledged one may have been applied as well
    # (the answer was lost, not the write): the version may be higher.
    status = subprocess.run([str(ROOT / "kisekae"), "status", "--state", str(STATE)],
                            stdout=subprocess.PIPE, text=True, timeout=60).stdout
    assert re.search(r"^db-r1 .* running .* MariaDB master$", status, re.M), status
    assert re.search(r"^db-m .* stopped .* MariaDB replica$", status, re.M), status
    rows = sql("db-r1", "SELECT m.user_id, m.version, o.item_id FROM kisekae.members m"
                        " LEFT JOIN kisekae.outfit o"
                        " ON o.member_id = m.id AND o.item_id IN (%d, %d)"
                        " WHERE m.user_id LIKE 'pr-%s-%%'" % (hats[0], hats[1], SUFFIX))
    master = {user_id: (int(version), hat) for user_id, version, hat in rows}
    lost = {u: (a, master.get(u)) for u, a in load.acked_outfits.items()
            if u not in master or master[u][0] < a[0]
            or (master[u][0] == a[0] and master[u][1] != str(a[1]))}
    assert not lost, "acknowledged outfit changes not on the new master: %r" % (
        list(lost.items())[:5])
    missing = [u for u in load.acked_creates if u not in master]
    assert not missing, "acknowledged CreateAvatar not on the new master: %r" % missing[:5]

    # The old master rejoins (`up` starts it as a replica of db-r1) and catches up.
    kisekae("up", "--no-build", "--build-dir", BUILD, timeout=300)
    site.CreateAvatar(userId="pr-%s-after" % SUFFIX)
    position = sql("db-r1", "SELECT @@gtid_binlog_pos")[0][0]
    assert sql("db-m", "SELECT MASTER_GTID_WAIT('%s', %d)" % (position, scaled(30))) == [["0"]]
    slave = subprocess.run([str(ROOT / "kisekae"), "sql", "--state", str(STATE), "db-m", "--",
                            "-e", "SHOW SLAVE STATUS\\G"], stdout=subprocess.PIPE, text=True,
                           timeout=60).stdout
    assert "Slave_IO_Running: Yes" in slave and "Slave_SQL_Running: Yes" in slave, slave
    assert "Master_Port: %d" % (int(ENV["KISEKAE_DB_MASTER"].split(":")[1]) + 1) in slave, slave
    count = ("SELECT COUNT(*), SUM(version) FROM kisekae.members"
             " WHERE user_id LIKE 'pr-%s-%%'" % SUFFIX)
    assert sql("db-m", count) == sql("db-r1", count)


def test_a_write_no_replica_acknowledged_is_dropped_when_its_master_rejoins():
    """db-r1 is the master now (the test above). Both replicas stop receiving
    (their IO threads), so a write on db-r1 waits for an acknowledgement that
    never comes: semisync does not fall back, the write is never answered.
    db-r1 dies with it in its binlog; db-r2 is promoted and writes on; `up`
    restarts db-r1 as a replica, whose crash recovery drops that write (else
    it would hold a transaction the new master lacks and could not follow
    it), and it catches up with db-r2."""
    table = "kisekae.promote_probe_%s" % SUFFIX
    sql("db-r1", "CREATE TABLE %s (id INT PRIMARY KEY); INSERT INTO %s VALUES (1)" % (table, table))
    position = sql("db-r1", "SELECT @@gtid_binlog_pos")[0][0]
    for replica in ("db-m", "db-r2"):      # db-r2 last: it holds at least what db-m holds
        assert sql(replica, "SELECT MASTER_GTID_WAIT('%s', %d)" % (position, scaled(30))) == [["0"]]
        sql(replica, "STOP SLAVE IO_THREAD")
    hung = subprocess.Popen([str(ROOT / "kisekae"), "sql", "--state", str(STATE), "db-r1", "--",
                             "-e", "INSERT INTO %s VALUES (2)" % table],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(scaled(2))
        assert hung.poll() is None, "a write no replica acknowledged was answered: %s" % (
            hung.communicate()[0])
        assert sql("db-r1", "SELECT COUNT(*) FROM %s" % table) == [["1"]]
        os.kill(pid_of("db-r1"), signal.SIGKILL)
        answer = hung.communicate(timeout=scaled(10))[0]
        assert hung.returncode != 0, "the unacknowledged write was answered: %s" % answer
    finally:
        if hung.poll() is None:
            hung.kill()
            hung.wait(10)
    for replica in ("db-m", "db-r2"):
        sql(replica, "START SLAVE IO_THREAD")
    print(kisekae("promote", "r2", "--build-dir", BUILD))
    sql("db-r2", "INSERT INTO %s VALUES (3)" % table)   # its GTID takes the dropped write's number
    kisekae("up", "--no-build", "--build-dir", BUILD, timeout=300)
    position = sql("db-r2", "SELECT @@gtid_binlog_pos")[0][0]
    for replica in ("db-m", "db-r1"):
        assert sql(replica, "SELECT MASTER_GTID_WAIT('%s', %d)" % (position, scaled(30))) == [["0"]]
        assert sql(replica, "SELECT id FROM %s ORDER BY id" % table) == [["1"], ["3"]]
    recovery = (Path(STATE / "logs" / "db-r1.err.log")).read_text()
    assert "truncated binlog" in recovery, recovery[-2000:]
