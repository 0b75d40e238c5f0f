"""Animated avatars through the API (README: Animated avatars): an item layer
with frames (LayerInput.frame), worn by a member, makes its avatar an APNG
too (Avatar.animUrl, /avatar/{id}/anim.png) beside the still image, which is
frame 0. Pillow is the oracle twice: it decodes the APNG (seeking each frame,
info["duration"]) and composes what each frame should show (oracle.py).

Animation rule checked here: an outfit's animation has as many frames as its
longest animated layer, at that layer's delays; a shorter one loops (its frame
f % k in frame f); still layers are in every frame.
"""

import hashlib
import io

import pytest
import requests
import zeep.exceptions
from PIL import Image, ImageDraw

import oracle
from conftest import as_list, unique, wait_for
from test_album_zeep import assert_jpeg_matches, drawn_scene, expected_photo, fetch
from test_self_heal import Stack
from world import build_world, dress, grant, new_member

CANVAS = oracle.DEFAULT_CANVAS


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "anim")


@pytest.fixture(scope="module")
def stack(env):
    return Stack(env)


def drawn(shape, colour, box):
    """A full-canvas RGBA layer with one shape of a colour with partial alpha
    (APNG keeps 8-bit alpha: each frame is compared with it)."""
    image = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    getattr(draw, shape)(box, fill=colour)
    return image


