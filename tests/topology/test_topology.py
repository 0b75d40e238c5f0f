"""A stack of two API servers behind nginx and two image servers (run.sh
brings it up with `./kisekae up --api 2 --image 2 --replicas 1`).

The tests run in file order and build on each other: the lists of stack.env,
SOAP through the balancer, an API server killed (-9, by its pid file),
`./kisekae add image` while a client keeps calling, `add api`, `up` again changing
nothing. Clients come from the CHECKED-IN wsdl/Kisekae.wsdl, the endpoint
overridden, as in tests/integration.
"""

import os
import re
import sys
import signal
import subprocess
import threading
import time
import uuid
import warnings
from pathlib import Path

import requests
from urllib3.util.retry import Retry

warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
import zeep  # noqa: E402
from zeep.transports import Transport  # noqa: E402
from timescale import scaled

ROOT = Path(__file__).resolve().parents[2]
WSDL = ROOT / "wsdl" / "Kisekae.wsdl"
BINDING = "{urn:kisekae:v1}Kisekae"
ENV_FILE = Path(os.environ["KISEKAE_ENV"])
BUILD = os.environ["KISEKAE_BUILD"]
CALL_TIMEOUT_S = 20
sys.path.insert(0, str(ROOT / "deploy"))
from stackenv import read_env_file  # noqa: E402


def read_env():
    return read_env_file(ENV_FILE)


ENV = read_env()
STATE = Path(ENV["KISEKAE_STATE"])


def admin_client(endpoint, retry_reset=False):
    """A zeep client as admin. retry_reset: a read whose kept-alive
    connection nginx closed just as it was sent (a reload ends its old
    workers' idle connections) is sent again on a new one, as HTTP clients
    do for idempotent calls; only for reads."""
    session = requests.Session()
    session.auth = (ENV["KISEKAE_ADMIN_USER"], ENV["KISEKAE_ADMIN_PASSWORD"])
    if retry_reset:
        retry = Retry(total=2, connect=2, read=2, status=0, other=0, allowed_methods=None,
                      raise_on_status=False)
        session.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))
    transport = Transport(session=session, timeout=CALL_TIMEOUT_S,
                          operation_timeout=CALL_TIMEOUT_S)
    return zeep.Client(str(WSDL), transport=transport).create_service(BINDING, endpoint)


