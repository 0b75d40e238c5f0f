"""kisekae-ctl driven from outside, against a fake API server in this process.

The fake server (http.server on a loopback port the kernel picks, so it
needs no port base) records each request and answers with a canned SOAP
body. Checked: the request kisekae-ctl builds (the operation's element, one
child per NAME=VALUE in order, SOAPAction, HTTP Basic from the environment),
how it prints an answer (leaves, records indented, an empty element left
out, entities decoded), a fault printed with its code (exit 1), the next URL
tried when one refuses the connection, a write that is not resendable never
sent twice, --help, and bad usage (exit 2).

ctest runs it with KISEKAE_CTL pointing at the built binary.
"""
import base64
import http.server
import os
import socket
import subprocess
import threading
from xml.etree import ElementTree

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CTL = os.environ.get("KISEKAE_CTL", os.path.join(HERE, "..", "..", "build", "kisekae-ctl"))
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KISEKAE_ADMIN_USER": "ops",
       "KISEKAE_ADMIN_PASSWORD": "s3cret&<pw>"}

KS = "{urn:kisekae:v1}"
SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope'
            ' xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
            ' xmlns:ks="urn:kisekae:v1"><SOAP-ENV:Body>%s</SOAP-ENV:Body></SOAP-ENV:Envelope>')


def fault_body(code, message):
    return ENVELOPE % ("<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>%s"
                       "</faultstring><detail><ks:KisekaeFault><ks:code>%s</ks:code>"
                       "<ks:message>%s</ks:message></ks:KisekaeFault></detail>"
                       "</SOAP-ENV:Fault>" % (message, code, message))


class FakeApi:
    """An HTTP server answering every POST with (status, body); 'drop'
    closes the connection without an answer."""

    def __init__(self, status=200, body="", drop=False):
        self.requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                fake.requests.append((dict(self.headers), self.rfile.read(length).decode()))
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fakes():
    started = []

    def start(**kwargs):
        fake = FakeApi(**kwargs)
        started.append(fake)
        return fake
    yield start
    for fake in started:
        fake.close()


def dead_url():
    """A loopback URL nothing listens on (a port bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d/" % s.getsockname()[1]


def ctl(*args, env=ENV):
    return subprocess.run([CTL, "--timeout", "10", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_request_is_the_operation_with_the_parameters_in_order(fakes):
    api = fakes(body=ENVELOPE % "<ks:MoveAvatarsResponse><ks:moved>0</ks:moved>"
                                "</ks:MoveAvatarsResponse>")
    r = ctl("--url", api.url, "MoveAvatars", "from=img3", "to=a&b<c>", "limit=1000",
            "userId=x", "userId=y")
    assert r.returncode == 0, r.stderr
    headers, body = api.requests[0]
    assert headers["SOAPAction"].strip('"') == "urn:kisekae:v1#MoveAvatars"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"ops:s3cret&<pw>").decode()
    # The fields, qualified in urn:kisekae:v1, in the order given.
    request = ElementTree.fromstring(body).find(SOAP_BODY)[0]
    assert request.tag == KS + "MoveAvatars"
    assert [(field.tag, field.text) for field in request] == [
        (KS + "from", "img3"), (KS + "to", "a&b<c>"), (KS + "limit", "1000"),
        (KS + "userId", "x"), (KS + "userId", "y")]


def test_answer_printed_one_field_a_line_records_indented(fakes):
    api = fakes(body=ENVELOPE % (
        "<ks:GetSystemStatusResponse><ks:poolGeneration>1</ks:poolGeneration>"
        "<ks:dbServer><ks:role>master</ks:role><ks:address>127.0.0.1:1</ks:address>"
        "</ks:dbServer><ks:note/><ks:text>a &amp; b &lt;c&gt;</ks:text>"
        "<ks:imageServer><ks:name>img1</ks:name><ks:disk><ks:free>5</ks:free></ks:disk>"
        "</ks:imageServer></ks:GetSystemStatusResponse>"))
    r = ctl("--url", api.url, "GetSystemStatus")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("poolGeneration: 1\n"
                        "dbServer:\n  role: master\n  address: 127.0.0.1:1\n"
                        "text: a & b <c>\n"
                        "imageServer:\n  name: img1\n  disk:\n    free: 5\n")


def test_fault_printed_with_its_code(fakes):
    api = fakes(status=500, body=fault_body("NotFound", 'image server "img9" not found'))
    r = ctl("--url", api.url, "SetImageServerMode", "name=img9", "mode=draining")
    assert r.returncode == 1
    assert r.stdout == ""
    assert 'NotFound: image server "img9" not found' in r.stderr


def test_wrong_credentials_printed_as_unauthorized(fakes):
    api = fakes(status=401, body=fault_body("Unauthorized", "wrong API credentials"))
    r = ctl("--url", api.url, "ListImageServers")
    assert r.returncode == 1
    assert "ListImageServers: Unauthorized" in r.stderr and '"ops"' in r.stderr
    assert "s3cret" not in r.stderr


def test_next_url_when_one_refuses(fakes):
    api = fakes(body=ENVELOPE % "<ks:ListImageServersResponse><ks:server><ks:name>img1"
                                "</ks:name></ks:server></ks:ListImageServersResponse>")
    r = ctl("--url", dead_url(), "--url", api.url, "ListImageServers")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "server:\n  name: img1\n"


def test_write_not_resendable_is_sent_once(fakes):
    dropping = fakes(drop=True)
    second = fakes(body=ENVELOPE % "<ks:MoveAvatarsResponse/>")
    r = ctl("--url", dropping.url, "--url", second.url, "MoveAvatars", "from=a", "to=b")
    assert r.returncode == 1
    assert "outcome unknown" in r.stderr
    assert len(dropping.requests) == 1 and second.requests == []


def test_resendable_read_goes_to_the_next_server(fakes):
    dropping = fakes(drop=True)
    second = fakes(body=ENVELOPE % "<ks:GetAvatarResponse><ks:avatar><ks:version>3"
                                   "</ks:version></ks:avatar></ks:GetAvatarResponse>")
    r = ctl("--url", dropping.url, "--url", second.url, "GetAvatar", "userId=demo")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "avatar:\n  version: 3\n"
    assert len(second.requests) == 1


def test_help():
    r = subprocess.run([CTL, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    assert r.stdout.startswith("usage: kisekae-ctl")


@pytest.mark.parametrize("args", [
    [],                                          # no operation
    ["ListImageServers", "1name=x"],             # not a parameter name
    ["ListImageServers", "Extra"],               # a second operation
    ["listImageServers"],                        # not an operation's name
    ["--bogus", "ListImageServers"],             # unknown option
    ["--timeout", "0", "ListImageServers"],      # out of bounds
    ["--url", "ftp://x/", "ListImageServers"],   # not http(s)
    ["ListImageServers", "--timeout"],           # an option without its value
])
def test_bad_usage_exits_2(args):
    r = subprocess.run([CTL, "--url", "http://127.0.0.1:9/", *args], capture_output=True,
                       text=True, env=ENV, timeout=30)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr.startswith("kisekae-ctl: ") or r.stderr.startswith("usage:")


def test_credentials_only_from_the_environment(fakes):
    api = fakes(body=ENVELOPE % "<ks:ListImageServersResponse/>")
    r = ctl("--url", api.url, "ListImageServers", env={"PATH": ENV["PATH"]})
    assert r.returncode == 2
    assert "KISEKAE_ADMIN_USER" in r.stderr
    assert api.requests == []