def png(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sha(data):
    return hashlib.sha256(data).hexdigest()


# an idle blink (3 frames) and a wave (2 frames), in the accessory category
BLINK = [drawn("ellipse", (30, 60, 200, 230), (90, 100, 150, 140)),
         drawn("rectangle", (30, 60, 200, 128), (90, 118, 150, 122)),
         drawn("ellipse", (200, 40, 40, 90), (80, 95, 160, 145))]
BLINK_DELAYS = [300, 80, 100]       # the last one the default
WAVE = [drawn("rectangle", (250, 200, 120, 160), (10, 150, 60, 230)),
        drawn("rectangle", (250, 200, 120, 255), (20, 120, 70, 200))]
WAVE_DELAYS = [500, 250]


def register_animated(admin, world, role, frames, delays, z, default_last=False):
    layer = {"png": png(frames[0]), "zOrder": z, "delayMs": delays[0],
             "frame": [{"png": png(f)} if default_last and n == len(frames) - 2 else
                       {"png": png(f), "delayMs": d}
                       for n, (f, d) in enumerate(zip(frames[1:], delays[1:]))]}
    item = admin.service.RegisterItem(
        categoryId=world.categories["acc"].id, price=5, layer=[layer],
        name="%s %s %s" % (world.prefix, role, world.suffix))
    world.items[role] = item
    world.layers[item.id] = [(frames[0], z)]       # the still avatar: frame 0
    return item


@pytest.fixture(scope="module")
def blink(admin, world):
    return register_animated(admin, world, "blink", BLINK, BLINK_DELAYS, 520, default_last=True)


@pytest.fixture(scope="module")
def wave(admin, world):
    return register_animated(admin, world, "wave", WAVE, WAVE_DELAYS, 510)


def frames_of(url):
    """[(RGBA image, duration)] of the APNG at url, decoded by Pillow."""
    anim = Image.open(io.BytesIO(oracle.fetch_png(url)))
    assert getattr(anim, "is_animated", False), "%s is not animated" % url
    out = []
    for f in range(anim.n_frames):
        anim.seek(f)
        out.append((anim.convert("RGBA"), anim.info.get("duration")))
    return out


def expected(world, still_ids, animated):
    """The oracle's frame: the still items' layers and the animated layers
    [(image, z)], by z-order."""
    return oracle.compose([l for i in still_ids for l in world.layers[i]] + animated)


def check_frames(url, wanted):
    got = frames_of(url)
    assert [d for _, d in got] == [d for _, d in wanted]
    for f, ((image, _), (want, _)) in enumerate(zip(got, wanted)):
        diff = oracle.compare(want, image)
        assert diff.max_diff <= oracle.TOLERANCE, "frame %d: %s" % (f, oracle.describe(diff))


def test_item_layer_shows_its_frames(site, blink):
    for item in (blink, site.service.GetItem(itemId=blink.id)):
        layer = as_list(item.layer)[0]
        assert layer.frameCount == 3
        assert as_list(layer.delayMs) == BLINK_DELAYS


def test_wearing_frames_makes_an_apng(env, site, world, blink):
    user_id, before = new_member(site, world, "blink")
    assert before.animUrl is None
    still_ids = [i.id for i in world.body_items]
    avatar = dress(site, world, user_id, ["blink"])
    assert avatar.animUrl and avatar.animUrl.endswith("/%d-anim.png" % avatar.version)
    got = site.service.GetAvatar(userId=user_id, minVersion=avatar.version)
    assert got.animUrl == avatar.animUrl
    many = as_list(site.service.GetAvatars(userId=[user_id]).avatar)
    assert many[0].animUrl == avatar.animUrl
    check_frames(avatar.animUrl, [(expected(world, still_ids, [(frame, 520)]), delay)
                                  for frame, delay in zip(BLINK, BLINK_DELAYS)])
    # the still image is frame 0 (and what the oracle draws with it)
    still = Image.open(io.BytesIO(oracle.fetch_png(avatar.url))).convert("RGBA")
    first = frames_of(avatar.animUrl)[0][0]
    assert oracle.compare(first, still).max_diff == 0
    # /avatar/{id}/anim.png redirects to it
    answer = requests.get("%savatar/%s/anim.png" % (env["KISEKAE_API_URL"], user_id),
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == avatar.animUrl
    # taking it off: no animation any more (/avatar/ reads a replica and its
    # short cache, as GetAvatar without minVersion does: a moment behind)
    off = site.service.ChangeOutfit(userId=user_id, remove=[blink.id])
    assert off.animUrl is None

    def gone():                 # a list: a 404 response itself is falsy
        r = requests.get("%savatar/%s/anim.png" % (env["KISEKAE_API_URL"], user_id),
                         allow_redirects=False, timeout=10)
        return [r] if r.status_code != 302 else []
    answer = wait_for(gone, "the animation's redirect gone")[0]
    assert answer.status_code == 404 and answer.headers["Content-Type"] == "image/png"


def test_shorter_animation_loops_at_the_longest_ones_pace(site, world, blink, wave):
    user_id, _ = new_member(site, world, "wave")
    still_ids = [i.id for i in world.body_items]
    avatar = dress(site, world, user_id, ["blink", "wave"])
    wanted = [(expected(world, still_ids, [(WAVE[f % 2], 510), (BLINK[f], 520)]), delay)
              for f, delay in enumerate(BLINK_DELAYS)]
    check_frames(avatar.animUrl, wanted)


def test_previews_and_album_photos_are_still(admin, site, world, blink):
    """Frame 0 of an animated item in a preview and in an album photo."""
    user_id, _ = new_member(site, world, "still")
    ids = sorted([i.id for i in world.body_items] + [blink.id])
    grant(site, user_id, [blink])
    preview = site.service.PreviewAvatar(userId=user_id, wear=[blink.id])
    diff = oracle.compare(expected(world, ids, []), preview.png)
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)
    avatar = site.service.ChangeOutfit(userId=user_id, wear=[blink.id])
    background = drawn_scene(320, 360)
    scene = admin.service.RegisterScene(name=unique("anim scene"), png=png(background),
                                        slot=[{"x": 40, "y": 20}])
    photo = site.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id)
    assert avatar.animUrl
    assert_jpeg_matches(expected_photo(background, [(expected(world, ids, []), (40, 20))]),
                        fetch(photo.url, "image/jpeg"))


