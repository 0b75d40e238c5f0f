"""PurgeImageServer (admin, api-server/op_cluster.c): an image server that is
down or draining and holds no members nor album photos is removed with the
rows that only point at it (item_replicas, image_deletions); anything else
is a Conflict naming why, and changes nothing. The name can register again
afterwards, as a new server with a new id.

The purged servers are made up (their URLs answer nothing, as in
test_node_ops.py) and set draining right after registering, so no member or
push of another test goes to them. The stack's own servers are only set
draining for a moment (a Conflict: they hold members) and set back.
"""

import stackctl
from conftest import api_command, as_list, node_api, unique
from test_node_ops import DEAD_URL, assert_fault, register


def listed(admin, name):
    return [s for s in as_list(admin.service.ListImageServers()) if s.name == name]


def rows_of(env, server_id):
    return [int(stackctl.sql(env, "SELECT COUNT(*) FROM %s WHERE image_server_id = %d"
                             % (table, server_id))[0][0])
            for table in ("item_replicas", "image_deletions")]


def test_purge_a_drained_server_and_register_it_again(env, admin):
    name = unique("purge")
    node, server = register(env, admin, name)
    # rows that only point at it: a replica record and a queued deletion
    item_id = stackctl.sql(env, "SELECT MIN(item_id) FROM item_layers")[0][0]
    stackctl.sql(env, "INSERT IGNORE INTO item_replicas (image_server_id, item_id, layer_no,"
                      " sha256, state) VALUES (%d, %s, 0, REPEAT('a', 64), 'failed')"
                      % (server.id, item_id))
    stackctl.sql(env, "INSERT INTO image_deletions (image_server_id, user_id) VALUES"
                      " (%d, 'purge-test-nobody')" % server.id)
    replicas, deletions = rows_of(env, server.id)
    assert replicas >= 1 and deletions == 1

    answer = admin.service.PurgeImageServer(name=name)
    assert answer.name == name
    assert answer.replicasRemoved == replicas and answer.deletionsRemoved == 1
    assert listed(admin, name) == []
    assert rows_of(env, server.id) == [0, 0]
    assert_fault(admin.fault("PurgeImageServer", name=name), "NotFound")

    # the same node credential registers the name again: a new server
    again = node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL + "/int2",
                                             publicUrl=DEAD_URL + "/pub2", weight=2)
    try:
        assert again.id != server.id
        assert again.mode == "active" and again.weight == 2
        assert again.internalUrl == DEAD_URL + "/int2"
    finally:
        admin.service.SetImageServerMode(name=name, mode="down")
    assert admin.service.PurgeImageServer(name=name).name == name    # down qualifies too

    # or an admin sets it up again from the command line
    api_command(env, "--set-image-server", name, DEAD_URL + "/int3", DEAD_URL + "/pub3")
    admin.service.SetImageServerMode(name=name, mode="draining")
    (third,) = listed(admin, name)
    assert third.id not in (server.id, again.id) and third.publicUrl == DEAD_URL + "/pub3"
    admin.service.PurgeImageServer(name=name)
    assert listed(admin, name) == []


def test_an_active_server_is_a_conflict(env, admin):
    name = unique("purge-active")
    node = node_api(env, name)
    node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL, publicUrl=DEAD_URL,
                                     weight=1)
    try:
        info = admin.fault("PurgeImageServer", name=name)
    finally:
        admin.service.SetImageServerMode(name=name, mode="draining")
    assert_fault(info, "Conflict")
    assert "active" in info.message, info
    assert len(listed(admin, name)) == 1
    admin.service.PurgeImageServer(name=name)


def test_a_server_holding_members_is_a_conflict(env, admin):
    servers = as_list(admin.service.ListImageServers())
    holding = next(s for s in servers if s.memberCount > 0 and s.mode == "active")
    admin.service.SetImageServerMode(name=holding.name, mode="draining")
    try:
        info = admin.fault("PurgeImageServer", name=holding.name)
    finally:
        admin.service.SetImageServerMode(name=holding.name, mode="active")
    assert_fault(info, "Conflict")
    assert "members" in info.message, info
    assert len(listed(admin, holding.name)) == 1


def test_bad_calls(admin, site):
    assert_fault(admin.fault("PurgeImageServer", name=unique("never")), "NotFound")
    assert_fault(admin.fault("PurgeImageServer", name=""), "InvalidArgument")
    assert_fault(site.fault("PurgeImageServer", name="img1"), "Forbidden")
