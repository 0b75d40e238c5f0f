"""GET /metrics of an image server (its internal side): the Prometheus text
exposition format 0.0.4 parsed strictly (every sample in a declared family,
label syntax, no duplicate series, histograms cumulative and ending in +Inf =
_count), and its counters following what this test does between two scrapes:
layer PUTs, a refused PUT (403), a compose, a preview, /health, a POST to
/metrics (405). The gauges agree with /health; the public side does not serve
/metrics.
"""
import math
import re

import requests

from test_image_protocol import CANVAS, Stack, image_server, member  # noqa: F401 (fixture)

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", text), "bad value %r" % text
    return float(text)


def parse(text):
    """{family: type}, {(name, ((label, value), ...)): value}; asserts the format."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families, helps, samples = {}, set(), {}
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (number, line)
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert re.fullmatch(NAME, name) and name not in helps, where
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            words = line.split(" ")
            assert len(words) == 4 and words[3] in TYPES, where
            assert words[2] not in families, "family declared twice: " + where
            families[words[2]] = words[3]
            continue
        assert not line.startswith("#") and line.strip(), where
        m = SAMPLE.match(line)
        assert m, "not a sample: " + where
        name, labels, value = m.group(1), m.group(2), parse_value(m.group(3))
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and families.get(name[:-len(suffix)]) == "histogram":
                family = name[:-len(suffix)]
        assert family in families, "sample before its # TYPE: " + where
        pairs = tuple(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
        assert len({k for k, _ in pairs}) == len(pairs), "a label twice: " + where
        key = (name, pairs)
        assert key not in samples, "a series twice: " + where
        if families[family] == "counter":
            assert value >= 0 and not math.isinf(value), where
        samples[key] = value
    for family, kind in families.items():
        if kind == "histogram":
            check_histogram(family, samples)
    return families, samples


def check_histogram(family, samples):
    series = {}
    for (name, pairs), value in samples.items():
        if name == family + "_bucket":
            rest = tuple(p for p in pairs if p[0] != "le")
            le = dict(pairs)["le"]
            series.setdefault(rest, []).append((parse_value(le), value))
    assert series, "histogram %s without buckets" % family
    for rest, buckets in series.items():
        buckets.sort()
        counts = [count for _, count in buckets]
        assert counts == sorted(counts), "%s%s: buckets not cumulative" % (family, rest)
        assert math.isinf(buckets[-1][0]), "%s%s: no +Inf bucket" % (family, rest)
        assert samples[(family + "_count", rest)] == buckets[-1][1]
        assert samples[(family + "_sum", rest)] >= 0


def scrape(server):
    r = requests.get(server["internal"] + "/metrics", timeout=15)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def value(samples, name, **labels):
    """A series' value, 0 when the server has not written it (nothing counted yet)."""
    return samples.get((name, tuple(sorted(labels.items()))),
                       samples.get((name, tuple(labels.items())), 0))


def health(server):
    r = requests.get(server["internal"] + "/health", timeout=15)
    assert r.status_code == 200
    return {k: v for k, v in (line.split(" ", 1) for line in r.text.splitlines())}


def requests_of(samples, route, status):
    return value(samples, "kisekae_image_requests_total", route=route, status=str(status))


def test_metrics_format_and_counters(image_server):
    families, before = scrape(image_server)
    for family, kind in (("kisekae_image_requests_total", "counter"),
                         ("kisekae_image_request_duration_seconds", "histogram"),
                         ("kisekae_image_composed_total", "counter"),
                         ("kisekae_image_rebuilt_total", "counter"),
                         ("kisekae_image_layer_cache_hits_total", "counter"),
                         ("kisekae_image_layer_cache_misses_total", "counter"),
                         ("kisekae_image_store_free_bytes", "gauge"),
                         ("kisekae_image_items_stored", "gauge")):
        assert families.get(family) == kind, family

    stack = Stack(image_server)                 # three layer PUTs
    stack.add_layer(11, 10, 20)
    stack.add_layer(12, 40, 50)
    stack.add_layer(13, 0, 90)
    refused = requests.put(image_server["internal"] + "/internal/items/%d/0" % stack.base,
                           data=b"x", headers={"X-Kisekae-Sha256": "0" * 64}, timeout=15)
    assert refused.status_code == 403            # no secret: refused, counted as item/403
    body = "user_id %s\nversion 1\ncanvas %d %d\n%s" % (member(), CANVAS[0], CANVAS[1],
                                                       stack.layer_lines())
    assert stack.post("compose", body).status_code == 200
    assert stack.post("preview", body).status_code == 200
    health(image_server)
    r = requests.post(image_server["internal"] + "/metrics", data=b"", timeout=15)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"

    _, after = scrape(image_server)
    now = health(image_server)

    def delta(route, status):
        return requests_of(after, route, status) - requests_of(before, route, status)

    assert delta("item", 200) == 3
    assert delta("item", 403) == 1
    assert delta("compose", 200) == 1
    assert delta("preview", 200) == 1
    assert delta("health", 200) == 1
    assert delta("metrics", 200) == 1            # the first scrape
    assert delta("metrics", 405) == 1

    def composed(samples, kind):
        return value(samples, "kisekae_image_composed_total", kind=kind)

    assert composed(after, "avatar") - composed(before, "avatar") == 1
    assert composed(after, "preview") - composed(before, "preview") == 1
    count = "kisekae_image_request_duration_seconds_count"
    assert value(after, count, route="compose") - value(before, count, route="compose") == 1

    # The compose and the preview each drew the three layers: six lookups.
    lookups = sum(value(s, "kisekae_image_layer_cache_%s_total" % k) * sign
                  for s, sign in ((after, 1), (before, -1)) for k in ("hits", "misses"))
    assert lookups >= 6

    # The gauges are what /health reads (no other request came in between).
    assert value(after, "kisekae_image_items_stored") == int(now["items_stored"])
    assert value(after, "kisekae_image_items_stored") - value(before,
                                                              "kisekae_image_items_stored") == 3
    assert value(after, "kisekae_image_rebuilt_total") == int(now["images_rebuilt"])
    assert int(now["avatars_composed"]) == composed(after, "avatar") + composed(after, "album")
    free = value(after, "kisekae_image_store_free_bytes")
    assert free > 0 and abs(free - int(now["store_free_bytes"])) <= max(free // 100, 1 << 20)

    # Never on the public side.
    assert requests.get(image_server["public"] + "/metrics", timeout=15).status_code == 404
