"""Signed webhooks (api-server/webhook.c, op_webhook.c).

A receiver of the test's own on loopback (port KISEKAE_IT_PORT_BASE + 76)
checks every POST's X-Kisekae-Signature (HMAC-SHA256 under the webhook's
secret of "<t>.<body>", computed here with Python's hmac), that a member's
events arrive in order, that an event is re-sent while the receiver answers
503 and delivered once it is back, that RedeliverWebhookEvent sends it
again, and that a deleted webhook gets nothing more. The stack's API servers
try failed deliveries again after webhook_retry 1 second (run.sh).
"""

import hashlib
import hmac
import json
import time

import pytest

from conftest import as_list, unique, wait_for
from timescale import scaled
from webhook_receiver import Receiver
from world import build_world, dress, new_member

SECRET = "webhook-test-secret-0123456789"


@pytest.fixture(scope="module")
def receiver(env):
    r = Receiver(int(env["KISEKAE_IT_PORT_BASE"]) + 76)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def webhook(env, admin, receiver):
    port = int(env["KISEKAE_IT_PORT_BASE"]) + 76
    hook = admin.service.RegisterWebhook(
        url="http://127.0.0.1:%d/hooks/kisekae" % port, secret=SECRET,
        event=["avatar.changed", "avatar.deleted"])
    yield hook
    admin.service.DeleteWebhook(id=hook.id)


@pytest.fixture(scope="module")
def world(admin, site, art):
    return build_world(admin, site, art, "hook")


