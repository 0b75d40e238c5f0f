"""Many servers on one machine (run.sh brings up a MariaDB master with two
replicas, two API servers behind nginx and three image servers).

The tests run in file order and build on each other: 200 items replicated
to every image server; img3 killed, the catalog changed, img3 back and
caught up; img4 added live; weights 1:3 over 2000 new members; draining;
deleted avatar files rebuilt byte for byte on the next GET, and a GET on the
wrong server redirected; members moved from img4 to img3; api1 killed in the
middle of a load of ChangeOutfit calls through nginx.

Every client comes from the checked-in WSDL and calls the balanced URL. The
database's own view is read on the master (stackctl.sql), the image servers'
stores on disk.
"""

import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import stackctl  # noqa: E402
from conftest import Api, as_list, read_env_file  # noqa: E402
from timescale import wait_until

ENV_FILE = os.environ["KISEKAE_ENV"]
BUILD = os.environ["KISEKAE_BUILD"]
CANVAS = (240, 320)
ITEMS = 200
MEMBERS_WEIGHTED = 2000
SUFFIX = uuid.uuid4().hex[:8]


def env():
    return read_env_file(ENV_FILE)


def state():
    return Path(env()["KISEKAE_STATE"])


def client(role):
    e = env()
    user = e["KISEKAE_%s_USER" % role.upper()]
    return Api(e["KISEKAE_API_URL"], user, e["KISEKAE_%s_PASSWORD" % role.upper()], timeout=30)


ADMIN, SITE, NODE = client("admin"), client("site"), client("node")


def kisekae(*args, timeout=300):
    done = subprocess.run([str(ROOT / "kisekae"), *args, "--state", str(state())],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)
    assert done.returncode == 0, "kisekae %s failed:\n%s" % (" ".join(args), done.stdout)
    return done.stdout


def sha(data):
    return hashlib.sha256(data).hexdigest()


def png(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def item_art(seed):
    """A full-canvas layer: one coloured box somewhere, different per seed."""
    rng = random.Random(seed)
    image = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    x, y = rng.randrange(0, 200), rng.randrange(0, 280)
    box = Image.new("RGBA", (rng.randrange(8, 40), rng.randrange(8, 40)),
                    (rng.randrange(256), rng.randrange(256), rng.randrange(256),
                     rng.randrange(64, 256)))
    image.paste(box, (x, y))
    return png(image)


def manifest():
    """{(item, layer): sha256} of the whole catalog, as the database holds it."""
    layers, offset = {}, 0
    while True:
        page = NODE.service.GetCatalogManifest(offset=offset, limit=1000)
        got = as_list(page.layer)
        layers.update({(l.itemId, l.layerNo): l.sha256 for l in got})
        offset += len(got)
        if not got or offset >= page.total:
            return layers


def store_items(k):
    """{(item, layer): sha256} of the item layers in img k's store, and the
    temp files left there."""
    root = state() / ("img%d" % k) / "store" / "items"
    held, temps = {}, []
    for path in root.rglob("*"):
        if path.name.startswith(".tmp-"):
            temps.append(str(path))
        elif path.suffix == ".png" and path.parent.name.isdigit() and path.stem.isdigit():
            held[(int(path.parent.name), int(path.stem))] = sha(path.read_bytes())
    return held, temps


def store_differs(k, want):
    held, temps = store_items(k)
    missing = [key for key in want if key not in held]
    stale = [key for key in want if key in held and held[key] != want[key]]
    extra = [key for key in held if key not in want]
    if missing or stale or extra or temps:
        return "img%d: %d missing, %d stale, %d not in the catalog, temp files %r" % (
            k, len(missing), len(stale), len(extra), temps[:3])
    return None


def servers():
    return {s.name: s for s in ADMIN.service.ListImageServers()}


def server_of(avatar):
    """The name of the image server an avatar's URL points at."""
    for name, s in servers().items():
        if avatar.url.startswith(s.publicUrl.rstrip("/") + "/"):
            return name
    raise AssertionError("no image server serves %s" % avatar.url)


def new_members(count, tag, threads=4):
    """Creates count members through the balancer; returns their avatars."""
    ids = ["cl-%s-%s-%05d" % (tag, SUFFIX, n) for n in range(count)]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda user_id: SITE.service.CreateAvatar(userId=user_id), ids))


def set_modes(**modes):
    for name, mode in modes.items():
        ADMIN.service.SetImageServerMode(name=name, mode=mode)


# ---- replication -----------------------------------------------------------------

