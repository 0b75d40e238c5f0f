"""The standalone listener's limits, on an API server of this module's own.

The module starts kisekae-api (standalone) with small limits (2 workers,
recv_timeout 2, keepalive_timeout 3, send_timeout 3, 16 connections, 256 KiB
bodies, 4 KiB headers, 1 MiB of buffered requests) on the stack's database
and image servers (its config assembled by the launcher's stack model,
deploy/stack.py, with these limits over it), on port
KISEKAE_IT_PORT_BASE + 50, and stops it at the end. It checks that slow, idle, greedy and non-reading clients are bounded
(refused, closed or made to wait) while a normal client is served at once,
and that chunked bodies, Expect: 100-continue and pipelined requests work.

Needs the kisekae-api binary (KISEKAE_BUILD_DIR, set by run.sh, or
build/ in the repository).
"""

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

import rawhttp
from conftest import ROOT, Api, unique
from render import render_file
from stack import Stack
from timescale import scaled

WORKERS = 2
RECV_TIMEOUT = 2
KEEPALIVE_TIMEOUT = 3
SEND_TIMEOUT = 3
MAX_CONNECTIONS = 16
MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def server(env, tmp_path_factory):
    """(url, env) of an API server of this module."""
    binary = Path(os.environ.get("KISEKAE_BUILD_DIR", ROOT / "build")) / "kisekae-api"
    if not binary.exists():
        pytest.skip("no %s" % binary)
    if not env.get("KISEKAE_STATE"):
        pytest.skip("KISEKAE_STATE is not set")
    port = int(os.environ.get("KISEKAE_IT_PORT_BASE", "27000")) + 50
    folder = tmp_path_factory.mktemp("limits-api")
    conf = folder / "kisekae-api.conf"
    variables = Stack(env["KISEKAE_STATE"]).api_vars("limits", "standalone", "127.0.0.1:%d" % port, "")
    variables.update({
        "max_request_bytes": str(MAX_BODY), "recv_timeout": str(RECV_TIMEOUT),
        "keepalive_timeout": str(KEEPALIVE_TIMEOUT), "log_file": str(folder / "api.log"),
        "extra": ["workers %d" % WORKERS, "send_timeout %d" % SEND_TIMEOUT,
                  "max_connections %d" % MAX_CONNECTIONS, "max_header_bytes 4k",
                  "max_buffered_bytes 1m"]})
    render_file("kisekae-api.conf", conf, variables, 0o600)
    stderr = open(folder / "stderr", "wb")
    process = subprocess.Popen([str(binary), "-c", str(conf)], stdin=subprocess.DEVNULL,
                               stdout=stderr, stderr=stderr)
    stderr.close()
    url = "http://127.0.0.1:%d/" % port
    try:
        deadline = time.monotonic() + scaled(20)
        while True:
            try:
                if requests.get(url + "?wsdl", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "api.log").read_text() if (folder / "api.log").exists() else ""
                pytest.fail("kisekae-api did not start on %s:\n%s" % (url, log[-2000:]))
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            pytest.fail("kisekae-api did not stop within 10 s of SIGTERM")
        # A sanitizer build reports what it found on stderr and exits non-zero.
        if status != 0:
            pytest.fail("kisekae-api exited with status %d:\n%s" % (
                status, (folder / "stderr").read_text(errors="replace")[-4000:]))


@pytest.fixture(scope="module")
def member(site):
    user_id = unique("limits")
    site.service.CreateAvatar(userId=user_id)
    site.service.GetAvatar(userId=user_id, minVersion=1)
    return user_id


@pytest.fixture(scope="module")
def client(server, env):
    return Api(server, env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])


def request_bytes(env, user_id, **kwargs):
    return rawhttp.post(rawhttp.get_avatar_body(user_id), env["KISEKAE_SITE_USER"],
                        env["KISEKAE_SITE_PASSWORD"], **kwargs)


def served_at_once(client, user_id, count=5, limit_s=1.0):
    for _ in range(count):
        started = time.monotonic()
        # minVersion: the member is there even when the replica is behind
        assert client.service.GetAvatar(userId=user_id, minVersion=1).userId == user_id
        elapsed = time.monotonic() - started
        assert elapsed < scaled(limit_s), "a GetAvatar took %.2f s" % elapsed


def fault_code(body):
    start = body.find(b"<ks:code>")
    return body[start + 9:body.find(b"</ks:code>")].decode() if start >= 0 else None


def test_slowloris_is_cut_off_and_others_are_served(server, env, client, member):
    """Clients sending a byte every 0.3 s (twice as many as workers) get 408
    with a fault once recv_timeout has passed since their first byte, and are
    closed; a normal client is served at once meanwhile."""
    request = request_bytes(env, member)
    conns = [rawhttp.Conn(server, timeout=RECV_TIMEOUT + 3) for _ in range(2 * WORKERS)]
    stop = threading.Event()
    first_byte = time.monotonic()

    def dribble():
        for i in range(len(request) - 1):
            for conn in conns:
                try:
                    conn.send(request[i:i + 1])
                except OSError:
                    pass
            if stop.wait(0.3):
                return
    thread = threading.Thread(target=dribble)
    thread.start()
    try:
        time.sleep(0.3)
        served_at_once(client, member)
        for conn in conns:
            status, headers, body = conn.response()
            assert status == 408
            assert fault_code(body) == "InvalidArgument"
            assert headers.get("connection") == "close"
            assert conn.closed_by_server(3)
        took = time.monotonic() - first_byte
        assert RECV_TIMEOUT - 0.5 < took < RECV_TIMEOUT + scaled(2.5), took
    finally:
        stop.set()
        thread.join(10)
        for conn in conns:
            conn.close()


