"""kisekae-batch against a stack with two API servers and two image servers
(run.sh brings it up). The tests run in file order and build on each other:

- bad usage, an unknown server and an API that is down fail clearly, with the
  documented exit codes (2, 1, 1);
- a few thousand members on img1 (most in the catalog's default outfit,
  some dressed in items of this module's own and with album photos);
- img1's avatars/ and albums/ emptied: `regenerate` brings back every
  current file with the same sha256 as before, and 50 dressed avatars
  equal the Pillow oracle's composite;
- emptied again, the batch killed with -9 half way, then `--resume`: no
  member skipped, and the members sent twice (from the tool's own log) are
  at most the batches in flight: --parallel x --batch;
- an API server killed with -9 during a run: nothing fails;
- outfits changed by the site during a run end as changed;
- files deleted and corrupted: `audit` names exactly those members,
  `--repair` restores them;
- layers removed and spoiled in img1's item store: `sync-items` fetches
  exactly those;
- `move` empties img1.

The tool runs through `./kisekae batch --state STATE` (its config written
from the stack's stack.env), so the launcher's subcommand is tested too.
"""

import bisect
import hashlib
import io
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import stackctl  # noqa: E402
import world as worlds  # noqa: E402
from conftest import Api, as_list, generate_art, read_env_file  # noqa: E402
from timescale import scaled  # noqa: E402

ENV = read_env_file(os.environ["KISEKAE_ENV"])
BUILD = os.environ["KISEKAE_BUILD"]
STATE = Path(ENV["KISEKAE_STATE"])
API_URLS = ENV["KISEKAE_API_URLS"].split()
PLAIN_MEMBERS = 2000
DRESSED_MEMBERS = 60
PHOTOS = 30
PARALLEL, BATCH = 2, 25
SEED = random.Random(11)


def client(role, url=None):
    return Api(url or ENV["KISEKAE_API_URL"], ENV["KISEKAE_%s_USER" % role],
               ENV["KISEKAE_%s_PASSWORD" % role], timeout=60)


ADMIN, SITE = client("ADMIN"), client("SITE")
WORLD = {}          # what the setup made: world, dressed members, photos


def batch_command(*args, log=None):
    command = [str(ROOT / "kisekae"), "batch", "--state", str(STATE), "--build-dir", BUILD]
    if log:
        command += ["--log", str(log)]
    return command + [str(a) for a in args]


def batch(*args, log=None, timeout=None):
    """Runs kisekae-batch to its end; returns (exit status, stdout + stderr)."""
    done = subprocess.run(batch_command(*args, log=log), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout or scaled(240))
    print(done.stdout[-1500:])
    return done.returncode, done.stdout


