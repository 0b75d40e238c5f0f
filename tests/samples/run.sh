#!/usr/bin/env bash
# Samples test (ctest `samples`): starts a stack of its own with two API
# servers (`./kisekae up --api 2`) and runs the walkthrough of every sample
# client present in samples/ (samples/run.py) three ways:
#   standalone  KISEKAE_API_URLS: the two API servers' own URLs
#   fastcgi     KISEKAE_API_FCGI_URL: the API through nginx and FastCGI
#   dead-first  a URL nothing listens on, then the two API servers
# then prints the table language x pass (each walkthrough must also print
# its tint and webhook-verifier lines: samples/run.py REQUIRED_LINES), and
# runs the pytest tests of this folder (the Python client's failover against
# fake servers, its timeouts, faults and keep-alive; a tinted avatar against
# the Pillow oracle and every library's webhook verifier on a real delivery).
# Always tears the stack down.
#
#   tests/samples/run.sh BUILD_DIR
#
# Port base: KISEKAE_SAMPLES_PORT_BASE (default 28400); the dead URL is on
# port base + 9, the tests' fake servers on + 50.. and their webhook receiver
# on + 85, which the stack leaves free. State: BUILD_DIR/samples-stack (or a /tmp folder when nginx's workers
# could not reach BUILD_DIR). On failure the logs' tails are printed and the
# logs kept in BUILD_DIR/samples-logs.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner samples "${KISEKAE_SAMPLES_PORT_BASE:-28400}" "$@"

started=$SECONDS
stack_up --api 2

# shellcheck disable=SC1091
api_urls=$(. "$STATE/stack.env"; echo "$KISEKAE_API_URLS")
fcgi_url=$(. "$STATE/stack.env"; echo "$KISEKAE_API_FCGI_URL")
read -ra apis <<<"$api_urls"
if ((${#apis[@]} != 2)); then
  echo "FAIL: stack.env lists ${#apis[@]} API URLs, not 2: $api_urls"
  exit 1
fi
dead_port=$((PORT_BASE + 9))
if (exec 3<>"/dev/tcp/127.0.0.1/$dead_port") 2>/dev/null; then
  echo "FAIL: something listens on 127.0.0.1:$dead_port, the port meant to be dead"
  exit 1
fi

"$KISEKAE" samples --state "$STATE" --build-dir "$BUILD" \
  --pass "standalone=$api_urls" \
  --pass "fastcgi=$fcgi_url" \
  --pass "dead-first=http://127.0.0.1:$dead_port/ $api_urls"
echo "== pytest tests/samples"
KISEKAE_ENV=$STATE/stack.env KISEKAE_SAMPLES_PORT_BASE=$PORT_BASE KISEKAE_BUILD_DIR=$BUILD \
  /usr/bin/python3 -m pytest -q \
  --tb=short -p no:cacheprovider tests/samples
echo "== samples: passed ($((SECONDS - started)) s)"
