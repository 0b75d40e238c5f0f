"""Time-limited items (wsdl/kisekae.h "Time-limited items"): an item's window
(availableFrom, availableUntil) set by RegisterItem and UpdateItem, shown by
GetItem; outside it GrantItem and ChangeOutfit are Conflicts naming the
window, PreviewAvatar still shows the item; at its end the expiry job and
the renderer take it off every wearer: the version rises, the image matches
the oracle's composite without it, a required category falls back to its
default, and each member changed gets an avatar.changed webhook event.

The windows that end do so a few seconds (scaled by KISEKAE_TIME_SCALE)
after UpdateItem opens them, so the test does not hang on the clock. The
required category is the module's own, required only while the test runs
(so other tests' new avatars are not dressed in it).
"""

import datetime
import time

import pytest

from conftest import as_list, layer_inputs, unique, wait_for
from timescale import scaled
from world import build_world, check_avatar, grant, new_member, register_item

DEAD_URL = "http://127.0.0.1:9/hooks"      # discard: the deliveries stay pending


def at(seconds):
    """An instant seconds from now (UTC, whole seconds: the column's)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now + datetime.timedelta(seconds=seconds)


def assert_window_fault(info):
    assert info.code == "Conflict", info
    assert "available only from" in info.message, info


@pytest.fixture(scope="module")
def world(admin, site, art):
    w = build_world(admin, site, art, "win")
    w.categories["cape"] = admin.service.RegisterCategory(
        name="win-cape-%s" % w.suffix, zOrder=600, exclusive=True, required=False)
    register_item(admin, w, "capeDefault", w.categories["cape"], "hair-bob", art,
                  make_default=True)
    register_item(admin, w, "capeLimited", w.categories["cape"], "hair-long", art)
    register_item(admin, w, "limited", w.categories["acc"], "shoes-boots", art)
    yield w
    admin.service.UpdateCategory(categoryId=w.categories["cape"].id, required=False)


def test_window_is_checked_and_shown(admin, art, world):
    category = world.categories["acc"]
    start, end = at(3600), at(7200)
    item = register_item(admin, world, "later", category, "shoes-sneakers", art)
    assert item.availableFrom is None and item.availableUntil is None
    item = admin.service.UpdateItem(itemId=item.id, availableFrom=start,
                                    availableUntil=end).item
    assert (item.availableFrom, item.availableUntil) == (start, end)
    # each side alone; until must stay after from (the stored side counts)
    bad = admin.fault("UpdateItem", itemId=item.id, availableUntil=at(1800))
    assert bad.code == "InvalidArgument", bad
    item = admin.service.UpdateItem(itemId=item.id, clearWindow=True,
                                    availableUntil=end).item
    assert item.availableFrom is None and item.availableUntil == end
    item = admin.service.UpdateItem(itemId=item.id, clearWindow=True).item
    assert item.availableFrom is None and item.availableUntil is None
    bad = admin.fault("RegisterItem", categoryId=category.id, name=unique("win-bad"), price=1,
                      layer=layer_inputs(art["accessory-ribbon"]["layers"]),
                      availableFrom=end, availableUntil=start)
    assert bad.code == "InvalidArgument", bad
    registered = admin.service.RegisterItem(
        categoryId=category.id, name=unique("win-reg"), price=1,
        layer=layer_inputs(art["accessory-ribbon"]["layers"]),
        availableFrom=start, availableUntil=end)
    assert (registered.availableFrom, registered.availableUntil) == (start, end)
    got = admin.service.GetItem(itemId=registered.id)
    assert (got.availableFrom, got.availableUntil) == (start, end)


def test_an_item_ends_on_its_wearers(admin, site, world):
    limited, cape = world.items["limited"], world.items["capeLimited"]
    default = world.items["capeDefault"]
    body = [i.id for i in world.body_items]
    # members made before the cape category turns required (new avatars
    # would be given its default)
    m1, _ = new_member(site, world, "w1")
    m2, _ = new_member(site, world, "w2")
    m3, _ = new_member(site, world, "w3")
    admin.service.UpdateCategory(categoryId=world.categories["cape"].id, required=True)

    # before the window: no grant, no wearing; a preview still shows it
    for item in (limited, cape):
        admin.service.UpdateItem(itemId=item.id, availableFrom=at(3600))
        assert_window_fault(site.fault("GrantItem", userId=m1, itemId=item.id))
    preview = site.service.PreviewAvatar(userId=m1, wear=[limited.id])
    assert limited.id in as_list(preview.wornItemId) and preview.png
    grant(site, m3, [world.items["ribbon"]])       # owned, then its window moves ahead
    admin.service.UpdateItem(itemId=world.items["ribbon"].id, availableFrom=at(3600))
    assert_window_fault(site.fault("ChangeOutfit", userId=m3, wear=[world.items["ribbon"].id]))
    admin.service.UpdateItem(itemId=world.items["ribbon"].id, clearWindow=True)
    site.service.ChangeOutfit(userId=m3, wear=[world.items["ribbon"].id])

    hook = admin.service.RegisterWebhook(url=DEAD_URL, secret="window-test-secret",
                                         event=["avatar.changed"])
    try:
        # inside the window (open now, ending in a few seconds)
        window = scaled(6)
        end = at(window)
        for item in (limited, cape):
            admin.service.UpdateItem(itemId=item.id, clearWindow=True, availableUntil=end)
        grant(site, m1, [limited])
        grant(site, m2, [cape])
        a1 = site.service.ChangeOutfit(userId=m1, wear=[limited.id])
        a2 = site.service.ChangeOutfit(userId=m2, wear=[cape.id])
        assert sorted(as_list(a1.wornItemId)) == sorted(body + [limited.id])
        assert sorted(as_list(a2.wornItemId)) == sorted(body + [cape.id])
        assert time.time() < end.timestamp(), "the window ended before the test wore it: " \
            "raise KISEKAE_TIME_SCALE"

        # after the end: taken off, composed again without it
        def changed(user_id, version):
            def read():
                avatar = site.service.GetAvatar(userId=user_id)
                return avatar if avatar.version > version else None
            return read
        time.sleep(max(0.0, end.timestamp() - time.time()))
        after1 = wait_for(changed(m1, a1.version), "m1 composed without the ended item",
                          timeout=20)
        after2 = wait_for(changed(m2, a2.version), "m2 composed without the ended item",
                          timeout=20)
        assert sorted(as_list(after1.wornItemId)) == sorted(body)
        check_avatar(world, after1.url, body)
        # the required category falls back to its default, granted
        assert sorted(as_list(after2.wornItemId)) == sorted(body + [default.id])
        check_avatar(world, after2.url, body + [default.id])
        owned = as_list(site.service.ListMemberItems(userId=m2, limit=100).item)
        assert default.id in [i.itemId for i in owned]
        # m3 never wore them: untouched
        assert sorted(as_list(site.service.GetAvatar(userId=m3).wornItemId)) == \
            sorted(body + [world.items["ribbon"].id])

        # after the window: no grant, no wearing again
        assert_window_fault(site.fault("GrantItem", userId=m3, itemId=limited.id))
        assert_window_fault(site.fault("ChangeOutfit", userId=m1, wear=[limited.id]))

        # an avatar.changed event per change: putting it on, and its end
        def events():
            found = {}
            for d in as_list(admin.service.ListWebhookDeliveries(id=hook.id, limit=100).delivery):
                found.setdefault(d.userId, []).append(d.type)
            return found if len(found.get(m1, ())) >= 2 and len(found.get(m2, ())) >= 2 else None
        found = wait_for(events, "the avatar.changed events of the ended item")
        assert found[m1] == ["avatar.changed"] * 2 and found[m2] == ["avatar.changed"] * 2, found
        assert m3 not in found
    finally:
        admin.service.DeleteWebhook(id=hook.id)
