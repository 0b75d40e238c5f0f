"""The operations a community site and its staff use besides plain dress-up
(test_zeep_scenario.py): batch reads, deleting and regenerating avatars,
revoking items, member inventories, reading, updating and retiring items,
and image server modes. Images an operation produces are compared with the
oracle (Pillow); a refused call is checked to have changed nothing.
Thumbnails, previews and album photos are in test_album_zeep.py.
"""

import time

import pytest
import zeep.exceptions

import stackctl
from conftest import as_list, detail_fields, layer_inputs, unique, wait_for
from world import (build_world, check_avatar, dress, grant, new_member,
                   register_item)
from timescale import scaled


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "ops")


def worn(avatar):
    return sorted(as_list(avatar.wornItemId))


def master_avatar(site, user_id, version):
    """GetAvatar at least at version (read from the master if need be)."""
    return site.service.GetAvatar(userId=user_id, minVersion=version)


def assert_fault(info, code):
    assert info.code == code, "expected %s, got %r" % (code, info)


def wait_version(site, user_id, version, timeout=30.0):
    """Polls until the member's avatar reaches version (the renderer works in
    the background); returns the avatar."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        info = None
        try:
            return site.service.GetAvatar(userId=user_id, minVersion=version)
        except Exception as e:              # zeep Fault: not there yet
            info = e
        if time.monotonic() > deadline:
            pytest.fail("member %s did not reach version %d in %.0f s: %s" % (
                user_id, version, timeout, info), pytrace=False)
        time.sleep(0.2)


def eventually_not_found(site, operation, **kwargs):
    """Polls a read that a replica may still answer a moment after a delete,
    until it is a NotFound fault (any other fault fails the test)."""
    def probe():
        try:
            getattr(site.service, operation)(**kwargs)
            return False
        except zeep.exceptions.Fault as fault:
            code = detail_fields(fault.detail)[0]
            if code != "NotFound":
                pytest.fail("%s(%r): %s fault %s" % (operation, kwargs, code, fault.message))
            return True
    wait_for(probe, "%s answering NotFound" % operation)


def owned(site, user_id):
    answer = site.service.ListMemberItems(userId=user_id, limit=100)
    return {i.itemId: i for i in as_list(answer.item)}


# ---- avatars ---------------------------------------------------------------------

def test_urls_carry_the_version(site, world):
    user_id, avatar = new_member(site, world)
    v = avatar.version
    assert avatar.url.endswith("/%s/%d.png" % (user_id, v)), avatar.url
    assert avatar.thumbUrl.endswith("/%s/%d-thumb.png" % (user_id, v)), avatar.thumbUrl
    changed = dress(site, world, user_id, ["hairA", "topA"])
    assert changed.version == v + 1
    assert changed.url.endswith("/%d.png" % (v + 1)) and changed.url != avatar.url
    assert changed.thumbUrl.endswith("/%d-thumb.png" % (v + 1))
    got = master_avatar(site, user_id, changed.version)
    assert (got.version, got.url, got.thumbUrl, worn(got)) == (
        changed.version, changed.url, changed.thumbUrl, worn(changed))
    check_avatar(world, got.url, worn(got))


def test_create_avatar_on_a_named_server(admin, site, world):
    servers = [s for s in as_list(admin.service.ListImageServers()) if s.mode == "active"]
    assert servers, "no active image server"
    for server in servers:
        user_id = "ops-%s-named-%s" % (world.suffix, server.name)
        avatar = site.service.CreateAvatar(userId=user_id, imageServer=server.name)
        assert avatar.imageServer == server.name
        assert avatar.url.startswith(server.publicUrl.rstrip("/") + "/"), avatar.url


def test_get_avatars(site, world):
    members = [new_member(site, world, "batch")[0] for _ in range(3)]
    dressed = dress(site, world, members[1], ["ribbon"]).version
    missing = "ops-missing-" + world.suffix
    ask = [members[0], missing, members[1], members[0], members[2]]

    # GetAvatars reads a replica, which may be a moment behind the writes.
    def read():
        answer = site.service.GetAvatars(userId=ask)
        avatars = as_list(answer.avatar)
        return answer if len(avatars) == 3 and avatars[1].version >= dressed else None
    answer = wait_for(read, "the new members, dressed, in GetAvatars")
    avatars = as_list(answer.avatar)
    assert [a.userId for a in avatars] == members, "not in the order asked, or repeated"
    assert as_list(answer.missingUserId) == [missing]
    for a in avatars:
        one = master_avatar(site, a.userId, a.version)
        assert (a.version, a.url, a.thumbUrl, a.imageServer, worn(a)) == (
            one.version, one.url, one.thumbUrl, one.imageServer, worn(one))


def test_get_avatars_takes_a_hundred(site, world):
    user_id, _avatar = new_member(site, world, "hundred")
    ask = [user_id] + ["ops-absent-%s-%d" % (world.suffix, n) for n in range(99)]
    answer = wait_for(lambda: (lambda a: a if as_list(a.avatar) else None)(
        site.service.GetAvatars(userId=ask)), "the member in GetAvatars")
    assert [a.userId for a in as_list(answer.avatar)] == [user_id]
    assert len(as_list(answer.missingUserId)) == 99


def test_regenerate_avatar(site, world):
    user_id, _avatar = new_member(site, world)
    changed = dress(site, world, user_id, ["topB", "ribbon"])
    again = site.service.RegenerateAvatar(userId=user_id)
    assert again.version == changed.version + 1
    assert worn(again) == worn(changed)
    assert again.url != changed.url
    check_avatar(world, again.url, worn(again))


def test_delete_avatar_and_create_it_again(admin, site, world):
    user_id, _avatar = new_member(site, world)
    changed = dress(site, world, user_id, ["hairA"])
    server = changed.imageServer

    def members_on(name):
        return {s.name: s.memberCount for s in as_list(admin.service.ListImageServers())}[name]
    count = members_on(server)
    answer = site.service.DeleteAvatar(userId=user_id)
    assert answer.userId == user_id and answer.albumPhotosDeleted == 0
    assert members_on(server) == count - 1
    assert_fault(site.fault("DeleteAvatar", userId=user_id), "NotFound")      # the master
    eventually_not_found(site, "GetAvatar", userId=user_id, minVersion=1)   # replicas too
    eventually_not_found(site, "ListMemberItems", userId=user_id)

    again = site.service.CreateAvatar(userId=user_id)
    assert again.version > changed.version, "a re-created member must not reuse image URLs"
    assert world.items["hairA"].id not in worn(again)
    # (a replica may still hold the deleted member for a moment)
    wait_for(lambda: world.items["hairA"].id not in owned(site, user_id),
             "an inventory without the deleted member's items")


# ---- inventory -------------------------------------------------------------------------

def test_revoke_a_worn_item(site, world):
    user_id, _avatar = new_member(site, world)
    before = dress(site, world, user_id, ["ribbon", "glasses"])
    ribbon = world.items["ribbon"].id
    answer = site.service.RevokeItem(userId=user_id, itemId=ribbon)
    assert (answer.itemId, answer.wasOwned, answer.wasWorn) == (ribbon, True, True)
    assert answer.avatar.version == before.version + 1
    assert worn(answer.avatar) == sorted(set(worn(before)) - {ribbon})
    check_avatar(world, answer.avatar.url, worn(answer.avatar))
    wait_for(lambda: ribbon not in owned(site, user_id), "the ribbon gone from ListMemberItems")

    again = site.service.RevokeItem(userId=user_id, itemId=ribbon)
    assert (again.wasOwned, again.wasWorn) == (False, False)
    assert again.avatar.version == answer.avatar.version, "revoking nothing changed the avatar"
    assert_fault(site.fault("ChangeOutfit", userId=user_id, wear=[ribbon]), "NotOwned")


def test_revoke_an_owned_item_not_worn(site, world):
    user_id, avatar = new_member(site, world)
    grant(site, user_id, [world.items["hairB"]])
    answer = site.service.RevokeItem(userId=user_id, itemId=world.items["hairB"].id)
    assert (answer.wasOwned, answer.wasWorn) == (True, False)
    assert answer.avatar.version == avatar.version


def test_revoke_the_only_item_of_a_required_category(site, world):
    """The category's default is put on (and given) instead; when the item is
    that default, the revoke is a Conflict and nothing changes."""
    user_id, avatar = new_member(site, world)
    body = world.body_items[0]
    category = world.required[0]
    if category.defaultItemId in (None, body.id):
        info = site.fault("RevokeItem", userId=user_id, itemId=body.id)
        assert_fault(info, "Conflict")
        assert worn(master_avatar(site, user_id, avatar.version)) == worn(avatar)
        return
    answer = site.service.RevokeItem(userId=user_id, itemId=body.id)
    assert answer.wasWorn
    assert category.defaultItemId in worn(answer.avatar)
    assert body.id not in worn(answer.avatar)
    wait_for(lambda: category.defaultItemId in owned(site, user_id),
             "the default item in ListMemberItems")


def test_revoke_a_worn_default_is_conflict(site, world):
    defaults = [c.defaultItemId for c in world.required if c.defaultItemId is not None]
    if not defaults:
        pytest.skip("the stack's required categories have no default")
    user_id = "ops-%s-%s" % (world.suffix, unique("dflt").split("-", 1)[1][:8])
    created = site.service.CreateAvatar(userId=user_id)
    info = site.fault("RevokeItem", userId=user_id, itemId=defaults[0])
    assert_fault(info, "Conflict")
    after = master_avatar(site, user_id, created.version)
    assert (after.version, worn(after)) == (created.version, worn(created))
    assert defaults[0] in owned(site, user_id)


def test_list_member_items(site, world):
    user_id, _avatar = new_member(site, world)
    dress(site, world, user_id, ["hairA", "topA"])
    grant(site, user_id, [world.items["ribbon"]])
    wait_for(lambda: world.items["ribbon"].id in owned(site, user_id), "the grants (replica lag?)")
    answer = site.service.ListMemberItems(userId=user_id, limit=100)
    items = {i.itemId: i for i in as_list(answer.item)}
    assert answer.total == len(items)
    ours = {world.items[r].id for r in ("hairA", "topA", "ribbon")}
    assert ours <= set(items)
    assert items[world.items["ribbon"].id].worn is False
    assert items[world.items["hairA"].id].worn is True
    assert items[world.items["hairA"].id].name == world.items["hairA"].name
    assert items[world.items["hairA"].id].categoryId == world.categories["hair"].id
    granted = [i.grantedAt for i in as_list(answer.item)]
    assert granted == sorted(granted, reverse=True), "not newest first"

    hair = site.service.ListMemberItems(userId=user_id, categoryId=world.categories["hair"].id)
    assert hair.total == 1 and [i.itemId for i in as_list(hair.item)] == [world.items["hairA"].id]
    seen = []
    for offset in range(answer.total + 1):
        page = site.service.ListMemberItems(userId=user_id, offset=offset, limit=1)
        assert page.total == answer.total
        seen += [i.itemId for i in as_list(page.item)]
    assert sorted(seen) == sorted(items), "paging lost or repeated items"


# ---- catalog ---------------------------------------------------------------------------

def test_get_item(admin, site, world, art):
    item = world.items["hairA"]
    got = site.service.GetItem(itemId=item.id)
    assert (got.id, got.categoryId, got.name, got.status, got.price) == (
        item.id, item.categoryId, item.name, item.status, item.price)
    assert [(l.layerNo, l.zOrder, l.x, l.y, l.width, l.height, l.sha256)
            for l in as_list(got.layer)] == [(l.layerNo, l.zOrder, l.x, l.y, l.width, l.height,
                                              l.sha256) for l in as_list(item.layer)]
    draft = register_item(admin, world, "draft", world.categories["hair"], "hair-long", art,
                          status="draft")
    assert_fault(site.fault("GetItem", itemId=draft.id), "NotFound")
    assert admin.service.GetItem(itemId=draft.id).status == "draft"


def test_text_is_utf8_both_ways(admin, site, world, art):
    name = "caf\u00e9 \u7740\u305b\u66ff\u3048 \U0001f380 %s" % world.suffix
    category = admin.service.RegisterCategory(name=name, zOrder=7, exclusive=False,
                                              required=False)
    assert category.name == name
    wait_for(lambda: [c.name for c in as_list(site.service.ListCategories(name=name))] == [name],
             "the category listed by its name")
    item = register_item(admin, world, "utf8", category, "accessory-ribbon", art)
    renamed = admin.service.UpdateItem(itemId=item.id, name=name + " \u30ea\u30dc\u30f3")
    assert renamed.item.name == name + " \u30ea\u30dc\u30f3"
    wait_for(lambda: admin.service.GetItem(itemId=item.id).name == renamed.item.name,
             "the new name in GetItem")


def test_update_item_fields(admin, site, world, art):
    item = register_item(admin, world, "fields", world.categories["acc"], "accessory-glasses",
                         art)
    name = "ops renamed %s" % world.suffix
    answer = admin.service.UpdateItem(itemId=item.id, name=name, price=42)
    assert (answer.item.name, answer.item.price, answer.item.status) == (name, 42, "published")
    assert answer.avatarsQueued == 0
    wait_for(lambda: site.service.GetItem(itemId=item.id).name == name, "the new name")

    def listed():
        return item.id in {i.id for i in as_list(site.service.ListItems(
            categoryId=world.categories["acc"].id, limit=100).item)}
    admin.service.UpdateItem(itemId=item.id, status="draft")
    wait_for(lambda: not listed(), "the draft gone from ListItems")
    admin.service.UpdateItem(itemId=item.id, status="published")
    wait_for(listed, "the item published again")


def test_update_item_art_composes_the_wearers_again(admin, site, world, art):
    item = register_item(admin, world, "art", world.categories["top"], "top-sailor", art)
    wearers = []
    for _ in range(2):
        user_id, _avatar = new_member(site, world, "wear")
        wearers.append((user_id, dress(site, world, user_id, ["art"])))
    answer = admin.service.UpdateItem(itemId=item.id,
                                      layer=layer_inputs(art["top-tshirt"]["layers"]))
    assert answer.avatarsQueued == 2
    new_sha = [l.sha256 for l in as_list(answer.item.layer)]
    assert new_sha != [l.sha256 for l in as_list(item.layer)]
    world.layers[item.id] = list(art["top-tshirt"]["layers"])
    for user_id, before in wearers:
        after = wait_version(site, user_id, before.version + 1)
        assert worn(after) == worn(before)
        check_avatar(world, after.url, worn(after))

    # the same art again is no change: nothing is queued
    again = admin.service.UpdateItem(itemId=item.id,
                                     layer=layer_inputs(art["top-tshirt"]["layers"]))
    assert again.avatarsQueued == 0
    assert [l.sha256 for l in as_list(again.item.layer)] == new_sha


def test_retire_item(admin, site, world, art):
    item = register_item(admin, world, "retire", world.categories["acc"], "accessory-ribbon", art)
    wearer, _avatar = new_member(site, world, "wearer")
    wearing = dress(site, world, wearer, ["retire"])
    owner, _avatar = new_member(site, world, "owner")
    grant(site, owner, [item])
    stranger, _avatar = new_member(site, world, "stranger")

    answer = admin.service.RetireItem(itemId=item.id)
    assert answer.item.status == "retired" and answer.wornBy == 1
    acc = world.categories["acc"].id
    wait_for(lambda: item.id not in {i.id for i in as_list(site.service.ListItems(
        categoryId=acc, limit=100).item)}, "the retired item gone from ListItems")
    assert_fault(site.fault("GrantItem", userId=stranger, itemId=item.id), "InvalidArgument")
    assert item.id not in owned(site, stranger)
    # owners keep it; the wearer keeps it on, may name it again, take it off,
    # but not put it on again
    wait_for(lambda: owned(site, owner)[item.id].status == "retired", "the owner's item retired")
    kept = master_avatar(site, wearer, wearing.version)
    assert item.id in worn(kept) and kept.version == wearing.version
    site.service.ChangeOutfit(userId=wearer, wear=[item.id])
    off = site.service.ChangeOutfit(userId=wearer, remove=[item.id])
    assert item.id not in worn(off)
    assert_fault(site.fault("ChangeOutfit", userId=wearer, wear=[item.id]), "InvalidArgument")
    assert_fault(site.fault("ChangeOutfit", userId=owner, wear=[item.id]), "InvalidArgument")
    assert admin.service.RetireItem(itemId=item.id).item.status == "retired"   # idempotent
    # published again, it can be granted again
    admin.service.UpdateItem(itemId=item.id, status="published")
    assert site.service.GrantItem(userId=stranger, itemId=item.id).alreadyOwned is False


def test_retire_a_default_item_is_conflict(admin, site, world):
    category = next((c for c in world.required if c.defaultItemId is not None), None)
    if category is None:
        pytest.skip("no required category with a default")
    assert_fault(admin.fault("RetireItem", itemId=category.defaultItemId), "Conflict")
    assert site.service.GetItem(itemId=category.defaultItemId).status == "published"
    assert_fault(admin.fault("UpdateItem", itemId=category.defaultItemId, status="draft"),
                 "Conflict")


# ---- image servers (last: they change the cluster for a moment) -------------------------

def test_list_image_servers(admin, env):
    servers = as_list(admin.service.ListImageServers())
    public = env["KISEKAE_IMAGE_URLS"].split()
    # The stack's servers, and maybe servers test_node_ops.py registered.
    listed = [s.publicUrl.rstrip("/") for s in servers]
    assert all(u.rstrip("/") in listed for u in public), (listed, public)
    for s in servers:
        assert s.mode in ("active", "draining", "down") and s.weight >= 0
        assert s.memberCount >= 0 and s.name and s.internalUrl


def test_image_server_modes(admin, site, world):
    user_id, avatar = new_member(site, world)
    name = avatar.imageServer
    others = [s for s in as_list(admin.service.ListImageServers())
              if s.name != name and s.mode == "active"]
    try:
        assert admin.service.SetImageServerMode(name=name, mode="draining").mode == "draining"
        newcomer = "ops-%s-drain" % world.suffix
        assert_fault(site.fault("CreateAvatar", userId=newcomer, imageServer=name), "Conflict")
        if not others:
            info = site.fault("CreateAvatar", userId=newcomer)
            assert_fault(info, "ImageServerUnavailable")
            assert info.faultcode.rpartition(":")[2] == "Server"
        assert_fault(site.fault("GetAvatar", userId=newcomer, minVersion=1), "NotFound")
        # a draining server still composes for its members
        drained = dress(site, world, user_id, ["hairB"])
        assert drained.version == avatar.version + 1

        assert admin.service.SetImageServerMode(name=name, mode="down").mode == "down"
        info = site.fault("ChangeOutfit", userId=user_id, remove=[world.items["hairB"].id])
        assert_fault(info, "ImageServerUnavailable")
        after = master_avatar(site, user_id, drained.version)
        assert (after.version, worn(after)) == (drained.version, worn(drained))
        assert_fault(site.fault("RegenerateAvatar", userId=user_id), "ImageServerUnavailable")
    finally:
        admin.service.SetImageServerMode(name=name, mode="active")
    assert {s.name: s.mode for s in as_list(admin.service.ListImageServers())}[name] == "active"
    back = site.service.ChangeOutfit(userId=user_id, remove=[world.items["hairB"].id])
    assert back.version == drained.version + 1


def test_failed_rerender_is_recorded_and_retried(env, admin, site, world, art):
    """New art while the wearer's image server is down: the renderer's attempt
    fails, is recorded in render_queue (attempts, last_error) and the avatar
    stays as it was; once the server is back and the retry is due, the avatar
    is composed with the new art."""
    item = register_item(admin, world, "retry", world.categories["bottom"], "bottom-skirt", art)
    user_id, _avatar = new_member(site, world, "retry")
    before = dress(site, world, user_id, ["retry"])
    member_id = int(stackctl.sql(env, "SELECT id FROM members WHERE user_id = '%s'" % user_id)[0][0])
    query = "SELECT attempts, last_error FROM render_queue WHERE member_id = %d" % member_id
    try:
        admin.service.SetImageServerMode(name=before.imageServer, mode="down")
        answer = admin.service.UpdateItem(itemId=item.id,
                                          layer=layer_inputs(art["bottom-jeans"]["layers"]))
        assert answer.avatarsQueued == 1
        row = wait_for(lambda: next((r for r in stackctl.sql(env, query) if int(r[0]) >= 1), None),
                       "the failed attempt in render_queue", timeout=30)
        assert "down" in row[1], row
        assert master_avatar(site, user_id, before.version).version == before.version
    finally:
        admin.service.SetImageServerMode(name=before.imageServer, mode="active")
    world.layers[item.id] = list(art["bottom-jeans"]["layers"])
    # the retry is due after render_retry seconds; bring it forward
    stackctl.sql(env, "UPDATE render_queue SET not_before = NOW(3) WHERE member_id = %d" % member_id)
    after = wait_version(site, user_id, before.version + 1)
    check_avatar(world, after.url, worn(after))
    assert stackctl.sql(env, query) == [], "the row stayed in render_queue"
