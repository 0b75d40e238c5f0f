"""Tints and hide rules end to end (README "Tints" and "Hide rules"), against
the Pillow oracle.

A module catalog (world.py) plus three items of its own: a hair whose two
layers are tintable (roles "back" and "front"), a hat that hides the hair's
front layer, and a hood that hides every top. Every avatar and preview a
test makes is compared with what the oracle composes from the same
full-canvas layers (tinted layers through oracle.tint, hidden ones left
out); the thumbnail with Pillow's LANCZOS of the avatar; the recipes must
carry the colour, and rebuilds of the avatar, thumbnail and an album photo
(the file deleted and fetched again; RebuildAvatars) give the same bytes.
"""

import hashlib
import io

import pytest
import requests
from PIL import Image

import oracle
from conftest import as_list, layer_inputs, node_api, unique
from test_self_heal import Stack, scene_png
from world import build_world, grant, new_member

COLOUR = "#3366CC"
OTHER = "#E0A030"
THUMB_TOLERANCE = 2          # as tests/cli/test_compose_cli.py allows a thumbnail


class Tw:
    """The module's world, its own items and a member dressed in body only."""


@pytest.fixture(scope="module")
def tw(admin, site, art):
    w = build_world(admin, site, art, "tint")
    t = Tw()
    t.world = w
    hair_category, acc, top = w.categories["hair"], w.categories["acc"], w.categories["top"]
    t.hair_layers = list(art["hair-long"]["layers"])           # [(path, z)]: back, front
    inputs = layer_inputs(t.hair_layers)
    for entry, role in zip(inputs, ("back", "front")):
        entry["tintable"] = True
        entry["role"] = role
    t.hair = admin.service.RegisterItem(categoryId=hair_category.id,
                                        name=unique("tint hair"), price=10, layer=inputs)
    t.hat_layers = list(art["accessory-ribbon"]["layers"])
    t.hat = admin.service.RegisterItem(
        categoryId=acc.id, name=unique("tint hat"), price=10,
        layer=layer_inputs(t.hat_layers), hide=[{"categoryId": hair_category.id, "role": "front"}])
    t.hood_layers = [(path, acc.zOrder) for path, _z in art["accessory-glasses"]["layers"]]
    t.hood = admin.service.RegisterItem(
        categoryId=acc.id, name=unique("tint hood"), price=10,
        layer=layer_inputs(t.hood_layers, with_z=False), hide=[{"categoryId": top.id}])
    t.body = [(i.id, w.layers[i.id]) for i in w.body_items]
    t.user_id, t.avatar = new_member(site, w, "tint")
    grant(site, t.user_id, [t.hair, t.hat, t.hood, w.items["topA"]])
    return t


def body_layers(t):
    return [layer for _id, layers in t.body for layer in layers]


def tinted(layers, colour):
    return [(oracle.tint(path, colour), z) for path, z in layers]


def assert_like(png_or_url, layers, what):
    if isinstance(png_or_url, str):
        png_or_url = oracle.fetch_png(png_or_url)
    actual = Image.open(io.BytesIO(png_or_url))
    diff = oracle.compare(oracle.compose(layers), actual)
    assert diff.max_diff <= oracle.TOLERANCE, "%s: %s" % (what, oracle.describe(diff))


def colours(answer):
    return {c.itemId: c.colour for c in as_list(answer.wornColour)}


def test_layers_and_hide_rules_are_stored(site, tw):
    hair = site.service.GetItem(itemId=tw.hair.id)
    assert [(bool(l.tintable), l.role) for l in hair.layer] == [(True, "back"), (True, "front")]
    hat = site.service.GetItem(itemId=tw.hat.id)
    assert [(bool(l.tintable), l.role or "") for l in hat.layer] == [(False, "")] * len(
        tw.hat_layers)                         # zeep reads an empty role as None
    assert [(h.categoryId, h.role) for h in hat.hide] == [
        (tw.world.categories["hair"].id, "front")]
    hood = tw.hood
    assert [(h.categoryId, h.role) for h in hood.hide] == [(tw.world.categories["top"].id, None)]