def kisekae(*args):
    """./kisekae ARGS on this stack; its output, or the test fails with it."""
    done = subprocess.run([str(ROOT / "kisekae"), *args, "--state", str(STATE)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120)
    assert done.returncode == 0, "kisekae %s failed:\n%s" % (" ".join(args), done.stdout)
    return done.stdout


def pid_of(name):
    return int((STATE / "run" / ("%s.pid" % name)).read_text().split()[0])


def one_round(service):
    """A read and a write through the service."""
    service.GetSystemStatus()
    assert service.CreateAvatar(userId="topo-%s" % uuid.uuid4().hex[:10]).version == 1


def test_stack_env_lists_every_server():
    apis = ENV["KISEKAE_API_URLS"].split()
    assert len(apis) == 2
    assert ENV["KISEKAE_API_URL"] == ENV["KISEKAE_API_LB_URL"]
    assert ENV["KISEKAE_API_URL"] not in apis
    assert len(ENV["KISEKAE_IMAGE_URLS"].split()) == 2
    assert len(ENV["KISEKAE_IMAGE_INTERNAL_URLS"].split()) == 2
    for k in (1, 2):
        conf = (STATE / ("api%d" % k) / "kisekae-api.conf").read_text()
        assert len(re.findall(r"^image_server img[12] ", conf, re.M)) == 2, conf


def test_wsdl_through_the_balancer_names_the_balancer():
    lb = ENV["KISEKAE_API_LB_URL"]
    r = requests.get(lb + "?wsdl", timeout=CALL_TIMEOUT_S)
    assert r.status_code == 200
    locations = re.findall(r'location="([^"]+)"', r.text)
    assert locations and all(loc.rstrip("/") == lb.rstrip("/") for loc in locations), locations


def test_soap_through_the_balancer_reaches_both_servers():
    service = admin_client(ENV["KISEKAE_API_URL"])
    log = STATE / "logs" / "nginx-api-lb.log"
    before = log.stat().st_size
    for _ in range(10):
        one_round(service)
    with open(log) as f:
        f.seek(before)
        answered = set(re.findall(r"upstream=(\S+) upstream_status=200", f.read()))
    wanted = {url.split("//")[1].rstrip("/") for url in ENV["KISEKAE_API_URLS"].split()}
    assert answered == wanted, "API servers that answered: %r" % answered


def test_a_killed_api_server_is_skipped():
    service = admin_client(ENV["KISEKAE_API_URL"])
    one_round(service)
    os.kill(pid_of("api1"), signal.SIGKILL)
    deadline = time.monotonic() + scaled(5)
    while (Path("/proc") / str(pid_of("api1"))).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    for _ in range(10):
        one_round(service)
    # A fresh client (new connections to nginx) as well.
    one_round(admin_client(ENV["KISEKAE_API_URL"]))


def test_add_image_under_load():
    """`add image` restarts api1 (dead: started again) and api2 one at a
    time out of the balancer: a client calling all along sees no failure.
    (It reloads nginx, which may reset an idle kept-alive connection just as
    a call is sent on it; the reading client sends that call again.)"""
    stop = threading.Event()
    calls, failures = [0], []

    def load():
        service = admin_client(ENV["KISEKAE_API_URL"], retry_reset=True)
        while not stop.is_set() and calls[0] < 2000:
            try:
                service.GetSystemStatus()
                calls[0] += 1
            except Exception as e:  # noqa: BLE001: every failure counts
                failures.append(repr(e))
            time.sleep(0.01)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        out = kisekae("add", "image", "--build-dir", BUILD)
    finally:
        stop.set()
        worker.join(CALL_TIMEOUT_S + 5)
    print(out)
    assert "added img3" in out
    assert not failures, "%d of %d calls failed during add image: %s" % (
        len(failures), calls[0] + len(failures), failures[:3])
    assert calls[0] > 0
    env = read_env()
    internal = env["KISEKAE_IMAGE_INTERNAL_URLS"].split()
    assert len(internal) == 3 and len(env["KISEKAE_IMAGE_URLS"].split()) == 3
    assert requests.get(internal[2] + "/health", timeout=5).status_code == 200
    for name in ("api1", "api2", "api-fcgi"):
        conf = (STATE / name / "kisekae-api.conf").read_text()
        assert re.search(r"^image_server img3 %s " % re.escape(internal[2]), conf, re.M), name
    assert "KS_IMAGES=3" in (STATE / "stack.conf").read_text()
    one_round(admin_client(env["KISEKAE_API_URL"]))


def test_add_api_joins_the_balancer():
    out = kisekae("add", "api", "--build-dir", BUILD)
    print(out)
    assert "added api3" in out
    env = read_env()
    apis = env["KISEKAE_API_URLS"].split()
    assert len(apis) == 3 and env["KISEKAE_API_URL"] == env["KISEKAE_API_LB_URL"]
    assert requests.get(apis[2] + "?wsdl", timeout=5).status_code == 200
    log = STATE / "logs" / "nginx-api-lb.log"
    before = log.stat().st_size
    service = admin_client(env["KISEKAE_API_URL"])
    for _ in range(9):
        one_round(service)
    with open(log) as f:
        f.seek(before)
        answered = set(re.findall(r"upstream=(\S+) upstream_status=200", f.read()))
    assert apis[2].split("//")[1].rstrip("/") in answered, answered


def test_up_again_changes_nothing():
    names = ["api1", "api2", "api3", "api-fcgi", "img1", "img2", "img3", "nginx", "db-m", "db-r1"]
    before = {name: pid_of(name) for name in names}
    conf_before = (STATE / "nginx" / "nginx.conf").read_text()
    out = kisekae("up", "--no-build", "--build-dir", BUILD)
    assert {name: pid_of(name) for name in names} == before, out
    assert (STATE / "nginx" / "nginx.conf").read_text() == conf_before
    assert "reloading" not in out and "restarted" not in out, out
    status = subprocess.run([str(ROOT / "kisekae"), "status", "--state", str(STATE)],
                            stdout=subprocess.PIPE, text=True, timeout=30)
    assert status.returncode == 0, status.stdout
    for name in names:
        assert re.search(r"^%s +\d+ +running" % re.escape(name), status.stdout, re.M), status.stdout