def test_lost_apng_is_rebuilt_byte_for_byte(admin, site, world, blink, stack):
    user_id, _ = new_member(site, world, "heal")
    avatar = dress(site, world, user_id, ["blink"])
    before = oracle.fetch_png(avatar.animUrl)
    stack.file(avatar.animUrl).unlink()
    answer = requests.get(avatar.animUrl, allow_redirects=False, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    assert sha(answer.content) == sha(before)
    assert sha(stack.file(avatar.animUrl).read_bytes()) == sha(before)
    # RebuildAvatars (kisekae-batch) composes the same animation from the database
    def rebuild(check_only):
        return as_list(admin.service.RebuildAvatars(server=avatar.imageServer, userId=[user_id],
                                                    checkOnly=check_only))[0]
    assert rebuild(True).imagesWritten == 0
    stack.file(avatar.animUrl).unlink()
    assert rebuild(True).imagesWritten == 1
    assert (rebuild(False).imagesWritten, rebuild(True).imagesWritten) == (1, 0)
    assert sha(stack.file(avatar.animUrl).read_bytes()) == sha(before)


def test_frame_limits_are_faults_that_change_nothing(admin, site, world):
    name = unique("anim-limits")
    small = png(BLINK[0])
    cases = [
        ("TooLarge", {"png": small, "frame": [{"png": small}] * 64}),
        ("InvalidArgument", {"png": small, "delayMs": 10, "frame": [{"png": small}]}),
        ("InvalidArgument", {"png": small, "frame": [{"png": small, "delayMs": 65536}]}),
        ("InvalidArgument", {"png": small, "delayMs": 100}),     # a still layer's delay
        ("InvalidArgument", {"png": small, "frame": [{"png": b"not a png"}]}),
    ]
    for code, layer in cases:
        fault = admin.fault("RegisterItem", categoryId=world.categories["acc"].id, name=name,
                            price=1, layer=[layer])
        assert fault.code == code, (layer.get("delayMs"), fault.message)
    # more than 64 frames after the first in one item, though each layer is within 64
    fault = admin.fault("RegisterItem", categoryId=world.categories["acc"].id, name=name,
                        price=1, layer=[{"png": small, "frame": [{"png": small}] * 40}] * 2)
    assert fault.code == "TooLarge", fault.message
    # 8 animated layers drawn in each of 57 frames: more than an image server draws
    layers = [{"png": small, "frame": [{"png": small}] * 56}] + \
        [{"png": small, "frame": [{"png": small}]}] * 7
    fault = admin.fault("RegisterItem", categoryId=world.categories["acc"].id, name=name,
                        price=1, layer=layers)
    assert fault.code == "TooLarge" and "image server" in fault.message, fault.message
    assert admin.service.SearchItems(nameContains=name).total == 0


def test_update_item_gives_frames_to_its_wearers(admin, site, world):
    """New art with frames for a still item: its wearers are composed again
    (the render queue) and their avatars become animated. (Art going the other
    way would leave the frames' files on the image servers, which their sync
    counts as extra, as for any layer an item loses.)"""
    user_id, _ = new_member(site, world, "upd")
    item = admin.service.RegisterItem(
        categoryId=world.categories["acc"].id, price=1, layer=[{"png": png(WAVE[0]),
                                                                "zOrder": 510}],
        name="%s still %s" % (world.prefix, world.suffix))
    grant(site, user_id, [item])
    worn = site.service.ChangeOutfit(userId=user_id, wear=[item.id])
    assert worn.animUrl is None
    updated = admin.service.UpdateItem(itemId=item.id, layer=[
        {"png": png(WAVE[0]), "zOrder": 510, "delayMs": WAVE_DELAYS[0],
         "frame": [{"png": png(WAVE[1]), "delayMs": WAVE_DELAYS[1]}]}])
    assert updated.avatarsQueued == 1
    assert as_list(updated.item.layer)[0].frameCount == 2

    def recomposed():
        return site.service.GetAvatar(userId=user_id, minVersion=worn.version + 1).animUrl
    url = wait_for(lambda: _quiet(recomposed), "the avatar composed again with frames",
                   timeout=60)
    still_ids = [i.id for i in world.body_items]
    check_frames(url, [(expected(world, still_ids, [(frame, 510)]), delay)
                       for frame, delay in zip(WAVE, WAVE_DELAYS)])


def _quiet(read):
    try:
        return read()
    except zeep.exceptions.Fault:    # NotFound until the renderer reached the new version
        return None


def test_outfit_over_the_image_servers_layers_is_refused(admin, site, world):
    """An item of 64 frames makes the avatar 64 frames long, so each animated
    layer worn with it is drawn 64 times: with an item of three 2-frame
    layers that is 4 x 64 flayer lines besides the body's layers, more than
    the 256 an image server draws. ChangeOutfit is TooLarge and the avatar
    stays as it was; each item alone is fine."""
    user_id, before = new_member(site, world, "many")
    small = png(BLINK[0])
    acc = world.categories["acc"].id
    long = admin.service.RegisterItem(
        categoryId=acc, price=1, name="%s long %s" % (world.prefix, world.suffix),
        layer=[{"png": small, "delayMs": 40, "frame": [{"png": small}] * 63}])
    assert as_list(long.layer)[0].frameCount == 64
    three = admin.service.RegisterItem(
        categoryId=acc, price=1, name="%s three %s" % (world.prefix, world.suffix),
        layer=[{"png": png(WAVE[0]), "delayMs": 40, "frame": [{"png": png(WAVE[1])}]}] * 3)
    grant(site, user_id, [long, three])
    fault = site.fault("ChangeOutfit", userId=user_id, wear=[long.id, three.id])
    assert fault.code == "TooLarge", fault.message
    after = site.service.GetAvatar(userId=user_id, minVersion=before.version)
    assert after.version == before.version and after.animUrl is None
    assert sorted(as_list(after.wornItemId)) == sorted(as_list(before.wornItemId))
    assert site.service.ChangeOutfit(userId=user_id, wear=[three.id]).animUrl


def test_frames_are_tinted_and_hidden_as_their_layer(admin, site, world):
    """A tintable animated layer is recoloured in every frame (README: Tints);
    a hide rule naming its role hides every frame with it, and while it does
    the avatar is still: no APNG, no animUrl. Taking the hiding item off
    brings the animation back in its colour."""
    colour = "#3366CC"
    acc = world.categories["acc"].id
    twirl = admin.service.RegisterItem(
        categoryId=acc, price=1, name="%s twirl %s" % (world.prefix, world.suffix),
        layer=[{"png": png(WAVE[0]), "zOrder": 530, "tintable": True, "role": "front",
                "delayMs": 120, "frame": [{"png": png(WAVE[1]), "delayMs": 60}]}])
    layer = as_list(twirl.layer)[0]
    assert (layer.tintable, layer.role, layer.frameCount) == (True, "front", 2)
    cap_art = drawn("rectangle", (200, 30, 30, 255), (60, 20, 180, 50))
    cap = admin.service.RegisterItem(
        categoryId=acc, price=1, name="%s cap %s" % (world.prefix, world.suffix),
        layer=[{"png": png(cap_art), "zOrder": 540}], hide=[{"categoryId": acc, "role": "front"}])
    user_id, _ = new_member(site, world, "twirl")
    still_ids = [i.id for i in world.body_items]
    grant(site, user_id, [twirl, cap])
    avatar = site.service.ChangeOutfit(userId=user_id, wear=[twirl.id],
                                       colour=[{"itemId": twirl.id, "colour": colour}])
    wanted = [(expected(world, still_ids, [(oracle.tint(WAVE[f], colour), 530)]), delay)
              for f, delay in enumerate([120, 60])]
    check_frames(avatar.animUrl, wanted)
    capped = site.service.ChangeOutfit(userId=user_id, wear=[cap.id])
    assert capped.animUrl is None
    assert site.service.GetAvatar(userId=user_id, minVersion=capped.version).animUrl is None
    assert as_list(site.service.GetAvatars(userId=[user_id]).avatar)[0].animUrl is None
    still = Image.open(io.BytesIO(oracle.fetch_png(capped.url)))
    diff = oracle.compare(expected(world, still_ids, [(cap_art, 540)]), still)
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)
    off = site.service.ChangeOutfit(userId=user_id, remove=[cap.id])
    assert off.animUrl and off.animUrl.endswith("/%d-anim.png" % off.version)
    check_frames(off.animUrl, wanted)
