"""timescale.py: wall-clock bounds in tests, scaled by one variable.

KISEKAE_TIME_SCALE (default 1) multiplies every deadline and time limit a
test waits for or asserts, so a loaded or slow machine (a sanitizer build,
a busy 2-core runner) can be given more time without editing tests:
`KISEKAE_TIME_SCALE=3 ./kisekae test`. It is read once; tests/ is on
sys.path of every pytest suite (tests/conftest.py). wait_until polls a
condition within such a bound.
"""

import os
import time


def _scale():
    raw = os.environ.get("KISEKAE_TIME_SCALE", "") or "1"
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit("KISEKAE_TIME_SCALE=%r is not a number" % raw)
    if not 0.1 <= value <= 100:
        raise SystemExit("KISEKAE_TIME_SCALE=%r is outside 0.1..100" % raw)
    return value


SCALE = _scale()


def scaled(seconds):
    """seconds, times KISEKAE_TIME_SCALE."""
    return seconds * SCALE


def wait_until(check, what, timeout):
    """Polls check() (returning None when satisfied, else what is still
    wrong) until timeout seconds (scaled) pass; then fails with what."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        wrong = check()
        if wrong is None:
            return
        if time.monotonic() > deadline:
            raise AssertionError("%s after %d s: %s" % (what, scaled(timeout), wrong))
        time.sleep(0.3)
