"""stackctl.py: what the integration tests do to a stack besides calling SOAP.

- sql(env, query): runs SQL on the master with the mariadb client, as the
  API's database user, and returns the rows (lists of strings, None for NULL).
- pid(env, name), pause(env, name) / resume(env, name): SIGSTOP / SIGCONT a
  component (db-m, img1...) by the PID `kisekae up` recorded: a hung server
  (pause returns once every thread of it has stopped).
- stop(env, name) then restart(env): SIGTERM it by its PID, wait until it is
  gone, and later bring it back with `kisekae up` (which starts what does
  not run). The build folder is KISEKAE_BUILD_DIR (the runner sets it), else
  build/.

Every wait is bounded; a component the test stopped is always brought back
by the caller (use try/finally).
"""

import os
import signal
import subprocess
import time
from pathlib import Path
from timescale import scaled

ROOT = Path(__file__).resolve().parents[2]


def _db_args(env):
    host, _sep, port = env["KISEKAE_DB_MASTER"].rpartition(":")
    return ["mariadb", "--batch", "--skip-column-names", "--connect-timeout=5",
            "-h", host, "-P", port, "-u", env["KISEKAE_DB_USER"], env["KISEKAE_DB_NAME"]]


def sql(env, query, timeout=30):
    """Rows of query on the master: lists of column strings (None for NULL)."""
    run_env = dict(os.environ, MYSQL_PWD=env["KISEKAE_DB_PASSWORD"])
    done = subprocess.run(_db_args(env) + ["-e", query], env=run_env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError("mariadb -e %r failed: %s" % (query[:200], done.stderr.strip()))
    rows = []
    for line in done.stdout.splitlines():
        rows.append([None if v == "NULL" else v for v in line.split("\t")])
    return rows


def pid(env, name):
    path = Path(env["KISEKAE_STATE"]) / "run" / ("%s.pid" % name)
    text = path.read_text().split()
    if not text:
        raise RuntimeError("%s is empty" % path)
    return int(text[0])


def _state_of(stat_path):
    """The state letter in a /proc .../stat file, or None once it is gone."""
    try:
        stat = Path(stat_path).read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rpartition(")")[2].split()[0]


def _state(process_id):
    """The process state letter, or None once it is gone."""
    return _state_of("/proc/%d/stat" % process_id)


def _all_threads_stopped(process_id):
    """Every thread of the process is stopped (T), or the process is gone."""
    try:
        tasks = os.listdir("/proc/%d/task" % process_id)
    except FileNotFoundError:
        return True
    return all(_state_of("/proc/%d/task/%s/stat" % (process_id, task)) in (None, "T", "t")
               for task in tasks)


def pause(env, name, timeout=10):
    """SIGSTOP to name's recorded PID; returns once every thread of it has
    stopped. kill() returns before that: one thread takes the signal and
    stops the others in turn, which on a loaded machine took up to tens of
    milliseconds, long enough for a request sent meanwhile to be served."""
    process_id = pid(env, name)
    os.kill(process_id, signal.SIGSTOP)
    deadline = time.monotonic() + scaled(timeout)
    while not _all_threads_stopped(process_id):
        if time.monotonic() > deadline:
            raise RuntimeError("%s (pid %d) not stopped %d s after SIGSTOP" % (
                name, process_id, timeout))
        time.sleep(0.002)


def resume(env, name):
    os.kill(pid(env, name), signal.SIGCONT)


def stop(env, name, timeout=60):
    """SIGTERM to name's recorded PID; returns once the process is gone."""
    process_id = pid(env, name)
    os.kill(process_id, signal.SIGTERM)
    deadline = time.monotonic() + scaled(timeout)
    while _state(process_id) not in (None, "Z", "X"):
        if time.monotonic() > deadline:
            raise RuntimeError("%s (pid %d) still runs %d s after SIGTERM" % (
                name, process_id, timeout))
        time.sleep(0.05)


def restart(env, timeout=300):
    """`kisekae up` on the stack: starts again what was stopped."""
    build = os.environ.get("KISEKAE_BUILD_DIR") or env.get("KISEKAE_BUILD_DIR") or str(ROOT / "build")
    done = subprocess.run([str(ROOT / "kisekae"), "up", "--state", env["KISEKAE_STATE"],
                           "--no-build", "--build-dir", build],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError("kisekae up failed (exit %d):\n%s%s" % (
            done.returncode, done.stdout[-3000:], done.stderr[-3000:]))
