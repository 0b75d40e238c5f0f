"""The admin UI's tints and hide rules (README "Tints", "Hide rules"): per
layer a "tintable" checkbox and a role, per item up to four hide rules, on
the registration and the edit pages. What the pages save is read back
through the API, and an avatar wearing the two items is compared with the
Pillow oracle.
"""

import io
import uuid

from PIL import Image, ImageDraw
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

import oracle
from conftest import as_list
from test_admin_ui import CANVAS, assert_same, full_canvas_layers

COLOUR = "#3070D0"


def draw(tmp_path):
    """A grey hair (back and front layers, so a tint shows its shading) and a
    hat; returns {name: path}."""
    shapes = {
        "back": lambda d: d.ellipse((60, 20, 180, 150), fill=(150, 150, 150, 255)),
        "front": lambda d: (d.rectangle((70, 30, 170, 60), fill=(240, 240, 240, 255)),
                            d.rectangle((80, 40, 160, 48), fill=(90, 90, 90, 200))),
        "hat": lambda d: d.rectangle((64, 4, 176, 40), fill=(200, 40, 40, 255)),
    }
    paths = {}
    for name, shape in shapes.items():
        image = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
        shape(ImageDraw.Draw(image))
        paths[name] = str(tmp_path / ("%s.png" % name))
        image.save(paths[name])
    return paths


def submit(browser, button):
    """Clicks button and waits for the item page the form leads to (a new
    page: the one it was on has an #item-status too)."""
    old = browser.find("html")
    browser.find(button).click()

    def left(driver):
        """The old page is gone: its element is stale, or (as Chrome may say
        while the next page loads) no longer belongs to the document."""
        try:
            old.is_enabled()
            return False
        except WebDriverException:          # StaleElementReferenceException included
            return True
    WebDriverWait(browser.driver, 30).until(left)
    browser.wait("#item-status")


def register(browser, name, category_id, layers, hides=()):
    """Fills and publishes the registration form: layers [(path, z, tintable,
    role)], hides [(category_id, role)]; returns the new item's id."""
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys(name)
    browser.find("#category option[value='%d']" % category_id).click()
    for i, (path, z, tintable, role) in enumerate(layers, start=1):
        browser.find("#layer%d" % i).send_keys(path)
        browser.find("#z%d" % i).send_keys(str(z))
        if tintable:
            browser.find("#tint%d" % i).click()
        browser.find("#role%d" % i).send_keys(role)
    for i, (category, role) in enumerate(hides, start=1):
        browser.find("#hide_category%d option[value='%d']" % (i, category)).click()
        browser.find("#hide_role%d" % i).send_keys(role)
    submit(browser, "#publish")
    return int(browser.find("#item-id").text)


def test_tintable_layers_roles_and_hide_rules(staff, admin_api, site_api, tmp_path):
    browser = staff
    tag = uuid.uuid4().hex[:8]
    hair_category = admin_api.service.RegisterCategory(
        name="ui-tint-hair-" + tag, zOrder=700, exclusive=True, required=False)
    hat_category = admin_api.service.RegisterCategory(
        name="ui-tint-hat-" + tag, zOrder=720, exclusive=True, required=False)
    art = draw(tmp_path)

    hair_id = register(browser, "UI tint hair " + tag, hair_category.id,
                       [(art["back"], 700, True, "back"), (art["front"], 710, True, "front")])
    assert "tintable" in browser.find(".layer-tint").text
    assert [e.text for e in browser.finds(".layer-role")] == ["back", "front"]
    hair = admin_api.service.GetItem(itemId=hair_id)
    assert [(bool(l.tintable), l.role) for l in hair.layer] == [(True, "back"), (True, "front")]

    hat_id = register(browser, "UI tint hat " + tag, hat_category.id,
                      [(art["hat"], 720, False, "")], hides=[(hair_category.id, "front")])
    assert ("category %d front" % hair_category.id) in browser.find("#hide-facts").text
    hat = admin_api.service.GetItem(itemId=hat_id)
    assert [(h.categoryId, h.role) for h in as_list(hat.hide)] == [(hair_category.id, "front")]
    assert browser.find("#hide_role1").get_attribute("value") == "front"   # the edit form

    # worn with a colour, the hat hides the hair's front layer
    member = "ui-tint-" + tag
    site_api.service.CreateAvatar(userId=member)
    for item_id in (hair_id, hat_id):
        site_api.service.GrantItem(userId=member, itemId=item_id)
    avatar = site_api.service.ChangeOutfit(userId=member, wear=[hair_id, hat_id],
                                           colour=[{"itemId": hair_id, "colour": COLOUR}])
    others = [layer for worn in as_list(avatar.wornItemId) if worn not in (hair_id, hat_id)
              for layer in full_canvas_layers(admin_api, worn)]
    expected = others + [(oracle.tint(art["back"], COLOUR), 700), (art["hat"], 720)]
    actual = Image.open(io.BytesIO(oracle.fetch_png(avatar.url)))
    assert_same(oracle.compose(expected), actual, "tinted hair under the hat")

    # the edit page: the rule without a role hides the whole category, then none
    browser.find("#hide_role1").clear()
    submit(browser, "#save")
    hat = admin_api.service.GetItem(itemId=hat_id)
    assert [(h.categoryId, h.role) for h in as_list(hat.hide)] == [(hair_category.id, None)]
    browser.find("#hide_category1 option[value='']").click()
    submit(browser, "#save")
    assert browser.find("#hide-facts").text.endswith("nothing")
    assert as_list(admin_api.service.GetItem(itemId=hat_id).hide) == []
    assert "item.update" in browser.find("#history").text


def test_a_bad_role_is_a_readable_error(staff, admin_api, tmp_path):
    browser = staff
    art = draw(tmp_path)
    name = "UI bad role " + uuid.uuid4().hex[:8]
    browser.open("/items/new")
    browser.wait("#item-form")
    browser.find("#name").send_keys(name)
    browser.find("#category option:nth-child(2)").click()
    browser.find("#layer1").send_keys(art["hat"])
    browser.find("#role1").send_keys("Not A Role")
    browser.find("#save-draft").click()
    error = browser.wait("#err-layers")
    assert "InvalidArgument" in error.text and "role" in error.text
    assert browser.find("#role1").get_attribute("value") == "Not A Role"   # the form is kept
    assert admin_api.service.SearchItems(nameContains=name).total == 0
