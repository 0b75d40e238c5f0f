#!/usr/bin/python3
"""setup.py: the members bench/batch/run.sh regenerates, created through the
SOAP API of the bench's own stack.

    setup.py --env STACK_ENV --catalog DIR --members N [--threads T]

So that each member wears a real outfit at the cost of one call, it first
registers four required categories (hair, shoes, bottom, top) whose default
items are the sample catalog's art (DIR/catalog.json, as `./kisekae up` drew
it): every member created then wears body, two-layer hair, shoes, bottom and
top, six layers. Then it creates bench-1 .. bench-N (CreateAvatar on img1)
with T threads, and exits 1 with the failed call on an error.
"""

import argparse
import json
import os
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import requests  # noqa: E402
import zeep  # noqa: E402
from zeep.transports import Transport  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests")]
from conftest import read_env_file  # noqa: E402
BINDING = "{urn:kisekae:v1}Kisekae"
OUTFIT = (("hair", "hair-bob", 50), ("shoes", "shoes-boots", 150),
          ("bottom", "bottom-jeans", 180), ("top", "top-sailor", 200))


def client(env, role, url):
    session = requests.Session()
    session.auth = (env["KISEKAE_%s_USER" % role], env["KISEKAE_%s_PASSWORD" % role])
    zeep_client = zeep.Client(os.path.join(ROOT, "wsdl", "Kisekae.wsdl"),
                              transport=Transport(session=session, timeout=60))
    return zeep_client.create_service(BINDING, url)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    env = read_env_file(args.env)
    url = env["KISEKAE_API_URL"]
    admin = client(env, "ADMIN", url)
    with open(os.path.join(args.catalog, "catalog.json")) as f:
        items = {item["key"]: item for item in json.load(f)["items"]}
    suffix = str(int(time.time()))
    for name, key, z in OUTFIT:
        category = admin.RegisterCategory(name="bench-%s-%s" % (name, suffix), zOrder=z,
                                          exclusive=True, required=True)
        layers = []
        for layer in items[key]["layers"]:
            with open(os.path.join(args.catalog, layer["file"]), "rb") as f:
                layers.append({"png": f.read(), "zOrder": layer["zOrder"]})
        admin.RegisterItem(categoryId=category.id, name="bench %s %s" % (key, suffix), price=1,
                           makeDefault=True, layer=layers)
    local = threading.local()

    def create(k):
        if not hasattr(local, "site"):
            local.site = client(env, "SITE", url)
        local.site.CreateAvatar(userId="bench-%06d" % k, imageServer="img1")

    started = time.monotonic()
    with ThreadPoolExecutor(args.threads) as pool:
        for _ in pool.map(create, range(1, args.members + 1)):
            pass
    print("created %d members in %.1f s" % (args.members, time.monotonic() - started))


if __name__ == "__main__":
    sys.exit(main())
