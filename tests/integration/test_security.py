"""The holes a security review found (issue 13, "Nothing let in, nothing
lost"), each checked from the outside against a running stack.

- A node credential acts for its own image server only: it can neither
  register nor beat for another, and only an admin changes a registered
  server's URLs. Each image server has its own secret for the internal
  endpoints, which opens no other server.
- The database servers refuse a TCP login as root without a password.
- A draft item's art cannot be downloaded from an image server.
- A deleted member's images (and a deleted album photo) go from every image
  server: one marked down, and one the member left, too; a rebuild whose
  recipe predates the deletion does not write them back.
- A move takes every album photo of a member.
- API client secrets are Argon2id hashes; a changed or revoked secret is
  refused at once; failed logins are counted and slow the next checks.
- The API's database connections take one statement per query.

The image servers' own credentials and secrets are read from their
configuration files in the stack's state folder (KISEKAE_STATE), so the
checks hold whatever the launcher wrote there.
"""

import http.server
import io
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

from conftest import Api, api_command, as_list, layer_inputs, unique, wait_for
from timescale import scaled

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


def scene_png(width=320, height=360):
    image = Image.new("RGBA", (width, height), (200, 120, 90, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def stored(env, k, url):
    """Where image server imgK keeps the image of public URL url."""
    return Path(env["KISEKAE_STATE"]) / ("img%d" % k) / "store" / urlsplit(url).path.lstrip("/")


def test_deleted_images_go_from_a_server_marked_down(env, admin, site, images):
    """A server marked down is not forgotten: the deletions wait for it, and
    its files go (here it still runs, as a server an admin set down may)."""
    user = unique("sec-down")
    avatar = site.service.CreateAvatar(userId=user, imageServer=images[1]["name"])
    scene = admin.service.RegisterScene(name=unique("sec scene"), png=scene_png(),
                                        slot=[{"x": 40, "y": 20}])
    kept = site.service.CreateAlbumPhoto(userId=user, sceneId=scene.id)
    dropped = site.service.CreateAlbumPhoto(userId=user, sceneId=scene.id)
    avatar_file, kept_file = stored(env, 2, avatar.url), stored(env, 2, kept.url)
    dropped_file = stored(env, 2, dropped.url)
    assert avatar_file.exists() and kept_file.exists() and dropped_file.exists()
    admin.service.SetImageServerMode(name=images[1]["name"], mode="down")
    try:
        site.service.DeleteAlbumPhoto(userId=user, photoId=dropped.id)
        wait_for(lambda: not dropped_file.exists(),
                 "the deleted album photo gone from a server marked down", timeout=20)
        assert kept_file.exists()
        site.service.DeleteAvatar(userId=user)
        wait_for(lambda: not avatar_file.exists() and not kept_file.exists(),
                 "the deleted member's images gone from a server marked down", timeout=20)
    finally:
        admin.service.SetImageServerMode(name=images[1]["name"], mode="active")
    for url in (avatar.url, kept.url, dropped.url):
        assert requests.get(url, allow_redirects=False, timeout=30).status_code == 404, url


def test_deleted_images_go_from_a_server_the_member_left(env, site, images):
    """The files a move could not delete on the server a member left (it did
    not answer then) go when the member is deleted."""
    user = unique("sec-left")
    avatar = site.service.CreateAvatar(userId=user, imageServer=images[1]["name"])
    mine, left = stored(env, 2, avatar.url), stored(env, 1, avatar.url)
    left.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mine, left)
    site.service.DeleteAvatar(userId=user)
    wait_for(lambda: not mine.exists() and not left.exists(),
             "the deleted member's images gone from both servers", timeout=20)


class DeletingProxy:
    """An HTTP proxy to the API for an image server of the test's own: the
    first GetImageRecipe of user is answered only after the member was
    deleted, so the rebuild holds a recipe older than the deletion."""

    def __init__(self, port, api_url, site, user):
        self.api_url, self.site, self.user = api_url, site, user
        self.deleted = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "soapaction", "content-type")}
                answer = requests.post(proxy.api_url, data=body, headers=headers, timeout=30)
                if (b"GetImageRecipe" in body and proxy.user.encode() in body
                        and not proxy.deleted.is_set()):
                    proxy.site.service.DeleteAvatar(userId=proxy.user)
                    proxy.deleted.set()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/xml"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_rebuild_does_not_write_back_a_deleted_member(env, site, images, tmp_path):
    """img2's lost avatar is rebuilt by a second img2 (an image server of the
    test's own, with img2's name, URLs and credentials, but its own store),
    whose recipe is answered only after the member was deleted: the rebuild
    must not store the images of a member that is gone."""
    from test_self_heal import Instance, fcgi_get
    base = int(env["KISEKAE_IT_PORT_BASE"])
    img2 = images[1]
    user = unique("sec-race")
    avatar = site.service.CreateAvatar(userId=user, imageServer=img2["name"])
    proxy = DeletingProxy(base + 73, env["KISEKAE_API_URL"], site, user)
    instance = Instance(tmp_path, env, base + 72, [
        "api_url http://127.0.0.1:%d/" % (base + 73),
        "api_user %s" % img2["conf"]["api_user"],
        "api_password %s" % img2["conf"]["api_password"], "api_timeout 10",
        "name %s" % img2["name"], "internal_url %s" % img2["internal"],
        "public_url %s" % img2["public"], "heartbeat_interval 60", "sync_interval 0"])
    try:
        path = urlsplit(avatar.url).path
        status, _headers, body = fcgi_get(instance.port, path)
        assert proxy.deleted.is_set(), "the rebuild asked for no recipe: %r" % body
        written = tmp_path / "store" / path.lstrip("/")
        assert not written.exists(), "the rebuild wrote back %s (%d: %r)" % (path, status, body)
        assert status == 404, (status, body)
    finally:
        try:
            instance.stop()
        finally:
            proxy.stop()


