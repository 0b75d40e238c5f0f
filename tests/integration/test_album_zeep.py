"""Thumbnails, try-on previews, scenes and album photos, end to end: SOAP
through the API, images composed by the image server and fetched from its
nginx, compared with Pillow (oracle.py) as the independent reference.

An album photo is also rebuilt from nothing but the database rows that
record it (the scene at its sha256, every layer drawn with its place and
sha256, the art found in item_layers or item_layer_archive), even after the
art of an item in it was replaced, and compared with the stored JPEG.
"""

import hashlib
import io
import re
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageChops, ImageDraw, ImageStat

import oracle
import stackctl
from conftest import as_list, layer_inputs, unique, wait_for
from world import (build_world, check_avatar, dress, expected_avatar, grant, new_member,
                   register_item)

CANVAS = oracle.DEFAULT_CANVAS
ALBUM_QUALITY = 85             # the API's album_quality default
COARSE_MAX = 24                # see coarse_max_diff: measured 15 right, 177 for a wrong order


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "album")


def worn(avatar):
    return sorted(as_list(avatar.wornItemId))


def api_conf(env):
    """The thumbnail settings of the stack's API server (the defaults unless
    its config file sets them): (box x0, y0, x1, y1), (width, height)."""
    crop, size = (30, 30, 180, 180), (96, 96)
    path = Path(env["KISEKAE_STATE"]) / "api1" / "kisekae-api.conf"
    for line in path.read_text().splitlines() if path.exists() else []:
        words = line.split()
        if len(words) == 2 and words[0] == "thumb_crop":
            crop = tuple(int(v) for v in words[1].split(","))
        elif len(words) == 2 and words[0] == "thumb_size":
            size = tuple(int(v) for v in words[1].split("x"))
    x, y, w, h = crop
    return (x, y, x + w, y + h), size


def fetch(url, kind):
    response = requests.get(url, timeout=15)
    assert response.status_code == 200, "GET %s: HTTP %d" % (url, response.status_code)
    assert response.headers.get("Content-Type") == kind, response.headers.get("Content-Type")
    return response.content


def gone(url):
    return requests.get(url, timeout=15).status_code == 404


def mean_diff(a, b):
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def jpeg_mean_diff(expected_rgb, jpeg):
    """The mean difference per RGB channel between the oracle's picture and a
    JPEG of the image server."""
    actual = Image.open(io.BytesIO(jpeg))
    assert actual.format == "JPEG" and actual.size == expected_rgb.size, (actual.format,
                                                                          actual.size)
    return mean_diff(actual, expected_rgb)


def jpeg_tolerance(expected_rgb):
    """What JPEG alone costs this picture: Pillow's own JPEG of it at the same
    quality, compared with it, times 1.5 (at least 1 level)."""
    out = io.BytesIO()
    expected_rgb.save(out, "JPEG", quality=ALBUM_QUALITY)
    return max(1.0, 1.5 * mean_diff(Image.open(out), expected_rgb))


def coarse_max_diff(expected_rgb, jpeg):
    """The largest difference of any channel once both pictures are averaged
    over 4x4 blocks: JPEG's noise averages out, a misplaced or missing part of
    an avatar does not."""
    actual = Image.open(io.BytesIO(jpeg)).convert("RGB")
    size = (expected_rgb.width // 4, expected_rgb.height // 4)
    a = actual.resize(size, Image.Resampling.BOX)
    b = expected_rgb.convert("RGB").resize(size, Image.Resampling.BOX)
    return max(high for _low, high in ImageChops.difference(a, b).getextrema())


def assert_jpeg_matches(expected_rgb, jpeg):
    mean, tolerance = jpeg_mean_diff(expected_rgb, jpeg), jpeg_tolerance(expected_rgb)
    assert mean <= tolerance, "mean difference %.2f, JPEG alone explains %.2f" % (mean, tolerance)
    coarse = coarse_max_diff(expected_rgb, jpeg)
    assert coarse <= COARSE_MAX, "a 4x4 block differs by %d levels (at most %d)" % (
        coarse, COARSE_MAX)


def flatten(image):
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")


def expected_photo(background, sitters):
    """The oracle's photo: the background, then each avatar (an RGBA canvas)
    at its slot, from the last slot to the first, flattened onto white.
    sitters: [(avatar image, (x, y))] in slot order."""
    out = background.convert("RGBA")
    for image, (x, y) in reversed(sitters):
        layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
        layer.paste(image, (x, y))
        out = Image.alpha_composite(out, layer)
    return flatten(out)


def drawn_scene(width, height):
    scene = Image.new("RGBA", (width, height), (120, 180, 230, 255))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(70, 160, 80, 255))
    for n in range(6):
        draw.ellipse((n * 110, 20 + n * 7, n * 110 + 60, 60 + n * 7), fill=(250, 250, 250, 255))
    return scene


