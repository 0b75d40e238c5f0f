#!/usr/bin/python3
"""import_members.py: bulk members through ImportMembers, and how fast.

    import_members.py --env STACK_ENV --members N [--prefix P] [--batch B]
                      [--parallel K] [--out FILE] [--first F]

Imports the members P-F .. P-N (F: 1 unless given) (default prefix "bench") through the SOAP
operation ImportMembers (admin credentials of STACK_ENV), B members per call
(default 1000, the most a call takes), K calls at a time (default 1), each
on its own keep-alive connection. Every member owns and wears the default
item of each required category, and owns two items A and B of one
non-required exclusive category, wearing A: bench/api's ChangeOutfit swaps
between them, so every such call really changes the outfit.

The request bodies are written by hand (zeep would spend more time building
them than the API does importing). Prints members/s over the whole import
and the slowest call, then `import: N members in S s: R members/s`. Already
imported members (a run again) are counted unchanged. With --out, writes
one line per member: "USER_ID ITEM_A ITEM_B". Exits 1 on any fault.
"""

import argparse
import concurrent.futures
import os
import re
import sys
import threading
import time
import warnings

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import requests  # noqa: E402
import zeep  # noqa: E402
from zeep.transports import Transport  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINDING = "{urn:kisekae:v1}Kisekae"
NS = "urn:kisekae:v1"
sys.path.insert(0, os.path.join(ROOT, "deploy"))
from stackenv import read_env_file  # noqa: E402


def as_list(value):
    return list(value or [])


def catalog_choice(api):
    """(required default item ids, item A, item B): A and B two published
    items of a non-required exclusive category."""
    required, pair = [], None
    for category in as_list(api.ListCategories()):
        if category.required:
            if category.defaultItemId is None:
                sys.exit("import_members.py: required category %r has no default item"
                         % category.name)
            required.append(category.defaultItemId)
        elif category.exclusive and pair is None:
            items = as_list(api.ListItems(categoryId=category.id, limit=100).item)
            if len(items) >= 2:
                pair = (items[0].id, items[1].id)
    if pair is None:
        sys.exit("import_members.py: the catalog has no non-required exclusive category "
                 "with two items")
    return required, pair[0], pair[1]


def body(user_ids, required, a, b):
    owned = "".join("<ks:ownedItemId>%d</ks:ownedItemId>" % i for i in required + [a, b])
    worn = "".join("<ks:wornItemId>%d</ks:wornItemId>" % i for i in required + [a])
    members = "".join("<ks:member><ks:userId>%s</ks:userId>%s%s</ks:member>" % (u, owned, worn)
                      for u in user_ids)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:ks="%s"><soap:Body><ks:ImportMembers>%s</ks:ImportMembers>'
            '</soap:Body></soap:Envelope>' % (NS, members)).encode()


ANSWER = re.compile(rb"<(?:\w+:)?imported>(\d+)</(?:\w+:)?imported>\s*"
                    rb"<(?:\w+:)?unchanged>(\d+)</")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="the stack.env of the stack")
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--out")
    parser.add_argument("--first", type=int, default=1)
    args = parser.parse_args()
    if (not 1 <= args.batch <= 1000 or not 1 <= args.first <= args.members or
            not 1 <= args.parallel <= 32):
        parser.error("--first 1..--members, --batch 1..1000, --parallel 1..32")
    env = read_env_file(args.env)
    auth = (env["KISEKAE_ADMIN_USER"], env["KISEKAE_ADMIN_PASSWORD"])
    session = requests.Session()
    session.auth = auth
    client = zeep.Client(os.path.join(ROOT, "wsdl", "Kisekae.wsdl"),
                         transport=Transport(session=session, timeout=60))
    api = client.create_service(BINDING, env["KISEKAE_API_URL"])
    required, a, b = catalog_choice(api)

    local = threading.local()
    url = env["KISEKAE_API_URL"]
    headers = {"Content-Type": "text/xml; charset=utf-8",
               "SOAPAction": '"urn:kisekae:v1#ImportMembers"'}

    def call(first):
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.auth = auth
        ids = ["%s-%d" % (args.prefix, k)
               for k in range(first, min(first + args.batch, args.members + 1))]
        data = body(ids, required, a, b)
        start = time.monotonic()
        response = local.session.post(url, data=data, headers=headers, timeout=300)
        took = time.monotonic() - start
        found = ANSWER.search(response.content)
        if response.status_code != 200 or not found:
            raise RuntimeError("ImportMembers of %s..%s: HTTP %d %s" % (
                ids[0], ids[-1], response.status_code, response.text[:400]))
        return int(found.group(1)), int(found.group(2)), took

    imported = unchanged = 0
    slowest = 0.0
    start = time.monotonic()
    firsts = range(args.first, args.members + 1, args.batch)
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        try:
            for n, (i, u, took) in enumerate(pool.map(call, firsts), 1):
                imported += i
                unchanged += u
                slowest = max(slowest, took)
                if n % 20 == 0:
                    print("import: %d members done, %.0f members/s so far" % (
                        imported + unchanged, (imported + unchanged) /
                        (time.monotonic() - start)), file=sys.stderr)
        except RuntimeError as e:
            sys.exit("import_members.py: %s" % e)
    elapsed = time.monotonic() - start
    if args.out:
        with open(args.out, "w") as f:
            f.writelines("%s-%d %d %d\n" % (args.prefix, k, a, b)
                         for k in range(args.first, args.members + 1))
    print("import: %d imported, %d unchanged, %d per call, %d calls at a time; slowest call "
          "%.2f s" % (imported, unchanged, args.batch, args.parallel, slowest))
    print("import: %d members in %.1f s: %.0f members/s" % (
        imported + unchanged, elapsed, (imported + unchanged) / elapsed))


if __name__ == "__main__":
    main()