def verify(headers, body):
    """The signature of one POST, checked as a site would."""
    fields = dict(part.split("=", 1) for part in headers["X-Kisekae-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), fields["t"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(int(fields["t"]) - time.time()) < scaled(120)


def test_register_checks_its_input(admin, site):
    bad = [
        dict(url="ftp://example.test/", secret=SECRET, event=["avatar.changed"]),
        dict(url="http:///path", secret=SECRET, event=["avatar.changed"]),
        dict(url="http://example.test/ space", secret=SECRET, event=["avatar.changed"]),
        dict(url="http://example.test/", secret="short", event=["avatar.changed"]),
        dict(url="http://example.test/", secret=SECRET, event=["avatar.exploded"]),
        dict(url="http://example.test/", secret=SECRET,
             event=["avatar.changed", "avatar.changed"]),
        dict(url="http://example.test/" + "a" * 1100, secret=SECRET, event=["avatar.changed"]),
    ]
    before = len(as_list(admin.service.ListWebhooks()))
    for args in bad:
        assert admin.fault("RegisterWebhook", **args).code == "InvalidArgument", args
    assert site.fault("RegisterWebhook", url="http://example.test/", secret=SECRET,
                      event=["avatar.changed"]).code == "Forbidden"
    assert len(as_list(admin.service.ListWebhooks())) == before


def test_changes_arrive_signed_and_in_order(admin, site, world, webhook, receiver):
    listed = [w for w in as_list(admin.service.ListWebhooks()) if w.id == webhook.id]
    assert listed and sorted(listed[0].event) == ["avatar.changed", "avatar.deleted"]
    user_id, _ = new_member(site, world)
    versions = []
    for roles in (["hairA"], ["hairB"], ["topA"], ["topB"], ["hairA", "topA"]):
        versions.append(dress(site, world, user_id, roles).version)
    wait_for(lambda: len(receiver.events(user_id)) >= len(versions) + 1,
             "the changes' events", timeout=30)
    events = receiver.events(user_id)
    got = [e["data"]["version"] for e in events if e["type"] == "avatar.changed"]
    assert got == sorted(got) and got[-len(versions):] == versions, got
    with receiver.lock:
        posts = [(h, b) for h, b, s in receiver.posts if json.loads(b)["data"]["userId"] == user_id]
    for headers, body in posts:
        verify(headers, body)
        event = json.loads(body)
        assert headers["X-Kisekae-Event-Id"] == event["id"]
        assert headers["X-Kisekae-Event-Type"] == event["type"]
        assert headers["Content-Type"] == "application/json"
    last = events[-1]["data"]
    assert last["imageUrl"].endswith("/%d.png" % versions[-1]) and last["imageServer"]


def test_a_receiver_that_fails_gets_the_events_again_in_order(admin, site, world, webhook,
                                                              receiver):
    user_id, _ = new_member(site, world)
    receiver.status = 503
    try:
        first = dress(site, world, user_id, ["hairB"]).version
        second = dress(site, world, user_id, ["topB"]).version
        wait_for(lambda: len(receiver.events(user_id, answered=503)) >= 2,
                 "two refused deliveries", timeout=30)
        refused = receiver.events(user_id, answered=503)
        # only the oldest is tried while it fails: the later one waits for it
        assert {e["data"]["version"] for e in refused} <= {first - 1, first}, refused
        log = as_list(admin.service.ListWebhookDeliveries(id=webhook.id, state="pending").delivery)
        mine = [d for d in log if d.userId == user_id]
        assert mine and all(d.state == "pending" for d in mine)
        assert max(d.attempts for d in mine) >= 1 and any(d.lastStatus == 503 for d in mine)
    finally:
        receiver.status = 200
    wait_for(lambda: second in [e["data"]["version"] for e in receiver.events(user_id)],
             "the deliveries after the receiver came back", timeout=40)
    delivered = [e["data"]["version"] for e in receiver.events(user_id)]
    assert delivered == sorted(delivered) and first in delivered, delivered


def test_redelivery_and_the_delivery_log(admin, site, world, webhook, receiver):
    user_id, _ = new_member(site, world)
    dress(site, world, user_id, ["ribbon"])
    wait_for(lambda: receiver.events(user_id), "an event", timeout=30)
    event = receiver.events(user_id)[-1]
    wait_for(lambda: any(d.eventId == int(event["id"]) and d.state == "delivered" for d in
                         as_list(admin.service.ListWebhookDeliveries(id=webhook.id).delivery)),
             "the delivery recorded", timeout=10)
    again = admin.service.RedeliverWebhookEvent(id=webhook.id, eventId=int(event["id"]))
    assert again.state == "pending" and again.attempts == 0 and again.userId == user_id
    wait_for(lambda: [e["id"] for e in receiver.events(user_id)].count(event["id"]) == 2,
             "the event sent again", timeout=30)
    # paging: one at a time, newest first, until the last page
    page = admin.service.ListWebhookDeliveries(id=webhook.id, limit=1)
    assert len(as_list(page.delivery)) == 1 and page.nextBeforeEventId
    following = admin.service.ListWebhookDeliveries(id=webhook.id, limit=1,
                                                    beforeEventId=page.nextBeforeEventId)
    assert as_list(following.delivery)[0].eventId < as_list(page.delivery)[0].eventId


def test_deleted_members_and_webhooks(admin, site, world, receiver, env):
    port = int(env["KISEKAE_IT_PORT_BASE"]) + 76
    hook = admin.service.RegisterWebhook(url="http://127.0.0.1:%d/other" % port,
                                         secret=SECRET, event=["avatar.deleted"])
    user_id, _ = new_member(site, world)
    site.service.DeleteAvatar(userId=user_id)
    wait_for(lambda: [e for e in receiver.events(user_id) if e["type"] == "avatar.deleted"],
             "the deletion's event", timeout=30)
    assert admin.service.DeleteWebhook(id=hook.id) == 1
    assert admin.service.DeleteWebhook(id=hook.id) == 0
    assert admin.fault("ListWebhookDeliveries", id=hook.id).code == "NotFound"
    assert admin.fault("RedeliverWebhookEvent", id=hook.id, eventId=1).code == "NotFound"


def test_regenerations_and_moves(admin, site, world, receiver, env):
    port = int(env["KISEKAE_IT_PORT_BASE"]) + 76
    hook = admin.service.RegisterWebhook(url="http://127.0.0.1:%d/all" % port, secret=SECRET,
                                         event=["avatar.regenerated", "avatar.moved"])
    try:
        servers = [s.name for s in as_list(admin.service.ListImageServers())
                   if s.mode == "active"]
        user_id, _ = new_member(site, world, image_server=servers[0])
        regenerated = site.service.RegenerateAvatar(userId=user_id)
        moved = admin.service.MoveAvatar(userId=user_id, to=servers[-1])
        kinds = {"avatar.regenerated": regenerated.version, "avatar.moved": moved.avatar.version}
        wait_for(lambda: {e["type"] for e in receiver.events(user_id)} >= set(kinds),
                 "the regeneration's and the move's events", timeout=30)
        for event in receiver.events(user_id):
            if event["type"] in kinds:
                assert event["data"]["version"] == kinds[event["type"]], event
        last = [e for e in receiver.events(user_id) if e["type"] == "avatar.moved"][-1]
        assert last["data"]["imageServer"] == servers[-1]
    finally:
        admin.service.DeleteWebhook(id=hook.id)
