#!/usr/bin/python3
"""latency.py: p50 and p99 of five API operations, one call at a time.

    latency.py --env STACK_ENV --members N --tag TAG [--samples S]
               [--writes W] [--prefix P] [--change-from K]

Sends each operation over one keep-alive HTTP connection (site credentials
of STACK_ENV), one call after another, and times each call from the request
sent to the answer read (the SOAP bodies are written by hand: the client
costs little and the same at every scale):

  getavatar        GetAvatar of a member drawn uniformly from P-1 .. P-N
  getavatars100    GetAvatars of 100 members drawn uniformly
  listmemberitems  ListMemberItems of a member drawn uniformly
  createavatar     CreateAvatar of a new member (TAG-new-1, TAG-new-2, ...):
                   assigned, composed and stored
  changeoutfit     ChangeOutfit of a member not asked before (P-K, P-K+1,
                   ...), wearing item B instead of A (bench/api/
                   import_members.py's items): every call composes

S samples for the reads (default 1000), W for the writes (default 200),
after a warm-up of S/10 (reads only). Every answer must be HTTP 200 without
a fault, or the run stops. Prints one line per operation:
  latency TAG OPERATION: p50 X ms, p99 Y ms, mean Z ms, N calls
"""

import argparse
import http.client
import base64
import os
import random
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "deploy"))
from stackenv import read_env_file  # noqa: E402

NS = "urn:kisekae:v1"
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:ks="%s"><soap:Body>%%s</soap:Body></soap:Envelope>' % NS)


class Api:
    def __init__(self, url, user, password):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, operation, inner):
        body = (ENVELOPE % ("<ks:%s>%s</ks:%s>" % (operation, inner, operation))).encode()
        headers = {"Content-Type": "text/xml; charset=utf-8", "Authorization": self.auth,
                   "SOAPAction": '"%s#%s"' % (NS, operation)}
        start = time.perf_counter()
        self.conn.request("POST", self.path, body, headers)
        response = self.conn.getresponse()
        data = response.read()
        took = time.perf_counter() - start
        if response.status != 200 or b"Fault>" in data:
            sys.exit("latency.py: %s: HTTP %d %s" % (operation, response.status,
                                                    data[:400].decode(errors="replace")))
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return took, data


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--change-from", type=int, default=1)
    parser.add_argument("--item-b", type=int, required=True,
                        help="the item B every ChangeOutfit puts on")
    args = parser.parse_args()
    if args.samples < 10 or args.writes < 10 or args.members < 100:
        parser.error("--samples >= 10, --writes >= 10, --members >= 100")
    if args.change_from + args.writes - 1 > args.members:
        parser.error("--change-from + --writes goes past --members")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", args.tag):
        parser.error("--tag: 1..20 of [A-Za-z0-9_-]")
    env = read_env_file(args.env)
    api = Api(env["KISEKAE_API_URL"], env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])
    rng = random.Random(15)

    def member():
        return "%s-%d" % (args.prefix, rng.randint(1, args.members))

    def uid(u):
        return "<ks:userId>%s</ks:userId>" % u

    reads = [
        ("getavatar", "GetAvatar", lambda: uid(member())),
        ("getavatars100", "GetAvatars", lambda: "".join(uid(member()) for _ in range(100))),
        ("listmemberitems", "ListMemberItems", lambda: uid(member())),
    ]
    created = iter(range(1, 1 << 30))
    changed = iter(range(args.change_from, args.members + 1))
    writes = [
        ("createavatar", "CreateAvatar", lambda: uid("%s-new-%d" % (args.tag, next(created)))),
        ("changeoutfit", "ChangeOutfit",
         lambda: uid("%s-%d" % (args.prefix, next(changed))) + "<ks:wear>%d</ks:wear>" % args.item_b),
    ]
    for read, (name, operation, make) in [(1, r) for r in reads] + [(0, w) for w in writes]:
        count = args.samples if read else args.writes
        for _ in range(max(1, args.samples // 10) if read else 0):
            api.call(operation, make())
        times = [api.call(operation, make())[0] * 1000 for _ in range(count)]
        print("latency %s %s: p50 %.3f ms, p99 %.3f ms, mean %.3f ms, %d calls" % (
            args.tag, name, percentile(times, 50), percentile(times, 99),
            sum(times) / len(times), len(times)), flush=True)


if __name__ == "__main__":
    main()