def test_a_move_takes_every_album_photo(env, admin, site, images):
    """MoveAvatars moves all of a member's album photos, however many
    (max_album_photos may be far above a thousand; here 1001, the extra
    ones copied in the database), before the old server's files go: no
    photo is left behind on the server the members left. Every member of
    img2 moves to img1."""
    import stackctl
    user = unique("sec-move")
    site.service.CreateAvatar(userId=user, imageServer=images[1]["name"])
    scene = admin.service.RegisterScene(name=unique("sec scene"), png=scene_png(),
                                        slot=[{"x": 40, "y": 20}])
    first = site.service.CreateAlbumPhoto(userId=user, sceneId=scene.id)
    member_id = stackctl.sql(env, "SELECT member_id FROM album_photos WHERE id = %d"
                             % first.id)[0][0]
    stackctl.sql(env, "INSERT INTO album_photos (member_id, image_server_id, scene_id,"
                 " scene_sha256, width, height, quality, caption) SELECT member_id,"
                 " image_server_id, scene_id, scene_sha256, width, height, quality, caption"
                 " FROM album_photos JOIN seq_1_to_1000 WHERE id = %d ORDER BY seq; "
                 "INSERT INTO album_photo_members SELECT n.id, m.slot_no, m.member_id,"
                 " m.user_id, m.avatar_version, m.x, m.y FROM album_photos n"
                 " JOIN album_photo_members m ON m.photo_id = %d"
                 " WHERE n.member_id = %s AND n.id > %d; "
                 "INSERT INTO album_photo_layers (photo_id, seq, slot_no, item_id, layer_no,"
                 " z_order, x, y, sha256) SELECT n.id, l.seq, l.slot_no, l.item_id,"
                 " l.layer_no, l.z_order, l.x, l.y, l.sha256 FROM album_photos n"
                 " JOIN album_photo_layers l ON l.photo_id = %d"
                 " WHERE n.member_id = %s AND n.id > %d"
                 % (first.id, first.id, member_id, first.id, first.id, member_id, first.id),
                 timeout=60)
    count = "SELECT image_server_id, COUNT(*) FROM album_photos WHERE member_id = %s" \
        " GROUP BY image_server_id" % member_id
    assert [int(n) for _server, n in stackctl.sql(env, count)] == [1001]
    moved = admin.service.MoveAvatars(**{"from": images[1]["name"], "to": images[0]["name"],
                                         "limit": 1000})
    assert (moved.remaining, moved.photosKept, moved.stoppedBy) == (0, 0, None), moved
    img1_id = str(server_row(admin, images[0]["name"]).id)
    assert stackctl.sql(env, count) == [[img1_id, "1001"]]
    photo = as_list(site.service.ListAlbumPhotos(userId=user, limit=1).photo)[0]
    assert stored(env, 1, photo.url).exists()
    site.service.DeleteAvatar(userId=user)