def test_items_reach_every_image_server():
    category = ADMIN.service.RegisterCategory(name="cluster-bulk-%s" % SUFFIX, zOrder=300,
                                              exclusive=False, required=False)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        items = list(pool.map(lambda n: ADMIN.service.RegisterItem(
            categoryId=category.id, name="bulk %s %d" % (SUFFIX, n), price=1,
            layer=[{"png": item_art(n)}]), range(ITEMS)))
    print("registered %d items in %.1f s" % (ITEMS, time.monotonic() - started))
    assert len({i.id for i in items}) == ITEMS
    want = manifest()
    assert len(want) >= ITEMS
    for k in (1, 2, 3):
        wait_until(lambda: store_differs(k, want), "img%d does not hold the catalog" % k, 30)
    test_items_reach_every_image_server.category = category
    test_items_reach_every_image_server.items = items


def test_killed_image_server_catches_up():
    items = test_items_reach_every_image_server.items
    category = test_items_reach_every_image_server.category
    os.kill(stackctl.pid(env(), "img3"), signal.SIGKILL)
    # While it is dead: new items, and new art for old ones.
    for n in range(10):
        ADMIN.service.RegisterItem(categoryId=category.id, name="late %s %d" % (SUFFIX, n),
                                   price=1, layer=[{"png": item_art(1000 + n)}])
    for item in items[:5]:
        ADMIN.service.UpdateItem(itemId=item.id, layer=[{"png": item_art(2000 + item.id)}])
    want = manifest()
    assert store_differs(3, want) is not None       # it missed those
    stackctl.restart(env())
    wait_until(lambda: store_differs(3, want), "img3 did not catch up", 60)
    wait_until(lambda: None if servers()["img3"].mode == "active" else servers()["img3"].mode,
               "img3 is not active again", 20)
    for k in (1, 2):
        assert store_differs(k, want) is None


# ---- growth and assignment ----------------------------------------------------------

def test_fourth_image_server_added_live():
    out = kisekae("add", "image", "--build-dir", BUILD)
    assert "added img4" in out, out
    want = manifest()
    wait_until(lambda: store_differs(4, want), "img4 did not sync the catalog", 60)
    wait_until(lambda: None if "img4" in servers() and servers()["img4"].mode == "active"
               else "not registered/active", "img4 is not active", 20)
    # The emptiest server (per unit of weight) takes the next member: img4
    # has none, so it takes at least one in every round of four.
    placed = [server_of(a) for a in new_members(8, "img4", threads=1)]
    assert placed.count("img4") >= 2, placed
    avatar = SITE.service.GetAvatar(userId="cl-img4-%s-%05d" % (SUFFIX, placed.index("img4")))
    assert requests.get(avatar.url, timeout=10).status_code == 200


def test_weights_share_new_members():
    set_modes(img3="draining", img4="draining")
    ADMIN.service.SetImageServerWeight(name="img1", weight=1)
    ADMIN.service.SetImageServerWeight(name="img2", weight=3)
    before = {name: s.memberCount for name, s in servers().items()}
    started = time.monotonic()
    placed = [server_of(a) for a in new_members(MEMBERS_WEIGHTED, "w")]
    elapsed = time.monotonic() - started
    counts = {name: placed.count(name) for name in ("img1", "img2", "img3", "img4")}
    print("%d members in %.1f s (%.0f/s): %r" % (len(placed), elapsed, len(placed) / elapsed,
                                                 counts))
    assert counts["img3"] == counts["img4"] == 0, counts
    share = counts["img1"] / MEMBERS_WEIGHTED
    assert 0.22 <= share <= 0.28, "img1 took %.1f%% of the new members: %r" % (share * 100,
                                                                               counts)
    # The two API servers, each choosing in memory (api-server/assign.c),
    # together bring img1 to a quarter of the two servers' members (1:3),
    # within 2% of the new members: img1 takes what it lacked of its quarter.
    total = before["img1"] + before["img2"] + MEMBERS_WEIGHTED
    expected = min(max(total / 4 - before["img1"], 0), MEMBERS_WEIGHTED)
    assert abs(counts["img1"] - expected) <= 0.02 * MEMBERS_WEIGHTED, (
        "img1 took %d new members, %.0f expected from the counts before %r" % (
            counts["img1"], expected, before))
    # member_count follows every creation (raised right after each COMMIT).
    after = {name: s.memberCount for name, s in servers().items()}
    for name in ("img1", "img2"):
        assert after[name] == before[name] + counts[name], (name, before, after, counts)


