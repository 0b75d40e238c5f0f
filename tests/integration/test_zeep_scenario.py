"""A website's life with kisekae, through zeep and the checked-in WSDL.

Registers a category set and items of its own (names carry a random suffix,
so a stack that already holds the sample catalog, or earlier runs, does not
matter), creates members with unique ids, grants and wears items, then
downloads each avatar PNG from its URL and compares it with the oracle's
composite of the same full-canvas layers (premultiplied, at most 2 levels
per channel apart).

Only required categories are borrowed from the stack: every new member wears
their default items, so the test registers an item of its own in each and
wears it instead; it creates a required category only on a stack that has
none.
"""

import io
import re

import pytest
from PIL import Image

import oracle
from conftest import as_list, layer_inputs, unique, wait_for


def category_list(api):
    return as_list(api.service.ListCategories())


def list_items(api, **kwargs):
    """ListItems answer as (total, [items])."""
    answer = api.service.ListItems(**kwargs)
    return answer.total, as_list(answer.item)


class World:
    """What the module registered: categories and items, by role."""

    def __init__(self):
        self.categories = {}            # role -> Category
        self.items = {}                 # role -> Item
        self.layers = {}                # item id -> [(path, z)] full-canvas layers
        self.body_items = []            # our item in each required category


@pytest.fixture(scope="module")
def world(admin, site, art):
    w = World()
    w.suffix = unique("zeep").split("-", 1)[1]
    w.existing_required = [c for c in category_list(site) if c.required]

    for role, z, exclusive in (("hair", 50, True), ("top", 200, True), ("acc", 500, False)):
        w.categories[role] = admin.service.RegisterCategory(
            name="zeep-%s-%s" % (role, w.suffix), zOrder=z, exclusive=exclusive,
            required=False)
    required = list(w.existing_required)
    if not required:
        w.categories["body"] = admin.service.RegisterCategory(
            name="zeep-body-%s" % w.suffix, zOrder=100, exclusive=True, required=True)
        required = [w.categories["body"]]

    def register(role, category, key, with_z=True, make_default=None):
        item = admin.service.RegisterItem(
            categoryId=category.id, name="zeep %s %s" % (key, w.suffix),
            price=10, status="published", makeDefault=make_default,
            layer=layer_inputs(art[key]["layers"], with_z=with_z))
        w.items[role] = item
        # without an explicit zOrder a layer takes its category's
        w.layers[item.id] = [(path, z if with_z else category.zOrder)
                             for path, z in art[key]["layers"]]
        return item

    for n, category in enumerate(required):
        body = register("body%d" % n, category, "body-tan",
                        make_default=True if category.defaultItemId is None else None)
        w.body_items.append(body)
    register("hairA", w.categories["hair"], "hair-twintails")
    register("hairB", w.categories["hair"], "hair-bob")
    register("topA", w.categories["top"], "top-sailor")
    register("topB", w.categories["top"], "top-tshirt")
    register("ribbon", w.categories["acc"], "accessory-ribbon")
    register("glasses", w.categories["acc"], "accessory-glasses", with_z=False)

    # catalog reads may come from a replica: wait until it has all of the above
    our_items = {item.id for item in w.items.values()}
    our_categories = {item.categoryId for item in w.items.values()}

    def listed_items():
        return {item.id for category_id in our_categories
                for item in list_items(site, categoryId=category_id, limit=100)[1]}
    wait_for(lambda: {c.id for c in w.categories.values()} <= {c.id for c in category_list(site)},
             "the new categories in ListCategories")
    wait_for(lambda: our_items <= listed_items(), "the new items in ListItems")
    return w


def new_member(site, world):
    user_id = "zeep-%s-%s" % (world.suffix, unique("m").split("-", 1)[1][:6])
    avatar = site.service.CreateAvatar(userId=user_id)
    assert avatar.userId == user_id
    assert avatar.imageServer, "CreateAvatar named no image server"
    return user_id, avatar


def grant(site, user_id, items):
    for item in items:
        answer = site.service.GrantItem(userId=user_id, itemId=item.id)
        assert answer.itemId == item.id


def check_image(site, world, avatar, items):
    """The avatar's PNG equals the oracle's composite of items' layers."""
    assert re.match(r"https?://", avatar.url), "avatar url is not absolute: %r" % avatar.url
    png = oracle.fetch_png(avatar.url)
    actual = Image.open(io.BytesIO(png))
    assert actual.size == (240, 320), "avatar is %dx%d" % actual.size
    layers = [layer for item in items for layer in world.layers[item.id]]
    diff = oracle.compare(oracle.compose(layers), actual)
    assert diff.max_diff <= oracle.TOLERANCE, "%s: %s" % (avatar.url, oracle.describe(diff))


def test_categories_are_listed(site, world):
    listed = {c.id: c for c in category_list(site)}
    for role, category in world.categories.items():
        assert category.id in listed, "category %s missing from ListCategories" % category.name
        got = listed[category.id]
        assert (got.name, got.zOrder, bool(got.exclusive), bool(got.required)) == (
            category.name, category.zOrder, bool(category.exclusive), bool(category.required))
    assert listed[world.categories["acc"].id].exclusive is False
    assert listed[world.categories["hair"].id].zOrder == 50
    # by name: only that category
    hair = world.categories["hair"]
    assert [c.id for c in as_list(site.service.ListCategories(name=hair.name))] == [hair.id]