def test_idle_keepalive_connections_hold_no_worker(server, env, client, member):
    """Six times as many idle keep-alive connections as workers: a normal
    client is served at once; the idle ones are closed after
    keepalive_timeout."""
    conns = []
    try:
        for _ in range(6 * WORKERS):
            conn = rawhttp.Conn(server)
            conn.send(request_bytes(env, member))
            assert conn.response()[0] == 200
            conns.append(conn)
        served_at_once(client, member)
        conns[0].send(request_bytes(env, member))          # still usable
        assert conns[0].response()[0] == 200
        assert all(conn.closed_by_server(KEEPALIVE_TIMEOUT + 2.5) for conn in conns)
    finally:
        for conn in conns:
            conn.close()


def test_full_connection_table_makes_room(server, env, client, member):
    """With max_connections idle connections open, a new client is still
    served: an idle connection (the longest idle) is closed for it."""
    conns = []
    try:
        for _ in range(MAX_CONNECTIONS):
            conn = rawhttp.Conn(server)
            conn.send(request_bytes(env, member))
            assert conn.response()[0] == 200
            conns.append(conn)
        served_at_once(client, member, count=2)
        time.sleep(0.3)
        closed = [conn.closed_by_server(0.05) for conn in conns]
        assert any(closed), "no idle connection was closed to make room"
    finally:
        for conn in conns:
            conn.close()


def test_client_that_does_not_read_holds_no_worker(server, env, client, member):
    """A client pipelines 600 WSDL requests (about 12 MB of answers, more
    than the sockets hold) and reads nothing: the workers stay free, and the
    server gives up on the connection once an answer has waited send_timeout
    (so far fewer than 600 answers ever come)."""
    wsdl_size = len(requests.get(server + "?wsdl", timeout=10).content)
    conn = rawhttp.Conn(server)
    try:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.send(rawhttp.get("/?wsdl") * 600)
        time.sleep(0.5)
        served_at_once(client, member)
        time.sleep(SEND_TIMEOUT + 1.5)
        received, ended = 0, False
        deadline = time.monotonic() + scaled(15)
        conn.sock.settimeout(2)
        try:
            while time.monotonic() < deadline:
                chunk = conn.sock.recv(1 << 20)
                if not chunk:
                    ended = True
                    break
                received += len(chunk)
        except ConnectionResetError:
            ended = True
        except socket.timeout:
            pass
        assert ended, "the connection of the client that did not read is still open"
        assert received < 600 * wsdl_size / 2, "%d bytes came: it was not cut off" % received
    finally:
        conn.close()


def test_header_over_the_limit(server):
    conn = rawhttp.Conn(server)
    try:
        conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n")
        status, _, body = conn.response()
        assert status == 431
        assert fault_code(body) == "TooLarge"
        assert conn.closed_by_server(3)
    finally:
        conn.close()


def test_body_over_the_limit_is_refused_at_once(server, env):
    conn = rawhttp.Conn(server)
    try:
        conn.send(rawhttp.post(b"", env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"],
                               length=MAX_BODY + 1))
        started = time.monotonic()
        status, _, body = conn.response()
        assert time.monotonic() - started < 1
        assert status == 500 and fault_code(body) == "TooLarge"
        assert str(MAX_BODY).encode() in body
    finally:
        conn.close()


def test_chunked_expect_and_pipelined(server, env, member):
    body = rawhttp.get_avatar_body(member)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 50]), body[i:i + 50])
                       for i in range(0, len(body), 50)) + b"0\r\n\r\n"
    head = request_bytes(env, member, headers=["Transfer-Encoding: chunked"])
    head = head[:head.index(b"\r\n\r\n") + 4].replace(b"Content-Length: %d\r\n" % len(body), b"")
    conn = rawhttp.Conn(server)
    try:
        conn.send(head + chunked)                             # chunked
        status, _, answer = conn.response()
        assert status == 200 and member.encode() in answer
        expect = request_bytes(env, member, headers=["Expect: 100-continue"])
        conn.send(expect[:-len(body)])                        # Expect: 100-continue
        assert conn.response()[0] == 100
        conn.send(body)
        status, _, answer = conn.response()
        assert status == 200 and member.encode() in answer
        conn.send(request_bytes(env, member) * 3)             # pipelined
        for _ in range(3):
            status, _, answer = conn.response()
            assert status == 200 and member.encode() in answer
        big = b"ff\r\n" + b"a" * 255 + b"\r\n"                # chunked, over the limit
        conn.send(head + big * (MAX_BODY // 255 + 2))
        status, _, answer = conn.response()
        assert status == 500 and fault_code(answer) == "TooLarge"
    finally:
        conn.close()


def test_memory_budget_makes_requests_wait_not_fail(server, env, member):
    """14 clients send 200 KiB requests at once, together almost three times
    the 1 MiB max_buffered_bytes: the ones that find no memory wait for it
    (reading nothing more) instead of failing, and every one is answered."""
    pad = b"<!-- " + b"p" * (200 * 1024) + b" -->"
    body = rawhttp.get_avatar_body(member).replace(b"<soap:Body>", b"<soap:Body>" + pad)
    request = rawhttp.post(body, env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])
    conns = [rawhttp.Conn(server, timeout=RECV_TIMEOUT + 3) for _ in range(14)]
    answers = [None] * len(conns)

    def exchange(k):
        try:
            conns[k].send(request)
            answers[k] = conns[k].response()
        except (OSError, EOFError) as e:
            answers[k] = (0, {}, repr(e).encode())
    threads = [threading.Thread(target=exchange, args=(k,)) for k in range(len(conns))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RECV_TIMEOUT + 5)
        for status, _, answer in answers:
            assert status == 200, answer[:300]
            assert member.encode() in answer
    finally:
        for conn in conns:
            conn.close()