def png_bytes(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def scene(admin, site, world):
    """A 640x400 scene whose three slots overlap (so the drawing order shows)."""
    background = drawn_scene(640, 400)
    registered = admin.service.RegisterScene(
        name="album scene %s" % world.suffix, png=png_bytes(background),
        slot=[{"x": 200, "y": 60}, {"x": 60, "y": 40}, {"x": 340, "y": 50}])
    registered.background = background
    wait_for(lambda: registered.id in [s.id for s in as_list(site.service.ListScenes())],
             "the scene in ListScenes")
    return registered


# ---- thumbnails and previews ------------------------------------------------------

def test_thumbnail_is_the_configured_crop(env, site, world):
    user_id, _avatar = new_member(site, world)
    avatar = dress(site, world, user_id, ["hairA", "topA", "glasses"])
    box, size = api_conf(env)
    full = Image.open(io.BytesIO(fetch(avatar.url, "image/png")))
    thumb = Image.open(io.BytesIO(fetch(avatar.thumbUrl, "image/png")))
    assert thumb.size == size
    expected = expected_avatar(world, worn(avatar)).resize(size, Image.Resampling.LANCZOS, box=box)
    diff = oracle.compare(expected, thumb, tolerance=3)
    assert diff.max_diff <= 3, "%s: %s" % (avatar.thumbUrl, oracle.describe(diff, 3))
    # and it is not just any image: the whole avatar scaled down differs
    whole = expected_avatar(world, worn(avatar)).resize(size, Image.Resampling.LANCZOS)
    assert oracle.compare(whole, thumb).max_diff > 20
    assert full.size == CANVAS


def test_preview_composes_without_saving(site, world):
    user_id, _avatar = new_member(site, world)
    before = dress(site, world, user_id, ["hairA", "topA"])
    items = world.items
    answer = site.service.PreviewAvatar(
        userId=user_id, wear=[items["hairB"].id, items["topB"].id, items["ribbon"].id],
        remove=[items["hairA"].id])
    expected_ids = sorted({i.id for i in world.body_items} |
                          {items[r].id for r in ("hairB", "topB", "ribbon")})
    assert sorted(as_list(answer.wornItemId)) == expected_ids
    diff = oracle.compare(expected_avatar(world, expected_ids), answer.png)
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)
    # nothing saved: same version and outfit, no new image, nothing granted
    after = site.service.GetAvatar(userId=user_id, minVersion=before.version)
    assert (after.version, worn(after)) == (before.version, worn(before))
    assert gone(before.url.replace("/%d.png" % before.version, "/%d.png" % (before.version + 1)))
    owned = {i.itemId for i in as_list(site.service.ListMemberItems(userId=user_id, limit=100).item)}
    assert items["hairB"].id not in owned and items["ribbon"].id not in owned


# ---- scenes --------------------------------------------------------------------------

def stored_scene(env, scene_id):
    """The scene's background in image server 1's store (scenes/<id>/0.png,
    common/paths.h), or None."""
    conf = Path(env["KISEKAE_STATE"]) / "img1" / "kisekae-image.conf"
    store = next(line.split(None, 1)[1].strip() for line in conf.read_text().splitlines()
                 if line.startswith("store "))
    path = Path(store) / "scenes" / str(scene_id) / "0.png"
    return path.read_bytes() if path.exists() else None


def test_scene_is_listed_and_pushed(site, scene, env):
    listed = {s.id: s for s in as_list(site.service.ListScenes())}[scene.id]
    assert (listed.name, listed.width, listed.height, listed.sha256) == (
        scene.name, 640, 400, scene.sha256)
    assert [(s.x, s.y) for s in as_list(listed.slot)] == [(200, 60), (60, 40), (340, 50)]
    stored = stored_scene(env, scene.id)
    assert stored is not None, "the scene was not pushed to the image server"
    assert hashlib.sha256(stored).hexdigest() == scene.sha256


