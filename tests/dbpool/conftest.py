"""Fixtures of the database pool tests (tests/dbpool, run by run.sh).

They drive a stack of their own (`./kisekae up --replicas 2`, started by
run.sh, which exports KISEKAE_ENV=STATE/stack.env) through its SOAP API with
zeep clients, and break its MariaDB replicas on purpose: kill -9, SIGSTOP and
SIGCONT, replication stopped or delayed. They only ever signal the PIDs the
stack recorded in STATE/run/*.pid (after checking the process still runs the
stack's own my.cnf), restart a killed replica the way `./kisekae up` does
(its PID back in the same file, so `./kisekae down` stops it), and restore
every replica, and the API servers' configuration, when they end.

The stack runs two API servers on the same databases: api1 (standalone
HTTP, KISEKAE_API_URL), which the load and the read counters use, and
api-fcgi (FastCGI behind nginx, KISEKAE_API_FCGI_URL). A configuration
change goes to both, each by its own SIGHUP.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
import requests

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import zeep  # noqa: E402
from zeep.transports import Transport  # noqa: E402
from timescale import scaled

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
from render import load_vars, render_file  # noqa: E402
from stackenv import read_env_file  # noqa: E402
WSDL = str(ROOT / "wsdl" / "Kisekae.wsdl")
BINDING = "{urn:kisekae:v1}Kisekae"

# The API server's pool settings for these tests: failures are noticed in a
# fraction of a second and a hung server holds a read for at most 2 s. (A
# 1 s connect timeout proved too short for a master's handshake on a busy
# 2-core machine.)
TUNING = {
    "db_health_interval_ms": "200",
    "db_health_timeout_s": "2",
    "db_connect_timeout": "2",
    "db_read_timeout": "2",
    "db_write_timeout": "2",
    "db_max_lag_s": "2",
}
WAIT_S = 30                       # bounded waits for a state to show


def api_client(url, user, password, timeout=30):
    session = requests.Session()
    session.auth = (user, password)
    transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
    client = zeep.Client(WSDL, transport=transport)
    return client.create_service(BINDING, url), session


class Stack:
    """The stack run.sh started: its processes, databases and API config."""

    def __init__(self, env_file):
        self.env = read_env_file(env_file)
        self.state = Path(self.env["KISEKAE_STATE"])
        conf = read_env_file(self.state / "stack.conf")
        self.db_dir = Path(conf["KS_DB_DIR"])
        self.run_dir = self.state / "run"
        # The API servers: name -> URL (api1 first; api-fcgi when the stack has it).
        self.api_urls = {"api1": self.env["KISEKAE_API_URL"]}
        if self.env.get("KISEKAE_API_FCGI_URL"):
            self.api_urls["api-fcgi"] = self.env["KISEKAE_API_FCGI_URL"]
        self.api_confs = {name: self.state / name / "kisekae-api.conf" for name in self.api_urls}
        self.api_logs = {name: self.state / "logs" / ("%s.log" % name) for name in self.api_urls}
        self.original_confs = {name: path.read_text() for name, path in self.api_confs.items()}
        self.api_conf, self.api_log = self.api_confs["api1"], self.api_logs["api1"]
        self.replicas = self.env["KISEKAE_DB_REPLICAS"].split()   # host:port of db-r1, db-r2
        self.master = self.env["KISEKAE_DB_MASTER"]
        self.stopped = set()          # components we SIGSTOPped and not yet CONTinued
        self.admins = {name: api_client(url, self.env["KISEKAE_ADMIN_USER"],
                                        self.env["KISEKAE_ADMIN_PASSWORD"])[0]
                       for name, url in self.api_urls.items()}
        self.admin = self.admins["api1"]

    # ---- processes --------------------------------------------------------------
    def my_cnf(self, name):
        return self.db_dir / name / "my.cnf"

    def pid(self, name):
        """The PID recorded for component name, if it runs what the stack
        started (its command line names the stack's config)."""
        try:
            pid = int((self.run_dir / ("%s.pid" % name)).read_text().split()[0])
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ")
            stat = Path("/proc/%d/stat" % pid).read_text()
        except (OSError, ValueError, IndexError):
            return None
        match = str(self.my_cnf(name) if name.startswith("db-") else self.api_confs[name])
        if match.encode() not in cmdline or stat.rsplit(")", 1)[1].split()[0] in "ZXx":
            return None
        return pid

    def signal(self, name, sig):
        pid = self.pid(name)
        assert pid, "%s is not running" % name
        os.kill(pid, sig)
        if sig == signal.SIGSTOP:
            self.stopped.add(name)
        elif sig == signal.SIGCONT:
            self.stopped.discard(name)
        return pid

    def kill9(self, name):
        pid = self.signal(name, signal.SIGKILL)
        deadline = time.monotonic() + scaled(WAIT_S)
        while self.pid(name) == pid and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.pid(name) is None, "%s (pid %d) survived kill -9" % (name, pid)

    def start_db(self, name):
        """Starts a stopped MariaDB instance as `./kisekae up` does: in its own
        session, its PID in run/NAME.pid; waits until it answers."""
        if self.pid(name):
            return
        pidfile = self.run_dir / ("%s.pid" % name)
        with open(self.state / "logs" / ("%s.out" % name), "ab") as out:
            subprocess.Popen(
                ["setsid", "bash", "-c", 'echo $$ >"$0.new" && mv -f "$0.new" "$0" && exec "$@"',
                 str(pidfile), "mariadbd", "--defaults-file=%s" % self.my_cnf(name)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, close_fds=True)
        deadline = time.monotonic() + scaled(WAIT_S)
        while True:
            ping = subprocess.run(["mariadb-admin", "--defaults-file=%s" % self.my_cnf(name),
                                   "--connect-timeout=1", "ping"], capture_output=True)
            if ping.returncode == 0:
                return
            assert time.monotonic() < deadline, "%s did not answer after its restart" % name
            time.sleep(0.1)

    def sql(self, name, statement):
        """Runs statement as root on instance name; rows as lists of strings."""
        done = subprocess.run(["mariadb", "--defaults-file=%s" % self.my_cnf(name), "-N", "-B",
                               "-e", statement], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, "%s: %s: %s" % (name, statement, done.stderr)
        return [line.split("\t") for line in done.stdout.splitlines()]

    def sync(self, name):
        """Waits until replica name has applied everything the master wrote."""
        position = self.sql("db-m", "SELECT @@gtid_binlog_pos")[0][0]
        result = self.sql(name, "SELECT MASTER_GTID_WAIT('%s', %d)" % (position, WAIT_S))
        assert result[0][0] == "0", "%s did not catch up with the master" % name

    def restore_replicas(self):
        """Every replica running, replicating, without delay."""
        for name in ("db-r1", "db-r2"):
            if name in self.stopped or self.pid(name):
                self.signal(name, signal.SIGCONT)
            if not self.pid(name):
                self.start_db(name)
            self.sql(name, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE")

    # ---- the API server's configuration -------------------------------------------
    def write_conf(self, replicas, **tuning):
        """Renders every API server's config again (deploy/templates/, with
        the variables `./kisekae up` rendered it with) with these replicas
        [(host:port, weight)] and TUNING and tuning as more lines; then
        SIGHUP each and wait until each runs the new pool generation.
        Returns api1's status."""
        before = {name: self.status(name).poolGeneration for name in self.api_urls}
        for name, conf in self.api_confs.items():
            variables = load_vars(conf)
            variables["db_replicas"] = ["%s %d" % replica for replica in replicas]
            settings = {**TUNING, **tuning}
            extra = variables.get("extra", [])
            kept = [line for line in ([extra] if isinstance(extra, str) else extra)
                    if line and line.split()[0] not in settings]
            variables["extra"] = kept + ["%s %s" % kv for kv in settings.items()]
            render_file("kisekae-api.conf", conf, variables, 0o600)
            self.signal(name, signal.SIGHUP)
        for name in self.api_urls:
            self.wait(lambda s, n=name: s.poolGeneration > before[n],
                      "%s's pool generation > %d" % (name, before[name]), api=name)
        return self.status()

    def reload_raw(self, text, name="api1"):
        self.api_confs[name].write_text(text)
        self.signal(name, signal.SIGHUP)

    def restore_confs(self):
        for name, original in self.original_confs.items():
            self.reload_raw(original, name)

    # ---- GetSystemStatus ----------------------------------------------------------------
    def status(self, api="api1"):
        return self.admins[api].GetSystemStatus()

    def servers(self, status=None):
        """{address: SystemDbServer} of a status."""
        status = status or self.status()
        return {s.address: s for s in status.dbServer or []}

    def reads(self):
        return {a: s.readsServed for a, s in self.servers().items()}

    def wait(self, check, what, timeout=WAIT_S, api="api1"):
        """Polls api's GetSystemStatus until check(status) holds; returns the
        status."""
        deadline = time.monotonic() + scaled(timeout)
        while True:
            status = self.status(api)
            if check(status):
                return status
            if time.monotonic() >= deadline:
                pytest.fail("waited %d s for %s; last status: %s" % (timeout, what, status),
                            pytrace=False)
            time.sleep(0.1)

    def wait_reads(self, address, by=20, timeout=10):
        """Waits until address served `by` more reads; fails after timeout."""
        start = self.reads()[address]
        return self.wait(lambda s: self.servers(s)[address].readsServed - start >= by,
                         "%d reads on %s" % (by, address), timeout)

    def master_idle(self, window=1.0, tries=3, most=5):
        """Whether, in one of a few windows of `window` s, the master served
        at most `most` reads (the replicas took them). A few windows: on a
        busy machine a replica may miss a check and hand the master its reads
        for a moment."""
        for _ in range(tries):
            before = self.reads()[self.master]
            time.sleep(window)
            if self.reads()[self.master] - before <= most:
                return True
        return False

    def wait_state(self, address, state, timeout=WAIT_S):
        return self.wait(lambda s: self.servers(s).get(address) is not None and
                         self.servers(s)[address].state == state,
                         "%s to be %s" % (address, state), timeout)


class Load:
    """Client threads calling GetAvatar and ListItems over SOAP, each with its
    own zeep client and keep-alive connection, until stopped. Every call
    that fails is recorded with what it raised."""

    def __init__(self, stack, threads=4, members=(), api="api1"):
        self.stack, self.threads, self.url = stack, threads, stack.api_urls[api]
        self.members = list(members) or ["demo"]
        self.calls = 0
        self.slowest = 0.0            # seconds, of a call that succeeded
        self.failures = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers = []

    def run(self, index):
        env = self.stack.env
        api, session = api_client(self.url, env["KISEKAE_SITE_USER"],
                                  env["KISEKAE_SITE_PASSWORD"])
        rnd = random.Random(index)
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    if rnd.random() < 0.6:
                        avatar = api.GetAvatar(userId=rnd.choice(self.members))
                        assert avatar.version >= 1
                    else:
                        answer = api.ListItems(limit=5)
                        assert answer.total >= 1
                    with self.lock:
                        self.calls += 1
                        self.slowest = max(self.slowest, time.monotonic() - started)
                except Exception as e:                    # noqa: BLE001 (record anything)
                    with self.lock:
                        self.failures.append("%.1f s: %r" % (time.monotonic() - started, e))
        finally:
            session.close()

    def __enter__(self):
        for i in range(self.threads):
            t = threading.Thread(target=self.run, args=(i,), daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.workers:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self.workers), "a load thread hangs"

    def check(self, min_calls):
        assert self.failures == [], "%d of %d calls failed: %s" % (
            len(self.failures), self.calls + len(self.failures), self.failures[:5])
        assert self.calls >= min_calls, "only %d calls succeeded" % self.calls


@pytest.fixture(scope="session")
def stack():
    env_file = os.environ.get("KISEKAE_ENV")
    if not env_file:
        pytest.skip("KISEKAE_ENV is not set: tests/dbpool/run.sh starts the stack they need")
    s = Stack(env_file)
    assert len(s.replicas) == 2, "the stack needs 2 replicas (./kisekae up --replicas 2)"
    s.write_conf([(r, 1) for r in s.replicas])
    for r in s.replicas:
        s.wait_state(r, "healthy")
    yield s
    s.restore_replicas()
    s.restore_confs()


@pytest.fixture
def healthy(stack):
    """Each test starts and ends with both replicas running, replicating and
    healthy, at weight 1 each."""
    stack.write_conf([(r, 1) for r in stack.replicas])
    for r in stack.replicas:
        stack.wait_state(r, "healthy")
    yield stack
    stack.restore_replicas()
    stack.write_conf([(r, 1) for r in stack.replicas])
    for r in stack.replicas:
        stack.wait_state(r, "healthy")