def test_tinted_hair_composes_like_the_oracle(site, tw):
    changed = site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hair.id],
                                        colour=[{"itemId": tw.hair.id, "colour": "#3366cc"}])
    assert colours(changed) == {tw.hair.id: COLOUR}
    expected = body_layers(tw) + tinted(tw.hair_layers, COLOUR)
    assert_like(changed.url, expected, "avatar with tinted hair")
    got = site.service.GetAvatar(userId=tw.user_id, minVersion=changed.version)
    assert colours(got) == {tw.hair.id: COLOUR}
    many = site.service.GetAvatars(userId=[tw.user_id])
    assert colours(many.avatar[0]) == {tw.hair.id: COLOUR}
    preview = site.service.PreviewAvatar(userId=tw.user_id)
    assert colours(preview) == {tw.hair.id: COLOUR}
    assert_like(preview.png, expected, "preview of the same outfit")
    # a preview in another colour saves nothing
    other = site.service.PreviewAvatar(userId=tw.user_id,
                                       colour=[{"itemId": tw.hair.id, "colour": OTHER}])
    assert_like(other.png, body_layers(tw) + tinted(tw.hair_layers, OTHER), "preview in OTHER")
    assert site.service.GetAvatar(userId=tw.user_id).version == changed.version


def test_only_a_new_colour_is_a_change(site, tw):
    before = site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hair.id],
                                       colour=[{"itemId": tw.hair.id, "colour": COLOUR}])
    again = site.service.ChangeOutfit(userId=tw.user_id,
                                      colour=[{"itemId": tw.hair.id, "colour": COLOUR}])
    assert again.version == before.version
    other = site.service.ChangeOutfit(userId=tw.user_id,
                                      colour=[{"itemId": tw.hair.id, "colour": OTHER}])
    assert other.version == before.version + 1
    assert colours(other) == {tw.hair.id: OTHER}
    assert_like(other.url, body_layers(tw) + tinted(tw.hair_layers, OTHER), "recoloured")
    back = site.service.ChangeOutfit(userId=tw.user_id,
                                     colour=[{"itemId": tw.hair.id, "colour": COLOUR}])
    assert back.version == other.version + 1


def test_hat_hides_the_front_hair_and_taking_it_off_brings_it_back(site, tw):
    site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hair.id],
                              colour=[{"itemId": tw.hair.id, "colour": COLOUR}])
    hair_back, hair_front = tinted(tw.hair_layers, COLOUR)
    with_hat = site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hat.id])
    assert_like(with_hat.url, body_layers(tw) + [hair_back] + tw.hat_layers, "hat on")
    preview = site.service.PreviewAvatar(userId=tw.user_id, remove=[tw.hat.id])
    assert_like(preview.png, body_layers(tw) + [hair_back, hair_front], "preview, hat off")
    off = site.service.ChangeOutfit(userId=tw.user_id, remove=[tw.hat.id])
    assert off.version == with_hat.version + 1
    assert colours(off) == {tw.hair.id: COLOUR}
    assert_like(off.url, body_layers(tw) + [hair_back, hair_front], "hat off")


def test_a_rule_without_role_hides_the_whole_category(site, tw):
    top = tw.world.items["topA"]
    top_layers = tw.world.layers[top.id]
    dressed = site.service.ChangeOutfit(userId=tw.user_id, wear=[top.id], remove=[tw.hair.id])
    assert_like(dressed.url, body_layers(tw) + top_layers, "top on")
    hooded = site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hood.id])
    assert sorted(as_list(hooded.wornItemId)) == sorted([i for i, _l in tw.body] +
                                                        [top.id, tw.hood.id])
    assert_like(hooded.url, body_layers(tw) + tw.hood_layers, "the hood hides the top")
    site.service.ChangeOutfit(userId=tw.user_id, remove=[tw.hood.id, top.id])


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "3366CC", "#GG0000", "",
                                    " #3366CC", "#3366CC "])
