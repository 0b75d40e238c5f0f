#!/usr/bin/env bash
# Admin UI test (ctest `admin`): starts a stack of its own with two admin
# servers (`./kisekae up --admin 2 --image 2 --replicas 0`) and runs the browser tests
# of this folder against it: headless Chromium driven by Selenium, a SOAP
# client (zeep) and the Pillow oracle. Always tears the stack down.
#
#   tests/admin/run.sh BUILD_DIR
#
# Port base: KISEKAE_ADMIN_PORT_BASE (default 28200); the webhook test's
# receiver listens on the base + 190 (no stack component uses it). State:
# BUILD_DIR/admin-stack (or a /tmp folder when nginx's workers could not
# reach BUILD_DIR). On failure the logs' tails are printed and the logs kept
# in BUILD_DIR/admin-logs; each failed browser test leaves a screenshot and
# the page's HTML in BUILD_DIR/admin-artifacts.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner admin "${KISEKAE_ADMIN_PORT_BASE:-28200}" "$@"

started=$SECONDS
# Two admin servers behind nginx (a session goes on through either) and two
# image servers (members move between them). Sessions end after 30 s idle
# (test_security.py waits that out); an account locks after 3 failed sign-ins
# and nothing is throttled (every test signs in from 127.0.0.1). Exported:
# a test that brings a stopped server back runs `up` with the same settings.
export KISEKAE_ADMIN_CONF_EXTRA="${KISEKAE_ADMIN_CONF_EXTRA:+$KISEKAE_ADMIN_CONF_EXTRA
}session_idle 30
login_lock_after 3
login_throttle_after 1000"
stack_up --admin 2 --image 2 --replicas 0

rm -rf "$BUILD/admin-artifacts"
echo "== pytest tests/admin"
KISEKAE_ADMIN_HOOK_PORT=$((PORT_BASE + 190)) \
KISEKAE_ENV=$STATE/stack.env KISEKAE_ADMIN_ARTIFACTS=$BUILD/admin-artifacts KISEKAE_BUILD_DIR=$BUILD \
  /usr/bin/python3 -m pytest -q --tb=short -p no:cacheprovider --durations=5 tests/admin
echo "== admin: passed ($((SECONDS - started)) s)"
