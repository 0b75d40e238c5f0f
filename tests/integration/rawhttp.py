"""rawhttp.py: HTTP/1.1 over a plain socket, for tests that must control
every byte and every moment: slow clients, idle keep-alive connections,
pipelining, requests that are refused before their body is sent.

    conn = Conn(url)
    conn.send(request_bytes)
    status, headers, body = conn.response()
"""

import base64
import socket
import time
from urllib.parse import urlsplit
from timescale import scaled

NS = "urn:kisekae:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def address(url):
    parts = urlsplit(url)
    return parts.hostname, parts.port or 80


def envelope(operation, inner_xml, prolog=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n%s'
            '<soap:Envelope xmlns:soap="%s" xmlns:ks="%s"><soap:Body>'
            '<ks:%s>%s</ks:%s></soap:Body></soap:Envelope>' % (
                prolog, SOAP_ENV, NS, operation, inner_xml, operation)).encode("utf-8")


def get_avatar_body(user_id):
    return envelope("GetAvatar", "<ks:userId>%s</ks:userId>" % user_id)


def post(body, user=None, password=None, headers=(), length=None, path="/"):
    """The bytes of a POST of body (Content-Length: length, default len(body))."""
    lines = ["POST %s HTTP/1.1" % path, "Host: test", "Content-Type: text/xml; charset=utf-8",
             "Content-Length: %d" % (len(body) if length is None else length)]
    if user is not None:
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        lines.append("Authorization: Basic " + token)
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path, headers=()):
    return ("\r\n".join(["GET %s HTTP/1.1" % path, "Host: test"] + list(headers)) +
            "\r\n\r\n").encode()


class Conn:
    """One client connection; every wait is bounded by timeout seconds."""

    def __init__(self, url, timeout=5.0):
        self.sock = socket.create_connection(address(url), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buf += chunk

    def response(self):
        """(status, {lowercase name: value}, body) of the next response;
        interim 1xx responses are returned as they come."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def closed_by_server(self, within):
        """True when the server closes the connection within `within` seconds
        (whatever it sends before)."""
        deadline = time.monotonic() + scaled(within)
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
