#!/usr/bin/env bash
# Database pool test (ctest `dbpool`): starts a stack of its own with two
# MariaDB replicas (`./kisekae up --replicas 2`) and runs the pytest tests of
# this folder against it: replicas killed, hung, lagging, removed and added
# by SIGHUP under a SOAP read load. Always tears the stack down.
#
#   tests/dbpool/run.sh BUILD_DIR
#
# Port base: KISEKAE_DBPOOL_PORT_BASE, else 200 above the integration test's
# (KISEKAE_IT_PORT_BASE, default 27000), so both fit in one engineer's range
# and never meet. State: BUILD_DIR/dbpool-stack (or a /tmp folder when
# nginx's workers could not reach BUILD_DIR). On failure the logs' tails are
# printed and the logs kept in BUILD_DIR/dbpool-logs.
set -euo pipefail

[[ $# == 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(realpath -m -- "$1")
STATE=$BUILD/dbpool-stack
PORT_BASE=${KISEKAE_DBPOOL_PORT_BASE:-$((${KISEKAE_IT_PORT_BASE:-27000} + 200))}
KISEKAE=$ROOT/kisekae
LOGS=$BUILD/dbpool-logs
cd "$ROOT"

if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
  STATE=/tmp/kisekae-dbpool-$(id -u)-$PORT_BASE
  echo "== $BUILD is not reachable by user nobody (nginx workers); the stack goes to $STATE"
fi

# cont_databases: a replica the tests left SIGSTOPped would ignore `down`'s
# TERM; wake every MariaDB instance the stack recorded (and only those).
cont_databases() {
  local f pid
  for f in "$STATE"/run/db-*.pid; do
    [[ -s $f ]] || continue
    pid=$(head -n1 "$f")
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STATE"; then
      kill -CONT "$pid" 2>/dev/null || true
    fi
  done
}

print_logs() {
  local f
  [[ -d $STATE/logs ]] || return 0
  rm -rf "$LOGS"
  mkdir -p "$LOGS"
  for f in "$STATE"/logs/*; do
    [[ -s $f ]] || continue
    cp -L "$f" "$LOGS/" 2>/dev/null || true
    printf -- '---- last lines of %s ----\n' "$f"
    tail -n 40 "$f"
  done
  echo "(the whole logs are in $LOGS)"
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)); then print_logs; fi
  cont_databases
  "$KISEKAE" down --state "$STATE" --purge || rc=1
  exit "$rc"
}

if [[ -e $STATE/.kisekae-state ]]; then
  echo "== removing the stack a previous run left in $STATE"
  cont_databases
  "$KISEKAE" down --state "$STATE" --purge
fi
rm -rf "$LOGS"

trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$SECONDS
echo "== ./kisekae up --state $STATE --port-base $PORT_BASE --replicas 2"
"$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --replicas 2 --no-build --build-dir "$BUILD"

echo "== pytest tests/dbpool"
KISEKAE_ENV=$STATE/stack.env /usr/bin/python3 -m pytest -q -s --tb=short -p no:cacheprovider \
  --durations=0 tests/dbpool
echo "== dbpool: passed ($((SECONDS - started)) s)"
