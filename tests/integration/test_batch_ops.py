"""kisekae-batch's operations: ListAvatarsByServer (keyset pages),
RebuildAvatars (an image server composes a batch of members' images again
and writes only what is missing or differs) and SyncImageServer (the item
store checked against the catalog now).

Runs against the integration stack (run.sh: two image servers that re-sync
every 2 s). Files are deleted, spoiled and compared in img1's store folder;
a lost file is never fetched by URL before RebuildAvatars ran, since a GET
would rebuild it on its own (test_self_heal.py). The rebuilt avatar is
compared with Pillow's composite (oracle.py), and every file with the bytes
it had before.
"""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import stackctl
from conftest import as_list, unique, wait_for
from test_image_protocol import image_server  # noqa: F401 (a fixture)
from test_self_heal import Stack, node, scene_png  # noqa: F401 (node: a fixture)
from world import build_world, check_avatar, dress, new_member


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def stack(env):
    return Stack(env)


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "batch")


@pytest.fixture(scope="module")
def members(admin, site, world):
    """Four members on img1; the first dressed, with an album photo."""
    ids = [new_member(site, world, "b%d" % k, image_server="img1")[0] for k in range(4)]
    avatar = dress(site, world, ids[0], ["hairA", "topA", "skirt", "ribbon"])
    scene = admin.service.RegisterScene(name=unique("batch scene"), png=scene_png(),
                                        slot=[{"x": 40, "y": 20}])
    photo = site.service.CreateAlbumPhoto(userId=ids[0], sceneId=scene.id)
    return {"ids": ids, "avatar": avatar, "photo": photo}


def rebuild(admin, user_ids, check_only=None):
    results = as_list(admin.service.RebuildAvatars(server="img1", userId=user_ids,
                                                   checkOnly=check_only))
    assert [r.userId for r in results] == list(user_ids)
    return results


def members_of(env, name):
    server_id = stackctl.sql(env, "SELECT id FROM image_servers WHERE name = '%s'" % name)[0][0]
    users = [row[0] for row in stackctl.sql(
        env, "SELECT user_id FROM members WHERE image_server_id = %s" % server_id)]
    return sorted(users, key=lambda u: u.encode()), server_id


# ---- ListAvatarsByServer -----------------------------------------------------------------

