#!/usr/bin/env bash
# Topology test (ctest `topology`): starts a stack of its own with two API
# servers behind nginx and two image servers (`./kisekae up --api 2 --image 2
# --replicas 1`) and runs the pytest tests of this folder against it: SOAP
# through the balancer, an API server killed, `./kisekae add image` under
# load, `up` again changing nothing. Always tears the stack down.
#
#   tests/topology/run.sh BUILD_DIR
#
# Port base: KISEKAE_TOPOLOGY_PORT_BASE (default 21400). State:
# BUILD_DIR/topology-stack (or a /tmp folder when nginx's workers could not
# reach BUILD_DIR). On failure the logs' tails are printed and the logs kept
# in BUILD_DIR/topology-logs.
set -euo pipefail

[[ $# == 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(realpath -m -- "$1")
STATE=$BUILD/topology-stack
PORT_BASE=${KISEKAE_TOPOLOGY_PORT_BASE:-21400}
KISEKAE=$ROOT/kisekae
LOGS=$BUILD/topology-logs
cd "$ROOT"

if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
  STATE=/tmp/kisekae-topology-$(id -u)-$PORT_BASE
  echo "== $BUILD is not reachable by user nobody (nginx workers); the stack goes to $STATE"
fi

# cont_databases: wakes every MariaDB instance the stack recorded (and only
# those), should one have been left stopped.
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
echo "== ./kisekae up --state $STATE --port-base $PORT_BASE --api 2 --image 2 --replicas 1"
"$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --api 2 --image 2 --replicas 1 \
  --no-build --build-dir "$BUILD"

echo "== pytest tests/topology"
KISEKAE_ENV=$STATE/stack.env KISEKAE_BUILD=$BUILD /usr/bin/python3 -m pytest -q -s --tb=short \
  -p no:cacheprovider --durations=0 tests/topology
echo "== topology: passed ($((SECONDS - started)) s)"
