"""The API behaves the same through both transports: standalone HTTP
(kisekae-api's own listener) and FastCGI behind nginx (KISEKAE_API_FCGI_URL).

Every test runs against both: the WSDL names the address the client used,
GET /avatar/{id}.png and /avatar/{id}/thumb.png redirect to the member's
current image (no credentials, Cache-Control: no-cache, 404 with a reason
for a malformed path; test_placeholder.py has the unknown member), bodies with a DOCTYPE (billion laughs, external entities) or
nested too deep are refused with a fault, a body over the limit is refused
before it is sent, and slow or idle clients do not keep a normal client
waiting.
"""

import re
import threading
import time

import pytest
import requests

import rawhttp
from conftest import Api, unique, wait_for
from timescale import scaled

TRANSPORTS = ["standalone", "fastcgi"]


@pytest.fixture(scope="module", params=TRANSPORTS)
def url(request, env):
    key = "KISEKAE_API_URL" if request.param == "standalone" else "KISEKAE_API_FCGI_URL"
    if not env.get(key):
        pytest.skip("%s is not set" % key)
    return env[key]


@pytest.fixture(scope="module")
def client(url, env):
    """A zeep client (site role) of this transport."""
    return Api(url, env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])


@pytest.fixture(scope="module")
def member(site):
    """A member of this module, created through the standalone API."""
    user_id = unique("transport")
    avatar = site.service.CreateAvatar(userId=user_id)
    return user_id, avatar


def fault_code(body):
    match = re.search(rb"<ks:code>([A-Za-z]+)</ks:code>", body)
    return match.group(1).decode() if match else None


def post_raw(url, env, body, timeout=5):
    conn = rawhttp.Conn(url, timeout=timeout)
    try:
        conn.send(rawhttp.post(body, env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"]))
        return conn.response()
    finally:
        conn.close()


# ---- GET: the WSDL and the avatar redirects -------------------------------------------

def test_wsdl_names_the_address_used(url):
    response = requests.get(url + "?wsdl", timeout=10)
    assert response.status_code == 200
    assert "xml" in response.headers["Content-Type"]
    assert '<SOAP:address location="%s"/>' % url in response.text


def test_wsdl_follows_the_host_header(url):
    response = requests.get(url + "?wsdl", headers={"Host": "api.example.test"}, timeout=10)
    location = re.search(r'<SOAP:address location="([^"]+)"', response.text).group(1)
    assert location.startswith("http://api.example.test"), location


def test_avatar_redirect(url, client, member):
    user_id, created = member
    avatar = client.service.GetAvatar(userId=user_id, minVersion=created.version)

    def redirect():                         # the replica may be a moment behind
        answer = requests.get(url + "avatar/%s.png" % user_id, allow_redirects=False,
                              timeout=10)
        return answer if answer.status_code == 302 else None
    response = wait_for(redirect, "the redirect of a new member")
    assert response.headers["Location"] == avatar.url
    assert "no-cache" in response.headers.get("Cache-Control", "")
    image = requests.get(response.headers["Location"], timeout=10)
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    thumb = requests.get(url + "avatar/%s/thumb.png" % user_id, allow_redirects=False,
                         timeout=10)
    assert thumb.status_code == 302
    assert thumb.headers["Location"] == avatar.url[:-len(".png")] + "-thumb.png"
    assert "no-cache" in thumb.headers.get("Cache-Control", "")
    # a query string (cache busting) is ignored
    busted = requests.get(url + "avatar/%s.png?t=1" % user_id, allow_redirects=False,
                          timeout=10)
    assert busted.headers.get("Location") == avatar.url


def test_avatar_redirect_follows_changes(url, site, client, member):
    """After ChangeOutfit the redirect names the new version (at once through
    the server that made the change; within the cache and replica delay
    through the other)."""
    user_id, _ = member
    worn = list(site.service.GetAvatar(userId=user_id, minVersion=1).wornItemId or [])
    changed = site.service.ChangeOutfit(userId=user_id, wear=worn[:1])

    def location():
        response = requests.get(url + "avatar/%s.png" % user_id, allow_redirects=False,
                                timeout=10)
        return response.headers.get("Location") == changed.url
    wait_for(location, "the redirect to version %d" % changed.version, timeout=10)


@pytest.mark.parametrize("path,reason", [
    ("avatar/.hidden.png", "member id"),
    ("avatar/a%2Fb.png", "member id"),
    ("avatar/" + "x" * 65 + ".png", "at most 64"),
    ("avatar/bob.gif", "/avatar/{user_id}.png"),
    ("avatar/bob/full.png", "member id"),
    ("nowhere", "not found"),
])
def test_avatar_not_found(url, path, reason):
    response = requests.get(url + path, allow_redirects=False, timeout=10)
    assert response.status_code == 404, response.text
    assert reason in response.text, response.text


def test_avatar_needs_no_credentials_even_wrong_ones(url, member):
    user_id, _ = member
    response = requests.get(url + "avatar/%s.png" % user_id, auth=("nobody", "wrong"),
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302


# ---- hostile bodies -------------------------------------------------------------------------

BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10)
                            for i in range(1, 10))
                  + ']>')


