"""The image server pages in a real browser: drain a server and watch the
dashboard show it, move its members off to the other server with the
page's progress until none remain, change its weight; each change in the
audit log and seen by a SOAP client (zeep)."""

import pytest

from conftest import as_list
from pages_lib import actions, audit, shows, tag


@pytest.fixture
def two_servers(admin_api):
    """(source, target): two active image servers; afterwards both are active
    again with their weights."""
    servers = [s for s in as_list(admin_api.service.ListImageServers()) if s.mode == "active"]
    if len(servers) < 2:
        pytest.fail("the admin test stack needs two active image servers, it has %r"
                    % [s.name for s in servers])
    source, target = servers[-1], servers[0]
    yield source.name, target.name
    for s in (source, target):
        admin_api.service.SetImageServerMode(name=s.name, mode="active")
        admin_api.service.SetImageServerWeight(name=s.name, weight=s.weight)


def dashboard_row(browser, name):
    browser.open("/")
    return browser.wait("#image-servers [data-server='%s']" % name)


def test_drain_and_move_members_off(staff, site_api, admin_api, two_servers):
    browser = staff
    source, target = two_servers
    t = tag()
    for i in range(3):
        site_api.service.CreateAvatar(userId="ui-drain-%s-%d" % (t, i), imageServer=source)

    # drain it
    browser.open("/servers")
    browser.find("[data-server='%s'] a" % source).click()
    browser.wait("#mode-form")
    browser.find("#mode-draining").click()
    browser.find("#save-mode").click()
    browser.wait_until(shows(lambda: browser.find("#server-mode").text == "draining"),
                       what="the draining mode")
    assert "takes no new members" in browser.find("#messages").text
    assert [s.mode for s in as_list(admin_api.service.ListImageServers())
            if s.name == source] == ["draining"]

    # the dashboard shows it
    row = dashboard_row(browser, source)
    assert "state-warn" in row.get_attribute("class")
    assert row.find_element("css selector", ".pill").text == "draining"
    # (the problem column may name another warning first, a sync still under way)
    before = int(row.find_elements("css selector", "td")[3].text)
    assert before >= 3

    # move its members off, two a call, with the progress drawn until none remain
    browser.open("/servers/" + source)
    browser.find("#move-to option[value='%s']" % target).click()
    browser.find("#batch").clear()
    browser.find("#batch").send_keys("2")
    browser.find("#move-off").click()
    browser.wait_until(shows(lambda: "none remain" in browser.find("#move-status").text),
                       timeout=90, what="every member moved off")
    assert int(browser.find("#move-progress").get_attribute("value")) == before
    assert browser.find("#server-members").text == "0"
    browser.open("/servers/" + source)
    assert browser.wait("#server-members").text == "0"
    left = admin_api.service.SearchMembers(imageServer=source)
    assert as_list(left.member) == []
    browser.open("/members?server=" + source)                   # its members, from the page's link
    browser.wait("#no-members")
    browser.open("/members?server=" + target + "&q=ui-drain-" + t)
    browser.wait("#members")
    assert [r.get_attribute("data-member") for r in browser.finds("#members tbody tr")] == [
        "ui-drain-%s-%d" % (t, i) for i in range(3)]
    moved = site_api.service.GetAvatar(userId="ui-drain-%s-0" % t)
    assert moved.imageServer == target
    row = dashboard_row(browser, source)
    assert row.find_elements("css selector", "td")[3].text == "0"

    # its weight
    browser.open("/servers/" + source)
    browser.find("#weight").clear()
    browser.find("#weight").send_keys("7")
    browser.find("#save-weight").click()
    browser.wait_until(shows(lambda: browser.find("#server-weight").text == "7"),
                       what="the weight")
    assert [s.weight for s in as_list(admin_api.service.ListImageServers())
            if s.name == source] == [7]

    # a bad weight is refused next to nothing changed
    browser.find("#weight").clear()
    browser.find("#weight").send_keys("0")
    browser.driver.execute_script("document.getElementById('weight').removeAttribute('min')")
    browser.find("#save-weight").click()
    assert "from 1 to 1000" in browser.wait("#messages .message.error").text
    assert browser.find("#server-weight").text == "7"

    entries = audit(browser, target="image server " + source)
    done = actions(entries)
    assert done[0] == "server.weight" and entries[0]["after"] == "weight 7"
    assert done.count("server.move_members") >= (before + 1) // 2
    assert "0 remain" in [e for e in entries if e["action"] == "server.move_members"][0]["after"]
    assert "server.mode" in done
    mode = [e for e in entries if e["action"] == "server.mode"][0]
    assert (mode["before"], mode["after"]) == ("mode active", "mode draining")
