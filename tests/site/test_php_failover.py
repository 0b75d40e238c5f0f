"""The failover of samples/php's Kisekae\\Client (the samples contract): a
list of URLs whose first is broken in one way or another, then the stack's
API. Broken servers are sockets of this test, in threads:

- refused (a port nothing listens on): every call moves on;
- reset after the request arrived, HTTP 502 without a SOAP fault, silence
  past the client's timeout: a read (GetAvatar) moves on and the client then
  sticks to the URL that answered; CreateAvatar, not safe to send twice,
  fails with OutcomeUnknown and is not sent to the next URL;
- only broken URLs: Unreachable.
"""

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from timescale import scaled

HERE = Path(__file__).resolve().parent


class BrokenServer:
    """A listening socket that answers every request in one broken way:
    'reset' (closes once the request is read), '502' (an HTML error page) or
    'silent' (reads and never answers, for `hold` seconds)."""

    def __init__(self, how, hold=6.0):
        self.how, self.hold = how, hold
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = "http://127.0.0.1:%d/" % self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                if self.how == "502":
                    body = b"<html><body>bad gateway</body></html>"
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                                 % (len(body), body))
                elif self.how == "silent":
                    time.sleep(self.hold)
            except OSError:
                pass

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(params=["reset", "502", "silent"])
def broken(request):
    server = BrokenServer(request.param)
    yield server
    server.close()


def refused_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d/" % s.getsockname()[1]   # closed: refused


def php_call(urls, op, user_id, timeout_s=2):
    argv = ["php", str(HERE / "php_call.php"), " ".join(urls), op, user_id, str(timeout_s)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=scaled(60))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def api_url():
    return os.environ["KISEKAE_API_URL"]


def test_a_read_moves_on_and_sticks(broken):
    answer = php_call([broken.url, api_url()], "get", "demo")
    assert answer.get("ok") == "demo", answer
    assert answer["url"] == api_url()
    assert answer["seconds"] < scaled(8), answer  # a silent server costs two timeouts: WSDL, call


def test_an_unsafe_call_is_not_sent_twice(broken, site):
    user_id = "failover-php-%s" % uuid.uuid4().hex[:8]
    answer = php_call([broken.url, api_url()], "create", user_id)
    assert answer.get("code") == "OutcomeUnknown", answer
    assert site.GetAvatars(userId=[user_id]).missingUserId == [user_id]   # not sent on


def test_a_refused_url_moves_on_for_every_call(site):
    user_id = "failover-php-%s" % uuid.uuid4().hex[:8]
    answer = php_call([refused_url(), api_url()], "create", user_id)
    try:
        assert answer.get("ok") == user_id, answer
        assert answer["url"] == api_url()
    finally:
        site.DeleteAvatar(userId=user_id)


def test_no_url_answers():
    answer = php_call([refused_url(), refused_url()], "get", "demo")
    assert answer.get("code") == "Unreachable", answer
