"""The operations that keep images where they belong, on the one image
server of the integration stack: GetImageRecipe and GetSceneBackground (role
node), SetImageServerWeight and MoveAvatars (admin), and ChangeOutfit being
safe to send twice. Moving members between real image servers is tested in
tests/cluster.

A recipe is checked by deleting the image's files from the image server's
store, then sending the recipe to its compose route: the files must be
written again and match Pillow's composite (oracle.py), so a recipe or a
compose that draws nothing fails. Only the image server holding an image
gets its recipe (the stack's node credential is img1's).
"""

import hashlib
import io
import re

import pytest
import requests
from PIL import Image

import oracle
from conftest import Api, as_list, unique
from test_album_zeep import api_conf, assert_jpeg_matches, expected_photo
from test_node_ops import DEAD_URL, assert_fault, register, server_row
from test_self_heal import Stack
from world import build_world, expected_avatar, new_member


@pytest.fixture(scope="module")
def node(env):
    if "KISEKAE_NODE_USER" not in env:
        pytest.skip("KISEKAE_NODE_USER is not set")
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_NODE_USER"], env["KISEKAE_NODE_PASSWORD"])


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "cluster")


@pytest.fixture(scope="module")
def internal(env):
    urls = env.get("KISEKAE_IMAGE_INTERNAL_URLS", "").split()
    if not urls or not env.get("KISEKAE_IMAGE_SECRETS"):
        pytest.skip("the stack lists no image server")
    session = requests.Session()
    session.headers["X-Kisekae-Secret"] = env["KISEKAE_IMAGE_SECRETS"].split()[0]
    return urls[0].rstrip("/"), session


@pytest.fixture(scope="module")
def scene(admin, site, world):
    out = io.BytesIO()
    Image.new("RGBA", (400, 400), (90, 140, 200, 255)).save(out, "PNG")
    registered = admin.service.RegisterScene(name="cluster scene %s" % world.suffix,
                                             png=out.getvalue(), slot=[{"x": 80, "y": 40}])
    registered.png = out.getvalue()
    return registered


def sha(data):
    return hashlib.sha256(data).hexdigest()


def fetch(url):
    response = requests.get(url, timeout=15)
    assert response.status_code == 200, "GET %s: HTTP %d" % (url, response.status_code)
    return response.content


NODE_ONLY = {
    "GetImageRecipe": dict(userId="nobody"),
    "GetSceneBackground": dict(sceneId=1),
}


@pytest.mark.parametrize("operation", sorted(NODE_ONLY))
def test_recipes_are_for_nodes_only(site, admin, operation):
    assert_fault(site.fault(operation, **NODE_ONLY[operation]), "Forbidden")
    if operation != "GetSceneBackground":      # the admin UI shows scene backgrounds
        assert_fault(admin.fault(operation, **NODE_ONLY[operation]), "Forbidden")


def test_avatar_recipe_composes_it_again(env, node, site, world, internal):
    user_id, avatar = new_member(site, world, "recipe", image_server="img1")
    recipe = node.service.GetImageRecipe(userId=user_id)
    assert recipe.route == "compose" and recipe.imageServer == "img1"
    assert recipe.version == avatar.version
    assert avatar.url == recipe.publicUrl.rstrip("/") + "/" + recipe.path
    assert avatar.thumbUrl == recipe.publicUrl.rstrip("/") + "/" + recipe.thumbPath
    assert recipe.recipe.startswith("user_id %s\nversion %d\n" % (user_id, avatar.version))
    layers = [line for line in recipe.recipe.splitlines() if line.startswith("layer ")]
    worn = as_list(avatar.wornItemId)
    assert sorted({int(line.split()[1]) for line in layers}) == sorted(worn)
    image, thumb = Stack(env).file(avatar.url), Stack(env).file(avatar.thumbUrl)
    image.unlink()
    thumb.unlink()
    base, session = internal
    answer = session.post(base + "/internal/compose", data=recipe.recipe.encode(), timeout=30)
    assert answer.status_code == 200, answer.text
    assert image.exists() and thumb.exists(), "the compose did not write the files again"
    expected = expected_avatar(world, worn)
    with Image.open(image) as got:
        diff = oracle.compare(expected, got)
    assert diff.max_diff <= oracle.TOLERANCE, "%s: %s" % (image, oracle.describe(diff))
    box, size = api_conf(env)
    with Image.open(thumb) as got:
        assert got.size == size
        diff = oracle.compare(expected.resize(size, Image.Resampling.LANCZOS, box=box), got,
                              tolerance=3)
    assert diff.max_diff <= 3, "%s: %s" % (thumb, oracle.describe(diff, 3))


