"""The fault matrix (run.sh brings up a MariaDB master with two replicas,
two API servers behind nginx and three image servers).

Each test is one fault under the same bounded mixed load (GetAvatar,
ChangeOutfit, CreateAvatar, CreateAlbumPhoto through the balanced URL, one
member never used by two threads at once): the load runs, the fault hits,
the stack is restored (a killed process started again, a stopped one
continued, space given back), the load runs on a while, then the phase prints
the calls made, failed and lost and checks, on the master:

- lost: every acknowledged write is there (a ChangeOutfit's version and
  hat, a created member, an album photo, whose file is served too). Nothing
  acknowledged may be lost, in any phase.
- changed: a member whose calls since its last acknowledged one all failed
  with a clean fault (a SOAP fault with a stable code) is exactly as that
  acknowledged call left it: a fault changes nothing. A call that got no
  answer (a dropped connection) may or may not have happened.
- failed: every failure must be one the fault makes unavoidable, as each
  phase's `allowed` says (with why); every other call succeeds.

Faults, in order: kill -9 and SIGSTOP/SIGCONT of a replica, of an API
server; kill -9 of both API servers (without load: what the balancer
answers an <img> with); kill -9 and SIGSTOP/SIGCONT of one of nginx's two
workers, of an image server; then an image server's disk full (a small
tmpfs mounted over its store, filled, emptied). Last, `kisekae up --image 2`
must mark the image server it stops down at once, and `up --image 3` make
it active again.
"""

import errno
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import zeep
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import stackctl  # noqa: E402
from conftest import Api, as_list, detail_fields, read_env_file  # noqa: E402
from timescale import scaled, wait_until  # noqa: E402

ENV_FILE = os.environ["KISEKAE_ENV"]
SUFFIX = uuid.uuid4().hex[:8]
MEMBERS = 36                 # the load's members, about 12 per image server
THREADS = 4                  # load threads; each owns MEMBERS / THREADS members
WARM_S, HOLD_S, AFTER_S = 2.0, 3.0, 3.0   # load before the fault, fault held, load after
MAX_CALLS = 4000             # per phase, whatever the speed
CALL_TIMEOUT_S = 30          # a client's wait for one answer
# Where each call goes, out of 100.
MIX = (("GetAvatar", 45), ("ChangeOutfit", 30), ("CreateAvatar", 13), ("CreateAlbumPhoto", 12))


def env():
    return read_env_file(ENV_FILE)


def state():
    return Path(env()["KISEKAE_STATE"])


def client(role, timeout=CALL_TIMEOUT_S):
    e = env()
    return Api(e["KISEKAE_API_URL"], e["KISEKAE_%s_USER" % role.upper()],
               e["KISEKAE_%s_PASSWORD" % role.upper()], timeout=scaled(timeout))


ADMIN, SITE = client("admin"), client("site")


