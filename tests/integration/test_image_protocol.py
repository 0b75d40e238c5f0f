"""The image server's internal protocol (image-server/PROTOCOL.md), driven
directly over HTTP with the cluster secret, and the public files nginx then
serves, checked against Pillow: layers and scenes stored, a compose with its
bust-up thumbnail, a preview that stores nothing, an album photo as JPEG,
deletes, and the refusals (403, 404, 405, 409, 400) that change nothing.
"""
import hashlib
import io
import random
import uuid

import pytest
import requests
from PIL import Image, ImageChops, ImageDraw, ImageStat

import oracle

CANVAS = (120, 160)


@pytest.fixture(scope="module")
def image_server(env):
    internal = env.get("KISEKAE_IMAGE_INTERNAL_URLS", "").split()
    public = env.get("KISEKAE_IMAGE_URLS", "").split()
    if not internal or not public or not env.get("KISEKAE_IMAGE_SECRETS"):
        pytest.skip("the stack lists no image server")
    session = requests.Session()
    session.headers["X-Kisekae-Secret"] = env["KISEKAE_IMAGE_SECRETS"].split()[0]
    return {"internal": internal[0].rstrip("/"), "public": public[0].rstrip("/"),
            "session": session}


def png_bytes(img):
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def drawn_layer(seed, size):
    rng = random.Random(seed)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for _ in range(3):
        x0, y0 = rng.randrange(size[0] // 2), rng.randrange(size[1] // 2)
        box = (x0, y0, x0 + rng.randint(5, size[0] // 2), y0 + rng.randint(5, size[1] // 2))
        fill = tuple(rng.randrange(256) for _ in range(3)) + (rng.choice([90, 200, 255]),)
        draw.ellipse(box, fill=fill)
    return img


class Stack:
    """Layers put on the image server, with what Pillow makes of them."""

    def __init__(self, server):
        self.server = server
        self.base = 900000000 + random.randrange(10000000)   # item ids no other test uses
        self.layers = []          # (item_id, sha256, image, x, y)

    def put(self, path, img):
        body = png_bytes(img)
        sha = hashlib.sha256(body).hexdigest()
        r = self.server["session"].put(self.server["internal"] + path, data=body,
                                       headers={"X-Kisekae-Sha256": sha}, timeout=15)
        assert r.status_code == 200, r.text
        assert r.text.strip() == "ok " + sha
        return sha

    def add_layer(self, seed, x, y):
        img = drawn_layer(seed, (60, 80))
        item_id = self.base + len(self.layers)
        sha = self.put("/internal/items/%d/0" % item_id, img)
        self.layers.append((item_id, sha, img, x, y))

    def layer_lines(self, dx=0, dy=0, z0=0):
        return "".join("layer %d 0 %d %d %d %s\n" % (item_id, z0 + i, x + dx, y + dy, sha)
                       for i, (item_id, sha, _img, x, y) in enumerate(self.layers))

    def expected(self, canvas=CANVAS, dx=0, dy=0, under=None):
        out = under.copy() if under is not None else Image.new("RGBA", canvas, (0, 0, 0, 0))
        for _item, _sha, img, x, y in self.layers:
            placed = Image.new("RGBA", out.size, (0, 0, 0, 0))
            placed.paste(img, (x + dx, y + dy))
            out = Image.alpha_composite(out, placed)
        return out

    def post(self, route, body):
        return self.server["session"].post(self.server["internal"] + "/internal/" + route,
                                           data=body.encode(), timeout=15)

    def public(self, path):
        return requests.get(self.server["public"] + "/" + path, timeout=15)


@pytest.fixture
def stack(image_server):
    s = Stack(image_server)
    s.add_layer(1, 10, 20)
    s.add_layer(2, 40, 50)
    s.add_layer(3, -10, 100)
    return s


def member():
    return "proto-" + uuid.uuid4().hex[:10]


def member_folder(user):
    """avatars/ab/cd/<user>: ab/cd from the FNV-1a hash, as common/paths.c."""
    h = 2166136261
    for byte in user.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    hexed = "%08x" % h
    return "avatars/%s/%s/%s" % (hexed[:2], hexed[2:4], user)


def test_compose_with_thumbnail(stack):
    user = member()
    r = stack.post("compose", "user_id %s\nversion 4\ncanvas %d %d\nthumb 20 30 60 60 32 32\n%s"
                   % (user, CANVAS[0], CANVAS[1], stack.layer_lines()))
    assert r.status_code == 200, r.text
    words = r.text.split()
    assert words[1:] == [member_folder(user) + "/4.png", member_folder(user) + "/4-thumb.png"]

    full = stack.public(words[1])
    assert full.status_code == 200 and full.headers["Content-Type"] == "image/png"
    expected = stack.expected()
    diff = oracle.compare(expected, full.content)
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)

    thumb = stack.public(words[2])
    assert thumb.status_code == 200
    expected_thumb = Image.open(io.BytesIO(full.content)).resize(
        (32, 32), Image.Resampling.LANCZOS, box=(20, 30, 80, 90))
    diff = oracle.compare(expected_thumb, thumb.content)
    assert diff.max_diff <= 2, oracle.describe(diff)

    # The item store is not served at all (it holds drafts' art too).
    item_id = stack.layers[0][0]
    assert stack.public("items/%d/0.kl" % item_id).status_code == 404
    assert stack.public("items/%d/0.png" % item_id).status_code == 404

    # Delete every image of the member.
    r = stack.server["session"].delete(stack.server["internal"] + "/internal/avatars/" + user)
    assert r.status_code == 200, r.text
    assert stack.public(words[1]).status_code == 404
    assert stack.public(words[2]).status_code == 404


def test_preview_stores_nothing(stack):
    user = member()
    r = stack.post("preview", "user_id %s\nversion 1\ncanvas %d %d\n%s"
                   % (user, CANVAS[0], CANVAS[1], stack.layer_lines()))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png"
    diff = oracle.compare(stack.expected(), r.content)
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)
    assert stack.public(member_folder(user) + "/1.png").status_code == 404


def test_album_photo_is_a_jpeg_of_scene_and_avatars(stack):
    user = member()
    scene_id = stack.base
    scene = Image.new("RGBA", (200, 150), (30, 120, 200, 255))
    ImageDraw.Draw(scene).rectangle((0, 100, 200, 150), fill=(40, 160, 60, 255))
    scene_sha = stack.put("/internal/scenes/%d" % scene_id, scene)

    # Two avatars of the same layers at two slots, each in its own z band.
    body = ("user_id %s\nphoto 7\ncanvas 200 150\nscene %d %s\nbackground #ffffff\nquality 90\n"
            % (user, scene_id, scene_sha)
            + stack.layer_lines(dx=0, dy=-20, z0=0) + stack.layer_lines(dx=90, dy=-10, z0=100))
    r = stack.post("album", body)
    assert r.status_code == 200, r.text
    path = r.text.split()[1]
    assert path.endswith("/%s/7.jpg" % user) and path.startswith("albums/")
    photo = stack.public(path)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    ours = Image.open(io.BytesIO(photo.content))
    assert ours.format == "JPEG" and ours.size == (200, 150)
    expected = stack.expected(dx=90, dy=-10, under=stack.expected(dx=0, dy=-20, under=scene))
    mean = sum(ImageStat.Stat(ImageChops.difference(ours.convert("RGB"),
                                                    expected.convert("RGB"))).mean) / 3
    assert mean < 2.0, mean

    # A stale scene is refused and nothing is written.
    r = stack.post("album", body.replace("photo 7", "photo 8").replace(scene_sha, "0" * 64))
    assert r.status_code == 409 and r.text.startswith("scene %d/0 stale" % scene_id), r.text
    assert stack.public(path.replace("/7.jpg", "/8.jpg")).status_code == 404

    r = stack.server["session"].delete("%s/internal/albums/%s/7" % (stack.server["internal"], user))
    assert r.status_code == 200, r.text
    assert stack.public(path).status_code == 404
    # deleting again is fine
    r = stack.server["session"].delete("%s/internal/albums/%s/7" % (stack.server["internal"], user))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("method,route,body,status,reason", [
    ("POST", "album", "user_id a\nversion 1\ncanvas 9 9", 400, "version is not a key"),
    ("POST", "compose", "user_id a\nversion 1\ncanvas 9 9\nthumb 5 5 9 9 4 4\n"
     "layer 1 0 0 0 0 " + "a" * 64, 400, "thumb region"),
    ("POST", "album", "user_id a\nphoto 1\ncanvas 9 9\nscene 2147483600 " + "a" * 64, 409,
     "scene 2147483600/0 missing"),
    ("GET", "album", "", 405, "method not allowed"),
    ("PUT", "scenes/0", "", 404, "not found"),
    ("DELETE", "albums/../x/1", "", 404, "not found"),
    ("DELETE", "avatars/.hidden", "", 404, "not found"),
    ("POST", "avatars/alice", "", 405, "method not allowed"),
])
def test_refusals(image_server, method, route, body, status, reason):
    r = image_server["session"].request(method, image_server["internal"] + "/internal/" + route,
                                        data=body.encode(), timeout=15)
    assert r.status_code == status, r.text
    assert reason in r.text


def test_new_routes_need_the_secret(image_server):
    for method, route in [("POST", "preview"), ("POST", "album"), ("PUT", "scenes/5"),
                          ("DELETE", "avatars/alice"), ("DELETE", "albums/alice/1")]:
        r = requests.request(method, image_server["internal"] + "/internal/" + route,
                             data=b"", timeout=15)
        assert r.status_code == 403, (route, r.text)


def test_compose_with_frames_writes_an_apng(stack):
    """frames and flayer lines (PROTOCOL.md): the still image is frame 0,
    and <version>-anim.png an APNG whose every frame, decoded by Pillow,
    is the composite of the layers drawn in it (tints included)."""
    user = member()
    blink = drawn_layer(7, (60, 80))
    blink_sha = stack.put("/internal/items/%d/0" % (stack.base + 50), blink)
    body = ("user_id %s\nversion 2\ncanvas %d %d\nframes 400 90 400\n%s"
            "flayer 1 %d 0 9 30 40 %s #80c0ff\n"
            % (user, CANVAS[0], CANVAS[1], stack.layer_lines(), stack.base + 50, blink_sha))
    r = stack.post("compose", body)
    assert r.status_code == 200, r.text
    words = r.text.split()
    folder = member_folder(user)
    assert words[1:] == [folder + "/2.png", folder + "/2-anim.png"], words
    still = stack.expected()
    assert oracle.compare(still, stack.public(words[1]).content).max_diff <= oracle.TOLERANCE
    anim = Image.open(io.BytesIO(stack.public(words[2]).content))
    assert getattr(anim, "is_animated", False) and anim.n_frames == 3
    placed = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    placed.paste(oracle.tint(blink, "#80c0ff"), (30, 40))
    frames = [still, Image.alpha_composite(still, placed), still]
    for f, (want, delay) in enumerate(zip(frames, (400, 90, 400))):
        anim.seek(f)
        assert anim.info.get("duration") == delay
        got = io.BytesIO()
        anim.convert("RGBA").save(got, format="PNG")
        diff = oracle.compare(want, got.getvalue())
        assert diff.max_diff <= oracle.TOLERANCE, "frame %d: %s" % (f, oracle.describe(diff))
    # the next version prunes this one's animation with its image
    r = stack.post("compose", "user_id %s\nversion 3\ncanvas %d %d\n%s"
                   % (user, CANVAS[0], CANVAS[1], stack.layer_lines()))
    assert r.status_code == 200, r.text
    r = stack.post("compose", "user_id %s\nversion 4\ncanvas %d %d\n%s"
                   % (user, CANVAS[0], CANVAS[1], stack.layer_lines()))
    assert stack.public(words[2]).status_code == 404
