#!/usr/bin/python3
"""scenario.py: the interop scenario through Python zeep (Debian python3-zeep).

Builds its client from the WSDL the API serves (KISEKAE_API_URL + "?wsdl")
and runs the scenario every language of tests/interop runs, printing one line
per step ("ok", "FAIL" or "skip") and exiting 1 on any mismatch. The steps
and the environment it reads are described in tests/interop/run.py.

    KISEKAE_API_URL=... KISEKAE_SITE_USER=... (see run.py) scenario.py
"""

import os
import struct
import sys
import time

import requests
import zeep
import zeep.exceptions

LANG = "python"
NS = "urn:kisekae:v1"
BINDING = "{%s}Kisekae" % NS
failures = 0
current_step = "setup"          # named in the message of an unexpected error


def begin(step):
    global current_step
    current_step = step


def ok(step, text):
    print("ok   %s: %s" % (step, text), flush=True)


def check(cond, step, text):
    global failures
    print("%s %s: %s" % ("ok  " if cond else "FAIL", step, text), flush=True)
    if not cond:
        failures += 1
    return cond


def fatal(step, text):
    print("FAIL %s: %s" % (step, text), flush=True)
    print("%s: FAILED" % LANG, flush=True)
    sys.exit(1)


def env(name, default=None):
    value = os.environ.get(name, default)
    if not value:
        print("%s: %s is not set (see tests/interop/run.py)" % (LANG, name), file=sys.stderr)
        sys.exit(2)
    return value


def client(wsdl_url, endpoint, user, password):
    """A zeep client of the served WSDL, with Basic auth; calls go to
    endpoint (the WSDL's own address would do too: the server writes the
    address it was asked on into it)."""
    session = requests.Session()
    session.auth = (user, password)
    transport = zeep.Transport(session=session, timeout=30, operation_timeout=30)
    c = zeep.Client(wsdl_url, transport=transport)
    return c, c.create_service(BINDING, endpoint)


def fault_code(fault):
    """The stable code of a KisekaeFault detail (zeep gives the detail as an
    lxml element), or None."""
    if fault.detail is None:
        return None
    return fault.detail.findtext("{%s}KisekaeFault/{%s}code" % (NS, NS))


