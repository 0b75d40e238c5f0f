"""GET /metrics of every kisekae-admin (its internal metrics_listen, listed
in stack.env as KISEKAE_ADMIN_METRICS_URLS), parsed with the strict reader of
tests/integration/test_metrics.py. Driven with plain HTTP through the
balancer (no browser): the sign-in form, a refused sign-in, a sign-in that
works and a page behind it must each count, summed over the admin servers
(nginx picks one per request). A server that answered no request yet has no
latency histogram family (the strict reader wants buckets in each).
"""
import re
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from test_metrics import parse, value  # noqa: E402


def scrape_all(env):
    """{(name, labels): value} summed over every admin server."""
    urls = env["KISEKAE_ADMIN_METRICS_URLS"].split()
    assert urls, "no KISEKAE_ADMIN_METRICS_URLS in stack.env"
    total = {}
    for url in urls:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        families, samples = parse(response.text)
        assert families["kisekae_admin_requests_total"] == "counter"
        assert families["kisekae_admin_sign_ins_total"] == "counter"
        assert families["kisekae_admin_api_failures_total"] == "counter"
        for key, v in samples.items():
            total[key] = total.get(key, 0) + v
    return total


def sign_in(session, base, name, password):
    form = session.get(base + "/login", timeout=10)
    assert form.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return session.post(base + "/login", data={"csrf": csrf, "name": name,
                                               "password": password},
                        allow_redirects=False, timeout=10)


def test_admin_metrics_follow_requests(env):
    base = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
    before = scrape_all(env)
    refused = sign_in(requests.Session(), base, "no-such-staff-metrics", "wrong password")
    assert refused.status_code == 403
    session = requests.Session()
    ok = sign_in(session, base, env["KISEKAE_STAFF_USER"], env["KISEKAE_STAFF_PASSWORD"])
    assert ok.status_code in (302, 303), ok.text[:300]
    assert session.get(base + "/items", timeout=30).status_code == 200
    assert requests.get(base + "/no-such-page", timeout=10).status_code == 404
    after = scrape_all(env)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("kisekae_admin_sign_ins_total", result="refused") == 1
    assert delta("kisekae_admin_sign_ins_total", result="ok") == 1
    assert delta("kisekae_admin_requests_total", method="GET", page="/login", status="200") == 2
    assert delta("kisekae_admin_requests_total", method="POST", page="/login", status="403") == 1
    assert delta("kisekae_admin_requests_total", method="GET", page="/items", status="200") == 1
    assert delta("kisekae_admin_requests_total", method="other", page="other", status="404") == 1
    assert delta("kisekae_admin_request_duration_seconds_count",
                 method="GET", page="/items") == 1
    for url in env["KISEKAE_ADMIN_METRICS_URLS"].split():
        families, _ = parse(requests.get(url, timeout=10).text)
        if "kisekae_admin_request_duration_seconds" in families:
            assert families["kisekae_admin_request_duration_seconds"] == "histogram"
    for kind in ("fault", "unavailable"):
        assert ("kisekae_admin_api_failures_total", (("kind", kind),)) in after


def test_admin_metrics_not_public(env):
    """The UI's own address does not answer /metrics."""
    base = env["KISEKAE_ADMIN_UI_URL"].rstrip("/")
    response = requests.get(base + "/metrics", timeout=10)
    assert "kisekae_admin_" not in response.text
