#!/usr/bin/python3
"""run.py: one SOAP scenario from five languages (ctest `interop`).

    tests/interop/run.py BUILD_DIR [--only LANG,...]

Brings up a stack of its own with ./kisekae (state BUILD_DIR/interop-stack,
port base KISEKAE_INTEROP_PORT_BASE, else KISEKAE_IT_PORT_BASE, else 29000),
or uses the running stack that KISEKAE_API_URL names (with the credentials
below from the environment). It runs the scenario with each client:

    php      php/scenario.php    PHP SoapClient (php-cli, php-soap)
    python   python/scenario.py  zeep (python3-zeep)
    perl     perl/scenario.pl    SOAP::Lite (libsoap-lite-perl)
    node     node/scenario.js    the npm `soap` package, installed with
                                 `npm ci` into BUILD_DIR/interop-node
    c        c/scenario.c        gSOAP client stubs (ks-interop-c)

against the standalone API (KISEKAE_API_URL) and, when the stack has one,
the FastCGI endpoint behind nginx (KISEKAE_API_FCGI_URL in stack.env; the
pass is skipped with a message otherwise). Then it stops the stack and
prints a table: language x transport, pass or FAIL. Exit status 0 only when
every cell passed.

The scenario, the same in every language (each prints one line per step and
exits non-zero on any mismatch):
  wsdl          load the client from the served WSDL (KISEKAE_API_URL?wsdl)
  catalog       as admin: make sure the category interop-LANG-TAG and two
                items in it ("... item a", "... item b") exist, uploading
                the layers in KISEKAE_INTEROP_LAYERS (base64 upwards)
  CreateAvatar  as site: member interop-LANG-TAG-RUN, version 1
  fault         ChangeOutfit wearing item a before it is owned: a fault whose
                detail code is NotOwned, faultcode ...:Client
  GrantItem     items a and b, alreadyOwned false
  ChangeOutfit  wear [a] (a one-element list), then [a, b]: versions 2 and 3,
                worn items = the defaults CreateAvatar reported plus these
  GetAvatar     with minVersion 3: version 3 (the fault changed nothing) and
                the URL ChangeOutfit returned, ending in /3.png
  download      GET the URL: HTTP 200, a PNG of the canvas size
  PreviewAvatar the outfit without item b (a one-element remove list): a
                PNG of the canvas size (base64 downwards), wearing the
                defaults plus a, and GetAvatar still at version 3
  CreateAlbumPhoto
                on the scene interop-LANG-TAG (made once, as admin, with
                layer a as its background and one slot): the photo's URL
                ends in /ID.jpg, its one member is ours, the JPEG downloads
  (a server without these operations gets "skip: OP not in WSDL"; a client
  that skips an operation the WSDL has fails)

Environment of every client: KISEKAE_API_URL (the transport's endpoint),
KISEKAE_SITE_USER/PASSWORD, KISEKAE_ADMIN_USER/PASSWORD, KISEKAE_CANVAS
(WxH), KISEKAE_INTEROP_LAYERS (folder with layer-a.png, layer-b.png: full
canvas RGBA), KISEKAE_INTEROP_TAG (transport: standalone | fastcgi),
KISEKAE_INTEROP_RUN (the run's id). KISEKAE_INTEROP_C names the C client
(default BUILD_DIR/tests/interop/ks-interop-c).
"""

import argparse
import filecmp
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KISEKAE = ROOT / "kisekae"
LANGUAGES = ["php", "python", "perl", "node", "c"]
OPTIONAL_OPERATIONS = ["PreviewAvatar", "CreateAlbumPhoto"]
CLIENT_TIMEOUT_S = 180
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"


def say(text=""):
    print(text, flush=True)


def read_env_file(path):
    """KEY=value lines of a shell-syntax file (quotes, `export`, comments)."""
    values = {}
    with open(path) as f:
        for line in f:
            words = shlex.split(line, comments=True)
            if words and words[0] == "export":
                words = words[1:]
            for word in words:
                key, sep, value = word.partition("=")
                if sep and key.replace("_", "").isalnum():
                    values[key] = value
    return values