def test_bad_colours_are_invalid_and_change_nothing(site, tw, colour):
    before = site.service.GetAvatar(userId=tw.user_id, minVersion=1)
    for operation in ("ChangeOutfit", "PreviewAvatar"):
        fault = site.fault(operation, userId=tw.user_id, wear=[tw.hair.id],
                           colour=[{"itemId": tw.hair.id, "colour": colour}])
        assert fault.code == "InvalidArgument", (operation, colour, fault)
    after = site.service.GetAvatar(userId=tw.user_id)
    assert (after.version, sorted(as_list(after.wornItemId))) == (
        before.version, sorted(as_list(before.wornItemId)))


def test_colours_of_untintable_or_unworn_items_are_invalid(site, tw):
    site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hair.id],
                              colour=[{"itemId": tw.hair.id, "colour": COLOUR}])
    before = site.service.GetAvatar(userId=tw.user_id, minVersion=1)
    body_id = tw.body[0][0]
    cases = [
        ({"colour": [{"itemId": body_id, "colour": OTHER}]}, "no tintable layer"),
        ({"wear": [tw.hat.id], "colour": [{"itemId": tw.hat.id, "colour": OTHER}]},
         "no tintable layer"),
        ({"remove": [tw.hair.id], "colour": [{"itemId": tw.hair.id, "colour": OTHER}]},
         "not worn"),
        ({"colour": [{"itemId": tw.hair.id, "colour": OTHER},
                     {"itemId": tw.hair.id, "colour": COLOUR}]}, "two colours"),
    ]
    for kwargs, words in cases:
        for operation in ("ChangeOutfit", "PreviewAvatar"):
            fault = site.fault(operation, userId=tw.user_id, **kwargs)
            assert fault.code == "InvalidArgument" and words in fault.message, (kwargs, fault)
    after = site.service.GetAvatar(userId=tw.user_id)
    assert after.version == before.version
    assert colours(after) == {tw.hair.id: COLOUR}


def test_hide_rules_are_checked_and_replaced_by_update_item(admin, site, tw):
    hair_category = tw.world.categories["hair"]
    for hide, words in (([{"categoryId": 0}], "categoryId"),
                        ([{"categoryId": hair_category.id, "role": "Front"}], "role"),
                        ([{"categoryId": hair_category.id}] * 2, "repeats")):
        fault = admin.fault("UpdateItem", itemId=tw.hood.id, hide=hide)
        assert fault.code == "InvalidArgument" and words in fault.message, (hide, fault)
    fault = admin.fault("UpdateItem", itemId=tw.hood.id, hide=[{"categoryId": 999999999}])
    assert fault.code == "NotFound", fault
    fault = admin.fault("RegisterItem", categoryId=hair_category.id, name=unique("bad role"),
                        price=1, layer=[dict(layer_inputs(tw.hair_layers[:1])[0],
                                             role="no spaces")])
    assert fault.code == "InvalidArgument" and "role" in fault.message, fault
    # the hood wears over the tinted hair and hides the hair now; cleared, it hides it no more
    site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hair.id, tw.hood.id],
                              colour=[{"itemId": tw.hair.id, "colour": COLOUR}])
    updated = admin.service.UpdateItem(itemId=tw.hood.id,
                                       hide=[{"categoryId": hair_category.id}])
    assert updated.avatarsQueued >= 1
    assert [(h.categoryId, h.role) for h in updated.item.hide] == [(hair_category.id, None)]
    avatar = wait_composed(site, tw.user_id, as_list(updated.item.hide))
    assert_like(avatar.url, body_layers(tw) + tw.hood_layers, "the hood hides the hair")
    cleared = admin.service.UpdateItem(itemId=tw.hood.id, clearHides=True)
    assert as_list(cleared.item.hide) == []
    avatar = wait_composed(site, tw.user_id, [])
    assert_like(avatar.url, body_layers(tw) + tinted(tw.hair_layers, COLOUR) + tw.hood_layers,
                "the hood hides nothing")
    site.service.ChangeOutfit(userId=tw.user_id, remove=[tw.hood.id])


