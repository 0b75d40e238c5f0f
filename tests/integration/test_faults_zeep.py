"""Bad input gets a SOAP fault with a stable code, and changes nothing.

For each operation, a caller error must come back as a SOAP 1.1 Fault whose
faultcode is SOAP-ENV:Client and whose <detail> holds a ks:KisekaeFault with
the stable code; a read afterwards must show that nothing changed (the
category or item was not created, the member's version and outfit are the
same, an unknown member was not created on the way).
"""

import base64
import io
import struct
import time
import zlib

import pytest
import requests
import zeep.exceptions
from PIL import Image

import stackctl
from conftest import NS, Api, as_list, envelope, layer_inputs, unique, wait_for

UNKNOWN_ID = 2147480000                 # an id no test stack reaches


def assert_fault(info, code, client=True):
    assert info.code == code, "expected KisekaeFault code %s, got %r" % (code, info)
    assert info.message, "the fault message is empty: %r" % info
    if client:
        assert info.faultcode and info.faultcode.rpartition(":")[2] == "Client", (
            "a caller error must have faultcode Client: %r" % info)


def png_bytes(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def padded_png(size_bytes):
    """A valid 240x320 RGBA PNG of more than size_bytes, padded with a private
    ancillary chunk (decoders skip it)."""
    base = png_bytes(Image.new("RGBA", (240, 320), (255, 0, 0, 128)))
    pad = png_chunk(b"prVt", b"\0" * (size_bytes - len(base) + 1024))
    return base[:33] + pad + base[33:]          # after the IHDR chunk


class Setup:
    pass


@pytest.fixture(scope="module")
def world(admin, site, art):
    """A category and items of this module, and a member wearing one of them."""
    s = Setup()
    s.suffix = unique("f").split("-", 1)[1]
    s.category = admin.service.RegisterCategory(
        name="faults-top-%s" % s.suffix, zOrder=200, exclusive=True, required=False)
    s.required = [c for c in as_list(site.service.ListCategories()) if c.required]
    if not s.required:
        body = admin.service.RegisterCategory(name="faults-body-%s" % s.suffix, zOrder=100,
                                              exclusive=True, required=True)
        admin.service.RegisterItem(categoryId=body.id, name="faults body %s" % s.suffix,
                                   price=0, makeDefault=True,
                                   layer=layer_inputs(art["body-light"]["layers"]))
        s.required = [c for c in as_list(site.service.ListCategories()) if c.required]

    def register(key, name):
        return admin.service.RegisterItem(categoryId=s.category.id,
                                          name="faults %s %s" % (name, s.suffix), price=5,
                                          layer=layer_inputs(art[key]["layers"]))
    s.owned = register("top-tshirt", "owned")
    s.not_owned = register("top-sailor", "not-owned")
    s.user_id = "faults-%s" % s.suffix
    created = site.service.CreateAvatar(userId=s.user_id)
    site.service.GrantItem(userId=s.user_id, itemId=s.owned.id)
    s.version = site.service.ChangeOutfit(userId=s.user_id, wear=[s.owned.id]).version
    s.png = layer_inputs(art["top-tshirt"]["layers"])[0]["png"]
    s.friend = "faults-friend-%s" % s.suffix
    # On the member's image server: test_image_server_unavailable stops it
    # and expects the friend's changes to fail too.
    site.service.CreateAvatar(userId=s.friend, imageServer=created.imageServer)
    s.scene = admin.service.RegisterScene(
        name="faults-scene-%s" % s.suffix, png=png_bytes(Image.new("RGB", (640, 400), (90, 140, 200))),
        slot=[{"x": 10, "y": 40}, {"x": 200, "y": 40}])
    # reads may come from a replica: wait until it has what we wrote
    wait_for(lambda: items_of(site, s.category.id)[0] == 2, "the new items in ListItems")
    wait_for(lambda: s.owned.id in [i[0] for i in owned_items(site, s.user_id)],
             "the grant in ListMemberItems")
    wait_for(lambda: s.scene.id in scene_ids(site), "the scene in ListScenes")
    return s


def avatar_state(site, user_id, min_version=None):
    avatar = site.service.GetAvatar(userId=user_id, minVersion=min_version)
    return avatar.version, sorted(as_list(avatar.wornItemId)), avatar.url


def items_of(site, category_id):
    answer = site.service.ListItems(categoryId=category_id, limit=100)
    return answer.total, sorted(i.name for i in as_list(answer.item))


def category_names(site):
    return {c.name for c in as_list(site.service.ListCategories())}


def owned_items(site, user_id):
    answer = site.service.ListMemberItems(userId=user_id, limit=100)
    return sorted((i.itemId, i.status, i.worn) for i in as_list(answer.item))


def scene_ids(site):
    return [s.id for s in as_list(site.service.ListScenes())]


def item_state(admin, item_id):
    item = admin.service.GetItem(itemId=item_id)
    return (item.name, item.status, item.price,
            [(l.layerNo, l.zOrder, l.x, l.y, l.sha256) for l in as_list(item.layer)])


def snapshot(admin, site, world):
    """What the module's failed calls must leave alone: the member's avatar,
    inventory and album, the friend's avatar, the category's items and the
    state of each, the scenes."""
    return (avatar_state(site, world.user_id, world.version),
            owned_items(site, world.user_id),
            site.service.ListAlbumPhotos(userId=world.user_id).total,
            avatar_state(site, world.friend, 1),
            items_of(site, world.category.id),
            item_state(admin, world.owned.id), item_state(admin, world.not_owned.id),
            scene_ids(site))


@pytest.fixture
def unchanged(admin, site, world):
    """Asserts after the test that the module's member, items and scenes are as before."""
    before = snapshot(admin, site, world)
    yield
    after = snapshot(admin, site, world)
    assert after == before, "a failed call changed something"


def assert_no_member(site, user_id):
    info = site.fault("GetAvatar", userId=user_id, minVersion=1)
    assert info.code == "NotFound", "member %s exists after a failed call: %r" % (user_id, info)


# ---- NotFound ---------------------------------------------------------------

def test_register_item_unknown_category(admin, site, world, unchanged):
    name = unique("faults orphan")
    info = admin.fault("RegisterItem", categoryId=UNKNOWN_ID, name=name, price=1,
                       layer=[{"png": world.png}])
    assert_fault(info, "NotFound")


def test_get_avatar_unknown_member(site, world):
    assert_fault(site.fault("GetAvatar", userId=unique("nobody")), "NotFound")


def test_grant_item_unknown_member(site, world):
    user_id = unique("nobody")
    assert_fault(site.fault("GrantItem", userId=user_id, itemId=world.owned.id), "NotFound")
    assert_no_member(site, user_id)


def test_grant_item_unknown_item(site, world, unchanged):
    assert_fault(site.fault("GrantItem", userId=world.user_id, itemId=UNKNOWN_ID), "NotFound")


def test_change_outfit_unknown_member(site, world):
    user_id = unique("nobody")
    assert_fault(site.fault("ChangeOutfit", userId=user_id, wear=[world.owned.id]), "NotFound")
    assert_no_member(site, user_id)


def test_change_outfit_unknown_item(site, world, unchanged):
    assert_fault(site.fault("ChangeOutfit", userId=world.user_id, wear=[UNKNOWN_ID]),
                 "NotFound")


def test_change_outfit_remove_unknown_item(site, world, unchanged):
    """One unknown id among real ones in remove: NotFound naming it, nothing changes."""
    fault = site.fault("ChangeOutfit", userId=world.user_id,
                       remove=[world.owned.id, UNKNOWN_ID])
    assert_fault(fault, "NotFound")
    assert str(UNKNOWN_ID) in fault.message


# ---- RegisterItem: bad layers ------------------------------------------------

def register_bad(admin, world, png, **kwargs):
    args = dict(categoryId=world.category.id, name=unique("faults bad"), price=1,
                layer=[{"png": png}])
    args.update(kwargs)
    return admin.fault("RegisterItem", **args)


def test_layer_not_a_png(admin, world, unchanged):
    assert_fault(register_bad(admin, world, b"this is not a PNG at all"), "InvalidArgument")


def test_layer_truncated_png(admin, world, unchanged):
    assert_fault(register_bad(admin, world, world.png[:len(world.png) // 2]), "InvalidArgument")


def test_layer_too_large(admin, world, unchanged):
    png = padded_png(2 * 1024 * 1024)
    assert len(png) > 2 * 1024 * 1024
    Image.open(io.BytesIO(png)).load()          # a valid PNG, only too big
    assert_fault(register_bad(admin, world, png), "TooLarge")


def test_request_over_the_size_limit(admin, world, unchanged):
    """A request larger than the API's max_request_bytes (16m by default) is
    refused at once with TooLarge, not read to the end or taken for bad XML."""
    filler = "A" * (20 * 1024 * 1024)
    body = envelope("RegisterItem", "<ks:categoryId>%d</ks:categoryId><ks:name>%s</ks:name>"
                    "<ks:price>1</ks:price><ks:layer><ks:png>%s</ks:png></ks:layer>"
                    % (world.category.id, unique("faults huge"), filler))
    response, info = admin.post_raw(body, action=NS + "#RegisterItem", timeout=10)
    assert info is not None, "not a SOAP fault: HTTP %d" % response.status_code
    assert info.faultcode.rpartition(":")[2] == "Client", info
    assert info.code == "TooLarge", info


def test_layer_wrong_dimensions(admin, world, unchanged):
    png = png_bytes(Image.new("RGBA", (100, 100), (0, 0, 255, 255)))
    assert_fault(register_bad(admin, world, png), "InvalidArgument")


def test_too_many_layers(admin, world, unchanged):
    assert_fault(register_bad(admin, world, None, layer=[{"png": world.png}] * 9),
                 "InvalidArgument")


def test_bad_item_status(admin, world, unchanged):
    assert_fault(register_bad(admin, world, world.png, status="bogus"), "InvalidArgument")


def test_register_item_second_layer_bad(admin, world, unchanged):
    """A bad layer after a good one: the whole item is refused."""
    assert_fault(register_bad(admin, world, None, layer=[{"png": world.png}, {"png": b"junk"}]),
                 "InvalidArgument")


# ---- missing or malformed input ----------------------------------------------

def test_missing_required_field_zeep(admin, site, world, unchanged):
    """zeep omits a required element when given SkipValue."""
    from zeep.xsd import SkipValue
    assert_fault(site.fault("GrantItem", userId=world.user_id, itemId=SkipValue),
                 "InvalidArgument")
    name = unique("faults-cat")
    assert_fault(admin.fault("RegisterCategory", name=name, zOrder=SkipValue, exclusive=True,
                             required=False), "InvalidArgument")
    assert name not in category_names(site)


def test_missing_required_field_raw(admin, site, world):
    before = category_names(site)
    response, info = admin.post_raw(
        envelope("RegisterCategory", "<ks:zOrder>10</ks:zOrder><ks:exclusive>true"
                 "</ks:exclusive><ks:required>false</ks:required>"),
        action="urn:kisekae:v1#RegisterCategory")
    assert info is not None, "not a SOAP fault: HTTP %d %r" % (response.status_code,
                                                               response.text[:300])
    assert_fault(info, "InvalidArgument")
    assert response.status_code == 500
    assert category_names(site) - before == set()


def test_empty_user_id(site, world):
    assert_fault(site.fault("CreateAvatar", userId=""), "InvalidArgument")


MALFORMED = {
    "truncated envelope": b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.'
                          b'xmlsoap.org/soap/envelope/"><soap:Body><ks:GetAvatar xmlns:ks='
                          b'"urn:kisekae:v1"><ks:userId>x</ks:GetAv',
    "mismatched tags": envelope("GetAvatar", "<ks:userId>x</ks:user>"),
    "not xml": b"hello, world",
    "unclosed root": b'<?xml version="1.0"?><a',
    "not an envelope": b"<a/>",
    "empty body": b"",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_xml(site, world, body):
    """A malformed request is answered at once (its whole body was sent) with
    a Client fault; if it carries a detail, its code is InvalidArgument."""
    response, info = site.post_raw(body, timeout=5)
    assert info is not None, "not a SOAP fault: HTTP %d %r" % (response.status_code,
                                                               response.text[:300])
    assert info.faultcode.rpartition(":")[2] == "Client", info
    if info.code is not None:
        assert info.code == "InvalidArgument", info


def test_unknown_operation(site, world):
    response, info = site.post_raw(envelope("StealAvatar", "<ks:userId>x</ks:userId>"))
    assert info is not None, "not a SOAP fault: HTTP %d" % response.status_code
    assert info.faultcode.rpartition(":")[2] == "Client", info


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_list_items_bad_limit(site, world, limit):
    assert_fault(site.fault("ListItems", limit=limit), "InvalidArgument")


def test_list_items_negative_offset(site, world):
    assert_fault(site.fault("ListItems", offset=-1), "InvalidArgument")


# ---- credentials and roles ---------------------------------------------------

def test_wrong_password(env, world):
    bad = Api(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"], "wrong-" + unique("pw"))
    response, info = bad.post_raw(envelope("ListCategories", ""),
                                  action="urn:kisekae:v1#ListCategories")
    assert response.status_code == 401, "HTTP %d" % response.status_code
    assert "basic" in response.headers.get("WWW-Authenticate", "").lower()
    assert info is not None, "401 without a SOAP fault: %r" % response.text[:300]
    assert_fault(info, "Unauthorized")
    info = bad.fault("ListCategories")          # zeep sees the same
    assert info.code == "Unauthorized" or info.http_status == 401, info


def test_unknown_user(env, world):
    bad = Api(env["KISEKAE_API_URL"], unique("nobody"), "x")
    info = bad.fault("GetAvatar", userId=world.user_id)
    assert info.code == "Unauthorized" or info.http_status == 401, info


def test_no_credentials(env, world):
    anonymous = Api(env["KISEKAE_API_URL"], None, None)
    response, info = anonymous.post_raw(envelope("ListCategories", ""), auth=False)
    assert response.status_code == 401, "HTTP %d" % response.status_code
    assert info is not None and info.code == "Unauthorized", info


def test_site_cannot_register_category(site, world):
    name = unique("faults-forbidden")
    assert_fault(site.fault("RegisterCategory", name=name, zOrder=1, exclusive=True,
                            required=False), "Forbidden")
    assert name not in category_names(site)


def test_site_cannot_register_item(site, world, unchanged):
    assert_fault(site.fault("RegisterItem", categoryId=world.category.id,
                            name=unique("faults forbidden"), price=1,
                            layer=[{"png": world.png}]), "Forbidden")


# ---- member rules --------------------------------------------------------------

def test_wear_not_owned(site, world, unchanged):
    assert_fault(site.fault("ChangeOutfit", userId=world.user_id, wear=[world.not_owned.id]),
                 "NotOwned")


def test_wear_not_owned_with_owned(site, world, unchanged):
    """One item not owned refuses the whole change."""
    assert_fault(site.fault("ChangeOutfit", userId=world.user_id,
                            wear=[world.owned.id, world.not_owned.id]), "NotOwned")


@pytest.mark.parametrize("user_id", ["has space", "slash/es", "semi;colon", "quote'",
                                     "\u7740\u305b\u66ff\u3048", "x" * 65, "../etc"])
def test_create_avatar_invalid_user_id(site, world, user_id):
    assert_fault(site.fault("CreateAvatar", userId=user_id), "InvalidArgument")


def test_get_avatar_invalid_user_id(site, world):
    assert_fault(site.fault("GetAvatar", userId="../../etc/passwd"), "InvalidArgument")


def test_create_avatar_twice(site, world, unchanged):
    assert_fault(site.fault("CreateAvatar", userId=world.user_id), "Conflict")


def test_remove_only_item_of_required_category(site, world, unchanged):
    _version, worn, _url = avatar_state(site, world.user_id, world.version)
    required_defaults = {c.defaultItemId for c in world.required} & set(worn)
    assert required_defaults, "the member wears no default of a required category: %s" % worn
    assert_fault(site.fault("ChangeOutfit", userId=world.user_id,
                            remove=sorted(required_defaults)[:1]), "InvalidArgument")


# ---- the operations of the full API: NotFound ---------------------------------

def test_create_avatar_unknown_image_server(site, world):
    user_id = unique("faults-nowhere")
    assert_fault(site.fault("CreateAvatar", userId=user_id, imageServer=unique("no-such-server")),
                 "NotFound")
    assert_no_member(site, user_id)


@pytest.mark.parametrize("operation", ["DeleteAvatar", "RegenerateAvatar", "ListMemberItems",
                                       "ListAlbumPhotos", "PreviewAvatar"])
def test_unknown_member(site, world, unchanged, operation):
    user_id = unique("nobody")
    assert_fault(site.fault(operation, userId=user_id), "NotFound")
    assert_no_member(site, user_id)


def test_revoke_unknown_member_or_item(site, world, unchanged):
    user_id = unique("nobody")
    assert_fault(site.fault("RevokeItem", userId=user_id, itemId=world.owned.id), "NotFound")
    assert_no_member(site, user_id)
    assert_fault(site.fault("RevokeItem", userId=world.user_id, itemId=UNKNOWN_ID), "NotFound")


@pytest.mark.parametrize("operation", ["GetItem", "RetireItem"])
def test_unknown_item(admin, world, unchanged, operation):
    assert_fault(admin.fault(operation, itemId=UNKNOWN_ID), "NotFound")


def test_update_unknown_item(admin, world, unchanged):
    assert_fault(admin.fault("UpdateItem", itemId=UNKNOWN_ID, price=3), "NotFound")
    assert_fault(admin.fault("UpdateItem", itemId=UNKNOWN_ID, layer=[{"png": world.png}]),
                 "NotFound")


def test_preview_unknown_item(site, world, unchanged):
    assert_fault(site.fault("PreviewAvatar", userId=world.user_id, wear=[UNKNOWN_ID]), "NotFound")
    assert_fault(site.fault("PreviewAvatar", userId=world.user_id, remove=[UNKNOWN_ID]),
                 "NotFound")


def test_album_photo_unknown_scene_member_or_friend(site, world, unchanged):
    assert_fault(site.fault("CreateAlbumPhoto", userId=world.user_id, sceneId=UNKNOWN_ID),
                 "NotFound")
    user_id = unique("nobody")
    assert_fault(site.fault("CreateAlbumPhoto", userId=user_id, sceneId=world.scene.id),
                 "NotFound")
    assert_no_member(site, user_id)
    info = site.fault("CreateAlbumPhoto", userId=world.user_id, sceneId=world.scene.id,
                      friendUserId=[unique("nofriend")])
    assert_fault(info, "NotFound")


def test_delete_unknown_album_photo(site, world, unchanged):
    assert_fault(site.fault("DeleteAlbumPhoto", userId=world.user_id, photoId=UNKNOWN_ID),
                 "NotFound")


def test_set_mode_of_unknown_image_server(admin, world):
    assert_fault(admin.fault("SetImageServerMode", name=unique("no-such-server"), mode="down"),
                 "NotFound")


# ---- limits and bad values: InvalidArgument, TooLarge ----------------------------

def test_get_avatars_limits(site, world):
    assert_fault(site.fault("GetAvatars", userId=[world.user_id] * 101), "InvalidArgument")
    assert_fault(site.fault("GetAvatars", userId=[world.user_id, "bad id"]), "InvalidArgument")
    response, info = site.post_raw(envelope("GetAvatars", ""), action=NS + "#GetAvatars")
    assert info is not None, "not a SOAP fault: HTTP %d" % response.status_code
    assert_fault(info, "InvalidArgument")                                   # no id at all
    assert len(as_list(site.service.GetAvatars(userId=[world.user_id] * 100).avatar)) == 1


@pytest.mark.parametrize("operation", ["ChangeOutfit", "PreviewAvatar"])
def test_wear_and_remove_lists_limits(site, world, unchanged, operation):
    assert_fault(site.fault(operation, userId=world.user_id, wear=[world.owned.id] * 65),
                 "InvalidArgument")
    assert_fault(site.fault(operation, userId=world.user_id, remove=[world.owned.id] * 65),
                 "InvalidArgument")
    assert_fault(site.fault(operation, userId=world.user_id, wear=[world.owned.id],
                            remove=[world.owned.id]), "InvalidArgument")


def test_preview_two_items_of_an_exclusive_category(site, world, unchanged):
    assert_fault(site.fault("PreviewAvatar", userId=world.user_id,
                            wear=[world.owned.id, world.not_owned.id]), "InvalidArgument")


def test_preview_takes_off_a_required_item(site, world, unchanged):
    worn = avatar_state(site, world.user_id, world.version)[1]
    required = sorted({c.defaultItemId for c in world.required} & set(worn))
    assert_fault(site.fault("PreviewAvatar", userId=world.user_id, remove=required[:1]),
                 "InvalidArgument")


@pytest.mark.parametrize("operation", ["ListMemberItems", "ListAlbumPhotos"])
@pytest.mark.parametrize("page", [{"limit": 0}, {"limit": 101}, {"offset": -1},
                                  {"offset": 10000001}])
def test_paging_limits(site, world, operation, page):
    assert_fault(site.fault(operation, userId=world.user_id, **page), "InvalidArgument")


def test_album_photo_limits(site, world, unchanged):
    def photo(**kwargs):
        return site.fault("CreateAlbumPhoto", userId=world.user_id, sceneId=world.scene.id,
                          **kwargs)
    friends = [world.friend] + ["f%d-%s" % (n, world.suffix) for n in range(4)]
    assert_fault(photo(friendUserId=friends), "InvalidArgument")             # 5 friends
    assert_fault(photo(friendUserId=[world.friend, world.friend]), "InvalidArgument")
    assert_fault(photo(friendUserId=[world.user_id]), "InvalidArgument")
    assert_fault(photo(friendUserId=["bad id"]), "InvalidArgument")
    assert_fault(photo(caption="x" * 201), "InvalidArgument")
    assert_fault(photo(caption="tab\tcaption"), "InvalidArgument")
    # the scene has 2 slots: the member and one friend
    assert_fault(photo(friendUserId=[world.friend, world.user_id + "x"]), "InvalidArgument")


def test_update_item_bad_values(admin, world, unchanged):
    def update(**kwargs):
        return admin.fault("UpdateItem", itemId=world.owned.id, **kwargs)
    assert_fault(update(), "InvalidArgument")                                # nothing to change
    assert_fault(update(status="retired"), "InvalidArgument")
    assert_fault(update(status="bogus"), "InvalidArgument")
    assert_fault(update(price=-1), "InvalidArgument")
    assert_fault(update(name="n" * 129), "InvalidArgument")
    assert_fault(update(name=""), "InvalidArgument")
    assert_fault(update(layer=[{"png": world.png}] * 9), "InvalidArgument")
    assert_fault(update(layer=[{"png": b"not a png"}]), "InvalidArgument")
    assert_fault(update(layer=[{"png": world.png, "zOrder": 100001}]), "InvalidArgument")
    assert_fault(update(layer=[{"png": padded_png(2 * 1024 * 1024)}]), "TooLarge")


def test_update_item_to_a_taken_name(admin, world, unchanged):
    assert_fault(admin.fault("UpdateItem", itemId=world.owned.id, name=world.not_owned.name),
                 "Conflict")


def scene_png(width, height):
    return png_bytes(Image.new("RGB", (width, height), (200, 180, 120)))


def test_register_scene_bad_input(admin, world, unchanged):
    def scene(png, slots, name=None):
        return admin.fault("RegisterScene", name=name or unique("faults scene"), png=png,
                           slot=slots)
    ok_png, ok_slot = scene_png(640, 400), [{"x": 0, "y": 0}]
    response, info = admin.post_raw(envelope("RegisterScene", "<ks:name>%s</ks:name><ks:png>%s"
                                             "</ks:png>" % (unique("faults scene"),
                                                            base64.b64encode(ok_png).decode())),
                                    action=NS + "#RegisterScene")
    assert info is not None, "not a SOAP fault: HTTP %d" % response.status_code
    assert_fault(info, "InvalidArgument")                                   # no slot
    assert_fault(scene(ok_png, ok_slot * 6), "InvalidArgument")
    assert_fault(scene(ok_png, [{"x": 401, "y": 0}]), "InvalidArgument")    # avatar sticks out
    assert_fault(scene(ok_png, [{"x": 0, "y": -1}]), "InvalidArgument")
    assert_fault(scene(scene_png(200, 400), ok_slot), "InvalidArgument")     # smaller than an avatar
    assert_fault(scene(b"GIF89a not a png", ok_slot), "InvalidArgument")
    assert_fault(scene(ok_png, ok_slot, name="s" * 65), "InvalidArgument")
    assert_fault(scene(ok_png, ok_slot, name=world.scene.name), "Conflict")
    assert_fault(scene(scene_png(2049, 400), ok_slot), "TooLarge")
    big = padded_png(4 * 1024 * 1024)
    assert_fault(scene(big, ok_slot), "TooLarge")


def test_text_that_is_not_utf8(admin, site, world):
    """A byte that is not UTF-8 in a text field (a client that sends Latin-1
    but declares UTF-8): gSOAP reads it as Latin-1. Either way the API stores
    valid UTF-8 (here "caf\u00e9") or refuses with InvalidArgument; it never
    fails on its side nor stores bytes the database would reject."""
    name = "caf\u00e9-%s" % world.suffix
    body = envelope("RegisterCategory", "<ks:name>caf@E9@-%s</ks:name><ks:zOrder>1</ks:zOrder>"
                    "<ks:exclusive>true</ks:exclusive><ks:required>false</ks:required>"
                    % world.suffix).replace(b"@E9@", b"\xe9")
    response, info = admin.post_raw(body, action=NS + "#RegisterCategory")
    if info is not None:
        assert info.faultcode.rpartition(":")[2] == "Client", info
        assert info.code in (None, "InvalidArgument"), info
        assert name not in category_names(site)
    else:
        assert response.status_code == 200
        wait_for(lambda: [c.name for c in as_list(site.service.ListCategories(name=name))]
                 == [name], "the category stored as %r" % name)


def test_set_image_server_mode_bad_mode(admin, world):
    name = as_list(admin.service.ListImageServers())[0].name
    assert_fault(admin.fault("SetImageServerMode", name=name, mode="asleep"), "InvalidArgument")
    assert_fault(admin.fault("SetImageServerMode", name=name, mode=""), "InvalidArgument")


# ---- roles ----------------------------------------------------------------------------

FORBIDDEN_TO_SITES = {
    "UpdateItem": lambda w: {"itemId": w.owned.id, "price": 1},
    "RetireItem": lambda w: {"itemId": w.owned.id},
    "RegisterScene": lambda w: {"name": unique("faults scene"), "png": scene_png(640, 400),
                                "slot": [{"x": 0, "y": 0}]},
    "ListImageServers": lambda w: {},
    "SetImageServerMode": lambda w: {"name": "img1", "mode": "down"},
}


@pytest.mark.parametrize("operation", sorted(FORBIDDEN_TO_SITES))
def test_site_cannot_use_admin_operations(admin, site, world, unchanged, operation):
    def modes():
        """Each server's mode, but for the silent servers of other tests, which the
        API marks down on its own meanwhile (image_server_timeout)."""
        return {s.name: s.mode for s in as_list(admin.service.GetSystemStatus().imageServer)
                if not s.downBySilence}
    before = modes()
    assert_fault(site.fault(operation, **FORBIDDEN_TO_SITES[operation](world)), "Forbidden")
    after = modes()
    assert {name: after[name] for name in before if name in after} == \
        {name: before[name] for name in before if name in after}


def test_site_sees_no_drafts(admin, site, world, art):
    draft = admin.service.RegisterItem(categoryId=world.category.id, status="draft",
                                       name="faults draft %s" % world.suffix, price=1,
                                       layer=layer_inputs(art["top-sailor"]["layers"]))
    assert_fault(site.fault("GetItem", itemId=draft.id), "NotFound")
    assert_fault(site.fault("GrantItem", userId=world.user_id, itemId=draft.id), "InvalidArgument")


# ---- failures on the server side: DatabaseUnavailable, ImageServerUnavailable, Internal -----

def assert_server_fault(info, code):
    assert info.code == code, "expected KisekaeFault code %s, got %r" % (code, info)
    assert info.faultcode and info.faultcode.rpartition(":")[2] == "Server", (
        "a failure on our side must have faultcode Server: %r" % info)


def test_database_unavailable(env, site, world):
    """The master hangs (SIGSTOP): a write waits db_read_timeout, then is a
    DatabaseUnavailable fault; once it answers again, nothing was written."""
    before = owned_items(site, world.user_id)
    stackctl.pause(env, "db-m")
    try:
        info = site.fault("GrantItem", userId=world.user_id, itemId=world.not_owned.id)
    finally:
        stackctl.resume(env, "db-m")
    assert_server_fault(info, "DatabaseUnavailable")
    assert "database" in info.message

    def master_answers():       # a write that changes nothing: the item is owned already
        try:
            return site.service.GrantItem(userId=world.user_id, itemId=world.owned.id).alreadyOwned
        except zeep.exceptions.Fault:
            return False
    wait_for(master_answers, "the master answering again", timeout=30)
    # The pool shuns a failed server for 2 s (db_pool.c): a worker without an
    # open connection to it fails meanwhile. Let that pass for the next tests.
    time.sleep(2.5)
    assert owned_items(site, world.user_id) == before


def test_image_server_unavailable(env, admin, site, world, unchanged):
    """An image server's FastCGI process is gone (nginx answers 502): changes
    that need it are ImageServerUnavailable faults and change nothing."""
    name = avatar_state(site, world.user_id, world.version)
    newcomer = unique("faults-newcomer")
    component = "img%d" % (1 + [s.name for s in as_list(admin.service.ListImageServers())]
                           .index(site.service.GetAvatar(userId=world.user_id).imageServer))
    doomed = unique("faults-doomed")
    doomed_url = site.service.CreateAvatar(
        userId=doomed, imageServer=site.service.GetAvatar(userId=world.user_id).imageServer).url
    stackctl.stop(env, component)
    try:
        # A deletion does not wait for the server: its images are deleted
        # when it is back (the queue of deletion.c).
        assert site.service.DeleteAvatar(userId=doomed).userId == doomed
        assert_server_fault(site.fault("ChangeOutfit", userId=world.user_id, remove=[world.owned.id]),
                            "ImageServerUnavailable")
        assert_server_fault(site.fault("RegenerateAvatar", userId=world.user_id),
                            "ImageServerUnavailable")
        assert_server_fault(site.fault("PreviewAvatar", userId=world.user_id, wear=[world.not_owned.id]),
                            "ImageServerUnavailable")
        assert_server_fault(site.fault("CreateAlbumPhoto", userId=world.user_id,
                                       sceneId=world.scene.id, friendUserId=[world.friend]),
                            "ImageServerUnavailable")
        if len(as_list(admin.service.ListImageServers())) == 1:
            assert_server_fault(site.fault("CreateAvatar", userId=newcomer),
                                "ImageServerUnavailable")
            assert_no_member(site, newcomer)
    finally:
        stackctl.restart(env)
    assert avatar_state(site, world.user_id, world.version) == name
    wait_for(lambda: requests.get(doomed_url, timeout=30).status_code == 404,
             "the deleted member's image gone once its server is back", timeout=30)


def test_internal_error(env, site, world):
    """A failure that is nobody's fault but ours (here: a table the API needs
    is missing) is an Internal fault, without details for the caller."""
    hidden = "scenes_hidden_%s" % world.suffix.replace("-", "_")
    stackctl.sql(env, "RENAME TABLE scenes TO %s" % hidden)
    def failing():              # the replica may not have the rename yet
        try:
            site.service.ListScenes()
            return False
        except zeep.exceptions.Fault:
            return True
    try:
        wait_for(failing, "ListScenes failing (replica lag?)")
        info = site.fault("ListScenes")
    finally:
        stackctl.sql(env, "RENAME TABLE %s TO scenes" % hidden)
    assert_server_fault(info, "Internal")
    assert hidden not in info.message and "scenes" not in info.message, info

    def works_again():          # the replica may still be a rename behind
        try:
            return world.scene.id in scene_ids(site)
        except zeep.exceptions.Fault:
            return False
    wait_for(works_again, "ListScenes working again")
