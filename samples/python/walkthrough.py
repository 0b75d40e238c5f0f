#!/usr/bin/python3
"""walkthrough.py: every site operation of kisekae through the kisekae package,
each answer checked, against a live stack.

    KISEKAE_API_URLS="http://127.0.0.1:17010/" KISEKAE_SITE_USER=... \
    KISEKAE_SITE_PASSWORD=... [KISEKAE_SAMPLE_RUN=tag] /usr/bin/python3 walkthrough.py

It uses the catalog the stack has (two published items of categories that are
not required, and a scene with two slots or more), creates a member
walk-py-<run>-a and a friend walk-py-<run>-b, and deletes both at the end.
One line per operation; the last line is "walkthrough python: passed (N
operations)" and the exit status 0, or "FAIL <operation>: <why>" and 1.
"""

import os
import re
import struct
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kisekae  # noqa: E402  (the package beside this file)

LANG = "python"
LAG_S = 10              # how long a read may lag behind a change (replicas)


class Failed(Exception):
    def __init__(self, operation, why):
        super().__init__(why)
        self.operation, self.why = operation, why


class Walk:
    def __init__(self):
        self.operations = 0
        self.current = "setup"

    def begin(self, operation):
        self.current = operation

    def ok(self, text):
        print("ok   %-17s %s" % (self.current, text), flush=True)
        self.operations += 1

    def check(self, condition, text):
        if not condition:
            raise Failed(self.current, text)
        self.ok(text)

    def expect_fault(self, error_class, call, *args, **kwargs):
        """Runs call, which must raise error_class; returns the error."""
        try:
            answer = call(*args, **kwargs)
        except error_class as e:
            return e
        except kisekae.KisekaeError as e:
            raise Failed(self.current, "expected %s, got %s (%s)" % (
                error_class.code, e.code, e)) from None
        raise Failed(self.current, "expected a %s fault, got an answer: %r" % (
            error_class.code, answer))


