#!/usr/bin/python3
"""load_catalog.py: registers a sample catalog through the kisekae SOAP API and
dresses a demo member in it. It is also a sample of a Python (zeep) client.

    load_catalog.py --env STACK_ENV --catalog DIR [--demo-member NAME]

STACK_ENV is the shell-syntax file `./kisekae up` writes (KISEKAE_API_URL,
KISEKAE_WSDL_URL, KISEKAE_ADMIN_USER/PASSWORD, KISEKAE_SITE_USER/PASSWORD);
variables missing from it are taken from the environment. DIR holds
catalog.json and the layer PNGs written by samples/items/generate.py.

The run is idempotent; running it again changes nothing that is already there:
  1. ListCategories; RegisterCategory for each category missing (by name).
  2. ListItems, page by page; RegisterItem for each item missing (by category
     and name), with makeDefault for the catalog's default items.
  3. ListScenes; RegisterScene for each scene of the catalog missing (by
     name): the album backgrounds (the sample "park", 5 slots).
  4. GetAvatar of the demo member; CreateAvatar when the fault code is NotFound.
  5. GrantItem for each item of the demo outfit, then ChangeOutfit to wear
     them unless the member wears them all already.
Progress goes to stderr. The last line on stdout is
  KISEKAE_DEMO_AVATAR_URL=<url of the demo member's avatar>
A failure prints the operation, the fault code and its message, and exits 1
(2 for a usage or catalog error).
"""

import argparse
import json
import os
import sys
import time

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy"))
from stackenv import read_env_file  # noqa: E402

NS = "urn:kisekae:v1"
BINDING = "{%s}Kisekae" % NS
PAGE = 100                              # ListItems limit (1 to 100)


class ApiError(Exception):
    """A failed call: the operation, the stable fault code and its message."""

    def __init__(self, operation, code, message):
        super().__init__("%s failed: %s: %s" % (operation, code, message))
        self.operation, self.code, self.message = operation, code, message


def log(text):
    print("load_catalog: " + text, file=sys.stderr, flush=True)


def read_env(path):
    """KEY=value lines of a shell-syntax file (deploy/stackenv.py)."""
    try:
        return read_env_file(path)
    except ValueError as e:
        raise SystemExit("load_catalog: %s" % e)


def fault_detail(fault):
    """(code, message) of a zeep Fault: the KisekaeFault detail when present,
    else the SOAP faultcode and faultstring."""
    detail = getattr(fault, "detail", None)
    if detail is not None:
        for node in detail.iter():
            if isinstance(node.tag, str) and node.tag.rpartition("}")[2] == "KisekaeFault":
                fields = {child.tag.rpartition("}")[2]: (child.text or "")
                          for child in node if isinstance(child.tag, str)}
                if fields.get("code"):
                    return fields["code"], fields.get("message", "")
    return (fault.code or "Fault"), (fault.message or "")


