"""The admin UI's time-limited items and animation frames (README
"Time-limited items", "Animated avatars"): the item forms take an optional
window (two datetime-local inputs, read as UTC) and, per layer, the frames
after its first with their delay. What the pages save is read back through
the API (zeep); the animated avatar of a member wearing the item is decoded
by Pillow and every frame compared with the oracle.
"""

import datetime
import io
import uuid

from PIL import Image, ImageDraw

import oracle
from conftest import as_list
from pages_lib import Staff, actions, audit
from test_admin_ui import CANVAS, assert_same, full_canvas_layers, screenshot
from test_tints_ui import submit

UTC = datetime.timezone.utc


def minute(delta):
    """Now + delta, to the minute, in UTC."""
    return (datetime.datetime.now(UTC) + delta).replace(second=0, microsecond=0)


def local(at):
    """at as a datetime-local input's value."""
    return at.strftime("%Y-%m-%dT%H:%M")


def set_value(browser, css, value):
    """Sets an input's value as the date picker would (typing into a
    datetime-local input depends on the browser's locale)."""
    browser.driver.execute_script("arguments[0].value = arguments[1]", browser.find(css), value)


def draw(tmp_path, name, box, fill):
    image = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle(box, fill=fill)
    path = tmp_path / ("%s.png" % name)
    image.save(path)
    return str(path)


def fill_new(browser, name, category_id, layer, frames=(), delay=None, window=(None, None)):
    """Fills the registration form: one layer (its frames after the first
    and their delay), the window (from, until: datetime-local values)."""
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys(name)
    browser.find("#category option[value='%d']" % category_id).click()
    browser.find("#layer1").send_keys(layer)
    if frames:
        browser.find("#frames1").send_keys("\n".join(frames))     # several files at once
    if delay is not None:
        browser.find("#delay1").send_keys(str(delay))
    for css, value in zip(("#available_from", "#available_until"), window):
        if value:
            set_value(browser, css, value)


def test_a_time_limited_item_and_a_bad_window(staff, admin_api, tmp_path):
    browser = staff
    tag = uuid.uuid4().hex[:8]
    category = admin_api.service.RegisterCategory(
        name="ui-window-" + tag, zOrder=730, exclusive=False, required=False)
    art = draw(tmp_path, "badge", (100, 100, 140, 140), (20, 160, 60, 255))
    start, end = minute(datetime.timedelta(days=1)), minute(datetime.timedelta(days=3))

    # a bad window: the API's fault next to the window, nothing registered
    bad_name = "UI bad window " + tag
    fill_new(browser, bad_name, category.id, art, window=(local(end), local(start)))
    browser.find("#save-draft").click()
    error = browser.wait("#err-window")
    assert "InvalidArgument" in error.text and "availableUntil must be after availableFrom" \
        in error.text, error.text
    assert browser.find("#available_from").get_attribute("value") == local(end)   # kept
    screenshot(browser, "item-window-error.png")
    assert admin_api.service.SearchItems(nameContains=bad_name).total == 0

    # a good one: saved, shown on the item page and in the grid
    name = "UI seasonal " + tag
    fill_new(browser, name, category.id, art, window=(local(start), local(end)))
    submit(browser, "#publish")
    item_id = int(browser.find("#item-id").text)
    item = admin_api.service.GetItem(itemId=item_id)
    assert (item.availableFrom, item.availableUntil) == (start, end)
    window = "from %s until %s UTC" % (start.strftime("%Y-%m-%d %H:%M"),
                                      end.strftime("%Y-%m-%d %H:%M"))
    assert browser.find("#item-window").text == window + " upcoming"
    assert browser.find(".layer-frames").text == "still"
    assert browser.find("#available_until").get_attribute("value") == local(end)  # edit form
    browser.open("/items?q=" + tag)
    tile = browser.wait("[data-item='%d'] .item-window" % item_id)
    assert tile.text == window
    screenshot(browser, "items-window.png")

    # the edit form: a bad window changes nothing, an empty side opens it
    browser.open("/items/%d" % item_id)
    browser.wait("#item-form")
    set_value(browser, "#available_until", local(start - datetime.timedelta(hours=1)))
    browser.find("#save").click()
    assert "availableUntil must be after availableFrom" in browser.wait("#err-window").text
    item = admin_api.service.GetItem(itemId=item_id)
    assert (item.availableFrom, item.availableUntil) == (start, end)
    browser.open("/items/%d" % item_id)
    browser.wait("#item-form")
    set_value(browser, "#available_until", "")
    submit(browser, "#save")
    item = admin_api.service.GetItem(itemId=item_id)
    assert (item.availableFrom, item.availableUntil) == (start, None)
    assert browser.find("#item-window").text.startswith("from %s UTC" %
                                                         start.strftime("%Y-%m-%d %H:%M"))
    entries = audit(browser, target="item %d" % item_id)
    assert actions(entries)[:2] == ["item.update", "item.register"], entries
    assert "available from" in entries[0]["before"] and "until" in entries[0]["before"]
    assert "until" not in entries[0]["after"]


