"""Shared fixtures of the Python (zeep) integration tests.

The tests drive a running stack through its SOAP API. They read the stack's
settings from the environment (the runner exports KISEKAE_API_URL,
KISEKAE_ADMIN_USER/PASSWORD, KISEKAE_SITE_USER/PASSWORD) or from the
shell-syntax file named by KISEKAE_ENV (the stack.env `./kisekae up` writes;
its values win). Without KISEKAE_API_URL every test is skipped.

Clients are built from the CHECKED-IN wsdl/Kisekae.wsdl, not the served one,
with the endpoint overridden, so the tests also prove that the published WSDL
describes what the server speaks.

    KISEKAE_ENV=/tmp/ks/stack.env /usr/bin/python3 -m pytest tests/integration
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import warnings

import pytest
import requests

# zeep 4.2 imports the deprecated cgi module; not our concern here.
warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import zeep  # noqa: E402
import zeep.exceptions  # noqa: E402
from lxml import etree  # noqa: E402
from zeep.transports import Transport  # noqa: E402
from timescale import scaled

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WSDL = ROOT / "wsdl" / "Kisekae.wsdl"
GENERATOR = ROOT / "samples" / "items" / "generate.py"
NS = "urn:kisekae:v1"
BINDING = "{%s}Kisekae" % NS
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "deploy"))
from stackenv import read_env_file  # noqa: E402  (re-exported to the other suites)



def stack_env():
    env = {k: v for k, v in os.environ.items() if k.startswith("KISEKAE_")}
    if os.environ.get("KISEKAE_ENV"):
        env.update(read_env_file(os.environ["KISEKAE_ENV"]))
    return env


def unique(prefix):
    """A name no other run uses: prefix plus a random suffix."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class FaultInfo:
    """What a failed call answered: the SOAP faultcode and faultstring, the
    KisekaeFault detail's code and message, and the HTTP status if known."""

    def __init__(self, faultcode, faultstring, code, message, http_status=None):
        self.faultcode, self.faultstring = faultcode, faultstring
        self.code, self.message, self.http_status = code, message, http_status

    def __repr__(self):
        return "Fault(faultcode=%r, code=%r, message=%r, faultstring=%r, http=%r)" % (
            self.faultcode, self.code, self.message, self.faultstring, self.http_status)


def detail_fields(detail):
    """(code, message) from a <detail> element holding a ks:KisekaeFault, or
    (None, None)."""
    if detail is None:
        return None, None
    for node in detail.iter():
        if isinstance(node.tag, str) and node.tag.rpartition("}")[2] == "KisekaeFault":
            fields = {child.tag.rpartition("}")[2]: (child.text or "")
                      for child in node if isinstance(child.tag, str)}
            return fields.get("code"), fields.get("message")
    return None, None


class Api:
    """A zeep client of the checked-in WSDL for one set of credentials."""

    def __init__(self, endpoint, user, password, timeout=60):
        self.endpoint = endpoint
        self.session = requests.Session()
        if user is not None:
            self.session.auth = (user, password)
        transport = Transport(session=self.session, timeout=timeout,
                              operation_timeout=timeout)
        self.client = zeep.Client(str(WSDL), transport=transport)
        self.service = self.client.create_service(BINDING, endpoint)
        self._fault_element = self.client.get_element("{%s}KisekaeFault" % NS)

    def fault(self, operation, **kwargs):
        """Calls operation expecting a fault; returns its FaultInfo. Fails the
        test if the call succeeds."""
        try:
            result = getattr(self.service, operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            code, message = None, None
            if fault.detail is not None:
                for child in fault.detail:
                    if isinstance(child.tag, str) and child.tag == "{%s}KisekaeFault" % NS:
                        typed = self._fault_element.parse(child, self.client.wsdl.types)
                        code, message = typed.code, typed.message
                if code is None:
                    code, message = detail_fields(fault.detail)
            return FaultInfo(fault.code, fault.message, code, message)
        except zeep.exceptions.TransportError as e:
            info = FaultInfo(None, None, None, None, e.status_code)
            info.body = e.content
            return info
        pytest.fail("%s(%r) succeeded, a fault was expected; answer: %r" % (
            operation, kwargs, result))

    def post_raw(self, body, action="", auth=True, content_type="text/xml; charset=utf-8",
                 timeout=30):
        """POSTs bytes as they are; returns (response, FaultInfo or None).
        The whole body is sent with its Content-Length, so the server has no
        reason to wait: no answer within timeout seconds fails the test."""
        headers = {"Content-Type": content_type, "SOAPAction": '"%s"' % action}
        problem = None
        try:
            response = requests.post(self.endpoint, data=body, headers=headers,
                                     timeout=timeout, auth=self.session.auth if auth else None)
        except requests.Timeout:
            problem = "no answer within %s s although the whole body was sent" % timeout
        except requests.ConnectionError as e:
            problem = "the server closed the connection without an answer (%s)" % e
        if problem:                             # outside the except: a short traceback
            pytest.fail("POST %s of %r: %s" % (self.endpoint, body[:60], problem),
                        pytrace=False)
        return response, parse_fault(response)


def parse_fault(response):
    """The FaultInfo of an HTTP answer holding a SOAP 1.1 Fault, else None."""
    try:
        doc = etree.fromstring(response.content)
    except etree.XMLSyntaxError:
        return None
    fault = doc.find(".//{%s}Fault" % SOAP_ENV)
    if fault is None:
        return None
    code, message = detail_fields(fault.find("detail"))
    return FaultInfo(fault.findtext("faultcode"), fault.findtext("faultstring"), code,
                     message, response.status_code)


def envelope(operation, inner_xml):
    """A SOAP 1.1 request for operation with hand-written (qualified) children."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<soap:Envelope xmlns:soap="%s" xmlns:ks="%s"><soap:Body>'
            '<ks:%s>%s</ks:%s></soap:Body></soap:Envelope>' % (
                SOAP_ENV, NS, operation, inner_xml, operation)).encode("utf-8")


def wait_for(read, what, timeout=10.0):
    """Polls read() until it returns something true, and returns it. Catalog
    reads may be served by a replica a moment behind the master, so a fixture
    waits for what it wrote to be visible before tests look at it."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        value = read()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail("%s: not visible after %.0f s (replica lag?)" % (what, timeout),
                        pytrace=False)
        time.sleep(0.1)


