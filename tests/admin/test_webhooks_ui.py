"""The Webhooks page (README "Signed webhooks") in a real browser: the owner
registers an endpoint on a small HTTP receiver this test runs on loopback,
an avatar change reaches it, the delivery shows in the page's log, and "Send
again" makes the receiver get the same event once more. A bad URL shows the
API's fault; the secret is never shown back; another role gets 403; GETs
change nothing; every change is in the audit log.

The receiver listens on KISEKAE_ADMIN_HOOK_PORT (tests/admin/run.sh sets
it to its port base + 190, a port no stack component uses), else on the
admin UI's port + 150.
"""

import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import as_list
from pages_lib import PASSWORD, Staff, actions, add_staff, audit, shows, tag
from test_admin_ui import screenshot

SECRET = "ui-webhook-secret-0123456789"


class Receiver:
    """An HTTP server on loopback that answers 204 and keeps every POST by
    its path: (event id, type, body, signature valid). Each test's endpoint
    has a path of its own, so an endpoint another run left behind (its
    retries arriving late) is not mistaken for it."""

    def __init__(self, port):
        received = self.received = {}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fields = dict(kv.split("=", 1) for kv in
                              self.headers.get("X-Kisekae-Signature", "").split(",") if "=" in kv)
                mac = hmac.new(SECRET.encode(), ("%s." % fields.get("t", "")).encode() + body,
                               hashlib.sha256).hexdigest()
                received.setdefault(self.path, []).append(
                    (self.headers.get("X-Kisekae-Event-Id"),
                     self.headers.get("X-Kisekae-Event-Type"), json.loads(body),
                     hmac.compare_digest(mac, fields.get("v1", ""))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, path, count, timeout=30):
        """The POSTs to path once there are count of them."""
        deadline = time.monotonic() + timeout
        while len(self.received.get(path, [])) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        got = self.received.get(path, [])
        assert len(got) >= count, "%s got %d POSTs, not %d" % (path, len(got), count)
        return got

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(env):
    port = os.environ.get("KISEKAE_ADMIN_HOOK_PORT")
    if not port:
        port = urllib.parse.urlsplit(env["KISEKAE_ADMIN_UI_URL"]).port + 150
    r = Receiver(int(port))
    yield r
    r.close()


def webhook_ids(admin_api):
    return [w.id for w in as_list(admin_api.service.ListWebhooks())]


def register(browser, url, secret, events):
    browser.open("/webhooks")
    browser.wait("#webhook-form")
    browser.find("#webhook-url").send_keys(url)
    browser.find("#webhook-secret").send_keys(secret)
    for box in browser.finds("#webhook-form input[type=checkbox]"):
        wanted = box.get_attribute("name")[len("event_"):] in events
        if box.is_selected() != wanted:
            box.click()
    browser.find("#register-webhook").click()


def delivery_cells(browser, event_id):
    row = browser.find("[data-event='%s']" % event_id)
    return [c.text for c in row.find_elements("css selector", "td")]


def test_register_deliver_redeliver_and_delete(env, staff, admin_api, site_api, receiver):
    browser = staff
    hook_path = "/hook-" + tag()
    hook_url = "http://127.0.0.1:%d%s" % (receiver.server.server_port, hook_path)
    before = webhook_ids(admin_api)

    # a bad URL: the API's fault, nothing registered, the secret not shown back
    register(browser, "ftp://127.0.0.1/x", SECRET, ["avatar.regenerated"])
    error = browser.wait("#err-register")
    assert "http:// or https://" in error.text, error.text
    assert browser.find("#webhook-url").get_attribute("value") == "ftp://127.0.0.1/x"
    assert browser.find("#webhook-secret").get_attribute("value") == ""
    assert SECRET not in browser.driver.page_source
    assert webhook_ids(admin_api) == before

    register(browser, hook_url, SECRET, ["avatar.changed", "avatar.regenerated"])
    browser.wait_until(shows(lambda: "registered" in browser.find("#messages").text),
                       what="the registration's message")
    (hook,) = [w for w in as_list(admin_api.service.ListWebhooks()) if w.url == hook_url]
    row = browser.find("[data-webhook='%d']" % hook.id)
    assert "avatar.changed, avatar.regenerated" in row.text and hook_url in row.text
    assert SECRET not in browser.driver.page_source
    screenshot(browser, "webhooks.png")

    # an avatar change reaches the receiver, signed, and shows in the log
    member = "ui-hook-" + tag()
    site_api.service.CreateAvatar(userId=member)
    site_api.service.RegenerateAvatar(userId=member)
    event_id, event_type, body, signed = receiver.wait_for(hook_path, 1)[0]
    assert (event_type, body["data"]["userId"], signed) == ("avatar.regenerated", member, True)

    browser.find("[data-webhook='%d'] a" % hook.id).click()
    browser.wait("#webhook-id")
    deadline = time.monotonic() + 20
    while "delivered" not in delivery_cells(browser, event_id)[4]:
        assert time.monotonic() < deadline, delivery_cells(browser, event_id)
        time.sleep(0.5)
        browser.driver.refresh()
        browser.wait("#webhook-id")
    cells = delivery_cells(browser, event_id)
    assert cells[1:3] == ["avatar.regenerated", member] and cells[5:7] == ["1", "204"], cells
    screenshot(browser, "webhook-deliveries.png")
    browser.open("/webhooks/%d?state=failed" % hook.id)
    assert browser.wait("#no-deliveries").text == "No event in state failed for this endpoint."
    browser.open("/webhooks/%d" % hook.id)
    browser.wait("#webhook-id")

    # send it again: the same event id, once more
    browser.find("#redeliver-%s" % event_id).click()
    browser.wait_until(shows(lambda: "again" in browser.find("#messages").text),
                       what="the redelivery's message")
    again = receiver.wait_for(hook_path, 2)[1]
    assert again[0] == event_id and again[3], again

    entries = audit(browser, target="webhook %d" % hook.id)
    assert actions(entries) == ["webhook.redeliver", "webhook.register"], entries
    assert all(SECRET not in (e["before"] or "") + (e["after"] or "") for e in entries)

    # delete: asked first, then gone
    browser.open("/webhooks/%d" % hook.id)
    browser.wait("#delete-webhook").click()
    browser.driver.switch_to.alert.accept()
    browser.wait_until(shows(lambda: "deleted" in browser.find("#messages").text),
                       what="the deletion's message")
    assert browser.path().split("?")[0] == "/webhooks"
    assert hook.id not in webhook_ids(admin_api)
    assert actions(audit(browser, target="webhook %d" % hook.id))[0] == "webhook.delete"


def test_only_owners_and_no_get_changes_anything(env, staff, admin_api):
    owner = Staff(env, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    hook = admin_api.service.RegisterWebhook(url="http://127.0.0.1:9/ui-" + tag(),
                                             secret=SECRET, event=["avatar.moved"])
    try:
        # another role: 403 on every webhook page, no link in the menu
        name = "ui-hook-editor-" + tag()
        add_staff(staff, name, "editor")
        editor = Staff(env, name, PASSWORD)
        assert 'href="/webhooks"' not in editor.get("/").text
        for path in ("/webhooks", "/webhooks/%d" % hook.id):
            assert editor.get(path).status_code == 403, path
        for path, data in (("/webhooks/new", {"url": "http://127.0.0.1:9/x", "secret": SECRET,
                                              "event_avatar.moved": "1"}),
                           ("/webhooks/%d/delete" % hook.id, {}),
                           ("/webhooks/%d/redeliver" % hook.id, {"event": "1"})):
            assert editor.post(path, data).status_code == 403, path
        assert 'href="/webhooks"' in owner.get("/").text

        # GET never changes state: the POST routes answer 405 to a GET (and
        # /webhooks/new is no webhook: 404)
        ids = webhook_ids(admin_api)
        for path, status in (("/webhooks/new?url=http://127.0.0.1:9/y&secret=%s&"
                              "event_avatar.moved=1" % SECRET, 404),
                             ("/webhooks/%d/delete" % hook.id, 405),
                             ("/webhooks/%d/redeliver?event=1" % hook.id, 405)):
            assert owner.get(path).status_code == status, path
        # nor does a POST without the CSRF token
        assert owner.post("/webhooks/%d/delete" % hook.id, with_token=False).status_code == 403
        assert webhook_ids(admin_api) == ids and hook.id in ids
        page = owner.get("/webhooks/%d" % hook.id)
        assert page.status_code == 200 and SECRET not in page.text
    finally:
        admin_api.service.DeleteWebhook(id=hook.id)
