"""The holes a security review found (issue 13, "Nothing let in, nothing
lost"), each checked from the outside against a running stack.

- A node credential acts for its own image server only: it can neither
  register nor beat for another, and only an admin changes a registered
  server's URLs. Each image server has its own secret for the internal
  endpoints, which opens no other server.
- The database servers refuse a TCP login as root without a password.
- A draft item's art cannot be downloaded from an image server.

The image servers' own credentials and secrets are read from their
configuration files in the stack's state folder (KISEKAE_STATE), so the
checks hold whatever the launcher wrote there.
"""

import subprocess
from pathlib import Path

import pytest
import requests

from conftest import Api, api_command, layer_inputs, unique, wait_for

DEAD_URL = "http://127.0.0.1:9"      # discard: nothing answers there


def image_conf(env, k):
    """The option: value pairs of image server imgK's configuration."""
    path = Path(env["KISEKAE_STATE"]) / ("img%d" % k) / "kisekae-image.conf"
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _sep, value = line.strip().partition(" ")
            values[key] = value.strip()
    return values


@pytest.fixture(scope="module")
def images(env):
    internal = env.get("KISEKAE_IMAGE_INTERNAL_URLS", "").split()
    public = env.get("KISEKAE_IMAGE_URLS", "").split()
    if len(internal) < 2 or "KISEKAE_STATE" not in env:
        pytest.fail("these checks need a stack with two image servers and its state folder")
    return [dict(name="img%d" % k, internal=internal[k - 1].rstrip("/"),
                 public=public[k - 1].rstrip("/"), conf=image_conf(env, k))
            for k in range(1, len(internal) + 1)]


def server_row(admin, name):
    rows = [s for s in admin.service.ListImageServers() if s.name == name]
    return rows[0] if rows else None


def node_of(env, image):
    return Api(env["KISEKAE_API_URL"], image["conf"]["api_user"], image["conf"]["api_password"])


def test_a_node_credential_acts_for_its_own_server_only(env, admin, images):
    img1, img2 = images[0], images[1]
    node1 = node_of(env, img1)
    before = server_row(admin, img2["name"])
    info = node1.fault("RegisterImageServer", name=img2["name"], internalUrl=DEAD_URL,
                       publicUrl=DEAD_URL, weight=1)
    assert info.code == "Forbidden", info
    info = node1.fault("Heartbeat", name=img2["name"], itemsStored=0, avatarsComposed=0,
                       storeFreeBytes=0)
    assert info.code == "Forbidden", info
    # Nor may it register a server nobody registered yet.
    info = node1.fault("RegisterImageServer", name=unique("node-foreign"), internalUrl=DEAD_URL,
                       publicUrl=DEAD_URL, weight=1)
    assert info.code == "Forbidden", info
    after = server_row(admin, img2["name"])
    assert (after.internalUrl, after.publicUrl, after.mode) == (
        before.internalUrl, before.publicUrl, before.mode)
    # Its own server it may register and beat for.
    assert node1.service.Heartbeat(name=img1["name"], itemsStored=0, avatarsComposed=0,
                                   storeFreeBytes=0) in ("active", "draining", "down")


def test_only_an_admin_changes_a_registered_servers_urls(env, admin, images):
    img1 = images[0]
    node1 = node_of(env, img1)
    before = server_row(admin, img1["name"])
    info = node1.fault("RegisterImageServer", name=img1["name"], internalUrl=DEAD_URL,
                       publicUrl=before.publicUrl, weight=1)
    assert info.code == "Conflict", info
    after = server_row(admin, img1["name"])
    assert (after.internalUrl, after.publicUrl) == (before.internalUrl, before.publicUrl)
    # The same URLs again: an ordinary registration at start.
    again = node1.service.RegisterImageServer(name=img1["name"], internalUrl=before.internalUrl,
                                              publicUrl=before.publicUrl, weight=1)
    assert again.id == before.id


def test_one_servers_secret_opens_no_other(images):
    img1, img2 = images[0], images[1]
    assert img1["conf"]["cluster_secret"] != img2["conf"]["cluster_secret"]
    health = "/internal/avatars/%s" % unique("nobody")
    refused = requests.delete(img2["internal"] + health,
                              headers={"X-Kisekae-Secret": img1["conf"]["cluster_secret"]})
    assert refused.status_code == 403, refused.text
    taken = requests.delete(img2["internal"] + health,
                            headers={"X-Kisekae-Secret": img2["conf"]["cluster_secret"]})
    assert taken.status_code == 200, taken.text


def test_a_node_credential_bound_to_no_server_is_refused(env, images):
    """The shared node login of older stacks (the launcher's demo-node) opens
    nothing any more, when it still exists."""
    name, secret = unique("unbound-node"), unique("secret")
    done = api_command(env, "--add-client", name, "node", stdin=secret + "\n", check=False)
    if done.returncode == 0:      # refused outright, or refused at every call
        node = Api(env["KISEKAE_API_URL"], name, secret)
        info = node.fault("GetCatalogManifest", limit=1)
        assert info.code in ("Unauthorized", "Forbidden") or info.http_status == 401, info
    else:
        assert "--image-server" in done.stderr + done.stdout, done.stderr


def db_servers(env):
    return [env["KISEKAE_DB_MASTER"]] + env.get("KISEKAE_DB_REPLICAS", "").split()


@pytest.mark.parametrize("user", ["root", "kisekae", "repl"])
def test_no_database_login_without_a_password(env, user):
    for server in db_servers(env):
        host, _sep, port = server.rpartition(":")
        done = subprocess.run(["mariadb", "--no-defaults", "--connect-timeout=5", "-h", host,
                               "-P", port, "-u", user, "--skip-password", "-N", "-e",
                               "SELECT CURRENT_USER()"], capture_output=True, text=True,
                              timeout=30)
        assert done.returncode != 0, "%s let %r in without a password: %s" % (
            server, user, done.stdout)
        assert "Access denied" in done.stderr, done.stderr


def test_draft_item_art_cannot_be_downloaded(env, admin, images, art):
    """Drafts are pushed to the image servers like any item (a published
    one must be there at once), but their public server does not serve
    the item store."""
    category = admin.service.RegisterCategory(name=unique("sec-cat"), zOrder=7,
                                              exclusive=False, required=False)
    key = next(k for k in art if k is not None)
    item = admin.service.RegisterItem(categoryId=category.id, name=unique("sec-draft"),
                                      price=1, status="draft",
                                      layer=layer_inputs(art[key]["layers"]))
    assert item.status == "draft"
    state = Path(env["KISEKAE_STATE"])
    for k, image in enumerate(images, 1):
        stored = state / ("img%d" % k) / "store" / "items" / str(item.id) / "0.png"
        wait_for(stored.exists, "the draft's art pushed to %s" % image["name"], timeout=20)
        for layer_no in range(len(art[key]["layers"])):
            url = "%s/items/%d/%d.png" % (image["public"], item.id, layer_no)
            got = requests.get(url, timeout=10)
            assert got.status_code == 404, "%s answered %d" % (url, got.status_code)
