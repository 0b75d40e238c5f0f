"""Self-healing image servers: a member's lost avatar, thumbnail or album
photo is rebuilt on request (nginx's try_files fallback to the FastCGI app,
which asks the API for the recipe: GetImageRecipe), byte for byte; a path on
the wrong server or an old version is redirected; bad paths are 404; the
item store is re-synced every sync_interval seconds; and an image server
whose first api_url is dead works through the next one. A rebuilt avatar
and photo are also compared with Pillow's (oracle.py).

The stack has two image servers (run.sh: --image 2) that re-sync every 2 s
(KISEKAE_IMAGE_SYNC_S). The failover test starts kisekae-image processes of
its own (FastCGI on P+80 and P+81, driven by a small FastCGI client below),
which register under made-up names and are set draining at once, then down.
"""

import hashlib
import io
import os
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

import oracle
import rawhttp
import stackctl
from conftest import Api, as_list, layer_inputs, node_api, unique, wait_for
from test_album_zeep import assert_jpeg_matches, expected_photo
from world import build_world, expected_avatar, new_member
from timescale import scaled

IMMUTABLE = "public, max-age=31536000, immutable"


def fnv_folders(user_id):
    """ab/cd of common/paths.c: the first four hex digits of FNV-1a 32."""
    h = 2166136261
    for byte in user_id.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    hexa = "%08x" % h
    return "%s/%s" % (hexa[:2], hexa[2:4])


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Stack:
    """The stack's image servers: public URL, store folder and log by name."""

    def __init__(self, env):
        self.env = env
        state = Path(env["KISEKAE_STATE"])
        self.public = {}
        self.store = {}
        self.log = {}
        for k, url in enumerate(env["KISEKAE_IMAGE_URLS"].split(), 1):
            name = "img%d" % k
            self.public[name] = url.rstrip("/")
            self.store[name] = state / name / "store"
            self.log[name] = state / "logs" / ("%s.log" % name)

    def file(self, url):
        """The store file behind one of the stack's image URLs."""
        for name, base in self.public.items():
            if url.startswith(base + "/"):
                return self.store[name] / url[len(base) + 1:]
        raise AssertionError("%s is on none of the stack's image servers" % url)

    def other(self, name):
        return next(n for n in self.public if n != name)


@pytest.fixture(scope="module")
def stack(env):
    found = Stack(env)
    if len(found.public) < 2:
        pytest.skip("the stack has fewer than two image servers (run.sh starts two)")
    return found


@pytest.fixture(scope="module")
def node(env):
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_NODE_USER"], env["KISEKAE_NODE_PASSWORD"])


