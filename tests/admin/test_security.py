"""Staff security in a real browser and by hand-made requests.

- An account locks after the stack's threshold (3 failed sign-ins in a row:
  tests/admin/run.sh), the right password is then refused too, and an
  owner's unlock lets it in again; every failure is in the audit log.
- A viewer sees no control that changes data on any page, and the server
  refuses the same changes posted by hand with the viewer's session and a
  valid CSRF token: nothing changes.
- A POST to the members, image server or staff pages without a CSRF token
  or with a wrong one is refused and changes nothing.
- A session idle longer than the stack's 30 s ends: the browser is sent to
  the login page. The session is opened when this module starts and looked
  at in its last test, so the other tests run during the wait.
"""

import re
import time

import pytest

from conftest import Browser, as_list
from pages_lib import PASSWORD, Staff, actions, add_staff, audit, shows, tag

IDLE_S = 30            # session_idle of the test stack (run.sh)


@pytest.fixture(scope="module", autouse=True)
def idle_session(env):
    """A session opened when this module starts, then left alone."""
    session = Staff(env, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    return session, time.monotonic()


@pytest.fixture(scope="module")
def owner(env):
    return Staff(env, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])


def test_lock_out_after_the_threshold_and_an_owners_unlock(env, staff):
    owner_browser = staff
    name = "ui-lock-" + tag()
    add_staff(owner_browser, name, "editor")
    user = Browser(env)
    try:
        for attempt in (1, 2):
            user.sign_in(name, "not the password")
            assert user.wait("#login-error").text == "Wrong name or password."
        user.sign_in(name, "not the password")
        assert "now locked" in user.wait("#login-error").text
        user.sign_in(name, PASSWORD)                          # the right one: locked all the same
        assert "locked" in user.wait("#login-error").text
        assert user.finds("#staff-name") == []

        owner_browser.open("/staff")
        row = owner_browser.wait("[data-staff='%s']" % name)
        assert "locked" in row.text
        row.find_element("css selector", "a").click()
        assert owner_browser.wait("#staff-state").text == "locked"
        owner_browser.find("#unlock").click()
        owner_browser.wait_until(shows(lambda: owner_browser.find("#staff-state").text ==
                                       "active"), what="the unlocked state")

        user.sign_in(name, PASSWORD)
        assert user.wait("#staff-name").text == name
    finally:
        user.close()

    entries = audit(owner_browser, target="staff " + name)
    done = actions(entries)
    assert done[0] == "staff.unlock"                          # newest first
    assert done.count("login.failed") == 4, done
    assert "staff.unlock" in done and "staff.add" in done
    assert "account now locked" in " ".join(e["after"] for e in entries)
    failed = [e for e in entries if e["action"] == "login.failed"]
    assert all(e["staff"] == "—" and e["address"] for e in failed)


# Every page a viewer may read, with a {member}, {server}, {item}, {category}.
VIEWER_PAGES = ["/", "/categories", "/categories/{category}", "/items", "/items/{item}",
                "/scenes", "/members", "/members?q={member}", "/members/{member}", "/servers",
                "/servers/{server}"]


def change_controls(browser):
    """What on the page could change data: enabled submit controls of POST
    forms (but sign-out's) and links to forms that add or delete."""
    found = []
    for form in browser.finds("form"):
        if (form.get_attribute("method") or "get").lower() != "post" or \
                (form.get_attribute("action") or "").endswith("/logout"):
            continue
        for control in form.find_elements("css selector",
                                          "button, input[type=submit], input[type=file]"):
            if control.is_enabled():
                found.append("%s in form %s" % (control.get_attribute("outerHTML")[:80],
                                                form.get_attribute("action")))
    for link in browser.finds("a[href$='/new'], a[href$='/delete']"):
        found.append(link.get_attribute("href"))
    return found


@pytest.fixture
def world(site_api, admin_api):
    """A member wearing the defaults, an image server, an item and a category."""
    member = "ui-sec-" + tag()
    avatar = site_api.service.CreateAvatar(userId=member)
    server = as_list(admin_api.service.ListImageServers())[0]
    category = as_list(admin_api.service.ListCategories())[0]
    item = admin_api.service.SearchItems(status="published", limit=1).item[0]
    return {"member": member, "avatar": avatar, "server": server.name,
            "category": category.id, "item": item.id}


def snapshot(site_api, admin_api, owner, world):
    """What the refused posts must leave as it was."""
    avatar = site_api.service.GetAvatar(userId=world["member"])
    owned = sorted(i.itemId for i in as_list(
        site_api.service.ListMemberItems(userId=world["member"]).item))
    servers = sorted((s.name, s.mode, s.weight) for s in as_list(
        admin_api.service.ListImageServers()))
    return (avatar.version, avatar.imageServer, owned, servers,
            len(as_list(admin_api.service.ListCategories())),
            admin_api.service.GetItem(itemId=world["item"]).status,
            re.findall(r'data-staff="([^"]+)"', owner.get("/staff").text))