# ---- album photos ----------------------------------------------------------------------

def take_group_photo(site, world, scene, caption):
    member, _a = new_member(site, world, "photo")
    friend1, _a = new_member(site, world, "friend")
    friend2, _a = new_member(site, world, "friend")
    outfits = {member: dress(site, world, member, ["hairA", "topA", "ribbon"]),
               friend1: dress(site, world, friend1, ["hairB", "topB", "skirt"]),
               friend2: dress(site, world, friend2, ["hairA", "glasses"])}
    photo = site.service.CreateAlbumPhoto(userId=member, sceneId=scene.id,
                                          friendUserId=[friend1, friend2], caption=caption)
    return member, [friend1, friend2], outfits, photo


def rebuild_from_database(env, photo_id):
    """The photo composed with Pillow from the rows that record it alone."""
    (scene_sha, width, height), = stackctl.sql(
        env, "SELECT scene_sha256, width, height FROM album_photos WHERE id = %d" % photo_id)
    (scene_hex,), = stackctl.sql(env, "SELECT HEX(png) FROM scenes WHERE sha256 = '%s' LIMIT 1" % scene_sha)
    out = oracle.load_image(bytes.fromhex(scene_hex))
    assert out.size == (int(width), int(height))
    rows = stackctl.sql(env, "SELECT item_id, layer_no, x, y, sha256 FROM album_photo_layers"
                             " WHERE photo_id = %d ORDER BY seq" % photo_id)
    assert rows, "no layers recorded"
    for item_id, layer_no, x, y, sha in rows:
        found = stackctl.sql(env, "SELECT HEX(png) FROM item_layers WHERE item_id = %s AND"
                                  " layer_no = %s AND sha256 = '%s' UNION ALL SELECT HEX(png) FROM"
                                  " item_layer_archive WHERE item_id = %s AND layer_no = %s AND"
                                  " sha256 = '%s'" % (item_id, layer_no, sha, item_id, layer_no, sha))
        assert found, "layer %s/%s at %s is in neither item_layers nor the archive" % (
            item_id, layer_no, sha)
        png = bytes.fromhex(found[0][0])
        assert hashlib.sha256(png).hexdigest() == sha
        layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
        layer.paste(oracle.load_image(png), (int(x), int(y)))
        out = Image.alpha_composite(out, layer)
    return flatten(out)


def test_album_photo(env, admin, site, world, scene, art):
    caption = "picnic \u5199\u771f %s" % world.suffix
    member, friends, outfits, photo = take_group_photo(site, world, scene, caption)
    assert re.search(r"/albums/../../%s/%d\.jpg$" % (member, photo.id), photo.url), photo.url
    assert (photo.userId, photo.sceneId, photo.caption) == (member, scene.id, caption)
    assert [(m.slot, m.userId, m.avatarVersion) for m in as_list(photo.member)] == [
        (n, u, outfits[u].version) for n, u in enumerate([member] + friends)]

    jpeg = fetch(photo.url, "image/jpeg")
    slots = [(s["x"], s["y"]) if isinstance(s, dict) else (s.x, s.y) for s in as_list(scene.slot)]
    sitters = [(expected_avatar(world, worn(outfits[u])), slots[n])
               for n, u in enumerate([member] + friends)]
    expected = expected_photo(scene.background, sitters)
    assert_jpeg_matches(expected, jpeg)
    # the comparison can fail: the friends in front of the member is another picture
    wrong = expected_photo(scene.background, list(reversed(sitters)))
    assert coarse_max_diff(wrong, jpeg) > 3 * COARSE_MAX

    listed = wait_for(lambda: (lambda a: a if a.total == 1 else None)(
        site.service.ListAlbumPhotos(userId=member)), "the photo in ListAlbumPhotos")
    (got,) = as_list(listed.photo)
    assert (got.id, got.url, got.caption, got.sceneId) == (photo.id, photo.url, caption, scene.id)
    assert [(m.slot, m.userId, m.avatarVersion) for m in as_list(got.member)] == [
        (m.slot, m.userId, m.avatarVersion) for m in as_list(photo.member)]

    # rebuildable from the database alone, even after the art of an item in it changed
    assert_jpeg_matches(rebuild_from_database(env, photo.id), jpeg)
    hair = world.items["hairB"]
    admin.service.UpdateItem(itemId=hair.id, layer=layer_inputs(art["hair-long"]["layers"]))
    world.layers[hair.id] = list(art["hair-long"]["layers"])
    assert_jpeg_matches(rebuild_from_database(env, photo.id), jpeg)
    assert fetch(photo.url, "image/jpeg") == jpeg, "a photo never changes"


