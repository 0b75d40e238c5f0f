"""The image servers' own operations (role node): RegisterImageServer,
Heartbeat, GetCatalogManifest, GetItemLayer, driven through zeep.

The servers registered here are made up (their internal URL answers
nothing), so each is set draining or falls silent right after the check
that needs it active: the other tests' members and pushes never go to them.
The stack runs with image_server_timeout 6 (run.sh).
"""

import hashlib
import time
from pathlib import Path

import pytest

from conftest import Api, api_command, as_list, node_api, unique, wait_for
from timescale import scaled

DEAD_URL = "http://127.0.0.1:9"      # discard: nothing answers there
NODE_OPS = {
    "RegisterImageServer": dict(name="x", internalUrl=DEAD_URL, publicUrl=DEAD_URL, weight=1),
    "Heartbeat": dict(name="x", itemsStored=0, avatarsComposed=0, storeFreeBytes=0),
    "GetCatalogManifest": dict(),
    "GetItemLayer": dict(itemId=1, layerNo=0),
}


@pytest.fixture(scope="module")
def node(env):
    if "KISEKAE_NODE_USER" not in env:
        pytest.skip("KISEKAE_NODE_USER is not set")
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_NODE_USER"], env["KISEKAE_NODE_PASSWORD"])


def assert_fault(info, code):
    assert info.code == code, "expected %s, got %r" % (code, info)
    assert info.message, info


def server_row(admin, name):
    status = admin.service.GetSystemStatus()
    rows = [s for s in as_list(status.imageServer) if s.name == name]
    return rows[0] if rows else None


def register(env, admin, name, weight=3):
    """Registers a made-up server with node credentials of its own and sets
    it draining at once; returns (those credentials' client, the server)."""
    node = node_api(env, name)
    server = node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL + "/int",
                                              publicUrl=DEAD_URL + "/pub", weight=weight)
    admin.service.SetImageServerMode(name=name, mode="draining")
    return node, server


@pytest.mark.parametrize("operation", sorted(NODE_OPS))
def test_site_and_admin_are_forbidden(site, admin, operation):
    assert_fault(site.fault(operation, **NODE_OPS[operation]), "Forbidden")
    assert_fault(admin.fault(operation, **NODE_OPS[operation]), "Forbidden")


def test_node_cannot_use_admin_or_site_ops(node):
    assert_fault(node.fault("ListImageServers"), "Forbidden")
    assert_fault(node.fault("SetImageServerMode", name="img1", mode="down"), "Forbidden")
    assert_fault(node.fault("ListCategories"), "Forbidden")


@pytest.mark.parametrize("args", [
    dict(name="", internalUrl=DEAD_URL, publicUrl=DEAD_URL, weight=1),
    dict(name="bad name", internalUrl=DEAD_URL, publicUrl=DEAD_URL, weight=1),
    dict(name="n" * 65, internalUrl=DEAD_URL, publicUrl=DEAD_URL, weight=1),
    dict(name="ok", internalUrl="ftp://x", publicUrl=DEAD_URL, weight=1),
    dict(name="ok", internalUrl=DEAD_URL, publicUrl="http://a b", weight=1),
    dict(name="ok", internalUrl=DEAD_URL, publicUrl="http://" + "a" * 250, weight=1),
    dict(name="ok", internalUrl=DEAD_URL, publicUrl=DEAD_URL, weight=0),
    dict(name="ok", internalUrl=DEAD_URL, publicUrl=DEAD_URL, weight=1001),
])
def test_register_bad_input(env, admin, args):
    node = node_api(env, "ok")
    assert_fault(node.fault("RegisterImageServer", **args), "InvalidArgument")
    if args["name"] == "ok":
        assert server_row(admin, "ok") is None


def test_bad_heartbeat_manifest_and_layer(env, node):
    never = unique("never-registered")
    assert_fault(node_api(env, never).fault("Heartbeat", name=never, itemsStored=0,
                                            avatarsComposed=0, storeFreeBytes=0), "NotFound")
    assert_fault(node.fault("Heartbeat", name="img1", itemsStored=-1, avatarsComposed=0,
                            storeFreeBytes=0), "InvalidArgument")
    assert_fault(node.fault("GetCatalogManifest", limit=0), "InvalidArgument")
    assert_fault(node.fault("GetCatalogManifest", limit=1001), "InvalidArgument")
    assert_fault(node.fault("GetCatalogManifest", offset=-1), "InvalidArgument")
    assert_fault(node.fault("GetItemLayer", itemId=0, layerNo=0), "InvalidArgument")
    assert_fault(node.fault("GetItemLayer", itemId=1, layerNo=-1), "InvalidArgument")
    assert_fault(node.fault("GetItemLayer", itemId=2000000000, layerNo=0), "NotFound")