def test_billion_laughs_is_refused(url, env, client, member):
    user_id, _ = member
    body = rawhttp.envelope("GetAvatar", "<ks:userId>&lol9;</ks:userId>", prolog=BILLION_LAUGHS)
    started = time.monotonic()
    status, _, answer = post_raw(url, env, body)
    assert time.monotonic() - started < 3
    assert status == 500
    assert fault_code(answer) == "InvalidArgument", answer[:400]
    assert b"DOCTYPE" in answer
    assert client.service.GetAvatar(userId=user_id).userId == user_id   # still serving


def test_external_entity_is_refused(url, env):
    body = rawhttp.envelope("GetAvatar", "<ks:userId>&xxe;</ks:userId>",
                            prolog='<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    status, _, answer = post_raw(url, env, body)
    assert status == 500
    assert fault_code(answer) == "InvalidArgument"
    assert b"root:" not in answer


def test_entity_declaration_inside_the_body_is_refused(url, env):
    body = rawhttp.envelope("GetAvatar", '<!DOCTYPE y [<!ENTITY e "bob">]><ks:userId>&e;'
                            '</ks:userId>')
    status, _, answer = post_raw(url, env, body)
    assert status == 500
    assert fault_code(answer) == "InvalidArgument"


def test_undeclared_entity_is_not_expanded(url, env, member):
    """Without a DOCTYPE, an unknown entity reference expands to nothing
    useful: the call fails instead of reading some member."""
    status, _, answer = post_raw(url, env, rawhttp.envelope(
        "GetAvatar", "<ks:userId>&xxe;</ks:userId>"))
    assert status == 500
    assert fault_code(answer) in ("InvalidArgument", None), answer[:400]


@pytest.mark.parametrize("where", ["header", "body"])
def test_deep_nesting_is_refused(url, env, where):
    deep = "<x>" * 5000 + "</x>" * 5000
    if where == "header":
        body = ('<soap:Envelope xmlns:soap="%s" xmlns:ks="%s"><soap:Header>%s</soap:Header>'
                '<soap:Body><ks:GetAvatar><ks:userId>bob</ks:userId></ks:GetAvatar></soap:Body>'
                '</soap:Envelope>' % (rawhttp.SOAP_ENV, rawhttp.NS, deep)).encode()
    else:
        body = rawhttp.envelope("GetAvatar", "<ks:userId>bob</ks:userId>" + deep)
    status, _, answer = post_raw(url, env, body)
    assert status == 500
    assert fault_code(answer) == "TooLarge", answer[:400]
    assert b"nested deeper" in answer


def test_body_over_the_limit_is_refused_before_it_is_sent(url, env):
    conn = rawhttp.Conn(url, timeout=5)
    try:
        conn.send(rawhttp.post(b"", env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"],
                               length=64 * 1024 * 1024))
        started = time.monotonic()
        status, _, answer = conn.response()
        assert time.monotonic() - started < 3
        assert status == 500
        assert fault_code(answer) == "TooLarge"
    finally:
        conn.close()


# ---- slow and idle clients --------------------------------------------------------------------

def timed_calls(client, user_id, count, limit_s):
    """count GetAvatar calls, each answered within limit_s seconds."""
    for _ in range(count):
        started = time.monotonic()
        assert client.service.GetAvatar(userId=user_id).userId == user_id
        elapsed = time.monotonic() - started
        assert elapsed < scaled(limit_s), "a GetAvatar took %.2f s" % elapsed


def test_slow_clients_do_not_delay_others(url, env, client, member):
    """12 clients (more than the API's workers) send a request a byte at a
    time; a normal client is served at once all along."""
    user_id, _ = member
    request = rawhttp.post(rawhttp.get_avatar_body(user_id), env["KISEKAE_SITE_USER"],
                           env["KISEKAE_SITE_PASSWORD"])
    stop = threading.Event()
    conns = [rawhttp.Conn(url) for _ in range(12)]

    def dribble():
        for i in range(len(request) - 1):        # never the last byte
            if stop.wait(0.25):
                return
            for conn in conns:
                try:
                    conn.send(request[i:i + 1])
                except OSError:
                    pass
    thread = threading.Thread(target=dribble)
    thread.start()
    try:
        time.sleep(0.5)
        timed_calls(client, user_id, 20, 1.0)
    finally:
        stop.set()
        thread.join(10)
        for conn in conns:
            conn.close()


def test_idle_keepalive_connections_do_not_delay_others(url, env, client, member):
    """24 keep-alive connections (three times the workers) make one request
    each and stay open; a normal client is served at once, and the idle
    connections still work afterwards."""
    user_id, _ = member
    request = rawhttp.post(rawhttp.get_avatar_body(user_id), env["KISEKAE_SITE_USER"],
                           env["KISEKAE_SITE_PASSWORD"])
    conns = []
    try:
        for _ in range(24):
            conn = rawhttp.Conn(url)
            conn.send(request)
            assert conn.response()[0] == 200
            conns.append(conn)
        time.sleep(0.3)
        timed_calls(client, user_id, 10, 1.0)
        for conn in conns[:4]:
            conn.send(request)
            assert conn.response()[0] == 200
    finally:
        for conn in conns:
            conn.close()
