"""Fixtures of the demo site's browser tests (tests/site, run by run.sh).

The stack's settings come from the environment (run.sh exports the
stack.env of its stack): KISEKAE_DEMO_SITE_URL, KISEKAE_API_URL,
KISEKAE_SITE_USER/PASSWORD. `site` is a zeep client (the site's
credentials) for checking what the pages did; `browser` is one headless
Chromium (Selenium, /usr/bin/chromedriver) whose cookies are cleared before
each test, so every test starts with a new session. When a test fails, a
screenshot and the page's HTML go to KISEKAE_SITE_ARTIFACTS (TEST.png,
TEST.html).
"""

import os
import warnings
from pathlib import Path

import pytest
import requests

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import zeep  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

NS = "urn:kisekae:v1"


def need(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail("%s is not set: run tests/site/run.sh BUILD_DIR" % name)
    return value


@pytest.fixture(scope="session")
def site_url():
    return need("KISEKAE_DEMO_SITE_URL").rstrip("/")


@pytest.fixture(scope="session")
def site():
    """The SOAP API as the site (zeep, the served WSDL, the stack's URL)."""
    url = need("KISEKAE_API_URL")
    session = requests.Session()
    session.auth = (need("KISEKAE_SITE_USER"), need("KISEKAE_SITE_PASSWORD"))
    client = zeep.Client(url + "?wsdl", transport=zeep.Transport(session=session, timeout=30))
    return client.create_service("{%s}Kisekae" % NS, url)


@pytest.fixture(scope="session")
def _driver():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def browser(_driver, site_url):
    _driver.get(site_url + "/site.css")          # a page of the site's origin, to clear its cookies
    _driver.delete_all_cookies()
    return _driver


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "browser" not in item.fixturenames:
        return
    driver = item.funcargs.get("browser")
    folder = os.environ.get("KISEKAE_SITE_ARTIFACTS")
    if driver is None or not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    base = Path(folder) / item.name
    try:
        driver.save_screenshot(str(base) + ".png")
        Path(str(base) + ".html").write_text(driver.page_source)
        print("\nsaved %s.png and %s.html (at %s)" % (base, base, driver.current_url))
    except Exception as exc:  # the browser may be what failed
        print("\ncould not save the page: %s" % exc)
