"""The members pages in a real browser: look a member up by the beginning of
its user id, see its avatar, thumbnail, version, image server, outfit and
inventory; grant and revoke an item, regenerate, move to the other image
server, delete after a confirmation that names it. A SOAP fault shows as a
message with its code. Every change is in the audit log, and a SOAP client
(zeep) sees each one.
"""

import io

from PIL import Image

import oracle
from conftest import as_list
from pages_lib import actions, audit, shows, tag

CANVAS = oracle.DEFAULT_CANVAS


def published_item(admin_api, name):
    """A published item of a category of its own (one red square layer)."""
    category = admin_api.service.RegisterCategory(name="ui-members-" + tag(), zOrder=650,
                                                  exclusive=False, required=False)
    png = io.BytesIO()
    layer = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    layer.paste((200, 30, 30, 255), (90, 90, 130, 130))
    layer.save(png, "PNG")
    return admin_api.service.RegisterItem(categoryId=category.id, name=name, price=1,
                                          status="published", layer=[{"png": png.getvalue()}])


def image_loaded(browser, css):
    image = browser.wait(css)
    browser.wait_until(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", image),
        what="the image " + css)
    return image


def test_look_up_grant_revoke_regenerate_move_delete(env, staff, admin_api, site_api):
    browser = staff
    t = tag()
    user = "ui-member-" + t
    site_api.service.CreateAvatar(userId=user)
    site_api.service.CreateAvatar(userId=user + "-twin")       # a second match of the prefix
    item = published_item(admin_api, "UI gift " + t)

    # look up by the beginning of the id, then open the member
    browser.open("/members")
    browser.find("#q").send_keys("ui-member-" + t)
    browser.find("#find").click()
    browser.wait("#members")
    listed = [r.get_attribute("data-member") for r in browser.finds("#members tbody tr")]
    assert listed == [user, user + "-twin"]
    browser.find("[data-member='%s'] a" % user).click()
    browser.wait("#member-id")
    assert browser.path() == "/members/" + user
    avatar = site_api.service.GetAvatar(userId=user)
    assert browser.find("#member-version").text == str(avatar.version)
    assert browser.find("#member-server").text == avatar.imageServer
    image_loaded(browser, "#avatar-image")
    image_loaded(browser, "#thumb-image")
    worn = [int(li.get_attribute("data-worn")) for li in browser.finds("#outfit li")]
    assert worn == sorted(as_list(avatar.wornItemId)) or sorted(worn) == sorted(
        as_list(avatar.wornItemId))

    # a fault is a readable message with its code
    browser.find("#grant-item").send_keys("999999999")
    browser.find("#grant").click()
    message = browser.wait("#messages .message.error")
    assert "GrantItem failed: NotFound" in message.text, message.text

    # grant
    browser.find("#grant-item").clear()
    browser.find("#grant-item").send_keys(str(item.id))
    browser.find("#grant").click()
    browser.wait("[data-owned='%d']" % item.id)
    assert "Item %d granted to %s" % (item.id, user) in browser.find("#messages").text
    owned = [i.itemId for i in as_list(site_api.service.ListMemberItems(userId=user).item)]
    assert item.id in owned

    # revoke (the page asks first)
    browser.find("#revoke-%d" % item.id).click()
    browser.driver.switch_to.alert.accept()
    browser.wait_until(shows(lambda: not browser.finds("[data-owned='%d']" % item.id)),
                       what="the revoked item to leave the inventory")
    assert "revoked from %s" % user in browser.find("#messages").text
    owned = [i.itemId for i in as_list(site_api.service.ListMemberItems(userId=user).item)]
    assert item.id not in owned

    # regenerate: a new version
    version = int(browser.find("#member-version").text)
    browser.find("#regenerate").click()
    browser.wait_until(shows(lambda: int(browser.find("#member-version").text) > version),
                       what="a new version")
    assert site_api.service.GetAvatar(userId=user).version > version

    # move to the other image server
    before = site_api.service.GetAvatar(userId=user).imageServer
    target = browser.find("#move-to option").get_attribute("value")
    assert target != before
    browser.find("#move").click()
    browser.wait_until(shows(lambda: browser.find("#member-server").text == target),
                       what="the move")
    moved = site_api.service.GetAvatar(userId=user)
    assert moved.imageServer == target
    image_loaded(browser, "#avatar-image")                       # drawn on its new server

    # delete: the confirmation names the member and wants its id typed again
    browser.find("#delete").click()
    assert browser.wait("#delete-name").text == user
    assert user in browser.find("h1").text
    browser.find("#confirm").send_keys(user + "-twin")           # not this member
    browser.find("#confirm-delete").click()
    assert "Nothing was deleted" in browser.wait("#delete-error").text
    assert site_api.service.GetAvatar(userId=user).userId == user
    browser.find("#confirm").send_keys(user)
    browser.find("#confirm-delete").click()
    browser.wait("#member-search")
    assert "Member %s deleted" % user in browser.find("#messages").text
    assert site_api.fault("GetAvatar", userId=user).code == "NotFound"

    # every change, in the audit log, with the state before and after
    entries = audit(browser, target="member " + user)
    assert actions(entries) == ["member.delete", "member.move", "member.regenerate",
                                "member.revoke", "member.grant"]
    by_action = {e["action"]: e for e in entries}
    assert by_action["member.grant"]["after"] == "item %d owned" % item.id
    assert "on %s" % before in by_action["member.move"]["before"]
    assert "on %s" % target in by_action["member.move"]["after"]
    assert all(e["staff"] == env["KISEKAE_STAFF_USER"] for e in entries)


def test_unknown_member_is_a_clear_page(staff):
    staff.open("/members/nobody-" + tag())
    assert "Member not found" in staff.wait("h1").text
