#!/usr/bin/python3
"""run.py: runs the sample clients' walkthroughs against a stack (`./kisekae samples`).

    samples/run.py [--state DIR] [--build-dir DIR] [--pass NAME=URLS]... [LANG...]

Each samples/LANG/ holds a client library, a walkthrough and a README (see
"Samples" in the repository's README.md). This runs the walkthrough of each
language given (default: every language whose folder exists) against the
stack in DIR (default var/): the environment is KISEKAE_API_URLS (from
DIR/stack.env, or each --pass's URLS), the site credentials from stack.env
and a fresh KISEKAE_SAMPLE_RUN. It prints each walkthrough's lines, then a
table language x pass, and exits 0 only when every walkthrough passed (its
last line says so and it printed the lines of REQUIRED_LINES: the tint
coming back, the webhook verifier's verdicts). A language whose folder does
not exist is "missing": a failure only when named.

    python  /usr/bin/python3 samples/python/walkthrough.py
    php     php samples/php/walkthrough.php
    perl    perl samples/perl/walkthrough.pl
    node    node samples/node/walkthrough.js   (npm ci in samples/node first
                                                when node_modules is absent)
    c       BUILD_DIR/samples/c/kisekae-sample-c  (built by cmake)
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from load_catalog import read_env     # samples/load_catalog.py: stack.env's KEY=value lines

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LANGUAGES = ["python", "php", "perl", "node", "c"]
WALK_TIMEOUT_S = 120

# Lines every walkthrough must print besides its last (README: Samples): the
# tint of ChangeOutfit comes back with the avatar's URLs, and the library's
# webhook verifier accepts the signed sample payload and refuses it tampered
# or stale. A walkthrough that passes without them fails.
REQUIRED_LINES = [
    ("the tint coming back",
     r"ok +ChangeOutfit +item \d+ .* in #3366cc: version \d+, tint #3366CC, "
     r"https?://\S+\.png, animUrl .+"),
    ("the signed webhook payload accepted",
     r"ok +webhook +a signed sample payload, a minute after t=\d+: accepted"),
    ("the tampered webhook body refused", r"ok +webhook +a tampered body .*: refused"),
    ("the stale webhook signature refused",
     r"ok +webhook +the same payload now, long after t=\d+: refused .*"),
]


def say(text=""):
    print(text, flush=True)


def npm_ci(folder):
    """npm ci in folder unless node_modules is there; None or why it failed."""
    if (folder / "node_modules").is_dir():
        return None
    if shutil.which("npm") is None:
        return "npm is not installed (Debian packages nodejs, npm)"
    say("== npm ci in %s" % folder)
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    say(result.stdout.rstrip())
    return None if result.returncode == 0 else "npm ci failed (exit %d)" % result.returncode


def command(lang, build):
    """The walkthrough's argv, or (None, why it cannot run)."""
    folder = HERE / lang
    programs = {"python": ["/usr/bin/python3", str(folder / "walkthrough.py")],
                "php": ["php", str(folder / "walkthrough.php")],
                "perl": ["perl", str(folder / "walkthrough.pl")],
                "node": ["node", str(folder / "walkthrough.js")],
                "c": [str(build / "samples" / "c" / "kisekae-sample-c")]}
    argv = programs[lang]
    if lang == "c":
        if not os.access(argv[0], os.X_OK):
            return None, "%s is not built (cmake --build %s)" % (argv[0], build)
        return argv, None
    if shutil.which(argv[0]) is None:
        return None, "%s is not installed" % argv[0]
    if not Path(argv[1]).is_file():
        return None, "%s does not exist" % argv[1]
    if lang == "node":
        problem = npm_ci(folder)
        if problem:
            return None, problem
    return argv, None


