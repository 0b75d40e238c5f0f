"""The demo community site (samples/community-site) in headless Chromium, as a
member clicks through it, with what it did checked through SOAP (zeep):

- the profile shows the avatar and its thumbnail through the API's
  /avatar redirects, and they load under the page's Content-Security-Policy;
- the shop gets an item (a POST): the member owns it afterwards;
- the dress-up room tries an item on (a preview, nothing saved: the avatar's
  version and outfit are unchanged), saves it (ChangeOutfit), and shows the
  new avatar at once: its <img> has the new version's URL, which is a PNG of
  the canvas size;
- a worn tintable item (the sample hair) takes a colour from the dress-up
  room's colour picker: tried on (a preview, nothing saved), then saved: the
  avatar answers carry the colour, the page shows it and the saved image is
  the preview's;
- a fault is a friendly message on the page (saving an item not owned);
- the album takes a photo with a friend and a caption that needs escaping,
  lists it and deletes it;
- forms without the session's CSRF token change nothing, and no GET does.
"""

import base64
import io
import os
import re
import time

import requests
from PIL import Image
from timescale import scaled
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

MEMBER = "demo"
FRIEND = "aiko"
WAIT_S = scaled(20)


def eventually(read, ok, seconds=scaled(5)):
    """read() again until ok(answer), for up to seconds: list reads come from
    a replica, which may be a moment behind a change just made."""
    deadline = time.monotonic() + seconds
    answer = read()
    while not ok(answer) and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = read()
    return answer


def canvas():
    width, height = os.environ.get("KISEKAE_CANVAS", "240x320").split("x")
    return int(width), int(height)


def wait_css(driver, css):
    return WebDriverWait(driver, WAIT_S).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_loaded(driver, image):
    """Waits until an <img> has loaded and returns its natural width (0: broken)."""
    driver.execute_script("arguments[0].scrollIntoView()", image)
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return arguments[0].complete", image))
    return driver.execute_script("return arguments[0].naturalWidth", image)