def scene_png(width=320, height=360):
    image = Image.new("RGBA", (width, height), (90, 150, 220, 255))
    for y in range(height // 2, height):
        for x in range(0, width, 3):
            image.putpixel((x, y), (60, 170, 70, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "heal")


@pytest.fixture(scope="module")
def member(admin, site, stack, world):
    """A member on img1 at version 3 (so version 1 has been pruned), wearing
    the world's body items (art the oracle composes), with an album photo."""
    user_id, _avatar = new_member(site, world, "heal", image_server="img1")
    avatar = site.service.RegenerateAvatar(userId=user_id)
    assert avatar.version == 3 and avatar.imageServer == "img1"
    scene = admin.service.RegisterScene(name=unique("heal scene"), png=scene_png(),
                                        slot=[{"x": 40, "y": 20}])
    photo = site.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id)
    return {"user_id": user_id, "avatar": avatar, "photo": photo, "scene": scene,
            "world": world}


def get(url, **kwargs):
    return requests.get(url, allow_redirects=False, timeout=30, **kwargs)


def test_lost_images_are_rebuilt_byte_for_byte(member, stack):
    avatar, photo = member["avatar"], member["photo"]
    urls = {avatar.url: "image/png", avatar.thumbUrl: "image/png", photo.url: "image/jpeg"}
    before = {}
    for url in urls:
        answer = get(url)
        assert answer.status_code == 200, (url, answer.status_code)
        before[url] = sha(answer.content)
        assert sha(stack.file(url).read_bytes()) == before[url]
    for url in urls:
        stack.file(url).unlink()
    for url, content_type in urls.items():
        answer = get(url)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        assert answer.headers["Content-Type"] == content_type
        assert answer.headers["Cache-Control"] == IMMUTABLE
        assert sha(answer.content) == before[url], url
        assert sha(stack.file(url).read_bytes()) == before[url], url
    # Rebuilt as Pillow draws them, not merely as they were.
    avatar_image = expected_avatar(member["world"], as_list(avatar.wornItemId))
    diff = oracle.compare(avatar_image, oracle.load_image(stack.file(avatar.url).read_bytes()))
    assert diff.max_diff <= oracle.TOLERANCE, "%s: %s" % (avatar.url, oracle.describe(diff))
    assert_jpeg_matches(expected_photo(oracle.load_image(scene_png()), [(avatar_image, (40, 20))]),
                        stack.file(photo.url).read_bytes())
    log = stack.log["img1"].read_text()
    assert "rebuild: avatars/%s/%s/" % (fnv_folders(member["user_id"]), member["user_id"]) in log


def test_missing_layers_and_scene_are_fetched_for_a_rebuild(member, stack, node):
    """The store lost the layers the avatar wears and the photo's scene: the
    rebuild fetches them from the API (GetItemLayer, GetSceneBackground)."""
    avatar, photo, scene = member["avatar"], member["photo"], member["scene"]
    before = {url: sha(get(url).content) for url in (avatar.url, photo.url)}
    store = stack.store["img1"]
    layers = as_list(node.service.GetCatalogManifest(offset=0, limit=1000).layer)
    worn = set(as_list(avatar.wornItemId))
    lost = [store / "items" / str(l.itemId) / ("%d.png" % l.layerNo)
            for l in layers if l.itemId in worn][:2]
    lost.append(store / "scenes" / str(scene.id) / "0.png")
    for url in before:
        stack.file(url).unlink()
    for png in lost:
        png.unlink(missing_ok=True)
        png.with_suffix(".kl").unlink(missing_ok=True)
    for url, digest in before.items():
        answer = get(url)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        assert sha(answer.content) == digest
    assert all(png.exists() for png in lost)
    assert sha(lost[-1].read_bytes()) == scene.sha256


def test_other_server_redirects_to_the_right_one(member, stack):
    avatar, photo = member["avatar"], member["photo"]
    other = stack.public[stack.other("img1")]
    for url in (avatar.url, avatar.thumbUrl, photo.url):
        path = urlsplit(url).path
        answer = get(other + path)
        assert answer.status_code == 302, (path, answer.status_code, answer.text[:300])
        assert answer.headers["Location"] == url
        assert answer.headers["Cache-Control"] == "no-cache"


def test_old_version_redirects_to_the_current_one(member, stack):
    avatar = member["avatar"]
    folder = avatar.url.rsplit("/", 1)[0]
    assert not stack.file(folder + "/1.png").exists(), "version 1 was not pruned"
    for old, current in ((folder + "/1.png", avatar.url),
                         (folder + "/1-thumb.png", avatar.thumbUrl)):
        answer = get(old)
        assert answer.status_code == 302, (old, answer.status_code, answer.text[:300])
        assert answer.headers["Location"] == current
    # On the other server too: straight to the current image on img1.
    other = stack.public[stack.other("img1")]
    answer = get(other + urlsplit(folder).path + "/1.png")
    assert (answer.status_code, answer.headers.get("Location")) == (302, avatar.url)
    newer = get(folder + "/4.png")                  # a placeholder, saying why
    assert newer.status_code == 404 and "newer than" in newer.headers["X-Kisekae-Placeholder"]


def test_unknown_member_and_photo_are_404(member, stack):
    base = stack.public["img1"]
    nobody = unique("nobody")
    answer = get("%s/avatars/%s/%s/1.png" % (base, fnv_folders(nobody), nobody))
    assert answer.status_code == 404 and answer.headers["Content-Type"] == "image/png"
    assert "no such member" in answer.headers["X-Kisekae-Placeholder"], answer.headers
    user_id = member["user_id"]
    answer = get("%s/albums/%s/%s/999999999.jpg" % (base, fnv_folders(user_id), user_id))
    assert answer.status_code == 404
    assert "no such album photo" in answer.headers["X-Kisekae-Placeholder"], answer.headers


@pytest.mark.parametrize("path, reason", [
    ("/avatars/00/00/{user}/3.png", "do not match"),
    ("/avatars/{folders}/{user}/03.png", "not a version"),
    ("/avatars/{folders}/{user}/3.gif", "not a file name"),
    ("/albums/{folders}/{user}/1.png", "not a file name"),
    ("/avatars/{folders}/{user}/x/3.png", "too many folders"),
    ("/avatars/{folders}/3.png", "no file name"),
    ("/avatars/{long_folders}/{long}/1.png", "1..64"),
    ("/avatars/{folders}/{user}/99999999999.png", "out of range"),
])
def test_malformed_paths_are_404_with_a_reason(member, stack, path, reason):
    user_id = member["user_id"]
    long = "x" * 65
    url = stack.public["img1"] + path.format(user=user_id, folders=fnv_folders(user_id),
                                             long=long, long_folders=fnv_folders(long))
    answer = get(url)
    assert answer.status_code == 404, (url, answer.status_code)
    assert reason in answer.text, (url, answer.text)


def test_dot_segments_and_other_methods(member, stack):
    """nginx resolves dot segments before the app sees the path: nothing
    outside the store is reachable. Only GET and HEAD rebuild."""
    base = stack.public["img1"]
    for path in ("/avatars/ab/cd/../../../etc/passwd", "/avatars/%2e%2e/%2e%2e/etc/passwd",
                 "/albums/../kisekae-image.conf"):
        conn = rawhttp.Conn(base)
        try:
            conn.send(rawhttp.get(path))
            status, _headers, body = conn.response()
        finally:
            conn.close()
        assert status in (400, 404), (path, status, body[:200])
    url = member["avatar"].url
    stack.file(url).unlink()
    head = requests.head(url, timeout=30)
    assert head.status_code == 200 and head.headers["Content-Type"] == "image/png"
    posted = requests.post(url, data=b"x", timeout=30)
    assert posted.status_code in (404, 405), posted.status_code


def test_lost_layer_comes_back_with_the_periodic_sync(node, stack):
    """img2 loses a layer's PNG (and its decoded layer file): within a few
    sync intervals (2 s in the test stack) it is fetched again."""
    name = stack.other("img1")
    items = stack.store[name] / "items"
    layers = as_list(node.service.GetCatalogManifest(offset=0, limit=1000).layer)
    layer = next(l for l in layers
                 if (items / str(l.itemId) / ("%d.png" % l.layerNo)).exists())
    png = items / str(layer.itemId) / ("%d.png" % layer.layerNo)
    png.unlink()
    png.with_suffix(".kl").unlink(missing_ok=True)
    deadline = time.monotonic() + scaled(20)
    while not (png.exists() and sha(png.read_bytes()) == layer.sha256):
        assert time.monotonic() < deadline, "%s was not fetched again" % png
        time.sleep(0.2)
    # The pass logs its summary once it has checked every layer.
    wait_for(lambda: "sync: periodic pass:" in stack.log[name].read_text(),
             "the periodic pass's summary in %s's log" % name)
    assert "sync: layer %d/%d missing: fetching it from the API" % (
        layer.itemId, layer.layerNo) in stack.log[name].read_text()


def test_replaced_art_still_rebuilds_an_old_photo(admin, site, stack, art):
    """A photo drawn with an item's old art, lost after the item's art was
    replaced: the image server fetches the old art (GetItemLayer at the
    photo's sha256), keeps it beside the current one and draws the photo
    again byte for byte; the avatar keeps the new art."""
    user_id = unique("heal-art")
    site.service.CreateAvatar(userId=user_id, imageServer="img1")
    category = admin.service.RegisterCategory(name=unique("heal-acc"), zOrder=500,
                                              exclusive=False, required=False)
    first, second = [k for k in art if k is not None and len(art[k]["layers"]) == 1][:2]
    item = admin.service.RegisterItem(categoryId=category.id, name=unique("heal-item"), price=1,
                                      layer=layer_inputs(art[first]["layers"]))
    site.service.GrantItem(userId=user_id, itemId=item.id)
    site.service.ChangeOutfit(userId=user_id, wear=[item.id])
    scene = admin.service.RegisterScene(name=unique("heal scene"), png=scene_png(),
                                        slot=[{"x": 40, "y": 20}])
    photo = site.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id)
    original = stack.file(photo.url).read_bytes()
    before = site.service.GetAvatar(userId=user_id)
    admin.service.UpdateItem(itemId=item.id, layer=layer_inputs(art[second]["layers"]))
    # The renderer composes the wearer again with the new art.
    wait_for(lambda: site.service.GetAvatar(userId=user_id).version > before.version,
             "the avatar composed with the new art", timeout=30)
    stack.file(photo.url).unlink()
    answer = get(photo.url)
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    assert hashlib.sha256(answer.content).digest() == hashlib.sha256(original).digest()
    assert stack.file(photo.url).read_bytes() == original
    new_item = as_list(admin.service.GetItem(itemId=item.id).layer)[0]
    current = stack.store["img1"] / "items" / str(item.id) / "0.png"
    assert hashlib.sha256(current.read_bytes()).hexdigest() == new_item.sha256


