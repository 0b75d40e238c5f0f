"""Fixtures of the admin UI's browser tests.

Each test gets a fresh headless Chromium (its own cookies, so a session left
by one test never hides a bug in the next), driven by Selenium as a person
would use the pages: typing, choosing files with the file input, clicking.
When a test fails, the browser's screenshot and the page's HTML are saved in
KISEKAE_ADMIN_ARTIFACTS (the runner sets it to BUILD/admin-artifacts).

The stack comes from KISEKAE_ENV (its stack.env): KISEKAE_ADMIN_UI_URL,
KISEKAE_STAFF_USER / KISEKAE_STAFF_PASSWORD, and the SOAP API for zeep.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))      # oracle.py


def _integration_conftest():
    """tests/integration/conftest.py under another name (this file is conftest too)."""
    spec = importlib.util.spec_from_file_location(
        "integration_conftest", HERE.parent / "integration" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_integration = _integration_conftest()
Api, stack_env, as_list = _integration.Api, _integration.stack_env, _integration.as_list
REPORTS = pytest.StashKey[dict]()

WAIT_S = 20


def artifacts_dir():
    """Where screenshots and pages are kept: KISEKAE_ADMIN_ARTIFACTS (the
    runner's BUILD/admin-artifacts), else a folder under /tmp."""
    default = Path(tempfile.gettempdir()) / "kisekae-admin-artifacts"
    return Path(os.environ.get("KISEKAE_ADMIN_ARTIFACTS") or default)


@pytest.fixture(scope="session")
def env():
    values = stack_env()
    if not values.get("KISEKAE_ADMIN_UI_URL"):
        pytest.fail("KISEKAE_ADMIN_UI_URL is not set: run tests/admin/run.sh BUILD_DIR, or "
                    "point KISEKAE_ENV at a stack.env of a stack with an admin server")
    return values


@pytest.fixture(scope="session")
def admin_api(env):
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_ADMIN_USER"], env["KISEKAE_ADMIN_PASSWORD"])


@pytest.fixture(scope="session")
def site_api(env):
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])


class Browser:
    """A Chromium with the admin UI's address and a few steps people take."""

    def __init__(self, env):
        self.url = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(WAIT_S)

    def open(self, path):
        self.driver.get(self.url + path)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, css, timeout=WAIT_S):
        return WebDriverWait(self.driver, timeout).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))

    def wait_until(self, condition, timeout=WAIT_S, what="a condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        pytest.fail("timed out after %s s waiting for %s" % (timeout, what))

    def path(self):
        return self.driver.current_url[len(self.url):] or "/"

    def sign_in(self, name, password):
        self.open("/login")
        self.find("#name").send_keys(name)
        self.find("#password").send_keys(password)
        self.find("#sign-in").click()

    def text(self):
        return self.find("body").text

    def close(self):
        self.driver.quit()


def admin_sql(env, query):
    """Runs query on the admin database (kisekae_admin) with admin server 1's
    credentials, read from its config; returns the output lines."""
    conf = {}
    with open(Path(env["KISEKAE_STATE"]) / "admin1" / "kisekae-admin.conf") as f:
        for line in f:
            words = line.split("#", 1)[0].split(None, 1)
            if len(words) == 2:
                conf[words[0]] = words[1].strip()
    done = subprocess.run(
        ["mariadb", "--batch", "--skip-column-names", "--connect-timeout=5",
         "-h", conf["db_host"], "-P", conf["db_port"], "-u", conf["db_user"], conf["db_name"],
         "-e", query], env=dict(os.environ, MYSQL_PWD=conf["db_password"]),
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(REPORTS, {})[report.when] = report


@pytest.fixture
def browser(env, request):
    b = Browser(env)
    yield b
    reports = request.node.stash.get(REPORTS, {})
    failed = any(r.failed for r in reports.values())
    if failed:
        out = artifacts_dir()
        out.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_")
        try:
            b.driver.save_screenshot(str(out / (name + ".png")))
            (out / (name + ".html")).write_text(b.driver.page_source)
            print("\nscreenshot and HTML of the failure: %s/%s.{png,html}" % (out, name))
        except Exception as e:      # the browser itself may be what failed
            print("\nno screenshot: %s" % e)
    b.close()


@pytest.fixture
def staff(env, browser):
    """A browser signed in as the stack's demo owner."""
    browser.sign_in(env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    browser.wait("#staff-name")
    return browser
