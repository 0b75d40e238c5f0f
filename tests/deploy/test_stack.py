"""deploy/stack.py, the launcher's stack model (ctest deploy_stack): from a
state folder (stack.conf, secrets.env) it assembles and renders every config
of a stack. Checked without starting anything: the secrets (generated once,
0600), the port plan in the configs, the topology (replicas, image servers,
a drained API server), the environment's tuning, writes only on a change,
the status table of a stopped stack, and each config accepted by the
program it is for (--check, nginx -t). Needs the build's binaries
(KISEKAE_BUILD_DIR, default build/)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "stack.py"
BUILD = Path(os.environ.get("KISEKAE_BUILD_DIR", ROOT / "build"))
BASE = 4700                 # only written into configs: nothing listens
sys.path.insert(0, str(ROOT / "deploy"))
from stack import Stack  # noqa: E402
from stackenv import read_env_file  # noqa: E402


def run(state, *args, env=None):
    return subprocess.run([sys.executable, str(STACK), str(state), "--build", str(BUILD)] + list(args),
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.fixture
def state(tmp_path):
    """A state folder as `./kisekae up --api 2 --image 2 --replicas 2` records it."""
    state = tmp_path / "state"
    for folder in ("logs", "run", "db"):
        (state / folder).mkdir(parents=True)
    (state / "stack.conf").write_text(
        "KS_PORT_BASE=%d\nKS_APIS=2\nKS_IMAGES=2\nKS_ADMINS=1\nKS_REPLICAS=2\nKS_DB_MASTER=db-m\n"
        "KS_RUN_DIR=%s\nKS_DB_DIR=%s\nKS_WWW_DIR=%s\n" % (BASE, tmp_path / "run", state / "db", state))
    done = run(state, "secrets")
    assert done.returncode == 0, done.stderr
    return state


def conf_lines(path, key):
    return [line.split(None, 1)[1] for line in Path(path).read_text().splitlines()
            if line.split(None, 1)[:1] == [key]]


def test_secrets_are_generated_once_and_private(state):
    path = state / "secrets.env"
    first = read_env_file(path)
    assert {"KS_DB_PASSWORD", "KS_REPL_PASSWORD", "KS_CLUSTER_SECRET", "KS_STAFF_PASSWORD",
            "KS_NODE_PASSWORD_1", "KS_NODE_PASSWORD_2"} <= set(first)
    assert all(len(value) == 24 and value.isalnum() for value in first.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run(state, "secrets").returncode == 0
    assert read_env_file(path) == first


def test_api_conf_follows_the_port_plan_and_the_topology(state):
    assert run(state, "api", "api2").returncode == 0
    conf = state / "api2" / "kisekae-api.conf"
    assert conf_lines(conf, "listen") == ["127.0.0.1:%d" % (BASE + 11)]
    assert conf_lines(conf, "metrics_listen") == ["127.0.0.1:%d" % (BASE + 61)]
    assert conf_lines(conf, "db_master") == ["127.0.0.1:%d" % (BASE + 30)]
    assert conf_lines(conf, "db_replica") == ["127.0.0.1:%d 1" % (BASE + 31), "127.0.0.1:%d 1" % (BASE + 32)]
    assert conf_lines(conf, "image_server") == [
        "img1 http://127.0.0.1:%d http://127.0.0.1:%d 1" % (BASE + 101, BASE + 100),
        "img2 http://127.0.0.1:%d http://127.0.0.1:%d 1" % (BASE + 111, BASE + 110)]
    assert conf_lines(conf, "db_password") == [read_env_file(state / "secrets.env")["KS_DB_PASSWORD"]]
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert (state / "api2" / "kisekae-api.conf.vars").exists()
    assert run(state, "api", "api2").returncode == 3            # up to date: not written
    done = run(state, "api", "api2", env={"KISEKAE_IMAGE_REGISTRATION": "api",
                                          "KISEKAE_API_CONF_EXTRA": "workers 3\nreplica_retry 1"})
    assert done.returncode == 0, done.stderr
    assert conf_lines(conf, "image_server") == []
    assert conf_lines(conf, "workers") == ["3"] and conf_lines(conf, "replica_retry") == ["1"]
    assert conf_lines(state / "api2" / "kisekae-api.conf", "mode") == ["standalone"]
    assert run(state, "api", "api-fcgi").returncode == 0
    assert conf_lines(state / "api-fcgi" / "kisekae-api.conf", "mode") == ["fastcgi"]
    assert run(state, "api", "api-x").returncode == 2


def test_a_promoted_master_moves_every_config(state):
    (state / "stack.conf").write_text((state / "stack.conf").read_text().replace(
        "KS_DB_MASTER=db-m", "KS_DB_MASTER=db-r2"))
    stack = Stack(state)
    assert stack.db_replicas() == ["db-m", "db-r1"]
    variables = stack.api_vars("t", "standalone", "127.0.0.1:1", "")
    assert variables["db_master"] == "127.0.0.1:%d" % (BASE + 32)
    assert stack.admin_vars(1)["db_port"] == str(BASE + 32)
    assert run(state, "my.cnf", "db-r2", "master").returncode == 0
    cnf = (state / "db" / "db-r2" / "my.cnf").read_text()
    assert "port=%d\n" % (BASE + 32) in cnf and "server-id=3\n" in cnf and "read-only" not in cnf
    assert run(state, "my.cnf", "db-m", "replica").returncode == 0
    assert "read-only=1\n" in (state / "db" / "db-m" / "my.cnf").read_text()


def test_nginx_drains_an_api_server(state):
    done = run(state, "nginx", "--drain", "2")
    assert done.returncode == 0, done.stderr
    conf = (state / "nginx" / "nginx.conf").read_text()
    assert "server 127.0.0.1:%d max_fails=1 fail_timeout=5s;" % (BASE + 10) in conf
    assert "server 127.0.0.1:%d max_fails=1 fail_timeout=5s down;" % (BASE + 11) in conf
    assert "proxy_next_upstream_tries 2;" in conf
    assert 'root "%s";' % (state / "img2" / "store") in conf
    assert run(state, "nginx").returncode == 0                  # back in
    assert " down;" not in (state / "nginx" / "nginx.conf").read_text()


def test_every_config_is_accepted_by_its_program(state, tmp_path):
    for args in (["api", "api1"], ["api", "api-fcgi"], ["image", "1"], ["admin", "1"], ["nginx"],
                 ["site.env"], ["stack.env"], ["batch"]):
        done = run(state, *args)
        assert done.returncode == 0, (args, done.stderr)
    for program, conf in (("kisekae-api", "api1/kisekae-api.conf"), ("kisekae-api", "api-fcgi/kisekae-api.conf"),
                          ("kisekae-image", "img1/kisekae-image.conf"),
                          ("kisekae-admin", "admin1/kisekae-admin.conf"),
                          ("kisekae-batch", "batch/kisekae-batch.conf")):
        done = subprocess.run([str(BUILD / program), "-c", str(state / conf), "--check"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert done.returncode == 0, (program, done.stdout)
    nginx = state / "nginx"
    done = subprocess.run(["nginx", "-t", "-q", "-p", str(nginx), "-c", str(nginx / "nginx.conf"),
                           "-e", str(tmp_path / "nginx-error.log")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert done.returncode == 0, done.stdout
    env = read_env_file(state / "stack.env")
    secrets = read_env_file(state / "secrets.env")
    assert env["KISEKAE_API_URL"] == "http://127.0.0.1:%d/" % (BASE + 22)      # balanced: 2 API servers
    assert env["KISEKAE_NODE_PASSWORD"] == secrets["KS_NODE_PASSWORD_1"]
    assert len(env["KISEKAE_IMAGE_SECRETS"].split()) == 2
    assert "KISEKAE_DEMO_AVATAR_URL" not in env
    assert run(state, "stack.env", "--demo-avatar-url", "http://x/a.png").returncode == 0
    assert run(state, "stack.env").returncode == 3              # the URL kept
    assert read_env_file(state / "stack.env")["KISEKAE_DEMO_AVATAR_URL"] == "http://x/a.png"
    assert stat.S_IMODE((state / "stack.env").stat().st_mode) == 0o600


def test_status_of_a_stopped_stack(state):
    names = ["db-m", "db-r1", "db-r2", "api1", "api2", "api-fcgi", "img1", "img2", "admin1", "nginx", "site"]
    done = run(state, "status", *["%s=-" % name for name in names])
    assert done.returncode == 0, done.stderr
    rows = [line.split(None, 4) for line in done.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == names
    assert all(row[1:3] == ["-", "stopped"] for row in rows)
    assert rows[0][3:] == ["127.0.0.1:%d" % (BASE + 30), "MariaDB master"]
    assert rows[9][3].startswith("127.0.0.1:%d,%d,%d,%d" % (BASE + 20, BASE + 22, BASE + 100, BASE + 101))


def test_a_missing_secret_or_stack_is_an_error(state, tmp_path):
    (state / "secrets.env").write_text("")
    done = run(state, "api", "api1")
    assert done.returncode == 1 and "kisekae: error: no KS_DB_PASSWORD" in done.stderr
    done = run(tmp_path / "nothing", "site.env")
    assert done.returncode == 1 and "no stack in" in done.stderr
