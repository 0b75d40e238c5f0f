#!/usr/bin/python3
"""deploy/stack.py: the stack model of `./kisekae`: what a state folder
records (stack.conf: the port base, the counts, the master, the folders;
secrets.env), the fixed facts (stack.defaults) and the port plan (ports),
turned into the variables of every config the stack runs with, rendered
from deploy/templates/ by render.py. The launcher calls it once per step;
a test that starts a server of its own starts from the same variables
(Stack(state).api_vars(...)), so a config is assembled in one place.

    stack.py STATE [--build DIR] CONFIG [ARGS]

CONFIG (each written only when its text changed, with its mode from the
start; exit 0 written, 3 up to date, 1 an error, 2 bad usage):
    my.cnf NAME master|replica   DB_DIR/NAME/my.cnf (0644)
    api NAME                     STATE/NAME/kisekae-api.conf, NAME apiK or
                                 api-fcgi (0600, its variables kept beside)
    image K                      STATE/imgK/kisekae-image.conf (0600; --build)
    admin K                      STATE/adminK/kisekae-admin.conf (0600)
    nginx [--drain K]            STATE/nginx/nginx.conf (0644; --build), API
                                 server K marked down in the balancer
    site.env                     STATE/site/site.env (0600)
    stack.env [--demo-avatar-url URL]   STATE/stack.env (0600; --build); without
                                 the option the demo avatar's URL is kept
    batch                        STATE/batch/kisekae-batch.conf (0600)
The databases (deploy/replication.py; RUNNING: the replicas that run):
    db-setup RUNNING...          the master's accounts and databases, the
                                 replicas following it, a sync, semisync on
    db-sync RUNNING...           waits until the replicas caught up
    db-follow RUNNING...         the replicas follow the (new) master, semisync on
    db-promote NEW RUNNING...    every replica applies its relay log; NEW,
                                 if it holds the most, stops replicating
The sample catalog (--build):
    catalog                      draws the sample items (samples/items/generate.py)
                                 and registers them through SOAP
                                 (samples/load_catalog.py, idempotent), then
                                 records the demo avatar's URL in stack.env
                                 and warns when it does not answer
What it prints (exit 0):
    secrets                      nothing: generates the secrets secrets.env
                                 lacks (0600; the node clients' included)
    status NAME=PID|NAME=-...    the table of `./kisekae status` (the
                                 components in order, - when stopped), then
                                 the stack's URLs
    up-summary --seconds N --down CMD   what `./kisekae up` prints at the end
    ports-check                  a warning when the stack's ports overlap the
                                 kernel's ephemeral port range

Errors are printed as `kisekae: error: ...` (exit 1). Secrets are read from
secrets.env, never taken from the command line.
BUILD (the binaries: kisekae-api gives the image servers' secrets, the
TooLarge fault, and BUILD/gen/resendable.txt the resendable operations) is
needed by the configs marked so. The environment tunes a few:
KISEKAE_API_CONF_EXTRA, KISEKAE_ADMIN_CONF_EXTRA, KISEKAE_DB_CONF_EXTRA
(more lines), KISEKAE_IMAGE_REGISTRATION (conf, api or both: how image
servers become known), KISEKAE_IMAGE_HEARTBEAT_S, KISEKAE_IMAGE_SYNC_S,
KISEKAE_SEMISYNC_TIMEOUT_MS.
"""

import argparse
import os
import re
import secrets
import string
import subprocess
import sys
import urllib.request
from pathlib import Path

from render import TemplateError, render, render_file
from replication import Replication, ReplicationError, tail_log, warn
from stackenv import read_env_file

DEPLOY = Path(__file__).resolve().parent
UNCHANGED = 3
SECRETS = ("KS_DB_PASSWORD", "KS_REPL_PASSWORD", "KS_CLUSTER_SECRET", "KS_SITE_PASSWORD",
           "KS_ADMIN_PASSWORD", "KS_ADMIN_DB_PASSWORD", "KS_STAFF_PASSWORD")


class StackError(Exception):
    pass