def test_an_animated_layer_from_the_form(env, staff, admin_api, site_api, tmp_path):
    browser = staff
    tag = uuid.uuid4().hex[:8]
    category = admin_api.service.RegisterCategory(
        name="ui-anim-" + tag, zOrder=740, exclusive=False, required=False)
    first = draw(tmp_path, "blink0", (96, 60, 144, 76), (30, 30, 200, 255))
    second = draw(tmp_path, "blink1", (96, 66, 144, 70), (200, 30, 30, 180))

    fill_new(browser, "UI blink " + tag, category.id, first, frames=[second], delay=250)
    submit(browser, "#publish")
    item_id = int(browser.find("#item-id").text)
    assert browser.find(".layer-frames").text == "2 frames (250 250 ms)"
    screenshot(browser, "item-frames.png")
    layer = as_list(admin_api.service.GetItem(itemId=item_id).layer)[0]
    assert layer.frameCount == 2 and as_list(layer.delayMs) == [250, 250]

    # a member wearing it: its animUrl is an APNG of 2 frames, each the oracle's
    member = "ui-anim-" + tag
    site_api.service.CreateAvatar(userId=member)
    site_api.service.GrantItem(userId=member, itemId=item_id)
    avatar = site_api.service.ChangeOutfit(userId=member, wear=[item_id])
    assert avatar.animUrl, "an avatar wearing an animated item has an animUrl"
    anim = Image.open(io.BytesIO(oracle.fetch_png(avatar.animUrl)))
    assert getattr(anim, "n_frames", 1) == 2
    others = [layer for worn in as_list(avatar.wornItemId) if worn != item_id
              for layer in full_canvas_layers(admin_api, worn)]
    for index, art in enumerate((first, second)):
        anim.seek(index)
        assert_same(oracle.compose(others + [(art, 740)]), anim.convert("RGBA"),
                    "frame %d of the animated avatar" % index)

    # the member's page plays it: the same APNG, through the admin server
    browser.open("/members/" + member)
    image = browser.wait("#avatar-anim")
    browser.wait_until(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", image) == CANVAS[0],
        what="the animated avatar to load")
    owner = Staff(env, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    answer = owner.get("/members/%s/anim.png" % member)
    assert answer.status_code == 200 and answer.content == oracle.fetch_png(avatar.animUrl)
    screenshot(browser, "member-anim.png")

    # new art from the edit form: 3 frames now, at the API's default delay
    browser.open("/items/%d" % item_id)
    browser.wait("#item-form")
    browser.find("#layer1").send_keys(first)
    browser.find("#frames1").send_keys("\n".join([second, first]))
    browser.find("#z1").send_keys("740")
    submit(browser, "#save")
    assert browser.find(".layer-frames").text == "3 frames (100 100 100 ms)"
    layer = as_list(admin_api.service.GetItem(itemId=item_id).layer)[0]
    assert layer.frameCount == 3
    entry = audit(browser, target="item %d" % item_id)[0]
    assert entry["action"] == "item.update_art", entry
    assert "1 frame(s) after the first" in entry["before"], entry
    assert "2 frame(s) after the first" in entry["after"], entry

    # frames without their layer's own PNG are refused before the API
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys("UI frames alone " + tag)
    browser.find("#category option[value='%d']" % category.id).click()
    browser.find("#frames2").send_keys(second)
    browser.find("#layer1").send_keys(first)
    browser.find("#save-draft").click()
    assert "no PNG of its own" in browser.wait("#err-layers").text
    assert admin_api.service.SearchItems(nameContains="UI frames alone " + tag).total == 0