class Stack:
    """A stack of this run's own, in its own state folder."""

    def __init__(self, build, port_base):
        self.build = build
        self.port_base = port_base
        self.state = build / "interop-stack"
        # As root, nginx workers run as nobody and must reach the stores.
        if os.getuid() == 0 and subprocess.run(
                ["runuser", "-u", "nobody", "--", "test", "-x", str(build)],
                stderr=subprocess.DEVNULL).returncode != 0:
            self.state = Path("/tmp/kisekae-interop-%d-%d" % (os.getuid(), port_base))
            say("== %s is not reachable by user nobody (nginx workers); the stack goes to %s"
                % (build, self.state))
        self.started = False

    def up(self):
        if (self.state / ".kisekae-state").exists():
            say("== removing the stack a previous run left in %s" % self.state)
            self.down()
        cmd = [str(KISEKAE), "up", "--state", str(self.state), "--port-base",
               str(self.port_base), "--no-build", "--build-dir", str(self.build)]
        say("== " + " ".join(cmd))
        self.started = True
        # Its own process group: when this run is stopped half-way, `up` and
        # the helpers it waits on (the catalog loader holds the state's lock)
        # are stopped together before `down` runs.
        up = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
        try:
            rc = up.wait()
        except BaseException:
            stop_group(up)
            raise
        if rc != 0:
            raise subprocess.CalledProcessError(rc, cmd)
        return read_env_file(self.state / "stack.env")

    def down(self):
        subprocess.run([str(KISEKAE), "down", "--state", str(self.state), "--purge"],
                       cwd=ROOT, check=False)

    def keep_logs(self):
        """Copies the stack's logs to BUILD/interop-logs and prints their tails."""
        logs = self.state / "logs"
        kept = self.build / "interop-logs"
        if not logs.is_dir():
            return
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        for f in sorted(logs.iterdir()):
            try:
                if f.stat().st_size == 0:
                    continue
                shutil.copy(f, kept / f.name)
                lines = f.read_text(errors="replace").splitlines()[-25:]
            except OSError:
                continue
            say("---- last lines of %s ----" % f)
            say("\n".join(lines))
        say("(the whole logs are in %s)" % kept)