def read_ports(path=DEPLOY / "ports"):
    """{NAME: (offset, step)} of deploy/ports."""
    ports = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            if words and not words[0].startswith("#"):
                ports[words[0]] = (int(words[1]), int(words[2]))
    return ports


def upto(n):
    """1..N, the instance numbers of a component."""
    return range(1, n + 1)


def lines(text):
    """The lines of a multi-line setting (an *_EXTRA variable)."""
    return text.splitlines() if text else []


class Stack:
    """The stack recorded in the state folder STATE (BUILD: its binaries)."""

    def __init__(self, state, build=None):
        self.state = Path(state)
        self.build = Path(build) if build else None
        self.conf = read_env_file(DEPLOY / "stack.defaults")
        if not (self.state / "stack.conf").exists():
            raise StackError("no stack in %s (run './kisekae up')" % self.state)
        self.conf.update(read_env_file(self.state / "stack.conf"))
        path = self.state / "secrets.env"
        self.secrets = read_env_file(path) if path.exists() else {}
        self.ports = read_ports()
        self.base = int(self.conf["KS_PORT_BASE"])
        self.apis, self.images, self.admins, self.replicas = (
            int(self.conf[k]) for k in ("KS_APIS", "KS_IMAGES", "KS_ADMINS", "KS_REPLICAS"))
        self.master = self.conf["KS_DB_MASTER"]
        self.db_dir = Path(self.conf["KS_DB_DIR"])
        self.run_dir = Path(self.conf["KS_RUN_DIR"])
        self.www_dir = Path(self.conf.get("KS_WWW_DIR") or self.state)
        self.logs = self.state / "logs"
        self.env = os.environ

    def __getitem__(self, key):
        """A fact (KS_DB_NAME...) or a secret (KS_DB_PASSWORD...)."""
        value = self.conf.get(key, self.secrets.get(key))
        if value is None:
            raise StackError("no %s in %s/secrets.env ('./kisekae up' makes it)" % (key, self.state))
        return value

    # ---- the port plan ------------------------------------------------------------
    def port(self, name, k=1):
        offset, step = self.ports[name]
        return self.base + offset + step * (k - 1)

    def url(self, name, k=1):
        return "http://127.0.0.1:%d/" % self.port(name, k)

    def url_img(self, side, k):
        """Image server K's public or internal URL, no slash at the end."""
        return self.url("img-" + side, k).rstrip("/")

    def api_urls(self):
        return [self.url("api", k) for k in upto(self.apis)]

    def api_main_url(self):
        """What clients use: the balancer when there are several API servers."""
        return self.url("api-lb") if self.apis > 1 else self.url("api", 1)

    # The database instances db-m and db-rK keep their ports and server ids
    # whatever their role; KS_DB_MASTER says which is the master.
    def db_port(self, name):
        return self.port("db-m") if name == "db-m" else self.port("db-r", int(name[4:]))

    def db_replicas(self):
        names = ["db-m"] + ["db-r%d" % k for k in upto(self.replicas)]
        return [n for n in names if n != self.master]

    def db_master(self):
        return "127.0.0.1:%d" % self.db_port(self.master)

    def db_socket(self, name):
        """DB_DIR/NAME/sock, or under the runtime dir when that is too long
        for a unix socket (sun_path)."""
        sock = self.db_dir / name / "sock"
        return sock if len(str(sock)) < 100 else self.run_dir / "sock" / (name + ".sock")

    def image_store(self, k):
        """What image server K stores and nginx serves."""
        return self.www_dir / ("img%d" % k) / "store"

    def node_user(self, k):
        return "%s-img%d" % (self["KS_NODE_USER"], k)

    # ---- what the binaries say ----------------------------------------------------------
    def _api_binary(self, *args, what):
        if self.build is None:
            raise StackError("%s needs the build folder (--build)" % what)
        done = subprocess.run([str(self.build / "kisekae-api")] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise StackError("kisekae-api %s failed" % what)
        return done.stdout.rstrip("\n")

    def api_placeholders(self):
        """Where `kisekae-api --write-placeholders` puts the pictures the API
        balancer answers /avatar/ with when no API server answers."""
        return self.www_dir / "api-placeholder"

    def image_secret(self, k):
        """Image server K's own secret, which the API derives from the cluster secret."""
        return self._api_binary("-c", str(self.state / "api1" / "kisekae-api.conf"),
                                "--image-secret", "img%d" % k, what="--image-secret img%d" % k)

    def resendable(self):
        """The operations marked `// @resendable` in wsdl/kisekae.h, a|b|c."""
        path = (self.build or Path(".")) / "gen" / "resendable.txt"
        try:
            return "|".join(path.read_text().splitlines())
        except OSError:
            raise StackError("no %s" % path) from None

    # ---- the variables of each template ---------------------------------------------
    def db_vars(self, name, role):
        return {"name": name, "inst": str(self.db_dir / name), "sock": str(self.db_socket(name)),
                "port": str(self.db_port(name)),
                "server_id": "1" if name == "db-m" else str(1 + int(name[4:])),
                "mysql_user": "1" if os.geteuid() == 0 else "",     # mariadbd refuses root
                "replica": "1" if role == "replica" else "",
                "semisync_timeout_ms": self.env.get("KISEKAE_SEMISYNC_TIMEOUT_MS") or "4294967295",
                "extra": lines(self.env.get("KISEKAE_DB_CONF_EXTRA"))}

    def db_setup_vars(self):
        return {key.lower()[3:]: self[key] for key in (
            "KS_REPL_PASSWORD", "KS_DB_NAME", "KS_DB_USER", "KS_DB_PASSWORD", "KS_ADMIN_DB_NAME",
            "KS_ADMIN_DB_USER", "KS_ADMIN_DB_PASSWORD")}

    def api_vars(self, name, mode, listen, metrics_listen):
        """kisekae-api.conf's variables for an API server of this stack."""
        registration = self.env.get("KISEKAE_IMAGE_REGISTRATION") or "both"
        return {
            "name": name, "mode": mode, "listen": listen, "metrics_listen": metrics_listen,
            "max_request_bytes": self["KS_API_MAX_REQUEST"],
            "recv_timeout": self["KS_API_RECV_TIMEOUT_S"],
            "keepalive_timeout": self["KS_API_KEEPALIVE_S"], "db_master": self.db_master(),
            "db_name": self["KS_DB_NAME"], "db_user": self["KS_DB_USER"],
            "db_password": self["KS_DB_PASSWORD"], "cluster_secret": self["KS_CLUSTER_SECRET"],
            "canvas": self["KS_CANVAS"], "log_file": str(self.logs / (name + ".log")),
            "db_replicas": ["127.0.0.1:%d 1" % self.db_port(n) for n in self.db_replicas()],
            "image_servers": [] if registration == "api" else [
                "img%d %s %s 1" % (k, self.url_img("internal", k), self.url_img("public", k))
                for k in upto(self.images)],
            "extra": lines(self.env.get("KISEKAE_API_CONF_EXTRA"))}

    def image_vars(self, k):
        return {
            "k": str(k), "listen": "127.0.0.1:%d" % self.port("img-fcgi", k),
            "store": str(self.image_store(k)), "cluster_secret": self.image_secret(k),
            "registers": "" if self.env.get("KISEKAE_IMAGE_REGISTRATION") == "conf" else "1",
            "api_urls": self.api_urls(), "api_user": self.node_user(k),
            "api_password": self["KS_NODE_PASSWORD_%d" % k],
            "internal_url": self.url_img("internal", k), "public_url": self.url_img("public", k),
            "heartbeat_interval": self.env.get("KISEKAE_IMAGE_HEARTBEAT_S") or "5",
            "sync_interval": self.env.get("KISEKAE_IMAGE_SYNC_S") or "300",
            "log_file": str(self.logs / ("img%d.log" % k))}

    def admin_vars(self, k):
        return {
            "k": str(k), "listen": "127.0.0.1:%d" % self.port("admin", k),
            "metrics_listen": "127.0.0.1:%d" % self.port("admin-metrics", k),
            "db_port": str(self.db_port(self.master)), "db_user": self["KS_ADMIN_DB_USER"],
            "db_password": self["KS_ADMIN_DB_PASSWORD"], "db_name": self["KS_ADMIN_DB_NAME"],
            "api_urls": self.api_urls(), "api_user": self["KS_ADMIN_USER"],
            "api_password": self["KS_ADMIN_PASSWORD"],
            "log_file": str(self.logs / ("admin%d.log" % k)),
            "extra": lines(self.env.get("KISEKAE_ADMIN_CONF_EXTRA"))}

    def nginx_vars(self, drain=None):
        """An over-size body gets the API's own TooLarge fault; the balancer
        resends the resendable operations; API server DRAIN is marked down."""
        limit = self["KS_API_MAX_REQUEST"]
        fault = self._api_binary("--fault-xml", "TooLarge",
                                 "request body over the %s limit (max_request_bytes)" % limit,
                                 what="--fault-xml")
        keepalive = int(self["KS_API_KEEPALIVE_S"])
        return {
            "dir": str(self.state / "nginx"), "logs": str(self.logs),
            "api_placeholders": str(self.api_placeholders()),
            "tmp": str(self.www_dir / "nginx-tmp"),     # nginx's workers write there
            "api_fcgi_http": str(self.port("api-fcgi-http")),
            "api_fcgi": str(self.port("api-fcgi")),
            "api_lb": str(self.port("api-lb")), "max_request": limit,
            "recv_timeout": self["KS_API_RECV_TIMEOUT_S"], "keepalive": str(keepalive),
            "upstream_keepalive": str(keepalive - 5), "resendable": self.resendable(),
            "fault_toolarge": fault.replace("\r", "").split("\n"), "api_count": str(self.apis),
            "admin_lb": str(self.port("admin-lb")) if self.admins else "",
            "apis": ["port=%d down=%s" % (self.port("api", k), "1" if drain == k else "")
                     for k in upto(self.apis)],
            "images": ["k=%d public=%d internal=%d fcgi=%d store=%s" % (
                k, self.port("img-public", k), self.port("img-internal", k),
                self.port("img-fcgi", k), self.image_store(k)) for k in upto(self.images)],
            "admins": ["port=%d" % self.port("admin", k) for k in upto(self.admins)]}

    def site_vars(self):
        return {"api_urls": " ".join(self.api_urls()), "api_public_url": self.api_main_url(),
                "site_user": self["KS_SITE_USER"], "site_password": self["KS_SITE_PASSWORD"]}

    def stack_env_vars(self, demo_avatar_url=""):
        """STATE/stack.env: what clients and tests need."""
        main = self.api_main_url()
        return {
            "state": str(self.state), "api_url": main, "wsdl_url": main + "?wsdl",
            "api_lb_url": self.url("api-lb"), "api_urls": " ".join(self.api_urls()),
            "api_fcgi_url": self.url("api-fcgi-http"),
            "api_metrics": " ".join(self.url("api-metrics", k) + "metrics" for k in upto(self.apis)),
            "api_fcgi_metrics": self.url("api-fcgi-metrics") + "metrics",
            "site_user": self["KS_SITE_USER"], "site_password": self["KS_SITE_PASSWORD"],
            "admin_user": self["KS_ADMIN_USER"], "admin_password": self["KS_ADMIN_PASSWORD"],
            "node_user": self.node_user(1), "node_password": self["KS_NODE_PASSWORD_1"],
            "canvas": self["KS_CANVAS"],
            "image_urls": " ".join(self.url_img("public", k) for k in upto(self.images)),
            "image_internal_urls": " ".join(self.url_img("internal", k) for k in upto(self.images)),
            "cluster_secret": self["KS_CLUSTER_SECRET"],
            "image_secrets": " ".join(self.image_secret(k) for k in upto(self.images)),
            "db_master": self.db_master(),
            "db_replicas": " ".join("127.0.0.1:%d" % self.db_port(n) for n in self.db_replicas()),
            "db_user": self["KS_DB_USER"], "db_password": self["KS_DB_PASSWORD"],
            "db_name": self["KS_DB_NAME"],
            "site_url": self.url("site"), "admin_ui_url": self.url("admin-lb") if self.admins else "",
            "staff_user": self["KS_STAFF_USER"], "staff_password": self["KS_STAFF_PASSWORD"],
            "admin_metrics": " ".join(self.url("admin-metrics", k) + "metrics" for k in upto(self.admins)),
            "demo_avatar_url": demo_avatar_url}

    def batch_vars(self):
        return {"state": str(self.state), "api_urls": self.api_urls(),
                "api_user": self["KS_ADMIN_USER"], "api_password": self["KS_ADMIN_PASSWORD"]}

    # ---- writing them ---------------------------------------------------------------------
    def write(self, config, name=None, role=None, k=None, drain=None, demo_avatar_url=None):
        """Renders CONFIG (of instance NAME or K; see the command line's);
        True when its file changed."""
        if config == "my.cnf":
            return self._write("my.cnf", self.db_dir / name / "my.cnf",
                               self.db_vars(name, role), 0o644)
        if config == "api":
            if name == "api-fcgi":
                variables = self.api_vars("api-fcgi", "fastcgi", "127.0.0.1:%d" % self.port("api-fcgi"),
                                          "127.0.0.1:%d" % self.port("api-fcgi-metrics"))
            else:
                k = int(name[3:])
                variables = self.api_vars(name, "standalone", "127.0.0.1:%d" % self.port("api", k),
                                          "127.0.0.1:%d" % self.port("api-metrics", k))
            return self._write("kisekae-api.conf", name + "/kisekae-api.conf", variables, 0o600,
                               keep_vars=True)
        if config == "image":
            return self._write("kisekae-image.conf", "img%d/kisekae-image.conf" % k,
                               self.image_vars(k), 0o600)
        if config == "admin":
            return self._write("kisekae-admin.conf", "admin%d/kisekae-admin.conf" % k,
                               self.admin_vars(k), 0o600)
        if config == "nginx":
            variables = self.nginx_vars(drain)
            os.makedirs(variables["tmp"], 0o755, exist_ok=True)
            return self._write("nginx.conf", "nginx/nginx.conf", variables, 0o644)
        if config == "site.env":
            return self._write("site.env", "site/site.env", self.site_vars(), 0o600)
        if config == "stack.env":
            path = self.state / "stack.env"
            if demo_avatar_url is None and path.exists():   # kept (the catalog is not loaded again)
                demo_avatar_url = read_env_file(path).get("KISEKAE_DEMO_AVATAR_URL")
            return self._write("stack.env", "stack.env", self.stack_env_vars(demo_avatar_url or ""), 0o600)
        if config == "batch":
            return self._write("kisekae-batch.conf", "batch/kisekae-batch.conf", self.batch_vars(), 0o600)
        raise StackError("no config %s" % config)

    def _write(self, template, output, variables, mode, keep_vars=False):
        path = self.state / output          # OUTPUT: under STATE, or absolute
        path.parent.mkdir(parents=True, exist_ok=True)
        return render_file(template, path, variables, mode, keep_vars)

    def make_secrets(self):
        """Generates and records (once: they never change) the secrets
        secrets.env lacks, image server K's API client's among them."""
        path = self.state / "secrets.env"
        if not path.exists():
            fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("# Generated once by ./kisekae up; keep private.\n")
        keys = SECRETS + tuple("KS_NODE_PASSWORD_%d" % k for k in upto(self.images))
        alphabet = string.ascii_letters + string.digits
        with open(path, "a") as f:
            for key in keys:
                if not self.secrets.get(key):
                    self.secrets[key] = "".join(secrets.choice(alphabet) for _ in range(24))
                    f.write("%s=%s\n" % (key, self.secrets[key]))
        os.chmod(path, 0o600)

    def load_catalog(self):
        """The sample catalog drawn into STATE/catalog and loaded; the demo
        avatar's URL recorded in stack.env (or a warning: no samples)."""
        root = DEPLOY.parent
        gen, loader = "samples/items/generate.py", "samples/load_catalog.py"
        if not (root / gen).exists() or not (root / loader).exists():
            warn("no sample catalog: %s or %s missing; skipped" % (gen, loader))
            return
        catalog, log = self.state / "catalog", self.logs / "load_catalog.log"
        catalog.mkdir(exist_ok=True)
        print("==> drawing the sample catalog", flush=True)
        self._run([sys.executable, gen, str(catalog)], self.logs / "generate.log", gen)
        print("==> loading the sample catalog through SOAP (log: %s)" % log, flush=True)
        self._run([sys.executable, loader, "--env", str(self.state / "stack.env"),
                   "--catalog", str(catalog), "--demo-member", self["KS_DEMO_MEMBER"]],
                  log, loader, self.logs / "api1.log", self.logs / "img1.log")
        urls = re.findall(r"^KISEKAE_DEMO_AVATAR_URL=(.*)$", log.read_text(errors="replace"), re.M)
        if not urls:
            tail_log(log)
            raise StackError("%s printed no KISEKAE_DEMO_AVATAR_URL= line" % loader)
        self.write("stack.env", demo_avatar_url=urls[-1])
        try:
            urllib.request.urlopen(urls[-1], timeout=2).close()
        except (OSError, ValueError):
            warn("the demo avatar %s does not answer" % urls[-1])

    def _run(self, command, log, what, *more_logs):
        """COMMAND in the repository, its output in LOG; on a failure the
        logs' tails are shown."""
        with open(log, "w") as out:
            done = subprocess.run(command, cwd=str(DEPLOY.parent), stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            for path in (log,) + more_logs:
                tail_log(path)
            raise StackError("%s failed" % what)

    def check_ports(self):
        """Outgoing connections take their local port from the kernel's
        ephemeral range: a server listening in it may fail to bind."""
        first, last = self.base + 10, self.port("img-fcgi", self.images)
        try:
            lo, hi = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        except (OSError, ValueError):
            return
        if not (first > hi or last < lo):
            warn("ports %d-%d overlap the kernel's ephemeral port range %d-%d"
                 " (net.ipv4.ip_local_port_range); a server may then fail to bind;"
                 " prefer a --port-base below %d" % (first, last, lo, hi, lo - 200))

    # ---- what ./kisekae status and up print ----------------------------------------------
    def slave_fields(self, name):
        done = subprocess.run(["mariadb", "--defaults-file=%s" % (self.db_dir / name / "my.cnf"),
                               "-e", r"SHOW SLAVE STATUS\G"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return dict(re.findall(r"^ *(\w+): (.*)$", done.stdout, re.M))

    def role(self, name):
        """(ADDRESS, ROLE) of component NAME in the status table."""
        k = int(re.sub(r"^\D*", "", name) or 1)
        if name == self.master:
            return str(self.db_port(name)), "MariaDB master"
        if name.startswith("db-"):
            return str(self.db_port(name)), "MariaDB replica"
        if name == "api-fcgi":
            return str(self.port("api-fcgi")), "SOAP API (FastCGI, nginx :%d)" % self.port("api-fcgi-http")
        if name.startswith("api"):
            return str(self.port("api", k)), "SOAP API"
        if name.startswith("img"):
            return str(self.port("img-fcgi", k)), "image server (FastCGI)"
        if name.startswith("admin"):
            return str(self.port("admin", k)), "admin UI (FastCGI, nginx :%d)" % self.port("admin-lb")
        if name == "site":
            return str(self.port("site")), "demo community site (php -S)"
        ports = [self.port("api-fcgi-http"), self.port("api-lb")]
        what = "nginx: api-fcgi, API balancer (api1..api%d)" % self.apis
        for k in upto(self.images):
            ports += [self.port("img-public", k), self.port("img-internal", k)]
            what += " img%d public+internal" % k
        if self.admins:
            ports.append(self.port("admin-lb"))
            what += " admin UI"
        return ",".join(map(str, ports)), what

    def status(self, components):
        """The status table of COMPONENTS [(name, pid or -)], then the URLs."""
        out = ["%-8s %-8s %-8s %-22s %s" % ("NAME", "PID", "STATE", "ADDRESS", "ROLE")]
        for name, pid in components:
            address, what = self.role(name)
            if pid != "-" and name.startswith("db-") and name != self.master:
                s = self.slave_fields(name)
                what += " (io %s, sql %s, behind %s s)" % tuple(
                    s.get(key, "") for key in ("Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master"))
            out.append("%-8s %-8s %-8s %-22s %s" % (name, pid, "stopped" if pid == "-" else "running",
                                                    "127.0.0.1:" + address, what))
        text = "\n".join(out) + "\n"
        env = self.state / "stack.env"
        if env.exists():
            text += render("status.txt", {**read_env_file(env), "env_file": str(env),
                                          "logs": str(self.logs)})
        return text

    def up_summary(self, seconds, down):
        env = read_env_file(self.state / "stack.env")
        return render("up-summary.txt", {
            **env, "seconds": str(seconds), "balanced": str(self.apis) if self.apis > 1 else "",
            "member": self["KS_DEMO_MEMBER"], "state": str(self.state),
            "logs": str(self.logs), "down": down})


def main(argv):
    parser = argparse.ArgumentParser(prog="stack.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("state")
    parser.add_argument("--build", help="the build folder (the binaries)")
    sub = parser.add_subparsers(dest="config", required=True)
    p = sub.add_parser("my.cnf")
    p.add_argument("name")
    p.add_argument("role", choices=("master", "replica"))
    p = sub.add_parser("api")
    p.add_argument("name")
    for config in ("image", "admin"):
        sub.add_parser(config).add_argument("k", type=int)
    sub.add_parser("nginx").add_argument("--drain", type=int)
    sub.add_parser("stack.env").add_argument("--demo-avatar-url")
    for config in ("site.env", "batch", "secrets", "catalog", "ports-check"):
        sub.add_parser(config)
    for config in ("db-setup", "db-sync", "db-follow", "db-promote"):
        p = sub.add_parser(config)
        if config == "db-promote":
            p.add_argument("new")
        p.add_argument("running", nargs="*", metavar="RUNNING")
    sub.add_parser("status").add_argument("components", nargs="*", metavar="NAME=PID")
    p = sub.add_parser("up-summary")
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--down", required=True)
    args = parser.parse_args(argv)
    names = {"my.cnf": r"db-(m|r[1-9])", "api": r"api([1-9][0-9]?|-fcgi)"}
    if args.config in names and not re.fullmatch(names[args.config], args.name):
        parser.error("%s: no instance %r" % (args.config, args.name))
    try:
        stack = Stack(args.state, args.build)
        if args.config == "secrets":
            stack.make_secrets()
        elif args.config == "catalog":
            stack.load_catalog()
        elif args.config == "ports-check":
            stack.check_ports()
        elif args.config == "status":
            sys.stdout.write(stack.status([c.split("=", 1) for c in args.components]))
        elif args.config == "up-summary":
            sys.stdout.write(stack.up_summary(args.seconds, args.down))
        elif args.config.startswith("db-"):
            db = Replication(stack, args.running)
            {"db-setup": db.setup, "db-sync": db.sync,
             "db-follow": lambda: (db.follow(), db.semisync()),
             "db-promote": lambda: db.promote(args.new)}[args.config]()
        else:
            options = {key: getattr(args, key) for key in ("name", "role", "k", "drain", "demo_avatar_url")
                       if hasattr(args, key)}
            return 0 if stack.write(args.config, **options) else UNCHANGED
        return 0
    except (StackError, ReplicationError, TemplateError, OSError, ValueError, KeyError) as e:
        print("kisekae: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