def test_registered_layers_are_trimmed(world, art):
    """Each stored layer sits at its PNG's alpha bounding box, in order, with
    its z-order (given, or the category's) and a SHA-256."""
    for role, item in world.items.items():
        layers = as_list(item.layer)
        expected = world.layers[item.id]
        assert len(layers) == len(expected), role
        assert item.status == "published" and item.price == 10
        for n, (layer, (path, z)) in enumerate(zip(layers, expected)):
            box = Image.open(path).getchannel("A").getbbox()
            assert layer.layerNo == n, role
            assert layer.zOrder == z, "%s layer %d z-order" % (role, n)
            assert (layer.x, layer.y, layer.width, layer.height) == (
                box[0], box[1], box[2] - box[0], box[3] - box[1]), "%s layer %d box" % (role, n)
            assert re.fullmatch(r"[0-9a-f]{64}", layer.sha256), layer.sha256
    hair = as_list(world.items["hairA"].layer)
    assert [l.zOrder for l in hair] == [50, 400]
    assert as_list(world.items["glasses"].layer)[0].zOrder == world.categories["acc"].zOrder


def test_list_items_filter_and_paging(site, world):
    hair = world.categories["hair"]
    total, items = list_items(site, categoryId=hair.id)
    assert total == 2
    assert {i.id for i in items} == {world.items["hairA"].id, world.items["hairB"].id}
    assert all(i.categoryId == hair.id for i in items)
    seen = []
    for offset in (0, 1):
        total, page = list_items(site, categoryId=hair.id, offset=offset, limit=1)
        assert total == 2 and len(page) == 1, "offset %d" % offset
        seen.append(page[0].id)
    assert sorted(seen) == sorted(i.id for i in items), "pages overlap: %s" % seen
    total, page = list_items(site, categoryId=hair.id, offset=2, limit=1)
    assert total == 2 and page == []
    # unfiltered: total counts every published item, pages of at most limit
    total, page = list_items(site, offset=0, limit=3)
    assert total >= len(world.items) and len(page) == min(3, total)
    # walking all pages finds each of ours exactly once
    found, offset = [], 0
    while offset < total:
        _t, page = list_items(site, offset=offset, limit=100)
        assert page, "empty page at offset %d of %d" % (offset, total)
        found += [i.id for i in page]
        offset += len(page)
    assert len(found) == len(set(found)), "an item appears on two pages"
    assert {i.id for i in world.items.values()} <= set(found)


def test_grant_twice_is_already_owned(site, world):
    user_id, _avatar = new_member(site, world)
    item = world.items["ribbon"]
    first = site.service.GrantItem(userId=user_id, itemId=item.id)
    assert (first.itemId, first.alreadyOwned) == (item.id, False)
    again = site.service.GrantItem(userId=user_id, itemId=item.id)
    assert (again.itemId, again.alreadyOwned) == (item.id, True)


def test_dress_up_and_compare_with_oracle(site, world):
    user_id, created = new_member(site, world)
    defaults = {c.defaultItemId for c in category_list(site)
                if c.required and c.defaultItemId is not None}
    assert set(as_list(created.wornItemId)) == defaults, "a new avatar wears the defaults"
    outfit = world.body_items + [world.items[r] for r in ("hairA", "topA", "ribbon", "glasses")]
    grant(site, user_id, outfit)
    changed = site.service.ChangeOutfit(userId=user_id, wear=[i.id for i in outfit])
    assert changed.version > created.version
    assert set(as_list(changed.wornItemId)) == {i.id for i in outfit}
    got = site.service.GetAvatar(userId=user_id, minVersion=changed.version)
    assert got.version == changed.version
    assert got.url == changed.url
    assert set(as_list(got.wornItemId)) == {i.id for i in outfit}
    check_image(site, world, got, outfit)


def test_exclusive_category_replaces_worn_item(site, world):
    user_id, created = new_member(site, world)
    items = world.items
    outfit = world.body_items + [items["hairA"], items["topA"], items["ribbon"]]
    grant(site, user_id, outfit + [items["hairB"], items["topB"], items["glasses"]])
    first = site.service.ChangeOutfit(userId=user_id, wear=[i.id for i in outfit])
    assert set(as_list(first.wornItemId)) == {i.id for i in outfit}

    # hair and top are exclusive: B replaces A; accessories are not: both stay
    second = site.service.ChangeOutfit(
        userId=user_id, wear=[items["hairB"].id, items["topB"].id, items["glasses"].id])
    worn = set(as_list(second.wornItemId))
    expected = world.body_items + [items["hairB"], items["topB"], items["ribbon"],
                                   items["glasses"]]
    assert worn == {i.id for i in expected}
    assert second.version > first.version
    assert second.url != first.url, "the url must change with the version"
    got = site.service.GetAvatar(userId=user_id, minVersion=second.version)
    assert got.version >= second.version
    check_image(site, world, got, expected)

    # taking an accessory off
    third = site.service.ChangeOutfit(userId=user_id, remove=[items["ribbon"].id])
    expected.remove(items["ribbon"])
    assert set(as_list(third.wornItemId)) == {i.id for i in expected}
    check_image(site, world, site.service.GetAvatar(userId=user_id, minVersion=third.version),
                expected)