def test_register_and_heartbeat_are_visible(env, admin):
    name = unique("node-reg")
    node, server = register(env, admin, name, weight=7)
    assert server.name == name and server.weight == 7 and server.mode == "active"
    assert node.service.Heartbeat(name=name, itemsStored=12, avatarsComposed=34,
                                  storeFreeBytes=5678) == "draining"
    row = server_row(admin, name)
    assert row is not None
    assert (row.internalUrl, row.publicUrl, row.weight, row.mode) == (
        DEAD_URL + "/int", DEAD_URL + "/pub", 7, "draining")
    assert (row.itemsStored, row.avatarsComposed, row.freeDiskBytes) == (12, 34, 5678)
    assert row.lastHeartbeat is not None and not row.downBySilence
    listed = [s for s in admin.service.ListImageServers() if s.name == name]
    assert listed and listed[0].lastHeartbeat is not None
    # Registering again keeps the admin's mode and the weight (an admin sets
    # it later with SetImageServerWeight); other URLs are refused, as only an
    # admin changes them (kisekae-api --set-image-server).
    again = node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL + "/int",
                                             publicUrl=DEAD_URL + "/pub", weight=2)
    assert again.mode == "draining" and again.id == server.id and again.weight == 7
    assert_fault(node.fault("RegisterImageServer", name=name, internalUrl=DEAD_URL + "/int2",
                            publicUrl=DEAD_URL + "/pub", weight=2), "Conflict")
    api_command(env, "--set-image-server", name, DEAD_URL + "/int2", DEAD_URL + "/pub")
    # GetSystemStatus reads a replica, which may be a moment behind.
    wait_for(lambda: server_row(admin, name).internalUrl == DEAD_URL + "/int2",
             "the new internal URL in GetSystemStatus")
    assert node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL + "/int2",
                                            publicUrl=DEAD_URL + "/pub", weight=2).id == server.id


def test_manifest_and_layers_match_the_catalog(node, admin):
    first = node.service.GetCatalogManifest(offset=0, limit=1000)
    layers = as_list(first.layer)
    assert first.total >= 1 and len(layers) == min(first.total, 1000)
    keys = [(l.itemId, l.layerNo) for l in layers]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # Pages join into the same list.
    paged = []
    for offset in range(0, min(first.total, 6), 2):
        paged += as_list(node.service.GetCatalogManifest(offset=offset, limit=2).layer)
    assert [(l.itemId, l.layerNo, l.sha256) for l in paged] == [
        (l.itemId, l.layerNo, l.sha256) for l in layers[:len(paged)]]
    for entry in layers[:3]:
        got = node.service.GetItemLayer(itemId=entry.itemId, layerNo=entry.layerNo)
        assert got.sha256 == entry.sha256
        assert hashlib.sha256(got.png).hexdigest() == entry.sha256
        assert got.png[:8] == b"\x89PNG\r\n\x1a\n"


def wait_mode(admin, name, mode, timeout):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        row = server_row(admin, name)
        if row is not None and row.mode == mode:
            return row
        if time.monotonic() > deadline:
            raise AssertionError("%s is %r after %.0f s, not %s" % (
                name, row and row.mode, timeout, mode))
        time.sleep(0.5)


def test_silent_server_goes_down_and_comes_back(env, admin):
    name = unique("node-silent")
    node = node_api(env, name)
    node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL, publicUrl=DEAD_URL,
                                     weight=1)
    # Active and silent: down within the timeout (6 s) plus a renderer round.
    row = wait_mode(admin, name, "down", 20)
    assert row.downBySilence
    # A heartbeat revives it...
    assert node.service.Heartbeat(name=name, itemsStored=0, avatarsComposed=0,
                                  storeFreeBytes=0) == "active"
    # ... but not once an admin set it down.
    admin.service.SetImageServerMode(name=name, mode="down")
    assert node.service.Heartbeat(name=name, itemsStored=0, avatarsComposed=0,
                                  storeFreeBytes=0) == "down"
    row = server_row(admin, name)
    assert row.mode == "down" and not row.downBySilence


def test_silent_draining_server_goes_down_and_comes_back_draining(env, admin):
    name = unique("node-silent-drain")
    node, _server = register(env, admin, name)      # draining
    row = wait_mode(admin, name, "down", 20)
    assert row.downBySilence
    # Its heartbeat gives back the mode it had, not active...
    assert node.service.Heartbeat(name=name, itemsStored=0, avatarsComposed=0,
                                  storeFreeBytes=0) == "draining"
    assert not server_row(admin, name).downBySilence
    # ... and so does a registration after the next silence.
    wait_mode(admin, name, "down", 20)
    again = node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL + "/int",
                                             publicUrl=DEAD_URL + "/pub", weight=3)
    assert again.mode == "draining"
    admin.service.SetImageServerMode(name=name, mode="down")