def stop_group(process, wait_s=15):
    """TERM to process's group, KILL after wait_s seconds; waits for it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def make_layers(folder, width, height):
    """Two full-canvas RGBA layers with soft-edged art, as an admin uploads them."""
    from PIL import Image, ImageDraw, ImageFilter
    folder.mkdir(parents=True, exist_ok=True)
    shapes = {"a": ((0.62, 0.06, 0.84, 0.19), (224, 48, 106, 230)),
              "b": ((0.15, 0.62, 0.38, 0.78), (64, 160, 255, 170))}
    for key, (box, colour) in shapes.items():
        image = Image.new("RGBA", (width, height), colour[:3] + (0,))
        alpha = Image.new("L", (width, height), 0)
        ImageDraw.Draw(alpha).ellipse([box[0] * width, box[1] * height,
                                       box[2] * width, box[3] * height], fill=colour[3])
        image.putalpha(alpha.filter(ImageFilter.GaussianBlur(1.5)))
        image.save(folder / ("layer-%s.png" % key))


def npm_install(build):
    """Installs node/package-lock.json into BUILD/interop-node (npm ci) unless
    the same lock is installed there; returns (node_modules, None) or
    (None, why not)."""
    target = build / "interop-node"
    modules = target / "node_modules"
    lock = HERE / "node" / "package-lock.json"
    if (target / "package-lock.json").exists() and filecmp.cmp(
            lock, target / "package-lock.json", shallow=False) and (
            modules / "soap" / "package.json").exists():
        return modules, None
    if shutil.which("npm") is None:
        return None, "npm is not installed (Debian packages nodejs and npm)"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(HERE / "node" / "package.json", target)
    shutil.copy(lock, target)
    say("== npm ci in %s" % target)
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=target,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=300)
    say(result.stdout.rstrip())
    if result.returncode != 0:
        (target / "package-lock.json").unlink(missing_ok=True)
        return None, "npm ci failed (exit %d)" % result.returncode
    return modules, None


def client_command(lang, build, node):
    """(argv, extra environment) of a language's client, or (None, why not).
    node is what npm_install returned."""
    def need(program, package):
        if shutil.which(program) is None:
            return "%s is not installed (Debian package %s)" % (program, package)
        return None

    if lang == "php":
        problem = need("php", "php-cli")
        return (["php", str(HERE / "php" / "scenario.php")], {}) if not problem else (None, problem)
    if lang == "python":
        return ["/usr/bin/python3", str(HERE / "python" / "scenario.py")], {}
    if lang == "perl":
        return ["perl", str(HERE / "perl" / "scenario.pl")], {}
    if lang == "node":
        node_modules, problem = node
        problem = need("node", "nodejs") or problem
        if problem:
            return None, problem
        return ["node", str(HERE / "node" / "scenario.js")], {"NODE_PATH": str(node_modules)}
    if lang == "c":
        program = os.environ.get("KISEKAE_INTEROP_C") or str(
            build / "tests" / "interop" / "ks-interop-c")
        if not os.access(program, os.X_OK):
            return None, "%s is not built" % program
        return [program], {}
    raise ValueError(lang)


def wsdl_facts(url):
    """(operations, address) of the WSDL served at url?wsdl."""
    with urllib.request.urlopen(url + "?wsdl", timeout=30) as response:
        root = ET.fromstring(response.read())
    operations = {op.get("name") for op in root.iter("{%s}portType" % WSDL_NS)
                  for op in op.findall("{%s}operation" % WSDL_NS)}
    addresses = [a.get("location") for a in root.iter("{%s}address" % WSDL_SOAP_NS)]
    return operations, addresses[0] if addresses else None


def same_url(a, b):
    """a and b name the same HTTP resource ("http://h:p" is "http://h:p/")."""
    def norm(url):
        parts = urllib.parse.urlsplit(url or "")
        return parts._replace(netloc=parts.netloc.lower(), path=parts.path or "/")
    return norm(a) == norm(b)


def run_client(lang, tag, argv, extra_env, base_env, operations):
    """Runs one client; returns (passed, note)."""
    env = dict(os.environ)
    env.update(base_env)
    env.update(extra_env)
    env["KISEKAE_INTEROP_TAG"] = tag
    started = time.monotonic()
    try:
        result = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", timeout=CLIENT_TIMEOUT_S)
        output, rc = result.stdout, result.returncode
    except subprocess.TimeoutExpired as e:
        output = e.stdout if isinstance(e.stdout, str) else (e.stdout or b"").decode(
            "utf-8", "replace")
        output += "\n(killed after %d s)" % CLIENT_TIMEOUT_S
        rc = None
    elapsed = time.monotonic() - started
    for line in output.rstrip("\n").splitlines():
        say("  [%s/%s] %s" % (lang, tag, line))
    problems = []
    if rc != 0:
        problems.append("exit %s" % ("timeout" if rc is None else rc))
    lines = output.strip().splitlines()
    if not lines or lines[-1] != "%s: passed" % lang:
        problems.append("no '%s: passed'" % lang)
    for skipped in re.findall(r"^skip: (\w+) not in WSDL$", output, re.M):
        if skipped in operations:
            problems.append("skipped %s, which the WSDL has" % skipped)
    if not problems:
        for op in OPTIONAL_OPERATIONS:
            if op not in operations and "skip: %s not in WSDL" % op not in output:
                problems.append("no line for %s" % op)
    if problems:
        say("  [%s/%s] FAIL: %s" % (lang, tag, "; ".join(problems)))
        return False, "%s (%.1f s)" % ("; ".join(problems), elapsed)
    return True, "%.1f s" % elapsed


def print_table(transports, results):
    """Rows: the WSDL check, then each language; a column per transport."""
    say()
    say("== interop summary")
    rows = [["", *(tag for tag, _ in transports)]]
    for name, cells in results.items():
        row = [name]
        for tag, _ in transports:
            if tag not in cells:
                row.append("not run")
                continue
            passed, note = cells[tag]
            row.append("%s %s" % ("pass" if passed else "skip" if passed is None else "FAIL", note))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]))]
    for row in rows:
        say("".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See the top of tests/interop/run.py for details.")
    parser.add_argument("build_dir", help="the build folder (ks-interop-c, the stack's binaries)")
    parser.add_argument("--only", help="comma-separated languages (%s)" % ",".join(LANGUAGES))
    args = parser.parse_args()
    build = Path(args.build_dir).resolve()
    languages = args.only.split(",") if args.only else LANGUAGES
    for lang in languages:
        if lang not in LANGUAGES:
            parser.error("unknown language %r" % lang)

    # SIGTERM (ctest's timeout, a CI cancel) unwinds through finally: the stack stops.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    stack = None
    failed = False
    results = {"wsdl": {}}
    results.update((lang, {}) for lang in languages)
    transports = []
    completed = False
    started = time.monotonic()
    try:
        if os.environ.get("KISEKAE_API_URL"):
            say("== using the running stack at %s (KISEKAE_API_URL)" % os.environ["KISEKAE_API_URL"])
            stack_env = {k: v for k, v in os.environ.items() if k.startswith("KISEKAE_")}
        else:
            port_base = int(os.environ.get("KISEKAE_INTEROP_PORT_BASE")
                            or os.environ.get("KISEKAE_IT_PORT_BASE") or 29000)
            stack = Stack(build, port_base)
            stack_env = stack.up()
        for key in ("KISEKAE_SITE_USER", "KISEKAE_SITE_PASSWORD", "KISEKAE_ADMIN_USER",
                    "KISEKAE_ADMIN_PASSWORD"):
            if not stack_env.get(key):
                raise SystemExit("run.py: %s is not set" % key)
        canvas = stack_env.get("KISEKAE_CANVAS") or "240x320"
        width, height = (int(v) for v in canvas.split("x"))
        layers = build / "interop-layers"
        make_layers(layers, width, height)
        base_env = {key: stack_env[key] for key in (
            "KISEKAE_SITE_USER", "KISEKAE_SITE_PASSWORD", "KISEKAE_ADMIN_USER",
            "KISEKAE_ADMIN_PASSWORD")}
        base_env.update(KISEKAE_CANVAS=canvas, KISEKAE_INTEROP_LAYERS=str(layers),
                        KISEKAE_INTEROP_RUN="%d%03d" % (time.time(), os.getpid() % 1000))

        transports = [("standalone", stack_env["KISEKAE_API_URL"]),
                      ("fastcgi", stack_env.get("KISEKAE_API_FCGI_URL"))]

        node = npm_install(build) if "node" in languages else (None, None)

        for tag, url in transports:
            say()
            if not url:
                say("== %s: skipped, the stack lists no KISEKAE_API_FCGI_URL" % tag)
                for name in results:
                    results[name][tag] = (None, "(no KISEKAE_API_FCGI_URL)")
                continue
            say("== %s: %s" % (tag, url))
            try:
                operations, address = wsdl_facts(url)
            except Exception as e:                              # noqa: BLE001
                say("FAIL: the WSDL at %s?wsdl: %s" % (url, e))
                for name in results:
                    results[name][tag] = (False, "no WSDL")
                failed = True
                continue
            # A client that keeps the WSDL's address must reach this endpoint.
            if same_url(address, url):
                results["wsdl"][tag] = (True, "%d operations" % len(operations))
            else:
                results["wsdl"][tag] = (False, "address %s" % address)
                failed = True
            say("   WSDL: %d operations, address %s" % (len(operations), address))
            for lang in languages:
                argv, extra = client_command(lang, build, node)
                if argv is None:
                    say("  [%s/%s] FAIL: %s" % (lang, tag, extra))
                    results[lang][tag] = (False, extra)
                    failed = True
                    continue
                env = dict(base_env, KISEKAE_API_URL=url)
                passed, note = run_client(lang, tag, argv, extra, env, operations)
                results[lang][tag] = (passed, note)
                failed |= not passed
        completed = True
    except subprocess.CalledProcessError as e:
        say("FAIL: %s exited with %d" % (" ".join(e.cmd), e.returncode))
        failed = True
    finally:
        if stack and stack.started:
            if failed or not completed:
                stack.keep_logs()
            stack.down()
    if not transports:
        transports = [("standalone", None)]
    print_table(transports, results)
    say("== interop: %s in %.0f s" % ("FAILED" if failed else "passed",
                                        time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