def eventually(read, good, seconds=LAG_S):
    """read() until good(answer) (a replica may lag behind the change just
    made), at most `seconds`; the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = read()
        if good(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def png_size(data):
    """(width, height) of a PNG, or None when data is no PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def jpeg_size(data):
    """(width, height) from a JPEG's SOF segment, or None when data is no JPEG."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    i = 2
    while i + 9 <= len(data) and data[i] == 0xFF:
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                      0xCF):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def download(url):
    response = requests.get(url, timeout=30)
    return response.status_code, response.content


def pick_items(categories, items):
    """Two published items a, b that a new member may wear together: from one
    category that is neither required nor exclusive, else from two categories
    that are not required. None when the catalog has no such pair."""
    by_category = {}
    for item in items:
        by_category.setdefault(item.category_id, []).append(item)
    free = [c for c in categories if not c.required and by_category.get(c.id)]
    for c in free:
        if not c.exclusive and len(by_category[c.id]) >= 2:
            return by_category[c.id][0], by_category[c.id][1]
    if len(free) >= 2:
        return by_category[free[0].id][0], by_category[free[1].id][0]
    return None


def walk(w, api, run, made):
    member, friend, ghost = ("walk-py-%s-%s" % (run, k) for k in ("a", "b", "nobody"))

    # ---- the catalog
    w.begin("ListCategories")
    categories = api.list_categories()
    w.check(categories and all(isinstance(c, kisekae.Category) for c in categories),
            "%d categories: %s" % (len(categories), " ".join(c.name for c in categories)))
    one = api.list_categories(name=categories[0].name)
    w.check(isinstance(one, list) and [c.id for c in one] == [categories[0].id],
            "name=%s: a list of one (id %d)" % (categories[0].name, categories[0].id))
    w.check(api.list_categories(name="no such category %s" % run) == [],
            "an unknown name: []")

    w.begin("ListItems")
    items, offset, total = [], 0, None
    while True:
        page = api.list_items(offset=offset, limit=100)
        total = page.total
        items += page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    w.check(len(items) == total and all(i.status == "published" for i in items),
            "%d published items (total %d)" % (len(items), total))
    pair = pick_items(categories, items)
    if pair is None:
        raise Failed("ListItems", "the catalog has no two published items of categories "
                     "that are not required (load the sample catalog: ./kisekae up)")
    a, b = pair
    page = api.list_items(category_id=a.category_id, limit=1)
    w.check(isinstance(page.items, list) and len(page.items) == 1 and page.total >= 1,
            "category %d, limit 1: a list of one, total %d" % (a.category_id, page.total))

    w.begin("GetItem")
    item = api.get_item(a.id)
    w.check(item.id == a.id and item.name == a.name and item.layers and all(
        re.fullmatch("[0-9a-f]{64}", layer.sha256) for layer in item.layers),
        "item %d %r: %d layer(s), %dx%d at %d,%d" % (
            item.id, item.name, len(item.layers), item.layers[0].width if item.layers else 0,
            item.layers[0].height if item.layers else 0, item.layers[0].x if item.layers else 0,
            item.layers[0].y if item.layers else 0))
    w.check(api.get_item(b.id).id == b.id, "item %d %r" % (b.id, b.name))

    w.begin("ListScenes")
    scenes = api.list_scenes()
    if not scenes:
        raise Failed("ListScenes", "the stack has no scene (./kisekae up registers the "
                     "sample scene \"park\")")
    scene = next((s for s in scenes if len(s.slots) >= 2), None)
    w.check(scene is not None, "%d scene(s); %r: %dx%d, %d slots" % (
        len(scenes), scene.name if scene else "", scene.width if scene else 0,
        scene.height if scene else 0, len(scene.slots) if scene else 0))

    # ---- avatars
    w.begin("CreateAvatar")
    defaults = {c.default_item_id for c in categories if c.required and c.default_item_id}
    avatar = api.create_avatar(member)
    made.append(member)
    base = list(avatar.worn_item_ids)
    w.check(avatar.version == 1 and set(base) == defaults and avatar.url.endswith("/1.png"),
            "%s version 1 on %s, wearing the defaults %s" % (
                member, avatar.image_server, " ".join(map(str, base))))
    other = api.create_avatar(friend)
    made.append(friend)
    w.check(other.version == 1, "%s version 1 (the friend)" % friend)

    w.begin("GetAvatar")
    got = api.get_avatar(member, min_version=1)
    w.check(got.version == 1 and got.url == avatar.url, "version 1, %s" % got.url)

    w.begin("download")
    status, data = download(avatar.url)
    canvas = png_size(data)
    w.check(status == 200 and canvas, "HTTP %d, a %s PNG" % (
        status, "%dx%d" % canvas if canvas else "no"))
    status, data = download(avatar.thumb_url)
    thumb = png_size(data)
    w.check(status == 200 and thumb, "thumbnail: HTTP %d, a %s PNG" % (
        status, "%dx%d" % thumb if thumb else "no"))
    if scene.width < canvas[0] or scene.height < canvas[1]:
        raise Failed("ListScenes", "scene %r is smaller than the canvas" % scene.name)

    w.begin("ChangeOutfit")
    e = w.expect_fault(kisekae.NotOwnedError, api.change_outfit, member, wear=[a.id])
    w.check(e.code == "NotOwned" and e.fault_code.endswith(":Client"),
            "wearing item %d not owned: %s (%s)" % (a.id, e.code, e.message))

    w.begin("GrantItem")
    for item in (a, b):
        grant = api.grant_item(member, item.id)
        w.check(grant.item_id == item.id and grant.already_owned is False,
                "item %d, already owned: no" % item.id)
    grant = api.grant_item(member, a.id)
    w.check(grant.already_owned is True, "item %d again: already owned" % a.id)

    w.begin("ListMemberItems")
    owned = sorted(base + [a.id, b.id])             # CreateAvatar gave the defaults
    page = eventually(lambda: api.list_member_items(member),
                      lambda p: p.total == len(owned))
    worn_now = {i.item_id for i in page.items if i.worn}
    w.check(page.total == len(owned) and sorted(i.item_id for i in page.items) == owned
            and worn_now == set(base), "total %d: %s, worn: the defaults %s" % (
                page.total, " ".join(str(i.item_id) for i in page.items),
                " ".join(map(str, sorted(worn_now)))))
    page = api.list_member_items(member, category_id=a.category_id, limit=1)
    w.check(isinstance(page.items, list) and len(page.items) == 1 and
            page.items[0].category_id == a.category_id, "category %d, limit 1: a list of one"
            % a.category_id)

    w.begin("ChangeOutfit")
    avatar = api.change_outfit(member, wear=[a.id])
    w.check(avatar.version == 2 and isinstance(avatar.worn_item_ids, list) and
            a.id in avatar.worn_item_ids, "version 2, wearing %s" % " ".join(
                map(str, avatar.worn_item_ids)))
    avatar = api.change_outfit(member, wear=[a.id, b.id])     # a list of two
    worn = avatar.worn_item_ids
    w.check(avatar.version == 3 and a.id in worn and b.id in worn and set(base) <= set(worn),
            "version 3, wearing %s" % " ".join(map(str, worn)))

    w.begin("GetAvatar")
    got = api.get_avatar(member, min_version=3)
    w.check(got.version == 3 and got.url == avatar.url and got.url.endswith("/3.png") and
            got.worn_item_ids == worn, "minVersion 3: version 3, %s" % got.url)

    w.begin("download")
    status, data = download(got.url)
    w.check(status == 200 and png_size(data) == canvas, "HTTP %d, %d bytes of PNG %dx%d" % (
        status, len(data), *(png_size(data) or (0, 0))))

    w.begin("GetAvatars")
    batch = eventually(lambda: api.get_avatars([member, friend, ghost]),
                       lambda r: len(r.avatars) == 2)
    w.check([(x.user_id, x.version) for x in batch.avatars] == [(member, 3), (friend, 1)]
            and batch.missing_user_ids == [ghost],
            "2 avatars in the order asked, missing %s" % " ".join(batch.missing_user_ids))
    batch = api.get_avatars([member])
    w.check(isinstance(batch.avatars, list) and len(batch.avatars) == 1 and
            batch.missing_user_ids == [], "one id: a list of one, none missing")

    w.begin("PreviewAvatar")
    expected = [i for i in worn if i != b.id]
    preview = eventually(lambda: api.preview_avatar(member, remove=[b.id]),
                         lambda p: sorted(p.worn_item_ids) == sorted(expected))
    w.check(isinstance(preview.png, bytes) and png_size(preview.png) == canvas and
            sorted(preview.worn_item_ids) == sorted(expected),
            "without item %d: %d bytes of PNG %dx%d, wearing %s" % (
                b.id, len(preview.png), *(png_size(preview.png) or (0, 0)),
                " ".join(map(str, preview.worn_item_ids))))
    w.check(api.get_avatar(member, min_version=3).version == 3, "nothing saved: still version 3")

    w.begin("RegenerateAvatar")
    avatar = api.regenerate_avatar(member)
    w.check(avatar.version == 4 and avatar.url.endswith("/4.png") and
            sorted(avatar.worn_item_ids) == sorted(worn), "version 4, %s" % avatar.url)

    w.begin("RevokeItem")
    revoked = api.revoke_item(member, b.id)
    w.check(revoked.was_owned and revoked.was_worn and revoked.avatar.version == 5 and
            b.id not in revoked.avatar.worn_item_ids,
            "item %d: was owned and worn; version 5, wearing %s" % (
                b.id, " ".join(map(str, revoked.avatar.worn_item_ids))))
    again = api.revoke_item(member, b.id)
    w.check(not again.was_owned and not again.was_worn and again.avatar.version == 5,
            "item %d again: not owned, nothing changed" % b.id)

    # ---- the album
    w.begin("CreateAlbumPhoto")
    photo = api.create_album_photo(member, scene.id, friend_user_ids=[friend],
                                   caption="walkthrough %s %s" % (LANG, run))
    members = [(m.slot, m.user_id, m.avatar_version) for m in photo.members]
    w.check(photo.url.endswith("/%d.jpg" % photo.id) and photo.scene_id == scene.id and
            members == [(0, member, 5), (1, friend, 1)],
            "photo %d on scene %d: %s" % (photo.id, scene.id, members))
    w.begin("download")
    status, data = download(photo.url)
    w.check(status == 200 and jpeg_size(data) == (scene.width, scene.height),
            "HTTP %d, %d bytes of JPEG %s" % (status, len(data), jpeg_size(data)))

    w.begin("ListAlbumPhotos")
    page = eventually(lambda: api.list_album_photos(member), lambda p: p.total == 1)
    w.check(page.total == 1 and isinstance(page.items, list) and
            [p.id for p in page.items] == [photo.id] and page.items[0].caption == photo.caption,
            "total 1: a list of one, photo %d %r" % (photo.id, photo.caption))
    e = w.expect_fault(kisekae.InvalidArgumentError, api.list_album_photos, member, limit=0)
    w.check(e.code == "InvalidArgument", "limit 0: %s (%s)" % (e.code, e.message))

    w.begin("DeleteAlbumPhoto")
    w.check(api.delete_album_photo(member, photo.id) == photo.id, "photo %d" % photo.id)
    e = w.expect_fault(kisekae.NotFoundError, api.delete_album_photo, member, photo.id)
    w.check(e.code == "NotFound", "photo %d again: %s" % (photo.id, e.code))

    w.begin("ListAlbumPhotos")
    page = eventually(lambda: api.list_album_photos(member), lambda p: p.total == 0)
    w.check(page.total == 0 and page.items == [], "total 0: []")

    # ---- tints (README "Tints"): a worn item's tintable layers in any colour
    w.begin("ChangeOutfit")
    hair = next((i for i in items if i.layers and all(l.tintable for l in i.layers)), None)
    if hair is None:
        raise Failed("ListItems", "the catalog has no tintable item (the sample catalog's "
                     "hair is: ./kisekae up)")
    api.grant_item(friend, hair.id)
    tinted = api.change_outfit(friend, wear=[hair.id], colours={hair.id: "#3366cc"})
    w.check(hair.id in tinted.worn_item_ids and tinted.colours == {hair.id: "#3366CC"},
            "item %d %r in #3366cc: version %d, tint %s, %s, animUrl %s" % (
                hair.id, hair.name, tinted.version, tinted.colours.get(hair.id), tinted.url,
                tinted.anim_url or "(none: no animated item worn)"))
    again = api.change_outfit(friend, colours={hair.id: "#3366CC"})
    w.check(again.version == tinted.version, "the same colour again: still version %d"
            % again.version)
    e = w.expect_fault(kisekae.InvalidArgumentError, api.change_outfit, friend,
                       colours={hair.id: "blue"})
    w.check(e.code == "InvalidArgument", "colour \"blue\": %s (%s)" % (e.code, e.message))
    status, data = download(tinted.url)
    w.check(status == 200 and png_size(data) == canvas, "HTTP %d, the tinted avatar" % status)

    # ---- webhooks: a site checks X-Kisekae-Signature before it trusts a body
    w.begin("webhook")
    secret = "whsec-sample-0123456789abcdef"
    body = (b'{"id":"42","type":"avatar.changed","created":"2026-01-01T00:00:00Z",'
            b'"data":{"userId":"alice","version":3}}')
    signed = 1767225600
    header = "t=%d,v1=8ec7ab68efae06b67c561de35c7c360266a5d4c49646c37f96289724d4ca7e53" % signed
    w.check(kisekae.verify_webhook(body, header, secret, now=signed + 60),
            "a signed sample payload, a minute after t=%d: accepted" % signed)
    tampered = body.replace(b'"version":3', b'"version":4')
    w.check(not kisekae.verify_webhook(tampered, header, secret, now=signed + 60),
            'a tampered body ("version":4): refused')
    w.check(not kisekae.verify_webhook(body, header, "whsec-another-0123456789abcdef",
                                       now=signed + 60), "another secret: refused")
    w.check(not kisekae.verify_webhook(body, header, secret),
            "the same payload now, long after t=%d: refused (older than %d s)"
            % (signed, kisekae.TOLERANCE_S))

    w.begin("DeleteAvatar")
    for user in (member, friend):
        gone = api.delete_avatar(user)
        made.remove(user)
        w.check(gone.user_id == user and gone.album_photos_deleted == 0,
                "%s, %d album photos deleted" % (user, gone.album_photos_deleted))

    w.begin("GetAvatar")

    def deleted():
        try:
            api.get_avatar(member)
            return None
        except kisekae.NotFoundError as e:
            return e
    e = eventually(deleted, lambda e: e is not None)
    w.check(e is not None, "%s after DeleteAvatar: %s" % (member, e.code if e else "found"))


def main():
    urls = os.environ.get("KISEKAE_API_URLS", "").split()
    user = os.environ.get("KISEKAE_SITE_USER")
    password = os.environ.get("KISEKAE_SITE_PASSWORD")
    if not urls or not user or not password:
        print("walkthrough.py: set KISEKAE_API_URLS, KISEKAE_SITE_USER and "
              "KISEKAE_SITE_PASSWORD", file=sys.stderr)
        return 2
    run = os.environ.get("KISEKAE_SAMPLE_RUN") or "%x" % (int(time.time() * 1000) % 16**8)
    w = Walk()
    made = []
    with kisekae.KisekaeClient(urls, user, password, timeout=30, connect_timeout=3) as api:
        try:
            walk(w, api, run, made)
        except Failed as e:
            print("FAIL %s: %s" % (e.operation, e.why), flush=True)
            return 1
        except kisekae.KisekaeError as e:
            print("FAIL %s: unexpected %s" % (w.current, e), flush=True)
            return 1
        finally:
            for user_id in made:                # members left by a failure
                try:
                    api.delete_avatar(user_id)
                except kisekae.KisekaeError as e:
                    print("note: %s not deleted: %s" % (user_id, e), flush=True)
    print("walkthrough %s: passed (%d operations)" % (LANG, w.operations), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
