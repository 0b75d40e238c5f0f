"""The Staff pages (owners only) in a real browser: add a staff member with a
role and a first password, change the role, disable (signed out, cannot
sign in) and enable, set a new password (the old one stops working). An
owner cannot change their own account. Each change is in the audit log."""

import re

import requests

from pages_lib import PASSWORD, Staff, actions, add_staff, audit, shows, tag


def signs_in(env, name, password):
    """1 when name and password open a session, else the page's refusal."""
    try:
        Staff(env, name, password)
        return True
    except AssertionError as refusal:
        return str(refusal)


def test_add_change_role_disable_enable_reset(env, staff):
    browser = staff
    name = "ui-staff-" + tag()
    add_staff(browser, name, "editor")
    row = browser.find("[data-staff='%s']" % name)
    assert "editor" in row.text.lower() and "active" in row.text.lower()
    editor = Staff(env, name, PASSWORD)
    assert editor.get("/items/new").status_code == 200        # an editor edits the catalog
    assert editor.get("/staff").status_code == 403            # and does not manage staff

    # change the role
    row.find_element("css selector", "a").click()
    browser.wait("#role-form")
    staff_path = browser.path()
    browser.find("#role option[value='operator']").click()
    browser.find("#save-role").click()
    browser.wait_until(shows(lambda: browser.find("#staff-role").text == "operator"),
                       what="the new role")
    assert editor.get("/items/new").status_code == 403        # the same session, its new role

    # disable: signed out at once, and no sign-in
    browser.find("#disable").click()
    browser.driver.switch_to.alert.accept()
    browser.wait_until(shows(lambda: browser.find("#staff-state").text == "disabled"),
                       what="the disabled state")
    assert editor.get("/").status_code == 303                 # its session ended
    assert "Wrong name or password" in signs_in(env, name, PASSWORD)
    browser.find("#enable").click()
    browser.wait_until(shows(lambda: browser.find("#staff-state").text == "active"),
                       what="the enabled state")
    assert signs_in(env, name, PASSWORD) is True

    # a new password: the old one no longer opens a session
    browser.find("#new-password").send_keys("a brand new password")
    browser.find("#set-password").click()
    browser.wait_until(shows(lambda: "has a new password" in browser.find("#messages").text),
                       what="the new password's message")     # (the last page had one too)
    assert "Wrong name or password" in signs_in(env, name, PASSWORD)
    assert signs_in(env, name, "a brand new password") is True
    # a password under the policy's length is refused
    browser.find("#new-password").send_keys("short")
    browser.find("#set-password").click()
    assert "Nothing was changed" in browser.wait("#messages .message.error").text

    entries = audit(browser, target="staff " + name)
    done = actions(entries)
    for action in ("staff.add", "staff.role", "staff.disable", "staff.enable", "staff.password"):
        assert action in done, done
    role = [e for e in entries if e["action"] == "staff.role"][0]
    assert (role["before"], role["after"]) == ("role editor", "role operator")
    assert "login.failed" in done                             # the refused sign-ins too
    assert browser.path().startswith("/audit")
    browser.open(staff_path)
    browser.wait("#role-form")


def test_owner_cannot_change_themself_and_names_are_checked(env, staff):
    browser = staff
    me = Staff(env, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    page = browser.url + "/staff"
    browser.open("/staff")
    own = browser.find("[data-staff='%s'] a" % env["KISEKAE_STAFF_USER"]).get_attribute("href")
    own_path = own[len(browser.url):]
    answer = me.post(own_path + "/role", {"role": "viewer"})
    assert answer.status_code == 400 and "cannot change your own account" in answer.text
    answer = me.post(own_path + "/disable")
    assert answer.status_code == 400
    assert me.get("/staff").status_code == 200                # still an owner, still signed in
    # a bad name, a short password: refused next to the fields, nobody added
    answer = me.post("/staff/new", {"name": "two words", "role": "viewer",
                                    "password": "short"})
    assert answer.status_code == 400
    assert 'id="err-name"' in answer.text and 'id="err-password"' in answer.text
    assert "two words" not in requests.get(page, cookies=me.session.cookies, timeout=10).text


def test_audit_log_filters_and_pages(env, staff):
    """53 entries of one target: a page of 50, newest first, then the older 3
    through the page's own link, which keeps the filter."""
    browser = staff
    owner = Staff(env, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    name = "ui-audit-" + tag()
    answer = owner.post("/staff/new", {"name": name, "role": "viewer", "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    staff_path = re.search(r'href="(/staff/\d+)">%s<' % re.escape(name),
                           owner.get("/staff").text).group(1)
    for i in range(52):
        role = ("editor", "viewer")[i % 2]
        assert owner.post(staff_path + "/role", {"role": role}).status_code == 303

    first = audit(browser, target="staff " + name)
    assert len(first) == 50
    assert all(e["target"] == "staff " + name for e in first)
    assert first[0]["after"] == "role viewer"                 # the last change, first
    ids = [int(r.get_attribute("data-audit")) for r in browser.finds("#audit tbody tr")]
    assert ids == sorted(ids, reverse=True)
    browser.find("#next-page").click()
    browser.wait("#audit")
    rows = browser.finds("#audit tbody tr")
    older = [int(r.get_attribute("data-audit")) for r in rows]
    assert len(older) == 3 and max(older) < min(ids)
    assert [r.get_attribute("data-action") for r in rows][-1] == "staff.add"
    assert browser.finds("#next-page") == []
    # the other filters: the action, and the staff member who acted (exactly)
    by_action = audit(browser, action="staff.ro", target="staff " + name)
    assert len(by_action) == 50 and {e["action"] for e in by_action} == {"staff.role"}
    assert audit(browser, staff=env["KISEKAE_STAFF_USER"] + "x", target="staff " + name) == []