def start_batch(*args, log=None):
    return subprocess.Popen(batch_command(*args, log=log), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(process):
    out, _ = process.communicate(timeout=scaled(240))
    print(out[-1500:])
    return process.returncode, out


def summary_count(out, status):
    found = re.findall(r"^  %s +(\d+)" % status, out, re.M)
    assert found, "no '%s' count in the summary:\n%s" % (status, out)
    return int(found[-1])


def listed(out, status):
    """The members a summary names with status (missing, differs, failed)."""
    return set(re.findall(r"^  %s (\S+?)(?::| |$)" % status, out, re.M))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def store(k=1):
    return STATE / ("img%d" % k) / "store"


def member_files(k=1):
    """{store-relative path: sha256} of every avatar, thumbnail and album
    photo on img k."""
    root = store(k)
    return {str(p.relative_to(root)): sha(p.read_bytes())
            for folder in ("avatars", "albums") if (root / folder).exists()
            for p in (root / folder).rglob("*") if p.is_file()}


def current(files):
    """The files a regenerate composes: each member's newest avatar version
    and its thumbnail (the store also keeps the version before), and every
    album photo."""
    newest = {}
    for path in files:
        if path.startswith("avatars/"):
            folder, name = path.rsplit("/", 1)
            version = int(name.split("-")[0].split(".")[0])
            newest[folder] = max(newest.get(folder, 0), version)
    keep = {}
    for path, digest in files.items():
        if path.startswith("avatars/"):
            folder, name = path.rsplit("/", 1)
            if int(name.split("-")[0].split(".")[0]) != newest[folder]:
                continue
        keep[path] = digest
    return keep


def wipe(k=1):
    for folder in ("avatars", "albums"):
        for p in sorted((store(k) / folder).rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    assert member_files(k) == {}


def members_of(server):
    """Every member of server, by ListAvatarsByServer's keyset cursor."""
    members, after = [], None
    while True:
        page = ADMIN.service.ListAvatarsByServer(server=server, after=after, limit=1000)
        got = [m.userId for m in as_list(page.member)]
        members += got
        if not page.next or not got:
            return members
        after = page.next


def checkpoint_done(path):
    try:
        text = path.read_text()
    except FileNotFoundError:
        return 0
    return sum(int(n) for n in re.findall(r"^count \S+ (\d+)$", text, re.M))


def sent(log):
    """[(first, last)] of the batches the tool's log says it sent."""
    return re.findall(r"batch \d+ sent: \d+ members (\S+?)\.\.(\S+)$", log.read_text(), re.M)


def checkpoint_finished(members, path):
    """The members a checkpoint counts as done: up to its low, and in its ranges."""
    text = path.read_text()
    low = re.search(r"^low (\S+)$", text, re.M).group(1)
    done = set(members[:bisect.bisect_right(members, low)]) if low != "-" else set()
    return done | in_ranges(members, re.findall(r"^range (\S+) (\S+)$", text, re.M))


def in_ranges(members, ranges):
    """The members (sorted as the API lists them: byte order) inside ranges."""
    found = set()
    for first, last in ranges:
        found.update(members[bisect.bisect_left(members, first):
                             bisect.bisect_right(members, last)])
    return found


# ---- bad usage first: it needs no members ---------------------------------------------

def test_bad_usage_unknown_server_and_api_down():
    usage_cases = [
        (), ("regenerate",), ("bogus",), ("regenerate", "--server"),
        ("regenerate", "--server", "img1", "--parallel", "0"),
        ("regenerate", "--server", "img1", "--parallel", "x"),
        ("regenerate", "--server", "img1", "--rate", "-3"),
        ("regenerate", "--server", "img1", "--resume", "--restart"),
        ("regenerate", "--server", "img1", "--frobnicate"),
        ("move", "--from", "img1"), ("sync-items", "--server", "img1", "--parallel", "2"),
        ("audit", "--server", "img1", "--dry-run"),
    ]
    for args in usage_cases:
        status, out = batch(*args)
        assert status == 2, "%r: exit %d, expected 2:\n%s" % (args, status, out)
        assert "kisekae-batch" in out or "Usage" in out, out
    for command in ("regenerate", "audit", "move", "sync-items"):
        status, out = batch(command, "--help")
        assert status == 0 and "usage: kisekae-batch" in out, out
    status, out = batch("regenerate", "--server", "nope")
    assert status == 1 and 'no image server is named "nope" (there are: img1 img2)' in out, out
    status, out = batch("move", "--from", "img1", "--to", "nope")
    assert status == 1 and 'no image server is named "nope"' in out, out
    status, out = batch("regenerate", "--server", "img1", "--resume")
    assert status == 2 and "nothing to resume" in out, out
    # No API server there: two closed ports of this test's own range.
    dead = int(API_URLS[0].rsplit(":", 1)[1].strip("/")) + 80
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write("api_url http://127.0.0.1:%d/ http://127.0.0.1:%d/\napi_user a\n"
                   "api_timeout_s 2\nretries 0\n" % (dead, dead + 1))
        conf.flush()
        done = subprocess.run([BUILD + "/kisekae-batch", "-c", conf.name, "sync-items",
                               "--server", "img1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    assert "no API server answered" in done.stderr and "Connection refused" in done.stderr, done


# ---- the members ------------------------------------------------------------------------

def test_setup_members():
    started = time.monotonic()
    local = threading.local()

    def site():
        if not hasattr(local, "site"):     # one client per thread, the API servers alternating
            local.site = client("SITE", API_URLS[threading.get_ident() % len(API_URLS)])
        return local.site

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: site().service.CreateAvatar(userId="bt-%05d" % n,
                                                            imageServer="img1"),
                      range(PLAIN_MEMBERS)))
    art = generate_art(Path(tempfile.mkdtemp(prefix="batch-art-")))
    world = worlds.build_world(ADMIN, SITE, art, "bt")
    roles = ["hairA", "hairB", "topA", "topB", "skirt", "ribbon", "glasses"]

    def dressed(n):
        user_id, _ = worlds.new_member(site(), world, tag="d%02d" % n, image_server="img1")
        wear = ["hairA", "topA"] + random.Random(n).sample(["skirt", "ribbon", "glasses"], 2)
        avatar = worlds.dress(site(), world, user_id, wear)
        return user_id, avatar

    with ThreadPoolExecutor(8) as pool:
        members = list(pool.map(dressed, range(DRESSED_MEMBERS)))
    scene_png = Image.new("RGBA", (480, 360), (120, 180, 230, 255))
    ImageDraw.Draw(scene_png).rectangle((0, 250, 480, 360), fill=(90, 160, 80, 255))
    encoded = io.BytesIO()
    scene_png.save(encoded, "PNG")
    scene = ADMIN.service.RegisterScene(name="batch scene %s" % world.suffix,
                                        png=encoded.getvalue(), slot=[{"x": 120, "y": 20}])
    time.sleep(1)                       # the scene reaches the replica
    photos = []
    for user_id, _ in members[:PHOTOS]:
        photos.append(SITE.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id))
    WORLD.update(world=world, dressed=dict(members), roles=roles, photos=photos)
    files = member_files(1)
    assert sum(p.startswith("albums/") for p in files) == PHOTOS
    print("setup: %d members, %d dressed, %d photos in %.1f s" % (
        PLAIN_MEMBERS + DRESSED_MEMBERS, DRESSED_MEMBERS, PHOTOS, time.monotonic() - started))


# ---- regenerate -------------------------------------------------------------------------

def test_regenerate_brings_back_every_file():
    want = current(member_files(1))
    assert len(want) >= 2 * (PLAIN_MEMBERS + DRESSED_MEMBERS) + PHOTOS
    status, out = batch("regenerate", "--server", "img1", "--dry-run")
    assert status == 0 and "%d album photos" % PHOTOS in out, out
    wipe(1)
    status, out = batch("regenerate", "--server", "img1", "--parallel", PARALLEL)
    assert status == 0, out
    assert summary_count(out, "failed") == 0
    assert summary_count(out, "written") == len(members_of("img1"))
    got = member_files(1)
    assert got.keys() == want.keys(), "missing %s, extra %s" % (
        sorted(want.keys() - got.keys())[:5], sorted(got.keys() - want.keys())[:5])
    differ = [p for p in want if got[p] != want[p]]
    assert not differ, "%d files differ from before the loss, e.g. %s" % (len(differ), differ[:3])
    # 50 dressed avatars against Pillow, read back through nginx
    world = WORLD["world"]
    for user_id in random.Random(5).sample(sorted(WORLD["dressed"]), 50):
        avatar = SITE.service.GetAvatar(userId=user_id)
        worlds.check_avatar(world, avatar.url, as_list(avatar.wornItemId))
    WORLD["files"] = want


def test_kill9_then_resume_skips_no_member():
    want = WORLD["files"]
    members = sorted(members_of("img1"))
    checkpoint = STATE / "batch" / "regenerate-img1.checkpoint"
    logs = Path(tempfile.mkdtemp(prefix="batch-logs-"))
    wipe(1)
    run = start_batch("regenerate", "--server", "img1", "--parallel", PARALLEL, "--batch", BATCH,
                      "--rate", 400, "--restart", log=logs / "first.log")
    deadline = time.monotonic() + scaled(60)
    while checkpoint_done(checkpoint) < len(members) // 2:
        assert run.poll() is None, "the run ended before half way: %s" % run.communicate()[0]
        assert time.monotonic() < deadline, "no progress to half way in 60 s"
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)
    done_at_kill = checkpoint_done(checkpoint)
    assert done_at_kill < len(members)
    finished = checkpoint_finished(members, checkpoint)
    assert len(finished) == done_at_kill
    status, out = batch("regenerate", "--server", "img1", "--parallel", PARALLEL, "--batch",
                        BATCH, "--resume", log=logs / "second.log")
    assert status == 0, out
    assert "resuming after" in out and summary_count(out, "failed") == 0
    assert not checkpoint.exists()
    # no member skipped: every file is back, byte for byte
    got = member_files(1)
    assert got == want, "%d files missing or different after the resume" % len(
        [p for p in want if got.get(p) != want[p]])
    first = in_ranges(members, sent(logs / "first.log"))
    second = in_ranges(members, sent(logs / "second.log"))
    assert first | second >= set(members)
    twice = first & second
    print("kill -9 at %d of %d done; sent twice: %d members (bound %d = --parallel %d x "
          "--batch %d)" % (done_at_kill, len(members), len(twice), PARALLEL * BATCH, PARALLEL,
                           BATCH))
    assert not twice & finished, "a batch the first run finished was sent again"
    assert len(twice) <= PARALLEL * BATCH


