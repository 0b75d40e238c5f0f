"""world.py: a catalog of a test module's own, and members dressed in it.

build_world() registers categories and items whose names carry a random
suffix (so the stack's sample catalog and earlier runs do not matter) and
remembers each item's full-canvas layers, so a test can compose with the
oracle what an avatar should look like. Only the stack's required categories
are borrowed: the module registers an item of its own in each, and dress()
puts those on, so every layer an avatar wears is known.
"""

import io

from PIL import Image

import oracle
from conftest import as_list, layer_inputs, unique, wait_for


class World:
    """What a module registered: categories and items by role, and the
    full-canvas layers [(path, z)] of each item id."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.suffix = unique(prefix).split("-", 1)[1]
        self.categories = {}
        self.items = {}
        self.layers = {}
        self.body_items = []


ITEMS = (   # role, category role, art key, explicit z-orders
    ("hairA", "hair", "hair-twintails", True),
    ("hairB", "hair", "hair-bob", True),
    ("topA", "top", "top-sailor", True),
    ("topB", "top", "top-tshirt", True),
    ("skirt", "bottom", "bottom-skirt", True),
    ("ribbon", "acc", "accessory-ribbon", True),
    ("glasses", "acc", "accessory-glasses", False),
)


def register_item(admin, world, role, category, key, art, with_z=True, make_default=None,
                  status=None):
    item = admin.service.RegisterItem(
        categoryId=category.id, name="%s %s %s" % (world.prefix, role, world.suffix), price=10,
        status=status, makeDefault=make_default,
        layer=layer_inputs(art[key]["layers"], with_z=with_z))
    world.items[role] = item
    world.layers[item.id] = [(path, z if with_z else category.zOrder)
                             for path, z in art[key]["layers"]]
    return item


def build_world(admin, site, art, prefix):
    w = World(prefix)
    for role, z, exclusive in (("hair", 50, True), ("top", 200, True), ("bottom", 180, True),
                               ("acc", 500, False)):
        w.categories[role] = admin.service.RegisterCategory(
            name="%s-%s-%s" % (prefix, role, w.suffix), zOrder=z, exclusive=exclusive,
            required=False)
    required = [c for c in as_list(site.service.ListCategories()) if c.required]
    if not required:
        w.categories["body"] = admin.service.RegisterCategory(
            name="%s-body-%s" % (prefix, w.suffix), zOrder=100, exclusive=True, required=True)
        required = [w.categories["body"]]
    w.required = required
    for n, category in enumerate(required):
        body = register_item(admin, w, "body%d" % n, category, "body-tan", art,
                             make_default=True if category.defaultItemId is None else None)
        w.body_items.append(body)
    for role, category_role, key, with_z in ITEMS:
        register_item(admin, w, role, w.categories[category_role], key, art, with_z=with_z)
    # catalog reads may come from a replica: wait until it has all of the above
    ours = {item.id for item in w.items.values()}

    def listed():
        found = set()
        for category_id in {item.categoryId for item in w.items.values()}:
            found |= {i.id for i in as_list(site.service.ListItems(
                categoryId=category_id, limit=100).item)}
        return ours <= found
    wait_for(listed, "the new items in ListItems")
    return w


def new_member(site, world, tag="m", image_server=None):
    """A new member (on the named image server, or where the API puts it),
    wearing the module's own body items (so every layer it wears is known).
    Returns (user_id, avatar)."""
    user_id = "%s-%s-%s" % (world.prefix, world.suffix, unique(tag).split("-", 1)[1][:8])
    created = site.service.CreateAvatar(userId=user_id, imageServer=image_server)
    grant(site, user_id, world.body_items)
    ours = [i.id for i in world.body_items]
    avatar = site.service.ChangeOutfit(
        userId=user_id, wear=ours,
        remove=[i for i in as_list(created.wornItemId) if i not in ours])
    assert sorted(as_list(avatar.wornItemId)) == sorted(ours)
    return user_id, avatar


def grant(site, user_id, items):
    for item in items:
        site.service.GrantItem(userId=user_id, itemId=item.id)


def dress(site, world, user_id, roles):
    """Grants and wears world items by role; returns the ChangeOutfit answer."""
    items = [world.items[r] for r in roles]
    grant(site, user_id, items)
    return site.service.ChangeOutfit(userId=user_id, wear=[i.id for i in items])


def layers_of(world, item_ids):
    return [layer for item_id in item_ids for layer in world.layers[item_id]]


def expected_avatar(world, item_ids):
    """The oracle's composite of the items' layers (an RGBA Pillow image)."""
    return oracle.compose(layers_of(world, item_ids))


def check_avatar(world, url, item_ids):
    """The PNG at url equals the oracle's composite of item_ids."""
    actual = Image.open(io.BytesIO(oracle.fetch_png(url)))
    assert actual.size == oracle.DEFAULT_CANVAS, "avatar is %dx%d" % actual.size
    diff = oracle.compare(expected_avatar(world, item_ids), actual)
    assert diff.max_diff <= oracle.TOLERANCE, "%s: %s" % (url, oracle.describe(diff))