def wait_composed(site, user_id, _rules, timeout=30.0):
    """The member's avatar once the renderer composed the version queued by
    an UpdateItem (the version rises by one)."""
    import time
    from timescale import scaled
    start = site.service.GetAvatar(userId=user_id, minVersion=1).version
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        try:
            return site.service.GetAvatar(userId=user_id, minVersion=start + 1)
        except Exception:                       # not composed yet (NotFound at that version)
            time.sleep(0.2)
    pytest.fail("the renderer did not compose %s again" % user_id)


def test_rebuilds_give_the_same_bytes(env, admin, site, tw):
    stack = Stack(env)
    avatar = site.service.ChangeOutfit(userId=tw.user_id, wear=[tw.hair.id, tw.hat.id],
                                       colour=[{"itemId": tw.hair.id, "colour": OTHER}])
    # the recipe goes only to the server that holds the member's images
    node = node_api(env, avatar.imageServer)
    scene = admin.service.RegisterScene(name=unique("tint scene"), png=scene_png(),
                                        slot=[{"x": 40, "y": 20}])
    photo = site.service.CreateAlbumPhoto(userId=tw.user_id, sceneId=scene.id)
    recipe = node.service.GetImageRecipe(userId=tw.user_id)
    hair_lines = [line for line in recipe.recipe.splitlines()
                  if line.startswith("layer %d " % tw.hair.id)]
    assert hair_lines == [hair_lines[0]] and hair_lines[0].endswith(" " + OTHER), recipe.recipe
    photo_recipe = node.service.GetImageRecipe(userId=tw.user_id, photoId=photo.id)
    assert photo_recipe.recipe.count(" " + OTHER + "\n") == 1, photo_recipe.recipe
    urls = [avatar.url, avatar.thumbUrl, photo.url]
    before = {}
    for url in urls:
        answer = requests.get(url, timeout=30)
        assert answer.status_code == 200, url
        before[url] = hashlib.sha256(answer.content).hexdigest()
    expected = body_layers(tw) + tinted(tw.hair_layers[:1], OTHER) + tw.hat_layers
    assert_like(avatar.url, expected, "tinted hair under the hat")
    # the thumbnail: Pillow's LANCZOS of the avatar (checked above against the oracle)
    # over the region the recipe names, as tests/cli checks kisekae-compose --thumb
    x, y, w, h, out_w, out_h = (int(v) for v in next(
        line for line in recipe.recipe.splitlines() if line.startswith("thumb ")).split()[1:])
    thumb = oracle.load_image(oracle.fetch_png(avatar.url)).resize(
        (out_w, out_h), Image.Resampling.LANCZOS, box=(x, y, x + w, y + h))
    diff = oracle.compare(thumb, oracle.fetch_png(avatar.thumbUrl))
    assert diff.max_diff <= THUMB_TOLERANCE, "thumbnail: " + oracle.describe(diff)
    checked = admin.service.RebuildAvatars(server=avatar.imageServer, userId=[tw.user_id],
                                           checkOnly=True)
    result = as_list(checked)[0]                # zeep unwraps the one-element answer
    assert (result.status, result.imagesWritten) == ("unchanged", 0), result
    for url in urls:
        stack.file(url).unlink()
    for url in urls:
        answer = requests.get(url, timeout=30)
        assert answer.status_code == 200, (url, answer.text[:200])
        assert hashlib.sha256(answer.content).hexdigest() == before[url], url
    site.service.ChangeOutfit(userId=tw.user_id, remove=[tw.hat.id])