def test_photo_recipe_composes_it_again(env, node, site, world, scene, internal):
    user_id, avatar = new_member(site, world, "photo", image_server="img1")
    photo = site.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id)
    recipe = node.service.GetImageRecipe(userId=user_id, photoId=photo.id)
    assert recipe.route == "album" and recipe.thumbPath in ("", None)
    assert photo.url == recipe.publicUrl.rstrip("/") + "/" + recipe.path
    assert re.search(r"^photo %d$" % photo.id, recipe.recipe, re.M)
    assert re.search(r"^scene %d %s$" % (scene.id, sha(scene.png)), recipe.recipe, re.M)
    stored = Stack(env).file(photo.url)
    stored.unlink()
    base, session = internal
    answer = session.post(base + "/internal/album", data=recipe.recipe.encode(), timeout=30)
    assert answer.status_code == 200, answer.text
    assert stored.exists(), "the album route did not write the photo again"
    expected = expected_photo(oracle.load_image(scene.png),
                              [(expected_avatar(world, as_list(avatar.wornItemId)), (80, 40))])
    assert_jpeg_matches(expected, stored.read_bytes())
    # Someone else's photo id is not this member's photo.
    other, _ = new_member(site, world, "other")
    assert_fault(node.fault("GetImageRecipe", userId=other, photoId=photo.id), "NotFound")


def test_recipe_only_for_the_server_holding_the_image(node, site, world, scene):
    """img1's credential learns where img2's member's images are (an image
    server redirects a request to the right one), not how to draw them."""
    user_id, avatar = new_member(site, world, "on-img2", image_server="img2")
    photo = site.service.CreateAlbumPhoto(userId=user_id, sceneId=scene.id)
    for photo_id in (None, photo.id):
        recipe = node.service.GetImageRecipe(userId=user_id, photoId=photo_id)
        assert recipe.imageServer == "img2" and recipe.version == avatar.version
        assert recipe.path and recipe.recipe in ("", None), (photo_id, recipe.recipe)


def test_recipe_faults(node):
    assert_fault(node.fault("GetImageRecipe", userId=unique("nobody")), "NotFound")
    assert_fault(node.fault("GetImageRecipe", userId="bad id"), "InvalidArgument")
    assert_fault(node.fault("GetImageRecipe", userId="x", photoId=0), "InvalidArgument")


def test_scene_background_is_the_registered_png(node, scene):
    got = node.service.GetSceneBackground(sceneId=scene.id)
    assert got.sceneId == scene.id and got.png == scene.png and got.sha256 == sha(scene.png)
    assert_fault(node.fault("GetSceneBackground", sceneId=0), "InvalidArgument")
    assert_fault(node.fault("GetSceneBackground", sceneId=99999999), "NotFound")


def test_set_weight(env, admin, site):
    name = unique("node-weight")
    node, _server = register(env, admin, name, weight=2)
    assert admin.service.SetImageServerWeight(name=name, weight=9).weight == 9
    assert server_row(admin, name).weight == 9
    # The node registering again does not undo the admin's weight.
    again = node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL + "/int",
                                             publicUrl=DEAD_URL + "/pub", weight=2)
    assert again.weight == 9
    for weight in (0, -1, 1001):
        assert_fault(admin.fault("SetImageServerWeight", name=name, weight=weight),
                     "InvalidArgument")
    assert server_row(admin, name).weight == 9
    assert_fault(admin.fault("SetImageServerWeight", name=unique("none"), weight=1), "NotFound")
    assert_fault(site.fault("SetImageServerWeight", name=name, weight=1), "Forbidden")


def test_move_faults_change_nothing(env, admin, site, world):
    user_id, avatar = new_member(site, world, "stay")
    home = avatar.url.split("/avatars/")[0]
    servers = {s.name: s for s in admin.service.ListImageServers()}
    mine = [s for s in servers.values() if s.publicUrl.rstrip("/") == home][0]
    drained = unique("node-drained")
    register(env, admin, drained)                   # draining: takes no members
    for args, code in [
        (dict(from_=mine.name, to=mine.name, limit=1), "InvalidArgument"),
        (dict(from_=mine.name, to=drained, limit=0), "InvalidArgument"),
        (dict(from_=mine.name, to=drained, limit=1001), "InvalidArgument"),
        (dict(from_=mine.name, to=unique("none"), limit=1), "NotFound"),
        (dict(from_=unique("none"), to=mine.name, limit=1), "NotFound"),
        (dict(from_=mine.name, to=drained, limit=5), "Conflict"),
    ]:
        assert_fault(admin.fault("MoveAvatars", **{"from": args["from_"], "to": args["to"],
                                                   "limit": args["limit"]}), code)
    assert_fault(site.fault("MoveAvatars", **{"from": mine.name, "to": drained, "limit": 1}),
                 "Forbidden")
    now = site.service.GetAvatar(userId=user_id, minVersion=avatar.version)
    assert (now.version, now.url) == (avatar.version, avatar.url)
    # Moving from a server without members moves nothing.
    empty = unique("node-empty")
    register(env, admin, empty)
    moved = admin.service.MoveAvatars(**{"from": empty, "to": mine.name, "limit": 10})
    assert (moved.moved, moved.remaining, moved.photosKept) == (0, 0, 0)


def test_change_outfit_sent_twice_changes_once(site, world):
    user_id, avatar = new_member(site, world, "twice")
    item = world.items[sorted(world.items)[-1]]
    site.service.GrantItem(userId=user_id, itemId=item.id)
    first = site.service.ChangeOutfit(userId=user_id, wear=[item.id])
    second = site.service.ChangeOutfit(userId=user_id, wear=[item.id])
    assert first.version == avatar.version + 1
    assert (second.version, second.url, sorted(as_list(second.wornItemId))) == (
        first.version, first.url, sorted(as_list(first.wornItemId)))