def png_size(data):
    """(width, height) from a PNG's IHDR, or None if data is no PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def main():
    url = env("KISEKAE_API_URL")
    tag = env("KISEKAE_INTEROP_TAG", "manual")
    run = os.environ.get("KISEKAE_INTEROP_RUN") or "%d%d" % (time.time(), os.getpid() % 1000)
    layers_dir = env("KISEKAE_INTEROP_LAYERS")
    canvas = tuple(int(v) for v in env("KISEKAE_CANVAS", "240x320").split("x"))
    wsdl_url = url + "?wsdl"

    # ---- wsdl: both roles' clients from the served WSDL
    begin("wsdl")
    try:
        site_client, site = client(wsdl_url, url, env("KISEKAE_SITE_USER"),
                                   env("KISEKAE_SITE_PASSWORD"))
        _, admin = client(wsdl_url, url, env("KISEKAE_ADMIN_USER"),
                          env("KISEKAE_ADMIN_PASSWORD"))
    except Exception as e:                                  # noqa: BLE001
        fatal(current_step, "%s: %s" % (wsdl_url, e))
    operations = set(site_client.wsdl.bindings[BINDING]._operations)
    ok("wsdl", "%s: %d operations" % (wsdl_url, len(operations)))

    try:
        scenario(site, admin, operations, tag, run, layers_dir, canvas)
    except zeep.exceptions.Fault as e:
        fatal(current_step, "unexpected fault %s %s: %s" % (e.code, fault_code(e), e.message))
    except (zeep.exceptions.Error, requests.RequestException) as e:
        fatal(current_step, "%s: %s" % (type(e).__name__, e))
    if failures:
        print("%s: FAILED (%d)" % (LANG, failures), flush=True)
        sys.exit(1)
    print("%s: passed" % LANG, flush=True)


def scenario(site, admin, operations, tag, run, layers_dir, canvas):
    # ---- catalog: a category of ours and two items in it, made once per
    # language and transport (a run against a reused stack finds them)
    begin("catalog")
    category_name = "interop-%s-%s" % (LANG, tag)
    categories = site.ListCategories(name=category_name)
    if categories:
        category = categories[0]
        items = site.ListItems(categoryId=category.id).item or []
        item_ids = {i.name: i.id for i in items}
    else:
        category = admin.RegisterCategory(name=category_name, zOrder=650, exclusive=False,
                                          required=False)
        item_ids = {}
    for key in ("a", "b"):
        name = "%s item %s" % (category_name, key)
        if name not in item_ids:
            with open(os.path.join(layers_dir, "layer-%s.png" % key), "rb") as f:
                png = f.read()
            item = admin.RegisterItem(categoryId=category.id, name=name, price=0,
                                      layer=[{"png": png}])     # bytes: zeep sends base64
            item_ids[name] = item.id
    item_a = item_ids["%s item a" % category_name]
    item_b = item_ids["%s item b" % category_name]
    ok("catalog", "category %s (id %d), items %d and %d" % (category_name, category.id,
                                                             item_a, item_b))

    # ---- CreateAvatar: a member of this language and run
    begin("CreateAvatar")
    user_id = "interop-%s-%s-%s" % (LANG, tag, run)
    avatar = site.CreateAvatar(userId=user_id)
    base = list(avatar.wornItemId or [])        # the default items of required categories
    check(avatar.version == 1 and isinstance(avatar.wornItemId, list), "CreateAvatar",
          "%s version %d on %s, wearing %r" % (user_id, avatar.version, avatar.imageServer, base))

    # ---- fault: wearing an item not owned yet
    begin("fault")
    try:
        site.ChangeOutfit(userId=user_id, wear=[item_a])
        check(False, "fault", "ChangeOutfit wearing an item not owned succeeded")
    except zeep.exceptions.Fault as e:
        check(fault_code(e) == "NotOwned" and e.code.endswith(":Client"), "fault",
              "ChangeOutfit wearing item %d not owned: faultcode %s, detail code %s (%s)"
              % (item_a, e.code, fault_code(e), e.message))

    # ---- GrantItem
    begin("GrantItem")
    for item_id in (item_a, item_b):
        granted = site.GrantItem(userId=user_id, itemId=item_id)
        check(granted.itemId == item_id and granted.alreadyOwned is False, "GrantItem",
              "item %d, alreadyOwned %s" % (granted.itemId, granted.alreadyOwned))

    # ---- ChangeOutfit: a one-element list, then a two-element list
    begin("ChangeOutfit")
    avatar = site.ChangeOutfit(userId=user_id, wear=[item_a])
    worn = list(avatar.wornItemId or [])
    check(avatar.version == 2 and sorted(worn) == sorted(base + [item_a]), "ChangeOutfit [a]",
          "version %d, wearing %r" % (avatar.version, worn))
    avatar = site.ChangeOutfit(userId=user_id, wear=[item_a, item_b])
    worn = list(avatar.wornItemId or [])
    check(avatar.version == 3 and sorted(worn) == sorted(base + [item_a, item_b]),
          "ChangeOutfit [a,b]", "version %d, wearing %r" % (avatar.version, worn))
    changed_url = avatar.url

    # ---- GetAvatar: the version the last change returned (the fault changed nothing)
    begin("GetAvatar")
    avatar = site.GetAvatar(userId=user_id, minVersion=3)
    check(avatar.version == 3 and avatar.url == changed_url and avatar.url.endswith("/3.png"),
          "GetAvatar", "version %d, %s" % (avatar.version, avatar.url))

    # ---- download: the avatar PNG from its URL
    begin("download")
    response = requests.get(avatar.url, timeout=30)
    size = png_size(response.content)
    check(response.status_code == 200 and size == canvas, "download",
          "HTTP %d, %d bytes, PNG %s (canvas %dx%d)" % (
              response.status_code, len(response.content),
              "%dx%d" % size if size else "no", canvas[0], canvas[1]))

    # ---- PreviewAvatar: the outfit without b, as a PNG (base64 downwards); nothing saved
    def preview():
        answer = site.PreviewAvatar(userId=user_id, remove=[item_b])
        size = png_size(answer.png)             # zeep decodes base64 into bytes
        worn = list(answer.wornItemId or [])
        still = site.GetAvatar(userId=user_id, minVersion=3).version
        check(size == canvas and sorted(worn) == sorted(base + [item_a]) and still == 3,
              "PreviewAvatar", "PNG %s, wearing %r, the avatar still at version %d" % (
                  "%dx%d" % size if size else "no", worn, still))

    # ---- CreateAlbumPhoto: on a scene of ours (layer a as its background, one
    # slot), then the JPEG from its URL
    def album_photo():
        scene_name = "interop-%s-%s" % (LANG, tag)
        scene = next((s for s in site.ListScenes() or [] if s.name == scene_name), None)
        if scene is None:
            with open(os.path.join(layers_dir, "layer-a.png"), "rb") as f:
                scene = admin.RegisterScene(name=scene_name, png=f.read(),
                                            slot=[{"x": 0, "y": 0}])
        photo = site.CreateAlbumPhoto(userId=user_id, sceneId=scene.id, caption="interop " + LANG)
        response = requests.get(photo.url, timeout=30)
        check(photo.url.endswith("/%d.jpg" % photo.id) and [m.userId for m in photo.member]
              == [user_id] and response.status_code == 200 and response.content[:3] ==
              b"\xff\xd8\xff", "CreateAlbumPhoto", "scene %d, photo %d: HTTP %d, %d bytes of JPEG"
              % (scene.id, photo.id, response.status_code, len(response.content)))

    # ---- operations added lately: each runs when the WSDL has it
    for operation, step in (("PreviewAvatar", preview), ("CreateAlbumPhoto", album_photo)):
        begin(operation)
        if operation not in operations:
            print("skip: %s not in WSDL" % operation, flush=True)
        elif step is None:
            check(False, operation, "the WSDL has it but this client has no step for it yet")
        else:
            step()


if __name__ == "__main__":
    main()