def test_a_draining_server_takes_no_new_members():
    set_modes(img2="draining", img3="active")
    placed = [server_of(a) for a in new_members(30, "drain")]
    assert "img2" not in placed and "img4" not in placed, placed
    assert set(placed) <= {"img1", "img3"} and placed, placed
    set_modes(img2="active")


# ---- self-healing delivery -------------------------------------------------------------

def members_on(name):
    return [r[0] for r in stackctl.sql(env(), "SELECT m.user_id FROM members m JOIN"
                                       " image_servers s ON s.id = m.image_server_id"
                                       " WHERE s.name = '%s' ORDER BY m.id" % name)]


def store_path(avatar_url):
    """The file of an avatar URL in its server's store."""
    for name, s in servers().items():
        base = s.publicUrl.rstrip("/") + "/"
        if avatar_url.startswith(base):
            return state() / name / "store" / avatar_url[len(base):]
    raise AssertionError(avatar_url)


def test_deleted_avatar_files_are_rebuilt_byte_for_byte():
    avatars = [SITE.service.GetAvatar(userId=user_id)
               for name in ("img1", "img2", "img3") for user_id in members_on(name)[:8]]
    assert {server_of(a) for a in avatars} == {"img1", "img2", "img3"}
    originals = {}
    for a in avatars:
        for url in (a.url, a.thumbUrl):
            originals[url] = requests.get(url, timeout=10).content
            store_path(url).unlink()
    for url, data in originals.items():
        got = requests.get(url, timeout=30)
        assert got.status_code == 200, "GET %s after deleting it: %d %s" % (
            url, got.status_code, got.text[:200])
        assert sha(got.content) == sha(data), "%s rebuilt with other bytes" % url
        assert store_path(url).read_bytes() == data
    # A member's image asked of another server is sent to the right one.
    a = avatars[0]
    here = server_of(a)
    other = [s for name, s in servers().items() if name != here and s.mode != "down"][0]
    wrong = other.publicUrl.rstrip("/") + a.url[len(servers()[here].publicUrl.rstrip("/")):]
    got = requests.get(wrong, timeout=30, allow_redirects=False)
    assert got.status_code == 302 and got.headers["Location"] == a.url, (
        got.status_code, got.headers.get("Location"), got.text[:200])


# ---- moving members ----------------------------------------------------------------------

def pixels(data):
    return Image.open(io.BytesIO(data)).convert("RGBA").tobytes()


def move_and_check(count, old_files_removed):
    """Moves count members from img4 to img3 and checks each: a new version
    on img3 with the same pixels."""
    before = {}
    for user_id in members_on("img4")[:count]:
        # The version the master holds: a replica a moment behind would hand
        # an older one (a member just composed again with new art, say).
        version = int(stackctl.sql(env(), "SELECT version FROM members WHERE user_id = '%s'"
                                   % user_id)[0][0])
        a = SITE.service.GetAvatar(userId=user_id, minVersion=version)
        before[user_id] = (a, requests.get(a.url, timeout=10).content)
    left = len(members_on("img4")) - count
    moved = ADMIN.service.MoveAvatars(**{"from": "img4", "to": "img3", "limit": count})
    assert (moved.moved, moved.remaining, moved.photosKept) == (count, left, 0), moved
    for user_id, (old, data) in before.items():
        new = SITE.service.GetAvatar(userId=user_id, minVersion=old.version + 1)
        assert server_of(new) == "img3" and new.version == old.version + 1
        assert pixels(requests.get(new.url, timeout=10).content) == pixels(data)
        assert store_path(old.url).exists() != old_files_removed, old.url


def photo_drawn_with_replaced_art(user_id):
    """An album photo of user_id wearing an item whose art is replaced after
    the photo was taken (and after the avatar was composed again with the
    new art); returns (photo, its JPEG bytes)."""
    category = ADMIN.service.RegisterCategory(name="cluster-acc-%s" % SUFFIX, zOrder=450,
                                              exclusive=False, required=False)
    item = ADMIN.service.RegisterItem(categoryId=category.id, name="acc %s" % SUFFIX, price=1,
                                      layer=[{"png": item_art(7000)}])
    SITE.service.GrantItem(userId=user_id, itemId=item.id)
    SITE.service.ChangeOutfit(userId=user_id, wear=[item.id])
    background = png(Image.new("RGBA", (400, 400), (80, 120, 200, 255)))
    scene = ADMIN.service.RegisterScene(name="cluster scene %s" % SUFFIX, png=background,
                                        slot=[{"x": 60, "y": 40}])
    photo = SITE.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id)
    data = requests.get(photo.url, timeout=10).content
    version = SITE.service.GetAvatar(userId=user_id).version
    ADMIN.service.UpdateItem(itemId=item.id, layer=[{"png": item_art(7001)}])
    wait_until(lambda: None if SITE.service.GetAvatar(userId=user_id).version > version
               else "not yet", "the wearer composed with the new art", 30)
    return photo, data