def replica_delay(env, seconds):
    """Makes the stack's first replica apply the master's events `seconds`
    late (MASTER_DELAY), as root through its socket."""
    import subprocess
    from conftest import ROOT
    done = subprocess.run(
        [str(ROOT / "kisekae"), "sql", "--state", env["KISEKAE_STATE"], "db-r1", "--", "-e",
         "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = %d; START SLAVE" % seconds],
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def replicas_healthy(admin):
    servers = as_list(admin.service.GetSystemStatus().dbServer)
    return all(s.state == "healthy" for s in servers if s.role == "replica")


def test_status_shows_a_heartbeat_at_once_while_the_replica_lags(env, admin):
    """An admin who sees a heartbeat answered sees its effect in
    GetSystemStatus at once: the image servers are read from the master,
    not from a replica a few seconds behind (which showed a server beating
    and still down by silence)."""
    name = unique("node-lag")
    node, _server = register(env, admin, name)      # draining
    wait_mode(admin, name, "down", 20)
    time.sleep(0.5)                                  # the replica applies the sweep
    replica_delay(env, 3)                            # within db_max_lag_s: still used
    try:
        wait_for(lambda: replicas_healthy(admin), "the delayed replica back in use")
        assert node.service.Heartbeat(name=name, itemsStored=0, avatarsComposed=0,
                                      storeFreeBytes=0) == "draining"
        row = server_row(admin, name)
        assert row.mode == "draining" and not row.downBySilence, row
    finally:
        replica_delay(env, 0)
        admin.service.SetImageServerMode(name=name, mode="down")


def test_image_server_repairs_its_store_at_start(node, admin, env):
    """img1 lost one layer and holds a spoiled copy of another: after a
    restart its sync fetches both from the API (the database's copy)."""
    import stackctl
    store = Path(env["KISEKAE_STATE"]) / "img1" / "store" / "items"
    layers = as_list(node.service.GetCatalogManifest(offset=0, limit=1000).layer)
    held = [l for l in layers if (store / str(l.itemId) / ("%d.png" % l.layerNo)).exists()]
    assert len(held) >= 2, "img1 holds fewer than two catalog layers"
    lost, spoiled = held[0], held[-1]
    lost_png = store / str(lost.itemId) / ("%d.png" % lost.layerNo)
    spoiled_png = store / str(spoiled.itemId) / ("%d.png" % spoiled.layerNo)
    stackctl.stop(env, "img1")
    try:
        lost_png.unlink()
        (lost_png.with_suffix(".kl")).unlink(missing_ok=True)
        spoiled_png.write_bytes(b"not the canonical art")
    finally:
        stackctl.restart(env)
    deadline = time.monotonic() + scaled(30)
    while True:
        done = [p.exists() and hashlib.sha256(p.read_bytes()).hexdigest() == l.sha256
                for p, l in ((lost_png, lost), (spoiled_png, spoiled))]
        if all(done):
            break
        assert time.monotonic() < deadline, "img1 did not repair its store: %r" % done
        time.sleep(0.2)
    log = (Path(env["KISEKAE_STATE"]) / "logs" / "img1.log").read_text()
    assert "sync: done:" in log and "1 missing, 1 stale" in log, log[-2000:]
    # It registered again and beats.
    row = wait_mode(admin, "img1", "active", 10)
    assert row.lastHeartbeat is not None and row.itemsStored >= len(held)


def test_failed_pushes_are_retried(admin, site, env, art):
    """While an image server's internal URL is wrong, the pushes of a new
    item to it fail; once an admin gives it back the right URL, the
    background retry pushes them (item_replicas rows turn ok). The server is
    the stack's last one (its own secret: one made up here would not be let
    in), and its URL is always given back."""
    import stackctl
    from conftest import layer_inputs
    count = len(env["KISEKAE_IMAGE_INTERNAL_URLS"].split())
    name = "img%d" % count
    good = env["KISEKAE_IMAGE_INTERNAL_URLS"].split()[-1].rstrip("/")
    public = env["KISEKAE_IMAGE_URLS"].split()[-1].rstrip("/")
    server = server_row(admin, name)
    assert server is not None and server.internalUrl == good, server

    api_command(env, "--set-image-server", name, good + "/wrong", public)
    try:
        category = admin.service.RegisterCategory(name=unique("retry-cat"), zOrder=5,
                                                  exclusive=False, required=False)
        key = next(k for k in art if k is not None)
        item = admin.service.RegisterItem(categoryId=category.id, name=unique("retry-item"),
                                          price=1, layer=layer_inputs(art[key]["layers"]))
        query = ("SELECT state, attempts FROM item_replicas WHERE image_server_id = %d"
                 " AND item_id = %d ORDER BY layer_no" % (server.id, item.id))
        rows = stackctl.sql(env, query)
        assert rows and all(r[0] == "failed" for r in rows), rows
    finally:
        api_command(env, "--set-image-server", name, good, public)
    deadline = time.monotonic() + scaled(20)
    while True:
        rows = stackctl.sql(env, query)
        if all(r[0] == "ok" for r in rows):
            break
        assert time.monotonic() < deadline, "pushes not retried: %r" % rows
        time.sleep(0.5)
    assert all(int(r[1]) >= 2 for r in rows), rows
