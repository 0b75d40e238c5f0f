"""The sample libraries' tints and webhook verifiers against the stack
tests/samples/run.sh brings up (issue 16's features in the samples).

- A member dressed through the Python sample client in the sample hair with
  a colour: the avatar answers carry the colour, and the image is the Pillow
  oracle's composite (tests/integration/oracle.py) of the catalog's layers
  with the hair's tintable layers tinted.
- A real webhook delivery of the API (registered as admin, to a receiver of
  this file on port base + 85: KISEKAE_SAMPLES_PORT_BASE, a port the stack
  leaves free) is checked by the verifier of every sample library (Python
  in-process; PHP, Perl, Node and C as a site's handler would run them, the
  body on standard input): each accepts it as delivered and refuses it with
  its body tampered or under another secret. The walkthroughs only check a
  fixed sample payload; this proves the verifiers agree with the sender.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
import zeep
import zeep.transports

from timescale import scaled, wait_until
from webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "samples" / "python"))
sys.path.insert(0, str(ROOT / "samples"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import kisekae  # noqa: E402
import oracle  # noqa: E402
from load_catalog import read_env  # noqa: E402

PORT_BASE = int(os.environ.get("KISEKAE_SAMPLES_PORT_BASE") or 28400)
RECEIVER_PORT = PORT_BASE + 85
ENV = read_env(os.environ["KISEKAE_ENV"])
LIVE = ENV["KISEKAE_API_URLS"].split()
CATALOG = Path(ENV["KISEKAE_STATE"]) / "catalog"
BUILD = Path(os.environ.get("KISEKAE_BUILD_DIR") or ROOT / "build")
COLOUR = "#3366CC"


@pytest.fixture(scope="module")
def api():
    with kisekae.KisekaeClient(LIVE, ENV["KISEKAE_SITE_USER"], ENV["KISEKAE_SITE_PASSWORD"],
                               timeout=scaled(30)) as client:
        yield client


@pytest.fixture
def member(api):
    user_id = "samples-t16-%s" % uuid.uuid4().hex[:12]
    api.create_avatar(user_id)
    yield user_id
    api.delete_avatar(user_id)


def catalog_items():
    with open(CATALOG / "catalog.json") as f:
        return json.load(f)["items"]


def test_the_tinted_hair_comes_back_and_composes_like_the_oracle(api, member):
    by_name = {i.name: i for i in api.list_items(limit=100).items}
    entry = next(e for e in catalog_items()
                 if e["layers"] and all(l.get("tintable") for l in e["layers"]))
    hair = by_name[entry["name"]]
    api.grant_item(member, hair.id)
    avatar = api.change_outfit(member, wear=[hair.id], colours={hair.id: COLOUR.lower()})
    assert avatar.colours == {hair.id: COLOUR}
    assert api.get_avatar(member, min_version=avatar.version).colours == {hair.id: COLOUR}
    assert avatar.anim_url is None              # the sample catalog animates nothing

    names = {i.id: i.name for i in api.list_items(limit=100).items}
    entries = {e["name"]: e for e in catalog_items()}
    tinted, plain = [], []
    for item_id in avatar.worn_item_ids:
        for layer in entries[names[item_id]]["layers"]:
            path, z = str(CATALOG / layer["file"]), int(layer["zOrder"])
            plain.append((path, z))
            tint = layer.get("tintable") and item_id == hair.id
            tinted.append((oracle.tint(path, COLOUR) if tint else path, z))
    canvas = oracle.catalog_canvas(str(CATALOG))
    png = oracle.fetch_png(avatar.url)
    diff = oracle.compare(oracle.compose(tinted, canvas), png)
    assert diff.max_diff <= oracle.TOLERANCE, oracle.describe(diff)
    assert oracle.compare(oracle.compose(plain, canvas), png).max_diff > oracle.TOLERANCE, \
        "the avatar looks like the untinted hair"


def delivery_for(receiver, user_id):
    """(headers, body) of the first POST about user_id, or None."""
    with receiver.lock:
        return next(((h, b) for h, b, _status in receiver.posts
                     if json.loads(b)["data"]["userId"] == user_id), None)


def verdicts(body, signature, secret):
    """{language: accepted?} of every sample library's verifier."""
    run = lambda argv: subprocess.run(argv, input=body, cwd=ROOT, capture_output=True,
                                      timeout=scaled(30))
    php = run(["php", "-r", 'require $argv[1]; exit(Kisekae\\Webhook::verify('
               'file_get_contents("php://stdin"), $argv[2], $argv[3]) ? 0 : 1);', "--",
               "samples/php/autoload.php", signature, secret])
    perl = run(["perl", "-Isamples/perl/lib", "-MKisekae::Webhook=verify_signature", "-e",
                'binmode STDIN; local $/; my $body = <STDIN>; '
                'exit(verify_signature($body, $ARGV[0], $ARGV[1]) ? 0 : 1)', signature, secret])
    node = run(["node", "-e", 'const k = require(process.argv[1]); '
                'process.exit(k.verifyWebhook(require("fs").readFileSync(0), process.argv[2], '
                'process.argv[3]) ? 0 : 1)', str(ROOT / "samples/node/kisekae.js"), signature,
                secret])
    c = run([str(BUILD / "samples/c/kisekae-sample-c"), "--verify-webhook", secret, signature])
    out = {"python": kisekae.verify_webhook(body, signature, secret)}
    for lang, result in (("php", php), ("perl", perl), ("node", node), ("c", c)):
        assert result.returncode in (0, 1), "%s: exit %d: %s" % (
            lang, result.returncode, (result.stderr or result.stdout)[-500:])
        out[lang] = result.returncode == 0
    return out


def test_every_verifier_accepts_a_real_delivery_and_refuses_it_tampered(api, member):
    admin = zeep.Client(LIVE[0] + "?wsdl", transport=zeep.transports.Transport(
        session=requests.Session(), timeout=scaled(30)))
    admin.transport.session.auth = (ENV["KISEKAE_ADMIN_USER"], ENV["KISEKAE_ADMIN_PASSWORD"])
    secret = "samples-t16-%s" % uuid.uuid4().hex
    receiver = Receiver(RECEIVER_PORT)
    hook = admin.service.RegisterWebhook(url="http://127.0.0.1:%d/hook" % RECEIVER_PORT,
                                         secret=secret, event=["avatar.changed"])
    try:
        optional = {c.id for c in api.list_categories() if not c.required}
        worn = api.get_avatar(member).worn_item_ids
        item = next(i for i in api.list_items(limit=100).items
                    if i.category_id in optional and i.id not in worn)
        api.grant_item(member, item.id)
        api.change_outfit(member, wear=[item.id])
        wait_until(lambda: None if delivery_for(receiver, member) else "nothing came",
                   "the avatar.changed delivery", 30)
    finally:
        admin.service.DeleteWebhook(id=hook.id)
        receiver.stop()
    headers, body = delivery_for(receiver, member)
    signature = headers["X-Kisekae-Signature"]
    everyone = dict.fromkeys(["python", "php", "perl", "node", "c"], True)
    nobody = dict.fromkeys(everyone, False)
    assert verdicts(body, signature, secret) == everyone
    event = json.loads(body)
    tampered = body.replace(b'"version":%d' % event["data"]["version"],
                            b'"version":%d' % (event["data"]["version"] + 1))
    assert tampered != body
    assert verdicts(tampered, signature, secret) == nobody
    assert verdicts(body, signature, secret + "x") == nobody
