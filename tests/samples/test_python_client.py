"""The Python sample client's failover, timeouts, faults and keep-alive
(samples/python/kisekae), against the stack tests/samples/run.sh brings up
and small fake API servers of this file.

Each fake server listens on port base + 50.. (KISEKAE_SAMPLES_PORT_BASE),
answers GET ?wsdl with the live API's WSDL (so a client may load it there)
and misbehaves on every POST in one way: it resets the connection, answers
HTTP 502 or 404 without a SOAP fault, never answers, trickles its answer, or
answers a DatabaseUnavailable fault. The live URLs are the stack's
KISEKAE_API_URLS; a dead URL is port base + 9. Every test checks which
server got the call and, for calls that must not be sent twice, that the
live API did not get it either.
"""

import os
import socket
import socketserver
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path

import pytest
import requests

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "samples" / "python"))
sys.path.insert(0, str(ROOT / "samples"))
import kisekae  # noqa: E402
from load_catalog import read_env  # noqa: E402

PORT_BASE = int(os.environ.get("KISEKAE_SAMPLES_PORT_BASE") or 28400)
DEAD_URL = "http://127.0.0.1:%d/" % (PORT_BASE + 9)


ENV = read_env(os.environ["KISEKAE_ENV"])
LIVE = ENV["KISEKAE_API_URLS"].split()
USER, PASSWORD = ENV["KISEKAE_SITE_USER"], ENV["KISEKAE_SITE_PASSWORD"]
WSDL = requests.get(LIVE[0] + "?wsdl", timeout=10).content

DB_FAULT = (b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV='
            b'"http://schemas.xmlsoap.org/soap/envelope/" xmlns:ks="urn:kisekae:v1">'
            b'<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode>'
            b'<faultstring>the database is unavailable</faultstring><detail><ks:KisekaeFault>'
            b'<ks:code>DatabaseUnavailable</ks:code><ks:message>the database is unavailable'
            b'</ks:message></ks:KisekaeFault></detail></SOAP-ENV:Fault></SOAP-ENV:Body>'
            b'</SOAP-ENV:Envelope>')


class Fake(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 server on 127.0.0.1:port; mode says what a POST gets."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, mode):
        self.mode = mode
        self.posts = 0
        self.stop = threading.Event()
        self.connections = []
        super().__init__(("127.0.0.1", port), Handler)
        self.url = "http://127.0.0.1:%d/" % port
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        """Stops listening (the port refuses) and cuts open connections."""
        self.stop.set()
        self.shutdown()
        self.server_close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(socketserver.StreamRequestHandler):
    def answer(self, status, body, content_type="text/html"):
        self.wfile.write(b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                         % (status, content_type.encode(), len(body)) + body)
        self.wfile.flush()

    def handle(self):
        server = self.server
        server.connections.append(self.connection)
        while not server.stop.is_set():
            request = self.rfile.readline()
            if not request:
                return
            headers = {}
            while True:
                line = self.rfile.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.partition(b":")
                headers[name.strip().decode().lower()] = value.strip().decode()
            body = self.rfile.read(int(headers.get("content-length", 0)))
            if request.startswith(b"GET"):
                self.answer(b"200 OK", WSDL, "text/xml")
                continue
            server.posts += 1
            mode = server.mode
            if mode == "proxy":                 # an API server: LIVE[0] behind it
                answer = requests.post(LIVE[0], data=body, timeout=30, headers={
                    k: headers[k] for k in ("authorization", "soapaction", "content-type")
                    if k in headers})
                self.answer(b"%d OK" % answer.status_code, answer.content,
                            answer.headers.get("Content-Type", "text/xml"))
            elif mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
            elif mode == "502":
                self.answer(b"502 Bad Gateway", b"<html><body>502 Bad Gateway</body></html>")
            elif mode == "404":
                self.answer(b"404 Not Found", b"<html><body>404 Not Found</body></html>")
            elif mode == "dbfault":
                self.answer(b"500 Internal Server Error", DB_FAULT, "text/xml")
            elif mode == "hang":
                server.stop.wait(30)
                return
            elif mode == "trickle":
                body = DB_FAULT
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(body))
                for byte in body:
                    if server.stop.wait(0.1):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                return


