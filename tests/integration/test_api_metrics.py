"""GET /metrics of kisekae-api, on its internal listener (metrics_listen),
in both transports: api1 standalone and api-fcgi behind nginx. The answer is
parsed with test_metrics.py's strict reader of the Prometheus text format,
and its counters must follow what this test does between two scrapes: a
GetAvatar that succeeds, one that answers NotFound (that operation's and
that code's counts), a GET of the WSDL; the database pool lists the stack's
master and replicas with their state; the queues' depths are there. The
public port does not serve /metrics.
"""
import pytest
import requests

from conftest import Api, unique
from test_metrics import parse, value


def scrape(url):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def transports(env):
    """(name, API URL, its metrics URL) of the stack's API servers."""
    apis = env["KISEKAE_API_URLS"].split()
    metrics = env["KISEKAE_API_METRICS_URLS"].split()
    assert apis and len(apis) == len(metrics), "one metrics URL per API server in stack.env"
    return [("standalone", apis[0], metrics[0]),
            ("fastcgi", env["KISEKAE_API_FCGI_URL"], env["KISEKAE_API_FCGI_METRICS_URL"])]


@pytest.mark.parametrize("transport", ["standalone", "fastcgi"])
def test_api_metrics_follow_requests(env, transport):
    name, api_url, metrics_url = [t for t in transports(env) if t[0] == transport][0]
    site = Api(api_url, env["KISEKAE_SITE_USER"], env["KISEKAE_SITE_PASSWORD"])
    user = unique("metrics")
    site.service.CreateAvatar(userId=user)

    families, before = scrape(metrics_url)
    assert families["kisekae_api_requests_total"] == "counter"
    assert families["kisekae_api_faults_total"] == "counter"
    assert families["kisekae_api_request_duration_seconds"] == "histogram"
    site.service.GetAvatar(userId=user, minVersion=1)
    site.service.GetAvatar(userId=user, minVersion=1)
    missing = site.fault("GetAvatar", userId=unique("metrics-none"))
    assert missing.code == "NotFound", missing
    assert requests.get(api_url + "?wsdl", timeout=10).status_code == 200
    families, after = scrape(metrics_url)

    def delta(metric, **labels):
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert delta("kisekae_api_requests_total", operation="GetAvatar") == 3
    assert delta("kisekae_api_faults_total", operation="GetAvatar", code="NotFound") == 1
    assert delta("kisekae_api_requests_total", operation="http_wsdl") == 1
    assert delta("kisekae_api_request_duration_seconds_count", operation="GetAvatar") == 3
    assert delta("kisekae_api_request_duration_seconds_bucket", operation="GetAvatar",
                 le="+Inf") == 3
    assert after[("kisekae_api_request_duration_seconds_sum",
                  (("operation", "GetAvatar"),))] > 0
    # The avatar reads went through the cache: each is a hit or a miss.
    reads = (delta("kisekae_api_avatar_cache_hits_total") +
             delta("kisekae_api_avatar_cache_misses_total"))
    assert reads >= 3, "GetAvatar x3 read the avatar %d times" % reads

    # The database pool: the master and every replica, one state each.
    replicas = env.get("KISEKAE_DB_REPLICAS", "").split()
    members = {}
    for (series, pairs), v in after.items():
        if series == "kisekae_api_db_member_state":
            labels = dict(pairs)
            assert labels["state"] in ("pending", "healthy", "shunned", "down")
            members.setdefault((labels["role"], labels["address"]), []).append(v)
    roles = sorted(role for role, _ in members)
    assert roles.count("master") == 1, members
    if replicas:
        assert sorted(a for r, a in members if r == "replica") == sorted(replicas), members
    for states in members.values():
        assert sorted(states) == [0, 0, 0, 1], "exactly one state per member: %r" % members
    for (role, address) in members:
        assert ("kisekae_api_db_member_reads_total",
                (("role", role), ("address", address))) in after
        if role == "replica":
            assert ("kisekae_api_db_member_lag_seconds",
                    (("role", role), ("address", address))) in after
    assert value(after, "kisekae_api_db_pool_generation") >= 1
    assert value(after, "kisekae_api_render_queue_depth") >= 0
    assert value(after, "kisekae_api_deletion_queue_depth") >= 0


def test_api_metrics_not_public(env):
    """The public port answers the API, not /metrics."""
    response = requests.get(env["KISEKAE_API_URLS"].split()[0] + "metrics", timeout=10)
    assert response.status_code == 404
    assert "kisekae_api_" not in response.text
    # The metrics listener serves /metrics only.
    metrics_url = env["KISEKAE_API_METRICS_URLS"].split()[0]
    assert requests.get(metrics_url.replace("/metrics", "/other"), timeout=10).status_code == 404