class Api:
    """The SOAP service with one role's credentials; every call goes through
    call(), which turns faults and HTTP errors into ApiError."""

    def __init__(self, wsdl, endpoint, user, password, timeout=60):
        session = requests.Session()
        session.auth = (user, password)
        transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
        self.client = zeep.Client(wsdl, transport=transport)
        self.service = self.client.create_service(BINDING, endpoint)

    def call(self, operation, **kwargs):
        try:
            return getattr(self.service, operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            code, message = fault_detail(fault)
            raise ApiError(operation, code, message) from None
        except zeep.exceptions.TransportError as e:
            code = "Unauthorized" if e.status_code == 401 else "HTTP %d" % e.status_code
            raise ApiError(operation, code, (e.content or b"")[:200].decode("utf-8", "replace")
                           .strip() or e.message) from None
        except requests.RequestException as e:
            raise ApiError(operation, "ConnectionError", str(e)) from None


def as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def field(value, name):
    """zeep unwraps a response element with a single child; take the child
    whether or not it was unwrapped."""
    inner = getattr(value, name, None) if not isinstance(value, (list, tuple)) else None
    return inner if inner is not None else value


def load_wsdl(wsdl, endpoint, user, password, wait_s):
    """The Api, retrying while the API tier is still starting."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return Api(wsdl, endpoint, user, password)
        except (requests.RequestException, zeep.exceptions.TransportError,
                zeep.exceptions.XMLSyntaxError) as e:
            if time.monotonic() >= deadline:
                raise ApiError("loading the WSDL %s" % wsdl, "Unavailable", str(e)) from None
            time.sleep(1)


def ensure_categories(admin, site, catalog):
    existing = {c.name: c for c in as_list(field(site.call("ListCategories"), "category"))}
    ids = {}
    for spec in catalog["categories"]:
        category = existing.get(spec["name"])
        if category is None:
            category = field(admin.call("RegisterCategory", name=spec["name"],
                                        zOrder=spec["zOrder"], exclusive=spec["exclusive"],
                                        required=spec["required"]), "category")
            log("registered category %s (id %d)" % (spec["name"], category.id))
        else:
            log("category %s exists (id %d)" % (spec["name"], category.id))
            if (category.zOrder, bool(category.exclusive), bool(category.required)) != (
                    spec["zOrder"], spec["exclusive"], spec["required"]):
                log("warning: category %s differs from the catalog (zOrder %d exclusive %s "
                    "required %s)" % (spec["name"], category.zOrder, category.exclusive,
                                      category.required))
        ids[spec["name"]] = category.id
    return ids


def list_all_items(site):
    items, offset = [], 0
    while True:
        page = site.call("ListItems", offset=offset, limit=PAGE)
        batch = as_list(getattr(page, "item", None))
        items += batch
        offset += len(batch)
        if not batch or offset >= page.total:
            return items


def ensure_items(admin, site, catalog, catalog_dir, category_ids):
    existing = {(i.categoryId, i.name): i for i in list_all_items(site)}
    ids = {}
    for spec in catalog["items"]:
        category_id = category_ids[spec["category"]]
        item = existing.get((category_id, spec["name"]))
        if item is None:
            layers = []
            for layer in spec["layers"]:
                with open(os.path.join(catalog_dir, layer["file"]), "rb") as f:
                    layers.append({"png": f.read(), "zOrder": layer["zOrder"],
                                   "tintable": layer.get("tintable"), "role": layer.get("role")})
            item = field(admin.call("RegisterItem", categoryId=category_id, name=spec["name"],
                                    price=spec.get("price", 0), status="published",
                                    makeDefault=True if spec.get("default") else None,
                                    layer=layers), "item")
            log("registered item %s %r (id %d, %d layer%s)" % (
                spec["key"], spec["name"], item.id, len(layers), "s"[:len(layers) > 1]))
        else:
            log("item %s exists (id %d)" % (spec["key"], item.id))
        ids[spec["key"]] = item.id
    return ids


def ensure_scenes(admin, site, catalog, catalog_dir):
    existing = {s.name: s for s in as_list(field(site.call("ListScenes"), "scene"))}
    for spec in catalog.get("scenes", []):
        scene = existing.get(spec["name"])
        if scene is None:
            with open(os.path.join(catalog_dir, spec["file"]), "rb") as f:
                png = f.read()
            try:
                scene = field(admin.call("RegisterScene", name=spec["name"], png=png,
                                         slot=spec["slots"]), "scene")
            except ApiError as e:
                if e.code != "Conflict":        # a replica behind the master's new scene
                    raise
                log("scene %s exists (registered a moment ago)" % spec["name"])
                continue
            log("registered scene %s (id %d, %dx%d, %d slots)" % (
                spec["name"], scene.id, scene.width, scene.height, len(spec["slots"])))
        else:
            log("scene %s exists (id %d)" % (spec["name"], scene.id))


def dress_demo(site, member, wear_keys, item_ids):
    try:
        avatar = field(site.call("GetAvatar", userId=member), "avatar")
        log("member %s exists (version %d)" % (member, avatar.version))
    except ApiError as e:
        if e.code != "NotFound":
            raise
        avatar = field(site.call("CreateAvatar", userId=member), "avatar")
        log("created member %s on %s" % (member, avatar.imageServer))
    worn = set(as_list(avatar.wornItemId))
    wear = []
    for key in wear_keys:
        if key not in item_ids:
            raise ApiError("the demo outfit", "InvalidCatalog", "no item %r" % key)
        granted = site.call("GrantItem", userId=member, itemId=item_ids[key])
        log("granted %s%s" % (key, " (already owned)" if granted.alreadyOwned else ""))
        wear.append(item_ids[key])
    if set(wear) <= worn:
        log("%s already wears %s (version %d)" % (member, ", ".join(wear_keys), avatar.version))
        return avatar
    avatar = field(site.call("ChangeOutfit", userId=member, wear=wear), "avatar")
    log("%s wears %s (version %d)" % (member, ", ".join(wear_keys), avatar.version))
    return avatar


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Register a sample catalog through the kisekae SOAP API (idempotent) "
                    "and dress a demo member in it.",
        epilog="The last stdout line is KISEKAE_DEMO_AVATAR_URL=<url>.")
    parser.add_argument("--env", required=True, metavar="STACK_ENV",
                        help="the stack.env written by `./kisekae up`")
    parser.add_argument("--catalog", required=True, metavar="DIR",
                        help="directory with catalog.json (samples/items/generate.py)")
    parser.add_argument("--demo-member", metavar="NAME",
                        help="user id of the demo member (default: the catalog's)")
    parser.add_argument("--wsdl", help="WSDL path or URL (default: KISEKAE_WSDL_URL)")
    parser.add_argument("--wait", type=float, default=30, metavar="SECONDS",
                        help="how long to wait for the API to answer (default 30)")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.update(read_env(args.env))
    missing = [k for k in ("KISEKAE_API_URL", "KISEKAE_ADMIN_USER", "KISEKAE_ADMIN_PASSWORD")
               if not env.get(k)]
    if missing:
        print("load_catalog: %s does not set %s" % (args.env, ", ".join(missing)),
              file=sys.stderr)
        return 2
    try:
        with open(os.path.join(args.catalog, "catalog.json")) as f:
            catalog = json.load(f)
    except (OSError, ValueError) as e:
        print("load_catalog: cannot read the catalog: %s" % e, file=sys.stderr)
        return 2
    endpoint = env["KISEKAE_API_URL"]
    wsdl = args.wsdl or env.get("KISEKAE_WSDL_URL") or endpoint.rstrip("/") + "/?wsdl"
    member = args.demo_member or catalog.get("demo", {}).get("member", "demo")
    site_user = env.get("KISEKAE_SITE_USER") or env["KISEKAE_ADMIN_USER"]
    site_password = env.get("KISEKAE_SITE_PASSWORD") or env["KISEKAE_ADMIN_PASSWORD"]

    try:
        log("API %s, WSDL %s" % (endpoint, wsdl))
        admin = load_wsdl(wsdl, endpoint, env["KISEKAE_ADMIN_USER"],
                          env["KISEKAE_ADMIN_PASSWORD"], args.wait)
        site = Api(wsdl, endpoint, site_user, site_password)
        category_ids = ensure_categories(admin, site, catalog)
        item_ids = ensure_items(admin, site, catalog, args.catalog, category_ids)
        ensure_scenes(admin, site, catalog, args.catalog)
        avatar = dress_demo(site, member, catalog.get("demo", {}).get("wear", []), item_ids)
    except ApiError as e:
        print("load_catalog: %s" % e, file=sys.stderr)
        return 1
    except (OSError, KeyError) as e:
        print("load_catalog: catalog error: %s" % e, file=sys.stderr)
        return 2
    print("KISEKAE_DEMO_AVATAR_URL=%s" % avatar.url, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