def png(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def servers():
    return {s.name: s for s in ADMIN.service.ListImageServers()}


def server_of(url, known):
    for name, s in known.items():
        if url.startswith(s.publicUrl.rstrip("/") + "/"):
            return name
    raise AssertionError("no image server serves %s" % url)


def sql_in(values):
    return ", ".join("'%s'" % v for v in values)


# ---- the world the load works on --------------------------------------------------------

class World:
    """Members with two hats each, a scene, and what was acknowledged."""

    def __init__(self):
        category = ADMIN.service.RegisterCategory(name="fault-hat-%s" % SUFFIX, zOrder=410,
                                                  exclusive=True, required=False)
        self.hats = []
        for n, colour in enumerate(((200, 30, 30, 255), (30, 30, 200, 255))):
            art = Image.new("RGBA", (240, 320), (0, 0, 0, 0))
            art.paste(Image.new("RGBA", (60, 30), colour), (90 + n * 10, 20))
            self.hats.append(ADMIN.service.RegisterItem(
                categoryId=category.id, name="fault hat %s %d" % (SUFFIX, n), price=1,
                layer=[{"png": png(art)}]).id)
        self.scene = ADMIN.service.RegisterScene(
            name="fault scene %s" % SUFFIX, png=png(Image.new("RGBA", (400, 400),
                                                             (90, 140, 90, 255))),
            slot=[{"x": 80, "y": 40}]).id
        known = servers()
        self.members, self.home = [], {}
        self.acked = {}          # user_id -> (version, hat) of its last acknowledged change
        self.unsure = {}         # user_id -> hats of calls after it that got no answer
        self.faulted = {}        # user_id -> calls after it that faulted cleanly
        for n in range(MEMBERS):
            user_id = "fa-%s-m%03d" % (SUFFIX, n)
            avatar = SITE.service.CreateAvatar(userId=user_id)
            for hat in self.hats:
                SITE.service.GrantItem(userId=user_id, itemId=hat)
            avatar = SITE.service.ChangeOutfit(userId=user_id, wear=[self.hats[0]])
            self.members.append(user_id)
            self.home[user_id] = server_of(avatar.url, known)
            self.acked[user_id] = (avatar.version, self.hats[0])
        self.created = 0         # CreateAvatar calls so far (for new user ids)
        counts = {name: list(self.home.values()).count(name) for name in known}
        print("members per image server: %r" % counts)
        assert all(counts.get("img%d" % k, 0) >= MEMBERS // 6 for k in (1, 2, 3)), counts


@dataclass
class Call:
    op: str
    user_id: str
    home: str            # the image server of the member the call is about ("" for a new one)
    start: float
    end: float = 0.0
    kind: str = "ok"     # ok | fault (a SOAP fault with a stable code) | lost-answer
    code: str = ""
    message: str = ""


def outcome(call, error):
    """Records on call how error ended it."""
    if isinstance(error, zeep.exceptions.Fault):
        code, message = detail_fields(error.detail)
        if code:
            call.kind, call.code, call.message = "fault", code, message or ""
            return
    call.kind = "lost-answer"
    call.code = type(error).__name__
    call.message = str(error)[:300]


class Load:
    """THREADS threads calling MIX on the world until stop() (or MAX_CALLS);
    each thread owns its members, so a member's calls never overlap."""

    def __init__(self, world):
        self.world = world
        self.calls = []
        self.created = []            # (user_id, avatar url) acknowledged
        self.photos = []             # (photo id, url) acknowledged
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True)
                        for n in range(THREADS)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(scaled(CALL_TIMEOUT_S) + 10)
        assert not any(t.is_alive() for t in self.threads), "a load thread did not end"

    def new_user_id(self):
        with self.lock:
            self.world.created += 1
            return "fa-%s-n%05d" % (SUFFIX, self.world.created)

    def run(self, n):
        w = self.world
        service = client("site").service
        rng = random.Random("%s-%d-%d" % (SUFFIX, n, len(w.members)))
        mine = w.members[n::THREADS]
        ops = [op for op, share in MIX for _ in range(share)]
        while not self.halt.is_set() and len(self.calls) < MAX_CALLS:
            op, user_id = rng.choice(ops), rng.choice(mine)
            hat = None
            if op == "CreateAvatar":
                user_id = self.new_user_id()
            elif op == "ChangeOutfit":
                hat = w.hats[1] if w.acked[user_id][1] == w.hats[0] else w.hats[0]
            call = Call(op, user_id, w.home.get(user_id, ""), time.monotonic())
            try:
                if op == "GetAvatar":
                    service.GetAvatar(userId=user_id)
                elif op == "ChangeOutfit":
                    avatar = service.ChangeOutfit(userId=user_id, wear=[hat])
                    assert hat in as_list(avatar.wornItemId), avatar
                    w.acked[user_id] = (avatar.version, hat)
                    w.unsure[user_id], w.faulted[user_id] = [], []
                elif op == "CreateAvatar":
                    avatar = service.CreateAvatar(userId=user_id)
                    with self.lock:
                        self.created.append((user_id, avatar.url))
                else:
                    photo = service.CreateAlbumPhoto(userId=user_id, sceneId=w.scene)
                    with self.lock:
                        self.photos.append((photo.id, photo.url))
            except (zeep.exceptions.Error, requests.RequestException) as e:
                outcome(call, e)
                if op == "ChangeOutfit":
                    if call.kind == "fault":
                        w.faulted.setdefault(user_id, []).append(call)
                    else:
                        w.unsure.setdefault(user_id, []).append(hat)
            call.end = time.monotonic()
            with self.lock:
                self.calls.append(call)


# ---- what the master holds ------------------------------------------------------------

def check_master(world, load):
    """(lost, changed): acknowledged writes the master does not hold, and
    members a clean fault changed."""
    e = env()
    lost, changed = [], []
    rows = stackctl.sql(e, "SELECT m.user_id, m.version, o.item_id FROM members m"
                        " LEFT JOIN outfit o ON o.member_id = m.id AND o.item_id IN (%d, %d)"
                        " WHERE m.user_id LIKE 'fa-%s-m%%'" % (world.hats[0], world.hats[1],
                                                                SUFFIX))
    master = {u: (int(v), int(h) if h else None) for u, v, h in rows}
    for user_id, (version, hat) in world.acked.items():
        got = master.get(user_id)
        unsure = world.unsure.get(user_id, [])
        if got is None or got[0] < version or (got[0] == version and got[1] != hat):
            lost.append("%s: acknowledged version %d with hat %d, the master has %r" % (
                user_id, version, hat, got))
        elif got != (version, hat) and not unsure:
            changed.append("%s: acknowledged version %d with hat %d, then only clean faults"
                           " (%s), but the master has %r" % (
                               user_id, version, hat,
                               "; ".join(c.message for c in world.faulted.get(user_id, []))[:300],
                               got))
        elif got != (version, hat) and got[1] not in unsure:
            lost.append("%s: the master has %r, neither the acknowledged (%d, %d) nor an"
                        " unanswered call's hat %r" % (user_id, got, version, hat, unsure))
    if load.created:
        have = {r[0] for r in stackctl.sql(e, "SELECT user_id FROM members WHERE user_id IN"
                                           " (%s)" % sql_in(u for u, _ in load.created))}
        lost += ["created member %s is not on the master" % u for u, _ in load.created
                 if u not in have]
    if load.photos:
        have = {int(r[0]) for r in stackctl.sql(e, "SELECT id FROM album_photos WHERE id IN"
                                                " (%s)" % ", ".join(str(p) for p, _ in
                                                                    load.photos))}
        lost += ["album photo %d is not on the master" % p for p, _ in load.photos
                 if p not in have]
    for what, url in [("avatar", u) for _, u in load.created] + \
                     [("photo", u) for _, u in load.photos]:
        got = requests.get(url, timeout=scaled(30))
        if got.status_code != 200:
            lost.append("acknowledged %s %s: GET answers %d %s" % (what, url, got.status_code,
                                                                  got.text[:100]))
    return lost, changed


def wait_healthy():
    """Every image server active and every database server healthy, as both
    API servers see it (a phase starts on a whole stack)."""
    e = env()
    apis = [Api(url, e["KISEKAE_ADMIN_USER"], e["KISEKAE_ADMIN_PASSWORD"], timeout=10)
            for url in e["KISEKAE_API_URLS"].split()]

    def wrong():
        try:
            modes = {n: s.mode for n, s in servers().items()}
            if set(modes.values()) != {"active"}:
                return "image servers %r" % modes
            for api in apis:
                status = api.service.GetSystemStatus()
                states = {d.address: d.state for d in as_list(status.dbServer)}
                if set(states.values()) != {"healthy"}:
                    return "%s: database servers %r" % (api.endpoint, states)
        except (zeep.exceptions.Error, requests.RequestException) as error:
            return repr(error)[:200]
        return None

    wait_until(wrong, "the stack is not whole again", 60)


# ---- one phase ------------------------------------------------------------------------

def phase(world, name, inject, restore, allowed):
    """Runs the load, inject() at WARM_S, restore() HOLD_S later, the load on
    for AFTER_S; checks and prints. allowed(call, t) says whether a failed
    call is one the fault makes unavoidable (t: the monotonic times of the
    fault and of the restore)."""
    wait_healthy()
    load = Load(world)
    load.start()
    times = {}
    try:
        time.sleep(WARM_S)
        times["fault"] = time.monotonic()
        inject()
        time.sleep(HOLD_S)
        times["restore"] = time.monotonic()
        restore()
        times["restored"] = time.monotonic()
        time.sleep(AFTER_S)
    finally:
        load.stop()
    wait_healthy()
    lost, changed = check_master(world, load)
    failed = [c for c in load.calls if c.kind != "ok"]
    excused = [c for c in failed if allowed(c, times)]
    unexcused = [c for c in failed if not allowed(c, times)]
    by_op = {}
    for c in load.calls:
        made, bad = by_op.get(c.op, (0, 0))
        by_op[c.op] = (made + 1, bad + (c.kind != "ok"))
    print("\n%-28s calls %4d, failed %3d (allowed %3d), lost %d, changed %d; %s" % (
        name, len(load.calls), len(failed), len(excused), len(lost), len(changed),
        ", ".join("%s %d/%d" % (op, bad, made) for op, (made, bad) in sorted(by_op.items()))))
    for c in failed[:5]:
        print("   %s %s on %s at %+.1f s: %s %s %s" % (
            c.op, c.user_id, c.home or "-", c.start - times["fault"], c.kind, c.code,
            c.message[:160]))
    assert len(load.calls) >= 20, "the load hardly ran: %d calls" % len(load.calls)
    assert any(c.kind == "ok" and c.start > times["restored"] for c in load.calls), \
        "no call succeeded after the restore"
    assert not lost, "%d acknowledged writes lost: %s" % (len(lost), lost[:5])
    assert not changed, "%d members changed by a failed call: %s" % (len(changed), changed[:5])
    assert not unexcused, "%d calls failed that the fault does not excuse: %s" % (
        len(unexcused), ["%s %s %s: %s %s" % (c.op, c.user_id, c.home, c.code, c.message[:200])
                         for c in unexcused[:5]])
    return load


def in_flight(call, at):
    """1 when call was under way at the fault. A process dies a moment after
    kill() returns (the kernel tears its threads and sockets down in turn), so
    a call sent within KILL_GRACE_S after it can still reach the dying
    process."""
    return call.start <= at + scaled(KILL_GRACE_S) and at <= call.end


KILL_GRACE_S = 0.25


def nothing(call, times):
    return False


WRITES_ON_SERVER = ("ChangeOutfit", "CreateAlbumPhoto")   # need the member's image server


def image_server_faulted(name):
    """Allowed while image server name is dead, stopped or full: its members'
    ChangeOutfit and CreateAlbumPhoto fault with ImageServerUnavailable (they
    need that server; nothing else can draw and store the member's images).
    Reads, other members' calls and CreateAvatar (a new member goes to
    another server) must not fail."""
    def allowed(call, times):
        return (call.op in WRITES_ON_SERVER and call.home == name and call.kind == "fault"
                and call.code == "ImageServerUnavailable")
    return allowed


@pytest.fixture(scope="module")
def world():
    return World()


def kill(pid_of, sig):
    def inject():
        os.kill(pid_of(), sig)
    return inject


class Started:
    """How component name runs (command line, folder, environment, output
    file, from /proc), so that start() starts it again the way the launcher
    did, at once (`kisekae up` redraws the sample catalog first), with the
    new PID in the launcher's pid file (`kisekae down` stops it by that)."""

    def __init__(self, name):
        self.name = name
        self.pid_file = state() / "run" / ("%s.pid" % name)
        proc = Path("/proc/%d" % stackctl.pid(env(), name))
        self.argv = proc.joinpath("cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        self.cwd = os.readlink(proc / "cwd")
        self.environ = dict(v.split(b"=", 1) for v in
                            proc.joinpath("environ").read_bytes().split(b"\0") if b"=" in v)
        self.out = os.readlink(proc / "fd" / "1")

    def start(self):
        with open(self.out, "ab") as out:
            child = subprocess.Popen(self.argv, cwd=self.cwd, env=self.environ,
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        tmp = self.pid_file.with_suffix(".new")
        tmp.write_text("%d\n" % child.pid)
        tmp.rename(self.pid_file)


def killed(name):
    """(inject, restore) of a kill -9 of component name and its start."""
    again = Started(name)
    return kill(lambda: stackctl.pid(env(), name), signal.SIGKILL), again.start


def resume(pid):
    def restore():
        os.kill(pid, signal.SIGCONT)
    return restore


def stop_and_continue(world, name, allowed=nothing):
    pid = stackctl.pid(env(), name)
    phase(world, "SIGSTOP %s" % name, kill(lambda: pid, signal.SIGSTOP), resume(pid), allowed)


# ---- replicas ---------------------------------------------------------------------------
# The API's pool sends reads elsewhere once a health check finds a replica
# silent; a read caught on it is tried on another server. No failure is
# allowed.

def test_replica_killed(world):
    phase(world, "kill -9 db-r1", *killed("db-r1"), nothing)


def test_replica_stopped(world):
    stop_and_continue(world, "db-r2")


# ---- API servers -------------------------------------------------------------------------

def test_api_server_killed(world):
    """nginx sends a call to the other API server when api1 refuses it, and
    sends again the idempotent ones api1 had received. Allowed: a
    CreateAvatar or CreateAlbumPhoto api1 was serving when it died (nginx may
    not send again what may have happened), answered with a dropped
    connection or nginx's 502."""
    def allowed(call, times):
        return (call.op in ("CreateAvatar", "CreateAlbumPhoto") and
                call.kind == "lost-answer" and in_flight(call, times["fault"]))
    phase(world, "kill -9 api1", *killed("api1"), allowed)


def test_api_server_stopped(world):
    """Calls api1 holds wait for it (shorter than every timeout): none fails."""
    stop_and_continue(world, "api2")


def test_every_api_server_killed(world):
    """With no API server left behind the balancer, a page's <img> of a
    member's avatar (GET /avatar/...) still gets a picture: nginx answers 503
    with the placeholder `kisekae-api --write-placeholders` left for it, the
    very bytes an API server answers an unknown member with, which no cache
    keeps. And an image server asked for an avatar it lost (it can't be
    rebuilt without the API) answers the member's last good one, the version
    before. Once the API servers are back, the avatar's redirect returns and
    the lost avatar is rebuilt, byte for byte. No load runs."""
    lb = env()["KISEKAE_API_LB_URL"].rstrip("/")
    member, lost = world.members[0], world.members[1]
    # lost's current avatar, a version after another, vanishes from its store
    hat = world.hats[1] if world.acked[lost][1] == world.hats[0] else world.hats[0]
    changed = SITE.service.ChangeOutfit(userId=lost, wear=[hat])
    world.acked[lost] = (changed.version, hat)
    avatar_url = changed.url
    known = servers()
    home = server_of(avatar_url, known)
    current = state() / home / "store" / avatar_url[len(known[home].publicUrl.rstrip("/")) + 1:]
    before = max(int(p.stem) for p in current.parent.glob("*.png")
                 if p.stem.isdigit() and int(p.stem) < changed.version)
    good = current.with_name("%d.png" % before).read_bytes()
    lost_bytes = current.read_bytes()
    current.unlink()
    paths = {"": "/avatar/%s.png", "thumb": "/avatar/%s/thumb.png"}

    def get(kind, user_id):
        return requests.get(lb + paths[kind] % user_id, timeout=scaled(10),
                            allow_redirects=False)
    api_answer = {}
    for kind in paths:          # the API's own placeholder: an unknown member's
        r = get(kind, "fault-nobody-%s" % SUFFIX)
        assert r.status_code == 404 and r.headers["Content-Type"] == "image/png", r.headers
        api_answer[kind] = r.content
        assert get(kind, member).status_code == 302
    apis = ["api1", "api2"]
    again = [Started(name) for name in apis]
    try:
        for name in apis:
            os.kill(stackctl.pid(env(), name), signal.SIGKILL)
        got = {}
        for kind in paths:
            def placeholder():
                got[kind] = get(kind, member)
                header = got[kind].headers.get("X-Kisekae-Placeholder")
                return None if header == "no API server answered" else "%d %r" % (
                    got[kind].status_code, header)
            wait_until(placeholder, "the balancer's placeholder for %s" % paths[kind], 10)
            r = got[kind]
            assert r.status_code == 503 and r.headers["Content-Type"] == "image/png", r.headers
            assert "no-cache" in r.headers["Cache-Control"], r.headers
            assert r.headers["Retry-After"] == "10", r.headers
            assert r.content == api_answer[kind], "not the API's own placeholder (%s)" % kind
        width, height = (int(v) for v in env()["KISEKAE_CANVAS"].split("x"))
        avatar = Image.open(io.BytesIO(got[""].content))
        thumb = Image.open(io.BytesIO(got["thumb"].content))
        assert avatar.size == (width, height), avatar.size
        assert thumb.size[0] < width and thumb.size[1] < height, thumb.size
        assert avatar.convert("RGBA").getpixel((0, 0))[3] == 0     # the silhouette's background

        r = requests.get(avatar_url, timeout=scaled(10), allow_redirects=False)
        assert r.status_code == 503 and r.headers["Content-Type"] == "image/png", r.headers
        assert "no-cache" in r.headers["Cache-Control"], r.headers
        assert r.headers["X-Kisekae-Placeholder"].startswith(
            "version %d, the last good image" % before), r.headers
        assert r.content == good, "not version %d's file" % before
    finally:
        for started in again:
            started.start()

    # Each server, then the balancer. Each of nginx's workers still holds
    # both servers as failed for fail_timeout (5 s, nginx.conf's upstream):
    # until then it answers 502, which the next phase's load must not meet.
    for base in env()["KISEKAE_API_URLS"].split():
        def redirected():
            try:
                r = requests.get(base.rstrip("/") + paths[""] % member, timeout=scaled(10),
                                 allow_redirects=False)
            except requests.RequestException as error:     # not listening yet
                return str(error)[:200]
            return None if r.status_code == 302 else "%d" % r.status_code
        wait_until(redirected, "the avatar's redirect from %s again" % base, 30)
    time.sleep(5.5)
    r = get("", member)
    assert r.status_code == 302, "the balancer after the API servers came back: %d" % r.status_code
    r = requests.get(avatar_url, timeout=scaled(30))
    assert r.status_code == 200 and r.content == lost_bytes, "the lost avatar, rebuilt: %d" % (
        r.status_code)


# ---- nginx's workers ----------------------------------------------------------------------

def nginx_worker():
    master = stackctl.pid(env(), "nginx")
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out, "nginx (pid %d) has no workers" % master
    return int(out[0])


def test_nginx_worker_killed(world):
    """nginx's master starts another worker. Allowed: a call that worker was
    carrying when it died, the client's (its connection drops) or the one an
    API server sent through it to an image server (ImageServerUnavailable);
    and, in the second after, a call sent on a kept-alive connection the
    dead worker held (the client learns it is closed only by using it)."""
    def allowed(call, times):
        return in_flight(call, times["fault"]) or (
            call.kind == "lost-answer" and "RemoteDisconnected" in call.message
            and call.start - times["fault"] < scaled(1))
    phase(world, "kill -9 an nginx worker", kill(nginx_worker, signal.SIGKILL), lambda: None,
          allowed)


def test_nginx_worker_stopped(world):
    pid = nginx_worker()
    phase(world, "SIGSTOP an nginx worker", kill(lambda: pid, signal.SIGSTOP), resume(pid),
          nothing)


# ---- image servers ---------------------------------------------------------------------------

def placeholders_while_dead(name):
    """While image server name's app is dead, its nginx answers an image that
    is not in the store with the placeholder the app left there: a 503 that
    no cache keeps, the thumbnail's for a thumbnail (never nginx's HTML)."""
    public = servers()[name].publicUrl.rstrip("/")
    sizes = {}
    for suffix in ("", "-thumb"):
        url = "%s/avatars/00/00/fault-nobody-%s/1%s.png" % (public, SUFFIX, suffix)

        got = []

        def not_yet():              # the process dies a moment after the kill
            got[:] = [requests.get(url, timeout=scaled(10), allow_redirects=False)]
            header = got[0].headers.get("X-Kisekae-Placeholder")
            return None if header == NGINX_PLACEHOLDER else "%d %r" % (got[0].status_code,
                                                                        header)
        wait_until(not_yet, "nginx's placeholder for %s" % url, 10)
        r = got[0]
        assert r.status_code == 503 and r.headers["Content-Type"] == "image/png", r.headers
        assert "no-cache" in r.headers["Cache-Control"], r.headers
        sizes[suffix] = Image.open(io.BytesIO(r.content)).size
    assert sizes["-thumb"][0] < sizes[""][0], sizes
    return sizes


NGINX_PLACEHOLDER = "image server busy or unreachable"   # kisekae-image-public.conf


def test_image_server_killed(world):
    inject, restore = killed("img2")
    seen = []

    def inject_and_look():
        inject()
        seen.append(placeholders_while_dead("img2"))
    phase(world, "kill -9 img2", inject_and_look, restore, image_server_faulted("img2"))
    print("img2's nginx answered the placeholders (avatar, thumbnail): %r" % seen)


def test_image_server_stopped(world):
    stop_and_continue(world, "img3", image_server_faulted("img3"))


# ---- an image server's disk full ------------------------------------------------------------

FULL = "img1"


def store_files(store):
    """Temp files left in store, and stored images that do not decode."""
    temps, broken = [], []
    for path in store.rglob("*"):
        if path.name.startswith(".tmp"):
            temps.append(str(path))
        elif path.is_file() and path.suffix in (".png", ".jpg") and path.parts[-4:-3] != (
                "items",):
            try:
                with Image.open(path) as image:
                    image.load()
            except OSError as e:
                broken.append("%s: %s" % (path, e))
    return temps, broken


def test_image_server_disk_full(world):
    """A tmpfs a little larger than img1's store is mounted over it (img1
    stopped meanwhile, the store copied in), then filled to the last byte.
    Allowed: img1's members' ChangeOutfit and CreateAlbumPhoto fault with
    ImageServerUnavailable, naming the full disk. No temp file or partial
    image is left; once the space is back they work again. The store goes
    back on disk afterwards, whatever happened."""
    e = env()
    store = state() / FULL / "store"
    staging = state() / "fault-staging"
    filler = store / "fault-filler"
    size_kb = int(subprocess.run(["du", "-sk", str(store)], capture_output=True, text=True,
                                 check=True).stdout.split()[0]) + 16 * 1024
    again = Started(FULL)
    stackctl.stop(e, FULL)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(store, staging, symlinks=True)
    mode = "%o" % (store.stat().st_mode & 0o7777)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk,mode=%s" % (size_kb, mode),
                    "kisekae-fault", str(store)], check=True)
    try:
        subprocess.run(["cp", "-a", "%s/." % staging, str(store)], check=True)
        again.start()

        def fill():
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for size in (1 << 20, 4096, 1):     # down to the last byte
                    try:
                        while True:
                            os.write(fd, b"\0" * size)
                    except OSError as e:
                        assert e.errno == errno.ENOSPC, e
            finally:
                os.close(fd)
            print("\nfilled %s: %d bytes free" % (store, shutil.disk_usage(store).free))

        allowed = image_server_faulted(FULL)
        load = phase(world, "disk full on %s" % FULL, fill, lambda: filler.unlink(), allowed)
        full = [c for c in load.calls if c.kind != "ok"]
        assert full, "no call met the full disk"
        assert all("space" in c.message.lower() for c in full), \
            "a fault does not say the disk is full: %r" % [c.message for c in full[:3]]
        temps, broken = store_files(store)
        assert not temps and not broken, "temp files %r, broken images %r" % (temps[:3],
                                                                           broken[:3])
    finally:
        # img1's store back on disk: what the tmpfs holds now replaces it.
        stackctl.stop(e, FULL)
        if filler.exists():
            filler.unlink()
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run(["cp", "-a", str(store), str(staging)], check=True)
        subprocess.run(["umount", str(store)], check=True)
        shutil.rmtree(store)
        staging.rename(store)
        again.start()
    wait_healthy()


# ---- shrinking the stack -----------------------------------------------------------------

def kisekae(*args):
    done = subprocess.run([str(ROOT / "kisekae"), *args, "--state", str(state()), "--no-build",
                           "--build-dir", os.environ["KISEKAE_BUILD_DIR"]],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=scaled(300))
    assert done.returncode == 0, "kisekae %s failed:\n%s" % (" ".join(args), done.stdout)


def test_shrinking_marks_the_stopped_image_server_down(world):
    """`kisekae up --image 2` marks img3 down through the API before it
    stops it (not its silence, image_server_timeout later), so no new member
    is given to it; `up --image 3` makes it active again."""
    kisekae("up", "--image", "2")
    img3 = [s for s in as_list(ADMIN.service.GetSystemStatus().imageServer)
            if s.name == "img3"][0]
    assert img3.mode == "down" and not img3.downBySilence, img3
    known = servers()
    placed = [server_of(SITE.service.CreateAvatar(userId="fa-%s-s%03d" % (SUFFIX, n)).url, known)
              for n in range(12)]
    assert "img3" not in placed, placed
    kisekae("up", "--image", "3")
    wait_healthy()