# ---- an image server of the test's own, behind no nginx: its FastCGI directly ----

def fcgi_get(port, path, timeout=30):
    """GET path from a FastCGI responder on 127.0.0.1:port, as nginx would
    ask; returns (status, {lowercase header: value}, body)."""
    def record(kind, content):
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def pair(name, value):
        name, value = name.encode(), value.encode()
        return bytes([len(name), len(value)]) + name + value

    params = b"".join(pair(k, v) for k, v in (
        ("REQUEST_METHOD", "GET"), ("DOCUMENT_URI", path), ("REQUEST_URI", path),
        ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_PROTOCOL", "HTTP/1.1")))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(record(1, struct.pack("!HB5x", 1, 0)) + record(4, params) +
                     record(4, b"") + record(5, b""))
        data, out = b"", b""
        while True:
            while len(data) < 8:
                chunk = sock.recv(65536)
                assert chunk, "the FastCGI app closed the connection"
                data += chunk
            _version, kind, _id, length, padding = struct.unpack("!BBHHBx", data[:8])
            while len(data) < 8 + length + padding:
                chunk = sock.recv(65536)
                assert chunk, "the FastCGI app closed the connection"
                data += chunk
            content, data = data[8:8 + length], data[8 + length + padding:]
            if kind == 6:
                out += content
            elif kind == 3:
                break
    head, _, body = out.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(headers["status"].split()[0]), headers, body


class Instance:
    """A kisekae-image process with a configuration of the test's own."""

    def __init__(self, tmp, env, port, lines):
        build = os.environ.get("KISEKAE_BUILD_DIR") or env.get("KISEKAE_BUILD_DIR") or "build"
        self.port = port
        self.log = tmp / "image.log"
        self.stderr = tmp / "image.stderr"   # a sanitizer build reports there
        conf = tmp / "kisekae-image.conf"
        conf.write_text("\n".join([
            "listen 127.0.0.1:%d" % port, "store %s" % (tmp / "store"),
            "cluster_secret %s" % unique("secret"), "log_file %s" % self.log,
            "log_level info"] + lines) + "\n")
        with open(self.stderr, "wb") as stderr:
            self.process = subprocess.Popen([str(Path(build) / "kisekae-image"), "-c",
                                             str(conf)], stdout=stderr, stderr=stderr)
        deadline = time.monotonic() + scaled(20)
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert self.process.poll() is None, "kisekae-image exited: %s" % self.read_log()
                assert time.monotonic() < deadline, "kisekae-image did not listen"
                time.sleep(0.05)

    def read_log(self):
        return self.log.read_text() if self.log.exists() else ""

    def stop(self):
        """SIGTERM; the process must stop cleanly (exit 0, no sanitizer report)."""
        self.process.terminate()
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError("kisekae-image did not stop within 30 s of SIGTERM")
        report = self.stderr.read_text(errors="replace")
        assert code == 0 and "Sanitizer" not in report and "runtime error" not in report, (
            code, report[-3000:])


def test_agent_and_rebuild_fail_over_to_the_next_api_url(env, admin, node, member, tmp_path):
    """api_url lists a dead URL first, then a URL answering HTTP 404 without
    a SOAP fault (an image server's public root), then the FastCGI API
    server: the server registers, syncs and resolves rebuilds through the
    third. With
    that API server hung, rebuilds beyond max_rebuilds (1) are 503 with
    Retry-After, and the one under way fails within api_timeout."""
    base = int(env["KISEKAE_IT_PORT_BASE"])
    name = unique("heal-node")
    dead = "http://127.0.0.1:%d/" % (base + 89)
    not_an_api = env["KISEKAE_IMAGE_URLS"].split()[0].rstrip("/") + "/"
    own = node_api(env, name)
    instance = Instance(tmp_path, env, base + 80, [
        "api_url %s %s" % (dead, not_an_api), "api_url %s" % env["KISEKAE_API_FCGI_URL"],
        "api_user %s" % own.session.auth[0],
        "api_password %s" % own.session.auth[1], "api_timeout 2",
        "name %s" % name, "internal_url http://127.0.0.1:9/int",
        "public_url http://127.0.0.1:9/pub", "heartbeat_interval 1", "sync_interval 0",
        # every GET asks the API here (no remembered 302)
        "max_rebuilds 1", "miss_cache_ms 0"])
    paused = False
    try:
        def registered():
            status = admin.service.GetSystemStatus()
            return [s for s in as_list(status.imageServer) if s.name == name]
        wait_for(registered, "%s registered" % name, timeout=20)
        admin.service.SetImageServerMode(name=name, mode="draining")
        wait_for(lambda: "sync: done:" in instance.read_log(), "the sync of %s" % name, 60)
        log = instance.read_log()
        assert "calls go there now" in log and dead in log and not_an_api in log, log[-3000:]
        total = node.service.GetCatalogManifest(offset=0, limit=1).total
        assert "sync: done: %d layers checked" % total in log, log[-3000:]
        assert " 0 failed" in log, log[-3000:]
        items = tmp_path / "store" / "items"
        for layer in as_list(node.service.GetCatalogManifest(offset=0, limit=5).layer):
            png = items / str(layer.itemId) / ("%d.png" % layer.layerNo)
            assert sha(png.read_bytes()) == layer.sha256

        # The rebuild path asks the API too: the member lives on img1.
        path = urlsplit(member["avatar"].url).path
        status, headers, _body = fcgi_get(instance.port, path)
        assert (status, headers.get("location")) == (302, member["avatar"].url)

        # The API server hangs: one rebuild waits for it, the next is refused.
        stackctl.pause(env, "api-fcgi")
        paused = True
        first = {}
        waiting = threading.Thread(target=lambda: first.update(
            answer=fcgi_get(instance.port, path)))
        waiting.start()
        time.sleep(0.5)
        status, headers, body = fcgi_get(instance.port, path)
        assert (status, headers.get("retry-after")) == (503, "1"), (status, body)
        assert "max_rebuilds" in headers.get("x-kisekae-placeholder", ""), headers
        assert body.startswith(b"\x89PNG")             # a picture for the <img> meanwhile
        waiting.join(timeout=30)
        stackctl.resume(env, "api-fcgi")
        paused = False
        assert first["answer"][0] == 503, first["answer"]
        assert "no API server answered" in first["answer"][1].get("x-kisekae-placeholder", "")
        status, headers, _body = fcgi_get(instance.port, path)
        assert (status, headers.get("location")) == (302, member["avatar"].url)
    finally:
        if paused:
            stackctl.resume(env, "api-fcgi")
        try:
            instance.stop()
        finally:
            admin.service.SetImageServerMode(name=name, mode="down")


def test_a_server_without_api_url_answers_404(env, member, tmp_path):
    instance = Instance(tmp_path, env, int(env["KISEKAE_IT_PORT_BASE"]) + 81, [])
    try:
        status, headers, body = fcgi_get(instance.port, urlsplit(member["avatar"].url).path)
        assert status == 404 and "no api_url" in headers.get("x-kisekae-placeholder", ""), \
            (status, headers)
    finally:
        instance.stop()