def posts(world, other_server, grantable):
    m, s = world["member"], world["server"]
    return [
        ("/members/%s/grant" % m, {"item": grantable}),
        ("/members/%s/revoke" % m, {"item": world["avatar"].wornItemId[0]}),
        ("/members/%s/regenerate" % m, {}),
        ("/members/%s/move" % m, {"to": other_server}),
        ("/members/%s/delete" % m, {"confirm": m}),
        ("/servers/%s/mode" % s, {"mode": "draining"}),
        ("/servers/%s/weight" % s, {"weight": "9"}),
        ("/servers/%s/move" % s, {"to": other_server, "batch": "1"}),
        ("/servers/%s/purge" % s, {}),
        ("/staff/new", {"name": "ui-intruder-" + tag(), "role": "owner", "password": PASSWORD}),
        ("/categories/new", {"name": "ui-intruder-" + tag(), "z": "5"}),
        ("/items/%d/retire" % world["item"], {}),
    ]


def other_server_of(admin_api, name):
    return [s.name for s in as_list(admin_api.service.ListImageServers()) if s.name != name][0]


def grantable_item(admin_api, site_api, member):
    owned = {i.itemId for i in as_list(site_api.service.ListMemberItems(userId=member).item)}
    return [i.id for i in as_list(admin_api.service.SearchItems(status="published").item)
            if i.id not in owned][0]


def test_a_viewer_sees_no_control_and_the_server_refuses_its_posts(
        env, browser, owner, world, site_api, admin_api):
    name = "ui-viewer-" + tag()
    answer = owner.post("/staff/new", {"name": name, "role": "viewer", "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    browser.sign_in(name, PASSWORD)
    assert browser.wait("#staff-name").text == name
    for page in VIEWER_PAGES:
        browser.open(page.format(**world))
        browser.wait("main h1")
        assert browser.finds(".error-page") == [], "%s: %s" % (page, browser.text()[:300])
        assert change_controls(browser) == [], page
    assert not browser.finds(".menu a[href='/staff']") and not browser.finds(
        ".menu a[href='/audit']")
    for page in ("/staff", "/audit", "/items/new", "/members/%s/delete" % world["member"]):
        browser.open(page)
        assert "Not allowed" in browser.wait("main h1").text, page

    viewer = Staff(env, name, PASSWORD)
    other = other_server_of(admin_api, world["server"])
    grantable = grantable_item(admin_api, site_api, world["member"])
    before = snapshot(site_api, admin_api, owner, world)
    for path, data in posts(world, other, grantable):
        answer = viewer.post(path, data)                      # a valid token: the role decides
        assert answer.status_code == 403, (path, answer.status_code, answer.text[:300])
        assert "Your role (viewer) does not allow" in answer.text, path
    assert snapshot(site_api, admin_api, owner, world) == before


def test_posts_without_or_with_a_wrong_csrf_token_change_nothing(
        env, owner, world, site_api, admin_api):
    other = other_server_of(admin_api, world["server"])
    grantable = grantable_item(admin_api, site_api, world["member"])
    before = snapshot(site_api, admin_api, owner, world)
    for path, data in posts(world, other, grantable):
        for token in (None, "0" * 64, owner.csrf[::-1]):
            form = dict(data)
            if token:
                form["csrf"] = token
            answer = owner.post(path, form, with_token=False)
            assert answer.status_code == 403, (path, token, answer.text[:300])
            assert "Nothing was changed" in answer.text
    assert snapshot(site_api, admin_api, owner, world) == before
    # the owner's own token works (the refusals were the token's)
    answer = owner.post("/members/%s/grant" % world["member"], {"item": grantable})
    assert answer.status_code == 303


def test_an_idle_session_ends(env, browser, idle_session):
    session, opened = idle_session
    wait = IDLE_S + 1 - (time.monotonic() - opened)
    if wait > 0:
        time.sleep(wait)
    # the browser holding the idle session's cookie is sent to the login page
    browser.open("/login")
    browser.wait("#login-form")
    browser.driver.delete_all_cookies()
    cookie = session.session.cookies.get("ks_session")
    browser.driver.add_cookie({"name": "ks_session", "value": cookie, "path": "/"})
    browser.open("/members")
    browser.wait("#login-form")
    assert browser.path() == "/login"
    assert browser.finds("#staff-name") == []
    assert session.get("/").status_code == 303               # gone for good
