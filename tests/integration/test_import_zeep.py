"""ImportMembers: an existing site's members brought in in bulk.

Imported members are recorded without composing: GetAvatar answers at once,
and the first GET of the avatar's URL has the image server rebuild it, which
must equal the oracle's (Pillow) composite of what the member wears. Every
refused call is checked to have created nothing; a call sent twice imports
once.
"""

import pytest
import requests
import zeep.exceptions

from conftest import as_list, detail_fields, unique
from world import build_world, check_avatar, new_member, register_item


def assert_fault(info, code, *words):
    assert info.code == code, "expected %s, got %r" % (code, info)
    for word in words:
        assert word in info.message, "%r not in %r" % (word, info.message)


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "imp")


def user(world, tag):
    return "%s-%s" % (world.prefix, unique(tag).split("-", 1)[1])


def body_ids(world):
    return [i.id for i in world.body_items]


def member(user_id, owned, worn):
    return {"userId": user_id, "ownedItemId": owned, "wornItemId": worn}


def exists(site, user_id):
    """Whether the member exists (a replica behind falls back to the master)."""
    try:
        site.service.GetAvatar(userId=user_id, minVersion=1)
        return True
    except zeep.exceptions.Fault as fault:
        assert detail_fields(fault.detail)[0] == "NotFound", fault.message
        return False


def test_imported_members_are_served_and_rebuilt(admin, site, world, env):
    w = world
    items = w.items
    body = body_ids(w)
    dressed = body + [items["hairA"].id, items["topA"].id]
    accessories = body + [items["ribbon"].id, items["glasses"].id]
    plain = body
    members = [
        member(user(w, "a"), dressed + [items["skirt"].id], dressed),
        member(user(w, "b"), accessories, accessories),
        member(user(w, "c"), plain + [items["hairB"].id], plain),
    ]
    answer = admin.service.ImportMembers(member=members)
    assert (answer.imported, answer.unchanged) == (3, 0)
    for m, worn in zip(members, (dressed, accessories, plain)):
        avatar = site.service.GetAvatar(userId=m["userId"], minVersion=1)
        assert sorted(as_list(avatar.wornItemId)) == sorted(worn)
        owned = site.service.ListMemberItems(userId=m["userId"], limit=100)
        assert sorted(i.itemId for i in as_list(owned.item)) == sorted(m["ownedItemId"])
        # never composed: the image server rebuilds it on this first GET
        check_avatar(w, avatar.url, worn)
    # the API's plain URL leads to the same image
    api = env["KISEKAE_API_URL"].rstrip("/")
    first = requests.get("%s/avatar/%s.png" % (api, members[0]["userId"]),
                         allow_redirects=False, timeout=15)
    assert first.status_code == 302, first.text
    check_avatar(w, first.headers["Location"], dressed)


def test_a_call_sent_twice_imports_once(admin, site, world):
    w = world
    body = body_ids(w)
    hair = w.items["hairA"].id
    members = [member(user(w, "i%d" % n), body + [hair], body + [hair]) for n in range(5)]
    first = admin.service.ImportMembers(member=members)
    assert (first.imported, first.unchanged) == (5, 0)
    versions = [site.service.GetAvatar(userId=m["userId"], minVersion=1).version
                for m in members]
    again = admin.service.ImportMembers(member=members)
    assert (again.imported, again.unchanged) == (0, 5)
    # one new member among known ones: only it is imported
    more = members + [member(user(w, "i5"), body, body)]
    mixed = admin.service.ImportMembers(member=more)
    assert (mixed.imported, mixed.unchanged) == (1, 5)
    assert [site.service.GetAvatar(userId=m["userId"], minVersion=1).version
            for m in members] == versions
    # the same member with other items: Conflict, and the whole call changes nothing
    fresh = member(user(w, "new"), body, body)
    changed = member(members[0]["userId"], body, body)
    assert_fault(admin.fault("ImportMembers", member=[fresh, changed]), "Conflict",
                 "member[1]", members[0]["userId"])
    assert not exists(site, fresh["userId"])
    worn = site.service.GetAvatar(userId=members[0]["userId"], minVersion=1).wornItemId
    assert sorted(as_list(worn)) == sorted(body + [hair])


def test_faults_change_nothing(admin, site, world):
    w = world
    body = body_ids(w)
    items = w.items
    good = member(user(w, "ok"), body, body)

    def refused(bad, code, *words):
        assert_fault(admin.fault("ImportMembers", member=[good, bad]), code, *words)
        assert not exists(site, good["userId"])

    refused(member(user(w, "x"), body + [2000000000], body), "NotFound", "member[1]",
            "ownedItemId", "2000000000")
    refused(member(user(w, "x"), body, body + [items["hairA"].id]), "InvalidArgument",
            "member[1]", "wornItemId", "not in its ownedItemId")
    both = body + [items["hairA"].id, items["hairB"].id]
    refused(member(user(w, "x"), both, both), "InvalidArgument", "member[1]", "exclusive")
    refused(member(user(w, "x"), body, []), "InvalidArgument", "member[1]", "required")
    refused(member(user(w, "x"), body + body[:1], body), "InvalidArgument", "member[1]",
            "twice")
    refused(member("bad id!", body, body), "InvalidArgument", "member[1].userId")
    refused(member(good["userId"], body, body), "InvalidArgument", "twice")
    too_many = [member("%s-%d" % (good["userId"], n), [], []) for n in range(1001)]
    assert_fault(admin.fault("ImportMembers", member=too_many), "TooLarge", "1000")
    refused(member(user(w, "x"), list(range(1, 1002)), []), "TooLarge", "member[1]",
            "ownedItemId")
    assert_fault(site.fault("ImportMembers", member=[good]), "Forbidden")
    assert not exists(site, good["userId"])
    # and the good member alone goes in
    assert admin.service.ImportMembers(member=[good]).imported == 1


def test_deleted_member_comes_back_above_its_last_version(admin, site, world):
    user_id, avatar = new_member(site, world)
    site.service.DeleteAvatar(userId=user_id)
    body = body_ids(world)
    assert admin.service.ImportMembers(member=[member(user_id, body, body)]).imported == 1
    again = site.service.GetAvatar(userId=user_id, minVersion=1)
    assert again.version > avatar.version, "an imported member must not reuse image URLs"


def test_draft_items_are_refused_and_counts_follow(admin, site, world, art):
    body = body_ids(world)
    draft = register_item(admin, world, "draft", world.categories["hair"], "hair-long", art,
                          status="draft")
    good = member(user(world, "ok"), body, body)
    info = admin.fault("ImportMembers",
                       member=[good, member(user(world, "d"), body + [draft.id], body)])
    assert_fault(info, "InvalidArgument", "member[1]", "draft")
    assert not exists(site, good["userId"])

    def counts():
        return sum(s.memberCount for s in as_list(admin.service.ListImageServers()))
    before = counts()
    members = [member(user(world, "n%d" % n), body, body) for n in range(7)]
    assert admin.service.ImportMembers(member=members).imported == 7
    assert counts() == before + 7