def new_client(env, secret, role="site"):
    name = unique("sec-client")
    api_command(env, "--add-client", name, role, stdin=secret + "\n")
    return name


def refused(client):
    """1 when one call of client is refused as Unauthorized (HTTP 401)."""
    import zeep.exceptions
    from conftest import detail_fields
    try:
        client.service.ListCategories()
    except zeep.exceptions.TransportError as e:
        return e.status_code == 401
    except zeep.exceptions.Fault as fault:
        return fault.detail is not None and detail_fields(fault.detail)[0] == "Unauthorized"
    return False


def refused_within(client, seconds):
    """Calls until the client is refused; fails after seconds. Once
    auth_recheck_ms (1 s) has passed, every worker of the API refuses it.
    (Each refusal is a failed login: at most four, below the throttle.)"""
    deadline = time.monotonic() + scaled(seconds)
    while not refused(client):
        assert time.monotonic() < deadline, "still accepted after %.1f s" % seconds
        time.sleep(0.05)
    time.sleep(1.1)
    assert all(refused(client) for _ in range(3))


def test_client_secrets_are_argon2id_and_changes_count_within_recheck(env):
    """Secrets are stored as Argon2id hashes; a changed secret or a revoked
    client is refused by every API server within auth_recheck_ms (1 s by
    default), though a verified secret is remembered."""
    import stackctl
    first = unique("secret")
    name = new_client(env, first)
    client = Api(env["KISEKAE_API_URL"], name, first)
    for _ in range(20):
        client.service.ListCategories()
    stored = stackctl.sql(env, "SELECT secret_hash FROM api_clients WHERE name = '%s'" % name)
    assert stored[0][0].startswith("$argon2id$"), stored
    # A new secret: the old one, remembered a moment ago, stops opening.
    second = unique("secret")
    api_command(env, "--add-client", name, "site", stdin=second + "\n")
    refused_within(client, 1.5)
    client = Api(env["KISEKAE_API_URL"], name, second)
    for _ in range(10):
        client.service.ListCategories()
    # Revoked: refused within the recheck interval.
    api_command(env, "--revoke-client", name)
    refused_within(client, 1.5)


def test_failed_logins_are_counted_and_slowed(env):
    import stackctl
    secret = unique("secret")
    name = new_client(env, secret)
    wrong = Api(env["KISEKAE_API_URL"], name, "wrong-" + secret)
    for _ in range(5):
        info = wrong.fault("ListCategories")
        assert info.code == "Unauthorized" or info.http_status == 401, info
    count = "SELECT failed_logins FROM api_clients WHERE name = '%s'" % name
    assert stackctl.sql(env, count) == [["5"]]
    # Past five failures a secret is checked once a second at most: even the
    # right one is refused unchecked right now...
    right = Api(env["KISEKAE_API_URL"], name, secret)
    info = right.fault("ListCategories")
    assert info.code == "Unauthorized" or info.http_status == 401, info
    assert stackctl.sql(env, count) == [["5"]]
    # ... and let in a moment later, which clears the count.
    time.sleep(1.5)
    right.service.ListCategories()
    assert stackctl.sql(env, count) == [["0"]]


def test_the_database_pool_runs_one_statement_per_query(env):
    """The API's database connections refuse several statements in one
    query (CLIENT_MULTI_STATEMENTS off): an injection cannot append its own.
    ks-db-probe runs a query through common/db_pool.c as kisekae-api does."""
    probe = Path(env.get("KISEKAE_BUILD_DIR") or "build") / "tests" / "integration" / "ks-db-probe"

    def run(query):
        return subprocess.run([str(probe), env["KISEKAE_DB_MASTER"], env["KISEKAE_DB_USER"],
                               env["KISEKAE_DB_NAME"], query],
                              input=env["KISEKAE_DB_PASSWORD"] + "\n", capture_output=True,
                              text=True, timeout=30)
    one = run("SELECT 41 + 1")
    assert (one.returncode, one.stdout) == (0, "42\n"), one.stderr
    two = run("SELECT 1; SELECT 2")
    assert two.returncode == 1, "two statements ran: %r" % two.stdout
    assert "syntax" in two.stderr, two.stderr
