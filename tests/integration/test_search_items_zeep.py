"""SearchItems, the admin UI's view of the catalog: items of every status or
of one, of one category, by a part of their name (case-insensitive, LIKE's
wildcards taken literally), a page at a time by id with nextAfterId; the
admin role only; bad arguments are faults that change nothing.
"""

import pytest

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
    return tag, category, items


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