def test_album_paging_and_deleting(site, world, scene):
    member, _avatar = new_member(site, world, "pager")
    photos = [site.service.CreateAlbumPhoto(userId=member, sceneId=scene.id,
                                            caption="photo %d" % n) for n in range(3)]
    wait_for(lambda: site.service.ListAlbumPhotos(userId=member).total == 3,
             "the photos in ListAlbumPhotos")
    page1 = site.service.ListAlbumPhotos(userId=member, limit=2)
    page2 = site.service.ListAlbumPhotos(userId=member, offset=2, limit=2)
    assert page1.total == page2.total == 3
    assert [p.id for p in as_list(page1.photo) + as_list(page2.photo)] == [
        p.id for p in reversed(photos)], "not newest first, or pages overlap"
    assert as_list(page1.photo)[0].member[0].userId == member

    middle = photos[1]
    assert site.service.DeleteAlbumPhoto(userId=member, photoId=middle.id) == middle.id
    assert gone(middle.url)
    assert fetch(photos[0].url, "image/jpeg")
    left = wait_for(lambda: (lambda a: a if a.total == 2 else None)(
        site.service.ListAlbumPhotos(userId=member)), "the deletion in ListAlbumPhotos")
    assert middle.id not in [p.id for p in as_list(left.photo)]
    info = site.fault("DeleteAlbumPhoto", userId=member, photoId=middle.id)
    assert info.code == "NotFound", info
    # another member's photo is not yours to delete
    other, _avatar = new_member(site, world, "other")
    info = site.fault("DeleteAlbumPhoto", userId=other, photoId=photos[0].id)
    assert info.code == "NotFound", info
    assert fetch(photos[0].url, "image/jpeg")


def test_delete_avatar_removes_its_images(site, world, scene):
    member, friends, outfits, photo = take_group_photo(site, world, scene, None)
    assert photo.caption is None
    friend = friends[0]
    friends_photo = site.service.CreateAlbumPhoto(userId=friend, sceneId=scene.id,
                                                  friendUserId=[member])
    avatar = outfits[member]
    for url in (avatar.url, avatar.thumbUrl):
        fetch(url, "image/png")
    answer = site.service.DeleteAvatar(userId=member)
    assert answer.albumPhotosDeleted == 1
    for url in (avatar.url, avatar.thumbUrl, photo.url):
        assert gone(url), "%s is still served after DeleteAvatar" % url
    # the friend's photo stays the friend's, with the member's id recorded
    fetch(friends_photo.url, "image/jpeg")
    kept = as_list(wait_for(lambda: site.service.ListAlbumPhotos(userId=friend).photo,
                            "the friend's photo in ListAlbumPhotos"))
    assert [m.userId for m in as_list(kept[0].member)] == [friend, member]


# ---- repair: an image server that missed a push gets it when it needs it --------------

def test_a_missed_scene_and_layer_are_pushed_when_needed(env, admin, site, world, art):
    """A scene and an item registered while the image server's FastCGI process
    is down are not on it; the first photo and outfit that need them push
    them from the database."""
    member, _avatar = new_member(site, world, "repair", image_server="img1")
    background = drawn_scene(480, 360)
    stackctl.stop(env, "img1")
    try:
        missed = admin.service.RegisterScene(name="album missed %s" % world.suffix,
                                             png=png_bytes(background),
                                             slot=[{"x": 120, "y": 20}])
        item = register_item(admin, world, "missed", world.categories["acc"],
                             "accessory-glasses", art)
    finally:
        stackctl.restart(env)
    assert stored_scene(env, missed.id) is None, "the scene reached the stopped server"
    grant(site, member, [item])
    avatar = site.service.ChangeOutfit(userId=member, wear=[item.id])
    check_avatar(world, avatar.url, worn(avatar))
    photo = site.service.CreateAlbumPhoto(userId=member, sceneId=missed.id)
    assert hashlib.sha256(stored_scene(env, missed.id)).hexdigest() == missed.sha256
    assert_jpeg_matches(expected_photo(background, [(expected_avatar(world, worn(avatar)),
                                                     (120, 20))]),
                        fetch(photo.url, "image/jpeg"))
