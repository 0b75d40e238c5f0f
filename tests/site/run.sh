#!/usr/bin/env bash
# Demo site test (ctest `site`): starts a stack of its own (`./kisekae up`,
# which starts the demo community site on port base + 70 and loads the sample
# catalog with its album scene), runs the PHP sample's
# walkthrough against it (its first URL refusing), then the tests of this
# folder (pytest): the browser tests (Selenium, headless Chromium) and the
# PHP library's failover against broken servers (test_php_failover.py).
# Checks that `down` leaves none of the site's PHP processes behind. Always
# tears the stack down.
#
#   tests/site/run.sh BUILD_DIR
#
# Port base: KISEKAE_SITE_PORT_BASE (default 28700). State: BUILD_DIR/site-stack
# (or a /tmp folder when nginx's workers could not reach BUILD_DIR). A failed
# browser test leaves its screenshot and page in BUILD_DIR/site-artifacts; on
# failure the logs' tails are printed and the logs kept in BUILD_DIR/site-logs.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner site "${KISEKAE_SITE_PORT_BASE:-28700}" "$@"

started=$SECONDS
stack_up
set -a
# shellcheck disable=SC1091
. "$STATE/stack.env"
set +a
site_pid=$(head -n1 "$STATE/run/site.pid")

# The first URL refuses (nothing listens on base + 49): the library moves on.
echo "== php samples/php/walkthrough.php (the first of KISEKAE_API_URLS refuses)"
KISEKAE_API_URLS="http://127.0.0.1:$((PORT_BASE + 49))/ $KISEKAE_API_URLS" \
  KISEKAE_SAMPLE_RUN=site$$ php samples/php/walkthrough.php

echo "== pytest tests/site"
rm -rf "$BUILD/site-artifacts"
KISEKAE_SITE_ARTIFACTS=$BUILD/site-artifacts /usr/bin/python3 -m pytest -q -s --tb=short \
  -p no:cacheprovider --durations=0 tests/site

echo "== ./kisekae down: the site's process group goes"
"$KISEKAE" down --state "$STATE"
if kill -0 -- "-$site_pid" 2>/dev/null; then
  echo "FAIL: processes of the site's group $site_pid still run after down" >&2
  ps -o pid,cmd -g "$site_pid" >&2 || true
  kill -KILL -- "-$site_pid" 2>/dev/null || true
  exit 1
fi
echo "== site: passed ($((SECONDS - started)) s)"
