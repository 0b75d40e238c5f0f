"""The catalog operations of the admin UI (api-server/op_catalog_admin.c).

SearchItems: items of every status or of one, of one category, by a part of
their name (case-insensitive, LIKE's wildcards taken literally), a page at a
time by id with nextAfterId. UpdateCategory: each field given replaces the
stored one; the default item must be a published item of the category; a
required category keeps a default. GetItemLayer is open to admin callers
(the UI's thumbnails). The admin role only; bad arguments are faults that
change nothing.
"""

import io

import pytest
from PIL import Image

from conftest import as_list, layer_inputs, unique


@pytest.fixture(scope="module")
def catalog(admin, art):
    """A category of its own with a draft, a published and a retired item."""
    tag = unique("search")
    category = admin.service.RegisterCategory(name=tag, zOrder=300, exclusive=True,
                                              required=False)
    layers = layer_inputs(art["accessory-ribbon"]["layers"])
    items = {}
    for status in ("draft", "published", "retired"):
        items[status] = admin.service.RegisterItem(
            categoryId=category.id, name="%s %s 50%%_off" % (tag, status.upper()), price=5,
            status="published" if status == "retired" else status, layer=layers)
    admin.service.RetireItem(itemId=items["retired"].id)
    yield tag, category, items
    # A required category would dress every new avatar of the stack's later
    # tests: leave it optional, without a default.
    admin.service.UpdateCategory(categoryId=category.id, required=False, defaultItemId=0)


def search(admin, **kwargs):
    answer = admin.service.SearchItems(**kwargs)
    return answer, [i.id for i in as_list(answer.item)]


def test_every_status_of_a_category(admin, catalog):
    tag, category, items = catalog
    answer, ids = search(admin, categoryId=category.id)
    assert ids == sorted(i.id for i in items.values())
    assert answer.total == 3
    assert answer.nextAfterId is None
    by_id = {i.id: i for i in as_list(answer.item)}
    assert by_id[items["draft"].id].status == "draft"
    assert by_id[items["retired"].id].status == "retired"
    assert len(as_list(by_id[items["published"].id].layer)) == 1   # with their layers


def test_status_filter(admin, catalog):
    tag, category, items = catalog
    for status, item in items.items():
        answer, ids = search(admin, categoryId=category.id, status=status)
        assert ids == [item.id] and answer.total == 1


def test_name_search(admin, catalog):
    tag, category, items = catalog
    answer, ids = search(admin, nameContains=tag + " dRaFt")          # case-insensitive
    assert ids == [items["draft"].id]
    answer, ids = search(admin, nameContains="%s PUBLISHED 50%%_off" % tag)
    assert ids == [items["published"].id]
    answer, ids = search(admin, nameContains=tag + " % 50")            # % is not a wildcard
    assert ids == [] and answer.total == 0


def test_pages_by_id(admin, catalog):
    tag, category, items = catalog
    first, ids1 = search(admin, nameContains=tag, limit=2)
    assert len(ids1) == 2 and first.total == 3
    assert first.nextAfterId == ids1[-1]
    second, ids2 = search(admin, nameContains=tag, limit=2, afterId=first.nextAfterId)
    assert len(ids2) == 1 and second.nextAfterId is None
    assert ids1 + ids2 == sorted(i.id for i in items.values())


@pytest.mark.parametrize("kwargs, word", [
    ({"status": "deleted"}, "status"),
    ({"categoryId": 0}, "categoryId"),
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"afterId": -1}, "afterId"),
    ({"nameContains": "x" * 65}, "nameContains"),
    ({"nameContains": ""}, "nameContains"),
])
def test_bad_arguments(admin, kwargs, word):
    info = admin.fault("SearchItems", **kwargs)
    assert info.code == "InvalidArgument", info
    assert word in info.message


def test_site_role_is_refused(site, catalog):
    info = site.fault("SearchItems", nameContains=catalog[0])
    assert info.code == "Forbidden", info


def category_of(admin, category_id):
    return [c for c in as_list(admin.service.ListCategories()) if c.id == category_id][0]


def test_update_category(admin, catalog):
    tag, category, items = catalog
    answer = admin.service.UpdateCategory(categoryId=category.id, name=tag + "-renamed",
                                          zOrder=310, exclusive=False)
    assert (answer.name, answer.zOrder, answer.exclusive, answer.required) == (
        tag + "-renamed", 310, False, False)
    stored = category_of(admin, category.id)
    assert (stored.name, stored.zOrder, stored.exclusive) == (tag + "-renamed", 310, False)
    # a published item of the category may be its default; then it may be required
    answer = admin.service.UpdateCategory(categoryId=category.id,
                                          defaultItemId=items["published"].id, required=True)
    assert answer.defaultItemId == items["published"].id and answer.required is True
    # fields not given stay
    answer = admin.service.UpdateCategory(categoryId=category.id)
    assert (answer.name, answer.zOrder, answer.required) == (tag + "-renamed", 310, True)


@pytest.mark.parametrize("change, code, word", [
    ({"defaultItemId": "draft"}, "InvalidArgument", "published item"),
    ({"defaultItemId": "retired"}, "InvalidArgument", "published item"),
    ({"zOrder": 100001}, "InvalidArgument", "zOrder"),
    ({"name": ""}, "InvalidArgument", "name"),
    ({"defaultItemId": 0, "required": True}, "Conflict", "default item"),
])
def test_update_category_refusals_change_nothing(admin, catalog, change, code, word):
    tag, category, items = catalog
    before = category_of(admin, category.id)
    kwargs = {k: items[v].id if isinstance(v, str) and k == "defaultItemId" else v
              for k, v in change.items()}
    info = admin.fault("UpdateCategory", categoryId=category.id, **kwargs)
    assert info.code == code, info
    assert word in info.message
    after = category_of(admin, category.id)
    assert (after.name, after.zOrder, after.required, after.defaultItemId) == (
        before.name, before.zOrder, before.required, before.defaultItemId)


def test_update_category_faults(admin, site, catalog):
    assert admin.fault("UpdateCategory", categoryId=999999999).code == "NotFound"
    taken = as_list(admin.service.ListCategories())[0].name
    assert admin.fault("UpdateCategory", categoryId=catalog[1].id, name=taken).code == "Conflict"
    assert site.fault("UpdateCategory", categoryId=catalog[1].id, zOrder=1).code == "Forbidden"


def test_admin_reads_item_layers(admin, site, catalog):
    item = catalog[2]["draft"]
    layer = admin.service.GetItemLayer(itemId=item.id, layerNo=0)
    assert layer.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert site.fault("GetItemLayer", itemId=item.id, layerNo=0).code == "Forbidden"


def test_admin_reads_scene_backgrounds(admin, site):
    scenes = as_list(site.service.ListScenes())
    if not scenes:
        png = io.BytesIO()
        Image.new("RGBA", (300, 400), (10, 20, 30, 255)).save(png, "PNG")
        scenes = [admin.service.RegisterScene(name=unique("scene"), png=png.getvalue(),
                                              slot=[{"x": 0, "y": 0}])]
    answer = admin.service.GetSceneBackground(sceneId=scenes[0].id)
    assert answer.png[:8] == b"\x89PNG\r\n\x1a\n" and answer.sha256 == scenes[0].sha256
    assert site.fault("GetSceneBackground", sceneId=scenes[0].id).code == "Forbidden"
