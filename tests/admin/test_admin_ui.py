"""The admin UI in a real browser (headless Chromium through Selenium).

- Signing in and out, a wrong password, the login page after sign-out.
- Registering an item with two layers chosen with the file input, its live
  preview on the mannequin (checked against the Pillow oracle), publishing
  it; then a SOAP client (zeep) sees it in ListItems, grants it to a new
  member, puts it on, and the member's avatar is the oracle's composite of
  what it wears.
- A non-PNG file, a file over max_upload_bytes and a layer the API refuses
  (its fault code shown) are errors next to the layers, and save nothing.
- A scene registered after its preview.
- Every page answers with the security headers; a POST without the CSRF
  token changes nothing.
- The API tier unreachable: a banner. An expired session: the login page.
  Two admin servers: signed in through one, carrying on through the other.
"""

import io
import os
import re
import uuid

import pytest
import requests
from PIL import Image, ImageDraw

import oracle
import stackctl
from conftest import admin_sql, artifacts_dir, as_list

CANVAS = oracle.DEFAULT_CANVAS


def screenshot(browser, name):
    """Keeps a screenshot of the page in KISEKAE_ADMIN_ARTIFACTS/screens (the
    README's pictures of the admin UI come from here)."""
    out = artifacts_dir() / "screens"
    out.mkdir(parents=True, exist_ok=True)
    height = browser.driver.execute_script("return document.body.scrollHeight")
    browser.driver.set_window_size(1280, max(700, min(height + 40, 1600)))
    browser.driver.save_screenshot(str(out / name))