def messages(driver):
    """The page's messages, read in one go (a page being replaced meanwhile
    would make elements found one by one stale)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('p.message'), e => e.textContent)")


def open_as(driver, site_url, path, member=MEMBER):
    """Opens path logged in as member (the switcher in the header, a POST)."""
    driver.get(site_url + path)
    Select(wait_css(driver, "#member-switch")).select_by_value(member)
    driver.find_element(By.CSS_SELECTOR, ".switcher button").click()
    WebDriverWait(driver, WAIT_S).until(
        lambda d: "Hello, %s!" % member.capitalize() in " ".join(messages(d)))
    if not driver.current_url.endswith(path):
        driver.get(site_url + path)


def catalog(site):
    categories = {c.id: c for c in site.ListCategories()}
    items = site.ListItems(offset=0, limit=100).item
    return categories, items


def owned(site, member):
    return {m.itemId for m in site.ListMemberItems(userId=member, offset=0, limit=100).item}


def not_owned(site, avoid=()):
    """An item the member does not own: one neither worn nor a category's
    default, revoked first when the member has it (a reused stack)."""
    categories, items = catalog(site)
    worn = set(site.GetAvatar(userId=MEMBER).wornItemId)
    defaults = {c.defaultItemId for c in categories.values()}
    choice = [i for i in items if i.id not in worn and i.id not in defaults and i.id not in avoid]
    assert choice, "the catalog has no item to take away from %s" % MEMBER
    item = choice[-1]
    site.RevokeItem(userId=MEMBER, itemId=item.id)
    eventually(lambda: owned(site, MEMBER), lambda have: item.id not in have)
    return item


def png_size(url):
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, (url, answer.status_code)
    assert answer.content.startswith(b"\x89PNG\r\n\x1a\n"), url
    image = Image.open(io.BytesIO(answer.content))
    image.load()
    return image.size


def test_profile_shows_the_avatar_through_the_redirects(browser, site_url, site):
    open_as(browser, site_url, "/profile")
    api = os.environ["KISEKAE_API_URL"].rstrip("/")
    avatar = wait_css(browser, "#profile-avatar")
    thumb = browser.find_element(By.CSS_SELECTOR, "#profile-thumb")
    assert avatar.get_attribute("src") == "%s/avatar/%s.png" % (api, MEMBER)
    assert thumb.get_attribute("src") == "%s/avatar/%s/thumb.png" % (api, MEMBER)
    assert wait_loaded(browser, avatar) == canvas()[0]
    assert wait_loaded(browser, thumb) > 0
    version = site.GetAvatar(userId=MEMBER).version
    assert browser.find_element(By.CSS_SELECTOR, "#avatar-version").text == str(version)
    assert browser.title.startswith(MEMBER.capitalize())


def test_shop_gets_an_item(browser, site_url, site):
    item = not_owned(site)
    open_as(browser, site_url, "/shop")
    card = wait_css(browser, 'li.item[data-item-id="%d"]' % item.id)
    assert item.name in card.text
    picture = card.find_element(By.TAG_NAME, "img")                # the item on the member
    assert wait_loaded(browser, picture) == canvas()[0]
    card.find_element(By.CSS_SELECTOR, "button.get").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: any("is yours" in m for m in messages(d)))
    assert "%s is yours" % item.name in " ".join(messages(browser))
    assert not browser.find_elements(By.CSS_SELECTOR, 'li.item[data-item-id="%d"]' % item.id)
    assert item.id in eventually(lambda: owned(site, MEMBER), lambda have: item.id in have)


def test_try_on_changes_nothing_then_save_shows_the_new_avatar(browser, site_url, site):
    categories, items = catalog(site)
    before = site.GetAvatar(userId=MEMBER)
    # An item of an exclusive category where the member wears something else.
    worn_categories = {i.categoryId for i in items if i.id in before.wornItemId}
    choice = [i for i in items if categories[i.categoryId].exclusive
              and i.categoryId in worn_categories and i.id not in before.wornItemId]
    assert choice, "no item to swap in"
    item = choice[0]
    site.GrantItem(userId=MEMBER, itemId=item.id)     # owned, as the shop would give it

    open_as(browser, site_url, "/dressup?category=%d" % item.categoryId)
    current = wait_css(browser, "#current-avatar")
    assert current.get_attribute("src") == before.url
    card = wait_css(browser, 'li.item[data-item-id="%d"]' % item.id)
    card.find_element(By.CSS_SELECTOR, "a.item-link").click()

    preview = wait_css(browser, "#preview")
    assert preview.get_attribute("src").startswith("data:image/png;base64,")
    assert wait_loaded(browser, preview) == canvas()[0]
    after_try = site.GetAvatar(userId=MEMBER)
    assert (after_try.version, sorted(after_try.wornItemId)) == \
        (before.version, sorted(before.wornItemId)), "trying on changed the saved avatar"
    current = browser.find_element(By.CSS_SELECTOR, "#current-avatar")
    assert current.get_attribute("src") == before.url

    browser.find_element(By.CSS_SELECTOR, "#save-outfit").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: any("Saved!" in m for m in messages(d)))
    saved = site.GetAvatar(userId=MEMBER, minVersion=before.version + 1)
    assert saved.version == before.version + 1 and item.id in saved.wornItemId
    current = wait_css(browser, "#current-avatar")
    src = current.get_attribute("src")
    assert src == saved.url and src.endswith("/%d.png" % saved.version), src
    assert current.get_attribute("data-version") == str(saved.version)
    assert wait_loaded(browser, current) == canvas()[0]
    assert png_size(src) == canvas()
    assert not browser.find_elements(By.CSS_SELECTOR, "#preview")

    # The profile's bare <img> on the redirect shows the new version too.
    browser.get(site_url + "/profile")
    assert wait_css(browser, "#avatar-version").text == str(saved.version)
    profile_avatar = browser.find_element(By.CSS_SELECTOR, "#profile-avatar")
    assert wait_loaded(browser, profile_avatar) == canvas()[0]


def pixels(png):
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGBA").tobytes()


def test_a_colour_picked_for_the_hair_is_tried_on_then_saved(browser, site_url, site):
    _, items = catalog(site)
    hair = next(i for i in items if i.layer and all(l.tintable for l in i.layer))
    site.GrantItem(userId=MEMBER, itemId=hair.id)
    # worn in white (no change to the art), so picking a colour is a change
    site.ChangeOutfit(userId=MEMBER, wear=[hair.id], colour=[{"itemId": hair.id,
                                                                "colour": "#FFFFFF"}])
    before = site.GetAvatar(userId=MEMBER)
    colour = "#3366CC"

    open_as(browser, site_url, "/dressup")
    picker = wait_css(browser, '#colours input[type="color"][data-item-id="%d"]' % hair.id)
    assert picker.get_attribute("value") == "#ffffff"
    browser.execute_script("arguments[0].value = arguments[1]", picker, colour.lower())
    browser.find_element(By.CSS_SELECTOR, "#try-colours").click()

    preview = wait_css(browser, "#preview")
    src = preview.get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    assert wait_loaded(browser, preview) == canvas()[0]
    tried = base64.b64decode(src.split(",", 1)[1])
    assert pixels(tried) != pixels(requests.get(before.url, timeout=10).content), \
        "the preview in %s looks like the saved avatar" % colour
    picker = browser.find_element(By.CSS_SELECTOR,
                                  '#colours input[type="color"][data-item-id="%d"]' % hair.id)
    assert picker.get_attribute("value") == colour.lower()
    assert site.GetAvatar(userId=MEMBER).version == before.version, "trying on saved"

    browser.find_element(By.CSS_SELECTOR, "#save-outfit").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: any("Saved!" in m for m in messages(d)))
    saved = site.GetAvatar(userId=MEMBER, minVersion=before.version + 1)
    assert saved.version == before.version + 1
    assert {c.itemId: c.colour for c in saved.wornColour}[hair.id] == colour
    assert wait_css(browser, '.tint[data-item-id="%d"]' % hair.id).text == colour
    current = browser.find_element(By.CSS_SELECTOR, "#current-avatar")
    assert current.get_attribute("src") == saved.url
    assert pixels(requests.get(saved.url, timeout=10).content) == pixels(tried)


def test_a_fault_is_a_friendly_message(browser, site_url, site):
    lacking = not_owned(site)
    before = site.GetAvatar(userId=MEMBER).version
    # A try-on needs no ownership; saving it does.
    open_as(browser, site_url, "/dressup?wear%%5B%%5D=%d" % lacking.id)
    wait_css(browser, "#preview")
    browser.find_element(By.CSS_SELECTOR, "#save-outfit").click()           # ChangeOutfit: NotOwned
    WebDriverWait(browser, WAIT_S).until(lambda d: any("do not own" in m for m in messages(d)))
    assert "Get it in the shop first" in " ".join(messages(browser))
    assert site.GetAvatar(userId=MEMBER).version == before


def test_album_photo_with_a_friend_then_deleted(browser, site_url, site):
    caption = "Picnic <b>& friends</b> \"quoted\""
    open_as(browser, site_url, "/album")
    photos_before = site.ListAlbumPhotos(userId=MEMBER, offset=0, limit=100).total
    form = wait_css(browser, "form.photo-form")
    radios = form.find_elements(By.CSS_SELECTOR, 'input[name="scene"]')
    assert radios, "no scene on the album page"
    assert radios[0].is_selected()
    form.find_element(By.CSS_SELECTOR, 'input[name="friend[]"][value="%s"]' % FRIEND).click()
    form.find_element(By.CSS_SELECTOR, 'input[name="caption"]').send_keys(caption)
    form.find_element(By.CSS_SELECTOR, "#create-photo").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: any("Say cheese" in m for m in messages(d)))

    album = eventually(lambda: site.ListAlbumPhotos(userId=MEMBER, offset=0, limit=100),
                       lambda a: a.total == photos_before + 1)
    assert album.total == photos_before + 1
    photo = album.photo[0]
    assert photo.caption == caption
    assert [m.userId for m in sorted(photo.member, key=lambda m: m.slot)] == [MEMBER, FRIEND]
    entry = wait_css(browser, 'li.photo[data-photo-id="%d"]' % photo.id)
    assert entry.find_element(By.TAG_NAME, "strong").text == caption     # escaped, shown as typed
    assert "with %s" % FRIEND.capitalize() in entry.text
    image = entry.find_element(By.TAG_NAME, "img")
    assert image.get_attribute("src") == photo.url
    assert wait_loaded(browser, image) > 0
    assert requests.get(photo.url, timeout=10).content[:3] == b"\xff\xd8\xff"

    entry.find_element(By.CSS_SELECTOR, "button.danger").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: any("deleted" in m for m in messages(d)))
    assert not browser.find_elements(By.CSS_SELECTOR, 'li.photo[data-photo-id="%d"]' % photo.id)
    assert eventually(lambda: site.ListAlbumPhotos(userId=MEMBER, offset=0, limit=100).total,
                      lambda total: total == photos_before) == photos_before


def test_forms_need_the_csrf_token_and_gets_change_nothing(site_url, site):
    not_owned(site)                                   # the shop offers something
    session = requests.Session()
    page = session.get(site_url + "/shop", timeout=10)
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe" not in policy
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
    item = int(re.search(r'data-item-id="(\d+)"', page.text).group(1))
    have = owned(site, MEMBER)
    assert item not in have
    for data in ({"item": item}, {"item": item, "csrf": "0" * 64}):
        answer = session.post(site_url + "/shop/get", data=data, timeout=10, allow_redirects=False)
        assert answer.status_code == 403, answer.status_code
        assert "expired" in answer.text
    other = requests.post(site_url + "/shop/get", data={"item": item, "csrf": token}, timeout=10,
                          allow_redirects=False)                  # another session's token
    assert other.status_code == 403
    answer = session.get(site_url + "/shop/get", params={"item": item, "csrf": token}, timeout=10)
    assert answer.status_code == 405
    assert owned(site, MEMBER) == have