def test_move_members_off_a_live_server_and_off_a_dead_one():
    on_img4 = members_on("img4")
    assert len(on_img4) >= 2, on_img4
    photo, jpeg = photo_drawn_with_replaced_art(on_img4[0])
    # While img4 runs: the old files go.
    move_and_check(len(on_img4) // 2, old_files_removed=True)
    # The photo moved too, drawn again with the art it was taken with.
    moved = [p for p in as_list(SITE.service.ListAlbumPhotos(userId=on_img4[0]).photo)
             if p.id == photo.id][0]
    assert server_of(moved) == "img3" and moved.url != photo.url
    assert requests.get(moved.url, timeout=10).content == jpeg
    assert not store_path(photo.url).exists()
    # img4 dies (active, so its silence marks it down): the rest move all
    # the same, composed from the database.
    set_modes(img4="active")
    os.kill(stackctl.pid(env(), "img4"), signal.SIGKILL)
    wait_until(lambda: None if servers()["img4"].mode == "down" else servers()["img4"].mode,
               "img4 is not marked down", 20)
    move_and_check(len(on_img4) - len(on_img4) // 2, old_files_removed=False)
    assert servers()["img4"].memberCount == 0


# ---- an API server killed under writes -----------------------------------------------------

def test_api_server_killed_during_change_outfit_load():
    category = ADMIN.service.RegisterCategory(name="cluster-hat-%s" % SUFFIX, zOrder=400,
                                              exclusive=True, required=False)
    hats = [ADMIN.service.RegisterItem(categoryId=category.id, name="hat %s %d" % (SUFFIX, n),
                                       price=1, layer=[{"png": item_art(5000 + n)}]).id
            for n in range(2)]
    members = ["cl-w-%s-%05d" % (SUFFIX, n) for n in range(1000, 1024)]
    for user_id in members:
        for hat in hats:
            SITE.service.GrantItem(userId=user_id, itemId=hat)
    acked = {}                  # user_id -> (version, hat) of the last answered change
    failures, calls = [], [0]
    stop = threading.Event()

    def load(mine):
        service = client("site").service
        turn = 0
        while not stop.is_set() and calls[0] < 3000:
            user_id = mine[turn % len(mine)]
            hat = hats[(turn // len(mine)) % 2]
            turn += 1
            try:
                avatar = service.ChangeOutfit(userId=user_id, wear=[hat])
            except Exception as e:  # noqa: BLE001: every failure counts
                failures.append("%s: %r" % (user_id, e))
                continue
            calls[0] += 1
            assert hat in as_list(avatar.wornItemId)
            acked[user_id] = (avatar.version, hat)

    workers = [threading.Thread(target=load, args=(members[n::6],)) for n in range(6)]
    for w in workers:
        w.start()
    try:
        time.sleep(3)
        before_kill = calls[0]
        os.kill(stackctl.pid(env(), "api1"), signal.SIGKILL)
        time.sleep(6)
    finally:
        stop.set()
        for w in workers:
            w.join(60)
    print("%d ChangeOutfit calls (%d before api1 was killed), %d failed" % (
        calls[0], before_kill, len(failures)))
    assert before_kill > 0 and calls[0] > before_kill
    assert not failures, "%d calls failed: %s" % (len(failures), failures[:3])
    # Every acknowledged change is on the master: the version answered last
    # and the hat it put on.
    rows = stackctl.sql(env(), "SELECT m.user_id, m.version, o.item_id FROM members m"
                        " JOIN outfit o ON o.member_id = m.id WHERE o.item_id IN (%d, %d)"
                        " AND m.user_id LIKE 'cl-w-%s-%%'" % (hats[0], hats[1], SUFFIX))
    master = {user_id: (int(version), int(hat)) for user_id, version, hat in rows}
    lost = {u: (acked[u], master.get(u)) for u in acked if master.get(u) != acked[u]}
    assert not lost, "acknowledged changes not on the master: %r" % list(lost.items())[:5]
    stackctl.restart(env())
