"""Steps the members, image servers, staff and security tests share.

A staff member signed in with `requests` (what a hand-made POST uses), staff
added through the owner's Staff page, the audit log read back from its page,
and a member of a name no other run uses.
"""

import re
import uuid

import requests
from selenium.common.exceptions import WebDriverException

TOKEN = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
PASSWORD = "correct horse battery"      # long enough for the password policy


def tag():
    return uuid.uuid4().hex[:8]


class Staff:
    """A staff member signed in over HTTP: .post(path, data) sends the form
    with this session's CSRF token unless data gives its own."""

    def __init__(self, env, name, password):
        self.url = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
        self.session = requests.Session()
        token = TOKEN.search(self.get("/login").text).group(1)
        answer = self.session.post(self.url + "/login", allow_redirects=False, timeout=10,
                                   data={"csrf": token, "name": name, "password": password})
        assert answer.status_code == 303, "sign-in of %s: %s" % (name, answer.text)
        self.csrf = TOKEN.search(self.get("/").text).group(1)

    def get(self, path):
        return self.session.get(self.url + path, allow_redirects=False, timeout=30)

    def post(self, path, data=None, with_token=True):
        data = dict(data or {})
        if with_token:
            data.setdefault("csrf", self.csrf)
        return self.session.post(self.url + path, data=data, allow_redirects=False, timeout=60)


def shows(fn):
    """A wait_until condition that is False while the page is being replaced
    (an element gone stale between two looks) rather than an error."""
    def condition():
        try:
            return fn()
        except WebDriverException:
            return False
    return condition


def add_staff(owner_browser, name, role, password=PASSWORD):
    """Adds a staff member through the owner's Staff page."""
    b = owner_browser
    b.open("/staff")
    b.wait("#staff-add-form")
    b.find("#new-name").send_keys(name)
    b.find("#new-role option[value='%s']" % role).click()
    b.find("#new-password").send_keys(password)
    b.find("#add-staff").click()
    b.wait("[data-staff='%s']" % name)
    assert "%s added as %s" % (name, role) in b.find("#messages").text


def audit(browser, **filters):
    """The audit log entries matching filters (staff, action, target), newest
    first, as dicts of the page's columns."""
    query = "&".join("%s=%s" % (k, requests.utils.quote(v)) for k, v in filters.items())
    browser.open("/audit?" + query)
    browser.wait("#audit")
    entries = []
    for row in browser.finds("#audit tbody tr"):
        cells = [c.text for c in row.find_elements("css selector", "td")]
        entries.append(dict(zip(("when", "staff", "action", "target", "before", "after",
                                 "address"), cells)))
    return entries


def actions(entries):
    return [e["action"] for e in entries]