def test_pages_list_every_member_exactly_once(admin, env, members):
    expected, server_id = members_of(env, "img1")
    assert len(expected) >= 4
    seen, after, pages = [], None, 0
    while True:
        page = admin.service.ListAvatarsByServer(server="img1", after=after, limit=3)
        got = [m.userId for m in as_list(page.member)]
        seen += got
        pages += 1
        assert pages <= len(expected) // 3 + 2, "the cursor does not advance"
        if page.next is None:
            break
        assert len(got) == 3 and page.next == got[-1]
        after = page.next
    assert seen == expected
    count = stackctl.sql(env, "SELECT member_count FROM image_servers WHERE id = %s" % server_id)
    assert page.memberCount == int(count[0][0])

    # A cursor in the middle: the members after it, however the page falls.
    middle = expected[len(expected) // 2]
    page = admin.service.ListAvatarsByServer(server="img1", after=middle, limit=2)
    assert [m.userId for m in as_list(page.member)] == [u for u in expected if u > middle][:2]
    # The default page holds them all here; what a member shows.
    page = admin.service.ListAvatarsByServer(server="img1")
    listed = {m.userId: m for m in as_list(page.member)}
    first = listed[members["ids"][0]]
    assert (first.version, first.albumPhotos) == (members["avatar"].version, 1)
    assert listed[members["ids"][1]].albumPhotos == 0


def test_pages_are_read_through_the_server_user_index(env):
    columns = [row[4] for row in stackctl.sql(
        env, "SHOW INDEX FROM members WHERE Key_name = 'members_server_user'")]
    assert columns == ["image_server_id", "user_id"]
    plan = stackctl.sql(env, "EXPLAIN SELECT m.user_id, m.version FROM members m FORCE INDEX"
                        " (members_server_user) WHERE m.image_server_id = 1 AND m.user_id > 'm'"
                        " ORDER BY m.user_id LIMIT 501")
    assert plan[0][5] == "members_server_user" and plan[0][3] == "range", plan
    assert "filesort" not in (plan[0][9] or ""), plan


def test_bad_arguments_and_roles_are_faults(admin, site, members):
    nowhere = unique("nosuch")
    cases = [
        (admin, "ListAvatarsByServer", {"server": nowhere}, "NotFound"),
        (admin, "ListAvatarsByServer", {"server": "img1", "limit": 0}, "InvalidArgument"),
        (admin, "ListAvatarsByServer", {"server": "img1", "limit": 1001}, "InvalidArgument"),
        (admin, "ListAvatarsByServer", {"server": "img1", "after": "no/such"}, "InvalidArgument"),
        (admin, "RebuildAvatars", {"server": nowhere, "userId": members["ids"]}, "NotFound"),
        (admin, "RebuildAvatars", {"server": "img1",
                                   "userId": ["m%d" % k for k in range(101)]}, "TooLarge"),
        (admin, "RebuildAvatars", {"server": "img1", "userId": ["a", "a"]}, "InvalidArgument"),
        (admin, "RebuildAvatars", {"server": "img1", "userId": ["bad id"]}, "InvalidArgument"),
        (admin, "SyncImageServer", {"server": nowhere}, "NotFound"),
        (site, "ListAvatarsByServer", {"server": "img1"}, "Forbidden"),
        (site, "RebuildAvatars", {"server": "img1", "userId": members["ids"]}, "Forbidden"),
        (site, "SyncImageServer", {"server": "img1"}, "Forbidden"),
    ]
    for api, operation, kwargs, code in cases:
        info = api.fault(operation, **kwargs)
        assert info.code == code, (operation, kwargs, info)
    assert admin.service.ListAvatarsByServer(server="img1", limit=1000).memberCount >= 4


# ---- RebuildAvatars --------------------------------------------------------------------

def test_lost_files_come_back_with_the_same_bytes(admin, members, stack, world):
    ids, avatar, photo = members["ids"], members["avatar"], members["photo"]
    urls = [avatar.url, avatar.thumbUrl, photo.url]
    files = [stack.file(url) for url in urls]
    before = [sha(f.read_bytes()) for f in files]
    for f in files:
        f.unlink()

    results = rebuild(admin, ids)
    first = results[0]
    assert (first.status, first.version, first.images, first.imagesWritten) == (
        "written", avatar.version, 3, 3), first
    for r in results[1:]:
        assert (r.status, r.images, r.imagesWritten, r.code) == ("unchanged", 2, 0, None), r
    for f, digest in zip(files, before):
        assert sha(f.read_bytes()) == digest, f
    for url, digest in zip(urls, before):           # at the same URL
        answer = requests.get(url, allow_redirects=False, timeout=30)
        assert answer.status_code == 200 and sha(answer.content) == digest, url
    check_avatar(world, avatar.url, as_list(avatar.wornItemId))

    stamps = [f.stat().st_mtime_ns for f in files]
    again = rebuild(admin, ids)
    assert [(r.status, r.imagesWritten) for r in again] == [("unchanged", 0)] * len(ids)
    assert [f.stat().st_mtime_ns for f in files] == stamps, "an unchanged file was written"


def test_layers_missing_from_the_store_are_fetched(admin, node, members, stack):
    """As a rebuild does: the image server fetches the worn layers it lost."""
    avatar = members["avatar"]
    store = stack.store["img1"]
    worn = set(as_list(avatar.wornItemId))
    lost = [store / "items" / str(l.itemId) / ("%d.png" % l.layerNo)
            for l in as_list(node.service.GetCatalogManifest(offset=0, limit=1000).layer)
            if l.itemId in worn][:2]
    image = stack.file(avatar.url)
    digest = sha(image.read_bytes())
    admin.service.SyncImageServer(server="img1")    # the periodic pass now waits 2 s
    for png in lost:
        png.unlink()
        png.with_suffix(".kl").unlink(missing_ok=True)
    image.unlink()
    results = rebuild(admin, members["ids"][:1])
    assert (results[0].status, results[0].imagesWritten) == ("written", 1)
    assert sha(image.read_bytes()) == digest
    assert all(png.exists() for png in lost)
    log = stack.log["img1"].read_text()
    assert 'batch: recipe 0 ("%s"): 2 layers or scenes fetched' % members["ids"][0] in log


def test_only_the_current_version_is_composed(admin, site, world, stack):
    """Older versions are not composed again, and the member's version stays."""
    user_id, _ = new_member(site, world, "cur", image_server="img1")
    dress(site, world, user_id, ["hairB"])
    avatar = dress(site, world, user_id, ["topB"])
    folder = stack.file(avatar.url).parent
    kept = {f.name: sha(f.read_bytes()) for f in folder.iterdir()}
    assert "%d.png" % (avatar.version - 1) in kept and "1.png" not in kept
    for name in kept:
        (folder / name).unlink()
    results = rebuild(admin, [user_id])
    assert (results[0].status, results[0].version, results[0].imagesWritten) == (
        "written", avatar.version, 2)
    current = {"%d.png" % avatar.version, "%d-thumb.png" % avatar.version}
    assert {f.name for f in folder.iterdir()} == current
    assert all(sha((folder / name).read_bytes()) == kept[name] for name in current)
    assert site.service.GetAvatar(userId=user_id).version == avatar.version


def test_check_only_reports_and_touches_nothing(admin, members, stack):
    ids, avatar = members["ids"], members["avatar"]
    image, thumb = stack.file(avatar.url), stack.file(avatar.thumbUrl)
    good = image.read_bytes()
    spoiled = good[:-16] + bytes(16)
    image.write_bytes(spoiled)
    stamp = image.stat().st_mtime_ns

    results = rebuild(admin, ids[:2], check_only=True)
    assert (results[0].status, results[0].images, results[0].imagesWritten) == ("differs", 3, 1)
    assert (results[1].status, results[1].imagesWritten) == ("unchanged", 0)
    assert image.read_bytes() == spoiled and image.stat().st_mtime_ns == stamp

    thumb_bytes = thumb.read_bytes()
    thumb.unlink()
    results = rebuild(admin, ids[:1], check_only=True)
    assert (results[0].status, results[0].imagesWritten) == ("missing", 2)
    assert not thumb.exists()

    results = rebuild(admin, ids[:1])
    assert (results[0].status, results[0].imagesWritten) == ("written", 2)
    assert image.read_bytes() == good and thumb.read_bytes() == thumb_bytes


def test_moved_and_deleted_members_are_reported(admin, site, world, members):
    elsewhere, _ = new_member(site, world, "mv", image_server="img2")
    gone, _ = new_member(site, world, "gone", image_server="img1")
    site.service.DeleteAvatar(userId=gone)
    results = rebuild(admin, [elsewhere, gone, unique("never"), members["ids"][1]])
    assert [r.status for r in results] == ["moved", "notfound", "notfound", "unchanged"]
    assert all(r.imagesWritten == 0 and r.code is None for r in results)
    # The most a call takes: 100 ids of 64 characters.
    longest = ["%s-%s" % (k, "x" * 60) for k in range(100, 200)]
    assert {r.status for r in rebuild(admin, longest)} == {"notfound"}


def test_a_stopped_image_server_fails_the_call_and_changes_nothing(admin, env, members, stack):
    ids, avatar = members["ids"], members["avatar"]
    thumb = stack.file(avatar.thumbUrl)
    digest = sha(thumb.read_bytes())
    thumb.unlink()
    stackctl.stop(env, "img1")
    try:
        info = admin.fault("RebuildAvatars", server="img1", userId=ids)
        assert info.code == "ImageServerUnavailable", info
        assert admin.fault("SyncImageServer", server="img1").code == "ImageServerUnavailable"
        assert not thumb.exists()
    finally:
        stackctl.restart(env)

    def active():
        servers = as_list(admin.service.ListImageServers())
        return any(s.name == "img1" and s.mode == "active" for s in servers)
    wait_for(active, "img1 active again", timeout=30)
    results = rebuild(admin, ids[:1])
    assert (results[0].status, results[0].imagesWritten) == ("written", 1)
    assert sha(thumb.read_bytes()) == digest


# ---- SyncImageServer -------------------------------------------------------------------

def test_sync_fetches_what_is_missing_or_stale(admin, node, stack):
    store = stack.store["img1"]
    manifest = node.service.GetCatalogManifest(offset=0, limit=1000)
    layers = [l for l in as_list(manifest.layer)
              if (store / "items" / str(l.itemId) / ("%d.png" % l.layerNo)).exists()]
    lost, spoiled = layers[-1], layers[-2]
    lost_file = store / "items" / str(lost.itemId) / ("%d.png" % lost.layerNo)
    spoiled_file = store / "items" / str(spoiled.itemId) / ("%d.png" % spoiled.layerNo)
    extra_file = store / "items" / "2000000000" / "0.png"

    # A pass now first: the periodic one then waits its 2 s, longer than what follows.
    whole = admin.service.SyncImageServer(server="img1")
    assert whole.layersChecked >= manifest.total and whole.failed == 0
    lost_file.unlink()
    lost_file.with_suffix(".kl").unlink(missing_ok=True)
    spoiled_file.write_bytes(b"\x89PNG\r\n\x1a\n not this layer")
    extra_file.parent.mkdir(exist_ok=True)
    extra_file.write_bytes(b"a layer the catalog does not have")
    try:
        found = admin.service.SyncImageServer(server="img1")
    finally:
        extra_file.unlink()
        extra_file.parent.rmdir()
    assert (found.missing, found.stale, found.extra, found.failed) == (1, 1, 1, 0), found
    assert found.layersChecked == whole.layersChecked
    assert sha(lost_file.read_bytes()) == lost.sha256
    assert sha(spoiled_file.read_bytes()) == spoiled.sha256
    after = admin.service.SyncImageServer(server="img1")
    assert (after.missing, after.stale, after.extra, after.failed) == (0, 0, 0, 0), after


# ---- the image server's routes themselves -------------------------------------------------

def test_batch_route_refuses_bad_framing_and_limits(image_server):
    url = image_server["internal"] + "/internal/batch"
    post = image_server["session"].post
    assert requests.post(url, data=b"batch write\n", timeout=15).status_code == 403
    assert image_server["session"].get(url, timeout=15).status_code == 405
    for body, status, words in (
            (b"batch now\n", 400, "first line"),
            (b"batch write\ncompose 0\n", 400, "compose N"),
            (b"batch write\ncompose 12\nuser_id a\n", 400, "past the end"),
            (b"batch write\nalbum 70000\n", 413, "over the limit of a recipe"),
            (b"batch write\n" + b"compose 1\nx" * 1001, 413, "more than 1000 recipes")):
        answer = post(url, data=body, timeout=15)
        assert (answer.status_code, words in answer.text) == (status, True), answer.text
    answer = post(url, data=b"batch check\ncompose 10\nversion 1\n", timeout=15)
    assert answer.status_code == 200, answer.text
    lines = answer.text.splitlines()
    assert lines[0].startswith("ok 1 recipes, 1 images") and lines[1].startswith("0 failed - ")


def test_batches_beyond_max_batches_are_turned_away(image_server, node):
    """max_batches (2): a third batch at once is 503 with Retry-After, so
    batches never hold every worker the live site needs."""
    layer = as_list(node.service.GetCatalogManifest(offset=0, limit=1).layer)[0]
    recipe = ("user_id batch-load\nversion 1\ncanvas 2048 2048\nlayer %d %d 0 0 0 %s\n" % (
        layer.itemId, layer.layerNo, layer.sha256)).encode()
    body = b"batch check\n" + (b"compose %d\n%s" % (len(recipe), recipe)) * 40
    url = image_server["internal"] + "/internal/batch"
    headers = {"X-Kisekae-Secret": image_server["session"].headers["X-Kisekae-Secret"]}
    start = threading.Barrier(4)

    def send(_):
        start.wait(timeout=30)
        return requests.post(url, data=body, headers=headers, timeout=120)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {200, 503} and statuses[0] == 200 and statuses[-1] == 503, [
        (a.status_code, a.text[:200]) for a in answers]
    busy = [a for a in answers if a.status_code == 503]
    assert all(a.headers.get("Retry-After") == "1" and "max_batches" in a.text for a in busy)
    done = [a for a in answers if a.status_code == 200][0].text.splitlines()
    assert done[0].startswith("ok 40 recipes, 40 images") and "40 missing" in done[0], done[0]