def test_api_server_killed_during_run():
    want = WORLD["files"]
    wipe(1)
    run = start_batch("regenerate", "--server", "img1", "--parallel", PARALLEL, "--rate", 400,
                      "--restart")
    checkpoint = STATE / "batch" / "regenerate-img1.checkpoint"
    deadline = time.monotonic() + scaled(60)
    while checkpoint_done(checkpoint) < 300:
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[0]
        time.sleep(0.05)
    os.kill(stackctl.pid(ENV, "api1"), signal.SIGKILL)
    status, out = finish(run)
    assert status == 0, out
    assert summary_count(out, "failed") == 0
    assert member_files(1) == want
    stackctl.restart(ENV)


def test_outfits_changed_during_run_stay_changed():
    world = WORLD["world"]
    changing = sorted(WORLD["dressed"])[:20]
    site = client("SITE", API_URLS[1])
    for user_id in changing:
        worlds.grant(site, user_id, [world.items[r] for r in ("hairB", "topB", "ribbon")])
    wipe(1)
    run = start_batch("regenerate", "--server", "img1", "--parallel", PARALLEL, "--rate", 300,
                      "--restart")
    changed = {}
    for user_id in changing:
        time.sleep(0.15)
        avatar = site.service.ChangeOutfit(
            userId=user_id, wear=[world.items[r].id for r in ("hairB", "topB", "ribbon")],
            remove=[world.items[r].id for r in ("hairA", "topA")])
        changed[user_id] = avatar
    status, out = finish(run)
    assert status == 0, out
    assert summary_count(out, "failed") == 0
    for user_id, answer in changed.items():
        now = SITE.service.GetAvatar(userId=user_id, minVersion=answer.version)
        assert now.version == answer.version, (user_id, now.version, answer.version)
        assert sorted(as_list(now.wornItemId)) == sorted(as_list(answer.wornItemId))
        worlds.check_avatar(world, now.url, as_list(now.wornItemId))
        assert (world.items["hairB"].id in as_list(now.wornItemId))
    WORLD["files"] = current(member_files(1))
    assert len(WORLD["files"]) == len(current(member_files(1)))


