"""The member operations of the admin UI (api-server/op_members_admin.c).

SearchMembers: members by user id prefix (LIKE's wildcards taken literally),
optionally of one image server, a page at a time by user id with
nextAfterUserId. MoveAvatar: one member to another active image server at a
new version, its image there; refused (changing nothing) for a member on the
target already, a target that is not active, unknown names. The admin role
only.
"""

import pytest

from conftest import as_list, unique
import oracle


@pytest.fixture(scope="module")
def servers(admin):
    names = [s.name for s in as_list(admin.service.ListImageServers())
             if s.mode == "active"]
    if len(names) < 2:
        pytest.fail("these tests need two active image servers (the stack has %r)" % names)
    return names[:2]


@pytest.fixture(scope="module")
def members(site, servers):
    """Three members of a prefix of their own, the first two on the first
    server, the third (with a '_' in its id) on the second."""
    tag = unique("msearch")
    ids = [tag + "-a", tag + "-b", tag + "-c_x"]
    for user_id, server in zip(ids, [servers[0], servers[0], servers[1]]):
        site.service.CreateAvatar(userId=user_id, imageServer=server)
    return tag, ids


def search(admin, **kwargs):
    answer = admin.service.SearchMembers(**kwargs)
    return answer, [m.userId for m in as_list(answer.member)]


def test_prefix_lists_in_user_id_order(admin, members, servers):
    tag, ids = members
    answer, found = search(admin, userIdPrefix=tag)
    assert found == sorted(ids)
    assert answer.nextAfterUserId is None
    by_id = {m.userId: m for m in as_list(answer.member)}
    assert by_id[ids[0]].imageServer == servers[0] and by_id[ids[0]].version >= 1
    assert by_id[ids[2]].imageServer == servers[1]


def test_underscore_is_not_a_wildcard(admin, members):
    tag, ids = members
    assert search(admin, userIdPrefix=tag + "-c_")[1] == [ids[2]]
    assert search(admin, userIdPrefix=tag + "-_")[1] == []


def test_image_server_filter(admin, members, servers):
    tag, ids = members
    assert search(admin, userIdPrefix=tag, imageServer=servers[1])[1] == [ids[2]]
    assert search(admin, userIdPrefix=tag, imageServer=servers[0])[1] == ids[:2]


def test_pages_by_user_id(admin, members):
    tag, ids = members
    first, found1 = search(admin, userIdPrefix=tag, limit=2)
    assert found1 == ids[:2] and first.nextAfterUserId == ids[1]
    second, found2 = search(admin, userIdPrefix=tag, limit=2, afterUserId=first.nextAfterUserId)
    assert found2 == ids[2:] and second.nextAfterUserId is None


@pytest.mark.parametrize("kwargs, code, word", [
    ({"limit": 0}, "InvalidArgument", "limit"),
    ({"limit": 101}, "InvalidArgument", "limit"),
    ({"userIdPrefix": "x" * 65}, "InvalidArgument", "userIdPrefix"),
    ({"userIdPrefix": "a%"}, "InvalidArgument", "userIdPrefix"),
    ({"afterUserId": ".hidden"}, "InvalidArgument", "afterUserId"),
    ({"imageServer": "no-such-server"}, "NotFound", "no-such-server"),
])
def test_search_refusals(admin, kwargs, code, word):
    info = admin.fault("SearchMembers", **kwargs)
    assert info.code == code, info
    assert word in info.message


def test_move_one_member(admin, site, members, servers):
    tag, ids = members
    before = site.service.GetAvatar(userId=ids[0])
    assert before.imageServer == servers[0]
    answer = admin.service.MoveAvatar(userId=ids[0], to=servers[1])
    assert answer["from"] == servers[0] and answer.photosKept == 0
    moved = answer.avatar
    assert moved.imageServer == servers[1] and moved.version > before.version
    after = site.service.GetAvatar(userId=ids[0], minVersion=moved.version)
    assert (after.imageServer, after.version) == (servers[1], moved.version)
    png = oracle.fetch_png(after.url)                    # composed on its new server
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # the other members stayed
    assert search(admin, userIdPrefix=tag, imageServer=servers[0])[1] == [ids[1]]


def test_move_refusals_change_nothing(admin, site, members, servers):
    tag, ids = members
    before = site.service.GetAvatar(userId=ids[2])
    info = admin.fault("MoveAvatar", userId=ids[2], to=before.imageServer)
    assert info.code == "Conflict" and "already" in info.message, info
    assert admin.fault("MoveAvatar", userId=tag + "-nobody", to=servers[0]).code == "NotFound"
    assert admin.fault("MoveAvatar", userId=ids[2], to="no-such-server").code == "NotFound"
    assert admin.fault("MoveAvatar", userId="", to=servers[0]).code == "InvalidArgument"
    admin.service.SetImageServerMode(name=servers[0], mode="draining")
    try:
        info = admin.fault("MoveAvatar", userId=ids[2], to=servers[0])
        assert info.code == "Conflict" and "draining" in info.message, info
    finally:
        admin.service.SetImageServerMode(name=servers[0], mode="active")
    after = site.service.GetAvatar(userId=ids[2])
    assert (after.imageServer, after.version) == (before.imageServer, before.version)


def test_site_role_is_refused(site, members, servers):
    tag, ids = members
    assert site.fault("SearchMembers", userIdPrefix=tag).code == "Forbidden"
    assert site.fault("MoveAvatar", userId=ids[1], to=servers[1]).code == "Forbidden"