def test_sign_in_wrong_password_and_sign_out(env, browser):
    browser.open("/")
    browser.wait("#login-form")
    assert browser.path() == "/login"                       # signed out: to the login page
    browser.sign_in(env["KISEKAE_STAFF_USER"], "not-the-password")
    error = browser.wait("#login-error")
    assert "Wrong name or password" in error.text
    assert browser.finds("#staff-name") == []
    browser.sign_in(env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    assert browser.wait("#staff-name").text == env["KISEKAE_STAFF_USER"]
    assert browser.path() == "/"
    assert "Image servers" in browser.text() and browser.finds("#count-members")
    screenshot(browser, "admin-dashboard.png")
    browser.find("#sign-out").click()
    browser.wait("#login-form")
    browser.open("/items")                                  # the old session is gone
    browser.wait("#login-form")
    assert browser.path() == "/login"


def draw_layers(tmp_path):
    """Two full-canvas layers: a hat (z 600) and a scarf (z 590), in colours
    no sample item uses; returns [(path, z)]."""
    hat = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    d = ImageDraw.Draw(hat)
    d.rectangle((70, 8, 170, 40), fill=(20, 160, 90, 255))
    d.ellipse((60, 30, 180, 56), fill=(10, 120, 60, 200))
    scarf = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    d = ImageDraw.Draw(scarf)
    d.rectangle((88, 180, 152, 196), fill=(230, 200, 20, 230))
    d.polygon([(132, 188), (150, 240), (124, 236)], fill=(200, 170, 10, 255))
    paths = [(tmp_path / "hat.png", 600), (tmp_path / "scarf.png", 590)]
    hat.save(paths[0][0])
    scarf.save(paths[1][0])
    return [(str(p), z) for p, z in paths]


def full_canvas_layers(api, item_id):
    """An item's layers from the database (GetItemLayer), each pasted at its
    place on a transparent canvas: [(Image, z)]."""
    item = api.service.GetItem(itemId=item_id)
    layers = []
    for layer in as_list(item.layer):
        png = api.service.GetItemLayer(itemId=item_id, layerNo=layer.layerNo).png
        canvas = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
        canvas.paste(oracle.load_image(png), (layer.x, layer.y))
        layers.append((canvas, layer.zOrder))
    return layers


def assert_same(expected, actual, what):
    diff = oracle.compare(expected, actual)
    assert diff.max_diff <= oracle.TOLERANCE, "%s: %s" % (what, oracle.describe(diff))


def test_register_preview_publish_and_wear(env, staff, admin_api, site_api, tmp_path):
    browser = staff
    tag = uuid.uuid4().hex[:8]
    category = admin_api.service.RegisterCategory(
        name="ui-hats-" + tag, zOrder=600, exclusive=True, required=False)
    layers = draw_layers(tmp_path)

    browser.open("/items/new")
    browser.wait("#item-form")
    name = "UI hat and scarf " + tag
    browser.find("#name").send_keys(name)
    browser.find("#category option[value='%d']" % category.id).click()
    browser.find("#price").clear()
    browser.find("#price").send_keys("25")
    for i, (path, z) in enumerate(layers, start=1):
        browser.find("#layer%d" % i).send_keys(path)          # the file input's real API
        browser.find("#z%d" % i).send_keys(str(z))

    # the live preview, before anything is saved
    browser.find("#preview-button").click()
    image = browser.wait("#preview-image")
    browser.wait_until(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", image),
        what="the preview image")
    screenshot(browser, "admin-register-item.png")

    # the same preview, fetched with the browser's session, for the oracle
    session = requests.Session()
    for cookie in browser.driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    files = {"layer%d" % i: (path.rsplit("/", 1)[1], open(path, "rb"), "image/png")
             for i, (path, _z) in enumerate(layers, start=1)}
    answer = session.post(browser.url + "/items/preview", files=files, timeout=30, data={
        "csrf": browser.find("input[name=csrf]").get_attribute("value"),
        "category": str(category.id), "z1": "600", "z2": "590"})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png", answer.text
    png = answer.content
    preview = Image.open(io.BytesIO(png))
    assert preview.size == CANVAS
    assert admin_api.service.SearchItems(nameContains=name).total == 0   # nothing saved yet
    mannequin = site_api.service.GetAvatar(userId="kisekae-admin-mannequin")
    worn = [layer for item_id in as_list(mannequin.wornItemId)
            for layer in full_canvas_layers(admin_api, item_id)]
    assert_same(oracle.compose(worn + layers), preview, "the preview")

    # publish
    browser.find("#publish").click()
    status = browser.wait("#item-status")
    assert status.text == "published"
    assert "registered as published" in browser.find("#messages").text
    item_id = int(browser.find("#item-id").text)
    assert browser.path() == "/items/%d" % item_id
    assert "item.register" in browser.find("#history").text    # the item's own history
    on_mannequin = browser.find("#item-on-mannequin")     # the saved item, drawn the same way
    browser.wait_until(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth == 240", on_mannequin),
        what="the item on the mannequin")

    # a site sees it, grants it, wears it
    listed = site_api.service.ListItems(categoryId=category.id)
    assert [i.id for i in as_list(listed.item)] == [item_id]
    assert as_list(listed.item)[0].name == name
    member = "ui-wearer-" + tag
    site_api.service.CreateAvatar(userId=member)
    site_api.service.GrantItem(userId=member, itemId=item_id)
    avatar = site_api.service.ChangeOutfit(userId=member, wear=[item_id])
    assert item_id in as_list(avatar.wornItemId)
    expected = [layer for worn_id in as_list(avatar.wornItemId) if worn_id != item_id
                for layer in full_canvas_layers(admin_api, worn_id)] + layers
    actual = Image.open(io.BytesIO(oracle.fetch_png(avatar.url)))
    assert_same(oracle.compose(expected), actual, avatar.url)

    # and the grid shows it with its thumbnail
    browser.open("/items?q=" + tag)
    tile = browser.wait("[data-item='%d']" % item_id)
    thumb = tile.find_element("css selector", "img")
    browser.wait_until(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", thumb),
        what="the item's thumbnail")


def test_bad_upload_is_a_readable_error(staff, admin_api, tmp_path):
    browser = staff
    not_png = tmp_path / "notes.png"
    not_png.write_text("this is not a picture")
    name = "UI broken " + uuid.uuid4().hex[:8]
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys(name)
    browser.find("#category option:nth-child(2)").click()
    browser.find("#layer1").send_keys(str(not_png))
    browser.find("#save-draft").click()
    error = browser.wait("#err-layers")
    assert "is not a PNG file" in error.text
    assert browser.find("#name").get_attribute("value") == name   # the form is kept
    assert admin_api.service.SearchItems(nameContains=name).total == 0


def test_headers_and_csrf(env, admin_api):
    url = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
    session = requests.Session()
    page = session.get(url + "/login", timeout=10)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    # a sign-in without the form's token is refused, and signs nobody in
    answer = session.post(url + "/login", data={"name": env["KISEKAE_STAFF_USER"],
                                                "password": env["KISEKAE_STAFF_PASSWORD"]},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 403
    assert "ks_session" not in answer.headers.get("Set-Cookie", "")
    # a GET never changes anything: publishing by GET is not a route
    assert session.get(url + "/items/1/publish", allow_redirects=False,
                       timeout=10).status_code == 405


def sign_in_requests(env):
    """A requests session signed in through the form, and its CSRF token."""
    url = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
    session = requests.Session()
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"',
                      session.get(url + "/login", timeout=10).text).group(1)
    answer = session.post(url + "/login", data={"csrf": token, "name": env["KISEKAE_STAFF_USER"],
                                                "password": env["KISEKAE_STAFF_PASSWORD"]},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"',
                      session.get(url + "/", timeout=10).text).group(1)
    return session, token


def test_post_without_or_with_a_wrong_csrf_token_changes_nothing(env, admin_api):
    url = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
    category = as_list(admin_api.service.ListCategories())[0]
    png = io.BytesIO()
    Image.new("RGBA", CANVAS, (200, 0, 0, 255)).save(png, "PNG")
    item = admin_api.service.RegisterItem(
        categoryId=category.id, name="UI csrf " + uuid.uuid4().hex[:8], price=1, status="draft",
        layer=[{"png": png.getvalue()}])
    session, token = sign_in_requests(env)
    for data in ({}, {"csrf": "0" * 64}, {"csrf": token[::-1]}):
        answer = session.post(url + "/items/%d/publish" % item.id, data=data,
                              allow_redirects=False, timeout=10)
        assert answer.status_code == 403, answer.text
        assert "Nothing was changed" in answer.text
        assert admin_api.service.GetItem(itemId=item.id).status == "draft"
    answer = session.post(url + "/items/%d/publish" % item.id, data={"csrf": token},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert admin_api.service.GetItem(itemId=item.id).status == "published"


def test_register_a_scene_with_its_preview(staff, admin_api, site_api, tmp_path):
    browser = staff
    background = Image.new("RGBA", (520, 380), (120, 180, 230, 255))
    ImageDraw.Draw(background).rectangle((0, 300, 520, 380), fill=(90, 160, 70, 255))
    path = tmp_path / "park.png"
    background.save(path)
    name = "UI park " + uuid.uuid4().hex[:8]
    browser.open("/scenes/new")
    browser.wait("#scene-form")
    browser.find("#name").send_keys(name)
    browser.find("#background").send_keys(str(path))
    for field, value in (("#x0", "20"), ("#y0", "50"), ("#x1", "260"), ("#y1", "40")):
        browser.find(field).send_keys(value)
    browser.find("#preview-button").click()
    image = browser.wait("#preview-image")
    browser.wait_until(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth == 520", image),
        what="the scene's preview")
    assert name not in [s.name for s in as_list(site_api.service.ListScenes())]   # not saved
    browser.find("#save").click()
    browser.wait("[data-scene]")
    assert "registered" in browser.find("#messages").text
    scene = [s for s in as_list(site_api.service.ListScenes()) if s.name == name][0]
    assert [(s.x, s.y) for s in as_list(scene.slot)] == [(20, 50), (260, 40)]
    assert (scene.width, scene.height) == (520, 380)


def test_too_large_upload_is_a_readable_error(staff, admin_api, tmp_path):
    browser = staff
    big = tmp_path / "huge.png"
    Image.frombytes("RGBA", (1100, 1100), os.urandom(1100 * 1100 * 4)).save(big)
    assert big.stat().st_size > 2 << 20                  # over max_upload_bytes (2m)
    name = "UI huge " + uuid.uuid4().hex[:8]
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys(name)
    browser.find("#category option:nth-child(2)").click()
    browser.find("#layer1").send_keys(str(big))
    browser.find("#publish").click()
    error = browser.wait("#err-layers")
    assert "huge.png" in error.text and "over the limit" in error.text
    assert admin_api.service.SearchItems(nameContains=name).total == 0


def test_a_soap_fault_shows_with_its_code(staff, admin_api, tmp_path):
    """A valid PNG that is not the canvas's size: the API's intake refuses it
    (InvalidArgument) and the page says so next to the layers."""
    browser = staff
    small = tmp_path / "small.png"
    Image.new("RGBA", (100, 100), (0, 0, 255, 255)).save(small)
    name = "UI small " + uuid.uuid4().hex[:8]
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys(name)
    browser.find("#category option:nth-child(2)").click()
    browser.find("#layer1").send_keys(str(small))
    browser.find("#save-draft").click()
    error = browser.wait("#err-layers")
    assert error.text.startswith("InvalidArgument: "), error.text
    assert admin_api.service.SearchItems(nameContains=name).total == 0


def test_an_unreachable_api_is_a_banner(env, staff):
    browser = staff
    stackctl.stop(env, "api1")          # the admin server's only api_url
    try:
        browser.open("/")
        banner = browser.wait("#api-banner")
        assert "The API is unreachable" in banner.text
        assert "GetSystemStatus" in browser.find("#messages").text
    finally:
        stackctl.restart(env)
    browser.open("/")
    browser.wait("#count-members")
    assert browser.finds("#api-banner") == []


def test_an_expired_session_goes_back_to_the_login_page(env, staff):
    browser = staff
    browser.open("/items")
    browser.wait("#item-grid")
    # 31 minutes without a request: past session_idle (30 min)
    admin_sql(env, "UPDATE sessions SET last_seen_at = last_seen_at - 31 * 60, "
                   "created_at = created_at - 31 * 60")
    browser.open("/items")
    browser.wait("#login-form")
    assert browser.path() == "/login"


def test_two_admin_servers_share_the_session(env, staff):
    """Signed in through one admin server, the staff member carries on while
    it is stopped: nginx sends the requests to the other, which finds the
    session in the admin database."""
    browser = staff
    browser.open("/categories")
    browser.wait("#categories")
    stackctl.stop(env, "admin1")
    try:
        for path in ("/items", "/categories", "/"):
            browser.open(path)
            assert browser.wait("#staff-name").text == env["KISEKAE_STAFF_USER"]
    finally:
        stackctl.restart(env)