# ---- audit ------------------------------------------------------------------------------------

def test_audit_finds_exactly_the_damage_and_repairs_it():
    want = WORLD["files"]
    rng = random.Random(3)
    avatars = sorted(p for p in want if p.startswith("avatars/") and not p.endswith("-thumb.png"))
    thumbs = sorted(p for p in want if p.endswith("-thumb.png"))
    photos = sorted(p for p in want if p.startswith("albums/"))
    deleted = rng.sample(avatars, 3) + rng.sample(thumbs, 2) + rng.sample(photos, 2)
    corrupted = rng.sample([p for p in avatars if p not in deleted], 3)
    for path in deleted:
        (store(1) / path).unlink()
    wrong = io.BytesIO()
    Image.new("RGBA", (240, 320), (255, 0, 0, 255)).save(wrong, "PNG")
    for path in corrupted:
        (store(1) / path).write_bytes(wrong.getvalue())      # a valid PNG, the wrong one
    member = lambda path: path.split("/")[3]                  # noqa: E731
    status, out = batch("audit", "--server", "img1", "--parallel", PARALLEL)
    assert status == 1, out
    assert listed(out, "missing") == {member(p) for p in deleted}
    assert listed(out, "differs") == {member(p) for p in corrupted} - {member(p) for p in deleted}
    assert member_files(1) != want                            # an audit writes nothing
    status, out = batch("audit", "--server", "img1", "--parallel", PARALLEL, "--repair")
    assert status == 0, out
    assert "repaired %d members" % len({member(p) for p in deleted + corrupted}) in out
    assert member_files(1) == want
    status, out = batch("audit", "--server", "img1")
    assert status == 0 and summary_count(out, "unchanged") == len(members_of("img1")), out


# ---- sync-items -------------------------------------------------------------------------------

def test_sync_items_fetches_exactly_what_was_spoiled():
    world = WORLD["world"]
    items = store(1) / "items"
    ours = sorted(items / str(item.id) / "0.png" for item in world.items.values())
    before = {p: p.read_bytes() for p in ours}
    removed, spoiled = ours[:3], ours[3:5]
    for p in removed:
        p.unlink()
    for p in spoiled:
        p.write_bytes(before[p][:-7] + b"spoiled")
    status, out = batch("sync-items", "--server", "img1")
    assert status == 0, out
    assert re.search(r"^  missing +3 ", out, re.M), out
    assert re.search(r"^  stale +2 ", out, re.M), out
    assert re.search(r"^  failed +0$", out, re.M), out
    assert {p: p.read_bytes() for p in ours} == before
    status, out = batch("sync-items", "--server", "img1")
    assert status == 0 and re.search(r"^  missing +0 ", out, re.M), out


# ---- move -------------------------------------------------------------------------------------

def test_move_empties_the_server():
    count = len(members_of("img1"))
    status, out = batch("move", "--from", "img1", "--to", "img2", "--batch", 100)
    assert status == 0, out
    assert "remaining on img1: 0" in out
    assert re.search(r"^  moved: %d members" % count, out, re.M), out
    assert members_of("img1") == []
    assert {s.name: s.memberCount for s in as_list(ADMIN.service.ListImageServers())}["img1"] == 0
    status, out = batch("move", "--from", "img1", "--to", "img2")
    assert status == 0 and "moved: 0 members" in out, out