@pytest.fixture
def fake(request):
    servers = []

    def make(mode):
        server = Fake(PORT_BASE + 50 + len(servers), mode)
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.close()


def client(urls, **kwargs):
    return kisekae.KisekaeClient(urls, USER, PASSWORD, **kwargs)


def new_member():
    return "samples-py-%s" % uuid.uuid4().hex[:12]


def assert_no_member(user_id):
    with client(LIVE) as api:
        with pytest.raises(kisekae.NotFoundError):
            api.get_avatar(user_id)


def test_refused_moves_any_call_on():
    user_id = new_member()
    with client([DEAD_URL] + LIVE) as api:
        avatar = api.create_avatar(user_id)
        assert avatar.version == 1 and api.current_url == LIVE[0]
        api.delete_avatar(user_id)


def test_every_url_dead_is_unavailable():
    with client([DEAD_URL]) as api:
        with pytest.raises(kisekae.UnavailableError) as e:
            api.list_scenes()
        assert e.value.code == "Unavailable"


@pytest.mark.parametrize("mode", ["reset", "502", "hang", "dbfault"])
def test_sent_then_failed(fake, mode):
    """A read and ChangeOutfit move on; CreateAvatar and DeleteAvatar do not."""
    bad = fake(mode)
    timeout = 1.5 if mode == "hang" else 30
    user_id = new_member()
    with client([bad.url] + LIVE, timeout=timeout) as api:
        assert api.get_avatar("demo").user_id == "demo"
        assert bad.posts == 1 and api.current_url == LIVE[0]
    with client([bad.url] + LIVE, timeout=timeout) as api:
        expected = kisekae.DatabaseUnavailableError if mode == "dbfault" else \
            kisekae.OutcomeUnknownError
        started = time.monotonic()
        with pytest.raises(expected) as e:
            api.create_avatar(user_id)
        assert e.value.url == bad.url and bad.posts == 2
        if mode == "hang":
            assert time.monotonic() - started < timeout + 1
    assert_no_member(user_id)


def test_not_an_api_moves_any_call_on(fake):
    bad = fake("404")
    user_id = new_member()
    with client([bad.url] + LIVE) as api:
        assert api.create_avatar(user_id).version == 1
        assert bad.posts == 1
        api.delete_avatar(user_id)


def test_sticks_to_the_url_that_answered(fake):
    bad = fake("reset")
    with client([bad.url] + LIVE) as api:
        for _ in range(5):
            api.list_categories()
        assert bad.posts == 1 and api.current_url == LIVE[0]


def test_next_url_takes_over(fake):
    """The API server that answered dies between two calls: the next call
    goes to the next URL."""
    first = fake("proxy")
    with client([first.url, LIVE[-1]]) as api:
        assert api.get_avatar("demo").user_id == "demo"
        assert api.current_url == first.url and first.posts == 1
        first.close()
        assert api.get_avatar("demo").user_id == "demo"
        assert api.current_url == LIVE[-1] and first.posts == 1


def test_total_timeout(fake):
    """An answer that trickles in is abandoned after `timeout` seconds."""
    slow = fake("trickle")
    with client([slow.url], timeout=1.0) as api:
        started = time.monotonic()
        with pytest.raises(kisekae.UnavailableError):
            api.list_scenes()
        assert time.monotonic() - started < 2.5


def test_faults_carry_their_code():
    with client(LIVE) as api:
        with pytest.raises(kisekae.NotFoundError) as e:
            api.get_avatar(new_member())
        assert e.value.code == "NotFound" and e.value.fault_code.endswith(":Client")
        with pytest.raises(kisekae.InvalidArgumentError):
            api.list_items(limit=0)
    with kisekae.KisekaeClient(LIVE, USER, PASSWORD + "x") as api:
        with pytest.raises(kisekae.UnauthorizedError) as e:
            api.list_scenes()
        assert e.value.code == "Unauthorized"


def test_keep_alive():
    """Ten calls on one connection."""
    with client(LIVE[:1]) as api:
        for _ in range(10):
            api.get_avatar("demo")
        pool = api.session.get_adapter(LIVE[0]).poolmanager.connection_from_url(LIVE[0])
        assert pool.num_connections == 1 and pool.num_requests == 11   # and the WSDL GET
