"""The Purge button of an image server's page in a real browser: shown only
for a server that is draining or down and holds no members; it asks first,
and the purge (PurgeImageServer) removes the server, seen by a SOAP client
(zeep), written to the audit log. The purged server is made up (its URLs
answer nothing) and set draining right after it registers, so no member
goes to it."""

import conftest
from conftest import as_list
from pages_lib import actions, audit, shows, tag

DEAD_URL = "http://127.0.0.1:9"


def names(admin_api):
    return [s.name for s in as_list(admin_api.service.ListImageServers())]


def test_purge_a_drained_server(env, staff, admin_api):
    browser = staff
    # a server holding members shows no Purge button, even draining
    holding = next(s for s in as_list(admin_api.service.ListImageServers())
                   if s.memberCount > 0)
    browser.open("/servers/" + holding.name)
    browser.wait("#mode-form")
    assert browser.finds("#purge") == []

    name = "ui-purge-" + tag()
    node = conftest._integration.node_api(env, name)
    node.service.RegisterImageServer(name=name, internalUrl=DEAD_URL, publicUrl=DEAD_URL,
                                     weight=1)
    browser.open("/servers/" + name)
    browser.wait("#mode-form")
    assert browser.finds("#purge") == []                         # active: not yet
    admin_api.service.SetImageServerMode(name=name, mode="draining")

    browser.open("/servers/" + name)
    browser.wait("#purge").click()
    browser.driver.switch_to.alert.accept()
    browser.wait_until(shows(lambda: "was purged" in browser.find("#messages").text),
                       what="the purge's message")
    assert browser.path().split("?")[0] == "/servers"
    assert browser.finds("[data-server='%s']" % name) == []
    assert name not in names(admin_api)
    entries = audit(browser, target="image server " + name)
    assert actions(entries)[0] == "server.purge"
    assert entries[0]["after"].startswith("purged"), entries[0]