def api_command(env, *args, stdin=None, check=True):
    """Runs a kisekae-api command (--add-client, --set-image-server...) with
    the stack's api1 configuration; returns the finished process."""
    build = Path(os.environ.get("KISEKAE_BUILD_DIR") or env.get("KISEKAE_BUILD_DIR")
                 or ROOT / "build")
    conf = Path(env["KISEKAE_STATE"]) / "api1" / "kisekae-api.conf"
    done = subprocess.run([str(build / "kisekae-api"), "-c", str(conf)] + list(args),
                          input=stdin, capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, "kisekae-api %s: %s" % (" ".join(args), done.stderr)
    return done


def node_api(env, server):
    """A client of new API credentials of role node acting for the image
    server named server (a node credential acts for one server only),
    once the API accepts them (they may reach a replica a moment later)."""
    name, secret = unique("node"), unique("secret")
    api_command(env, "--add-client", name, "node", "--image-server", server,
                stdin=secret + "\n")
    api = Api(env["KISEKAE_API_URL"], name, secret)

    def accepted():
        try:
            api.service.GetCatalogManifest(offset=0, limit=1)
            return True
        except (zeep.exceptions.Fault, zeep.exceptions.TransportError):
            return False
    wait_for(accepted, "the node credentials of %s" % server)
    return api


def as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.fixture(scope="session")
def env():
    values = stack_env()
    if not values.get("KISEKAE_API_URL"):
        pytest.skip("KISEKAE_API_URL is not set (export the stack's variables or set "
                    "KISEKAE_ENV to its stack.env): no stack to test against")
    for key in ("KISEKAE_ADMIN_USER", "KISEKAE_ADMIN_PASSWORD",
                "KISEKAE_SITE_USER", "KISEKAE_SITE_PASSWORD"):
        if key not in values:
            pytest.skip("%s is not set" % key)
    return values


@pytest.fixture(scope="session")
def admin(env):
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_ADMIN_USER"],
               env["KISEKAE_ADMIN_PASSWORD"])


@pytest.fixture(scope="session")
def site(env):
    return Api(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])


def generate_art(out):
    """Draws the sample item art into the folder out (a Path): {key: {"layers":
    [(path, z)], ...}} plus the catalog dir under the key None."""
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True,
                   stderr=subprocess.DEVNULL)
    import json
    with open(out / "catalog.json") as f:
        catalog = json.load(f)
    items = {item["key"]: {"layers": [(str(out / l["file"]), l["zOrder"])
                                      for l in item["layers"]],
                           "category": item["category"]}
             for item in catalog["items"]}
    items[None] = str(out)
    return items


@pytest.fixture(scope="session")
def art(tmp_path_factory):
    """The sample item art, generated afresh (generate_art)."""
    return generate_art(tmp_path_factory.mktemp("art"))


def layer_inputs(layers, with_z=True):
    """LayerInput dicts for RegisterItem from [(path, z)]."""
    out = []
    for path, z in layers:
        with open(path, "rb") as f:
            entry = {"png": f.read()}
        if with_z:
            entry["zOrder"] = z
        out.append(entry)
    return out