def run_walkthrough(lang, pass_name, argv, env):
    """Runs one walkthrough, printing its lines; (passed, note)."""
    tag = "[%s/%s]" % (lang, pass_name)
    say("== %s %s  (KISEKAE_API_URLS=%s)" % (tag, " ".join(argv), env["KISEKAE_API_URLS"]))
    started = time.monotonic()
    try:
        result = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=WALK_TIMEOUT_S)
        output, rc = result.stdout, result.returncode
    except subprocess.TimeoutExpired as e:
        output, rc = e.output or b"", None
    lines = output.decode("utf-8", "replace").splitlines()
    for line in lines:
        say("%s %s" % (tag, line))
    seconds = time.monotonic() - started
    if rc is None:
        return False, "timed out after %d s" % WALK_TIMEOUT_S
    last = lines[-1] if lines else ""
    match = re.fullmatch(r"walkthrough %s: passed \((\d+) operations\)" % lang, last.strip())
    missing = [what for what, pattern in REQUIRED_LINES
               if not any(re.fullmatch(pattern, line.strip()) for line in lines)]
    if rc == 0 and match and missing:
        return False, "no line of %s" % ", ".join(missing)
    if rc == 0 and match:
        return True, "%s operations, %.1f s" % (match.group(1), seconds)
    failure = next((l for l in lines if l.startswith("FAIL")), last or "no output")
    return False, "exit %s: %s" % (rc, failure[:100])


def print_table(passes, results):
    rows = [["language"] + [name for name, _ in passes]]
    for lang, cells in results.items():
        rows.append([lang] + [cells.get(name, "") for name, _ in passes])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    say()
    for row in rows:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main():
    parser = argparse.ArgumentParser(
        prog="kisekae samples", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    parser.add_argument("languages", nargs="*", metavar="LANG",
                        help="%s (default: those present)" % ", ".join(LANGUAGES))
    parser.add_argument("--state", default=str(ROOT / "var"), metavar="DIR",
                        help="the stack's state folder (default var/)")
    parser.add_argument("--build-dir", default=str(ROOT / "build"), metavar="DIR",
                        help="where cmake built samples/c (default build/)")
    parser.add_argument("--pass", dest="passes", action="append", default=[],
                        metavar="NAME=URLS",
                        help="run every walkthrough with KISEKAE_API_URLS=URLS, a column "
                             "NAME of the table (repeatable; default: stack=the stack's "
                             "KISEKAE_API_URLS)")
    args = parser.parse_args()
    for lang in args.languages:
        if lang not in LANGUAGES:
            parser.error("unknown language %r (known: %s)" % (lang, ", ".join(LANGUAGES)))
    passes = []
    for spec in args.passes:
        name, sep, urls = spec.partition("=")
        if not sep or not name or not urls.split():
            parser.error("--pass wants NAME=URLS, not %r" % spec)
        passes.append((name, urls.split()))

    env_file = Path(args.state) / "stack.env"
    if not env_file.is_file():
        say("kisekae samples: no stack in %s (no stack.env): start one with ./kisekae up"
            % args.state)
        return 1
    stack = read_env(env_file)
    for key in ("KISEKAE_API_URLS", "KISEKAE_SITE_USER", "KISEKAE_SITE_PASSWORD"):
        if not stack.get(key):
            say("kisekae samples: %s does not set %s" % (env_file, key))
            return 1
    if not passes:
        passes = [("stack", stack["KISEKAE_API_URLS"].split())]

    named = bool(args.languages)
    languages = args.languages or [l for l in LANGUAGES if (HERE / l).is_dir()]
    build = Path(args.build_dir).resolve()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("KISEKAE_")}
    base_env.update(KISEKAE_SITE_USER=stack["KISEKAE_SITE_USER"],
                    KISEKAE_SITE_PASSWORD=stack["KISEKAE_SITE_PASSWORD"])
    stamp = "%x%03d" % (int(time.time()) % 16**6, os.getpid() % 1000)   # unique per run
    results = {lang: {} for lang in languages}
    failed = False
    started = time.monotonic()
    for lang in languages:
        if not (HERE / lang).is_dir():
            for name, _ in passes:
                results[lang][name] = "missing" + (" (FAIL)" if named else "")
            failed |= named
            continue
        argv, problem = command(lang, build)
        for number, (name, urls) in enumerate(passes, 1):
            if argv is None:
                say("== [%s/%s] FAIL: %s" % (lang, name, problem))
                results[lang][name] = "FAIL: %s" % problem
                failed = True
                continue
            env = dict(base_env, KISEKAE_API_URLS=" ".join(urls),
                       KISEKAE_SAMPLE_RUN="%s%d" % (stamp, number))
            passed, note = run_walkthrough(lang, name, argv, env)
            results[lang][name] = ("pass: %s" if passed else "FAIL: %s") % note
            failed |= not passed
    print_table(passes, results)
    say("== samples: %s in %.0f s" % ("FAILED" if failed else "passed",
                                       time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
