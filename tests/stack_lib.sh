# shellcheck shell=bash
# tests/stack_lib.sh: what every test that brings up a stack of its own shares
# (sourced by the run.sh of tests/integration, tests/dbpool, tests/topology,
# tests/cluster, tests/fault...).
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
#   stack_runner NAME PORT_BASE "$@"   # the runner's one argument is BUILD_DIR
#
# stack_runner sets ROOT, BUILD, PORT_BASE and KISEKAE, goes to ROOT and calls
# stack_begin NAME PORT_BASE, which sets STATE and LOGS, removes a stack an
# earlier run left, and arms the teardown.
#
# State: BUILD/NAME-stack, or /tmp/kisekae-NAME-UID-PORT_BASE when nginx's
# workers (user nobody, when run as root) cannot reach BUILD. On failure the
# logs' tails are printed and the logs kept in BUILD/NAME-logs. The teardown
# wakes the stack's own MariaDB instances first (a test may leave one
# SIGSTOPped, and a stopped one would ignore `down`'s TERM), then runs
# `./kisekae down --purge`.

# cont_databases: wakes every MariaDB instance the stack recorded, and only
# those (the pid's command line must name this state folder).
cont_databases() {
  local f pid
  for f in "$STATE"/run/db-*.pid; do
    [[ -s $f ]] || continue
    pid=$(head -n1 "$f")
    if [[ $pid =~ ^[0-9]+$ && $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$STATE"* ]]; then
      kill -CONT "$pid" 2>/dev/null || true
    fi
  done
}

# print_logs: the tails of the stack's logs, also kept in LOGS.
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

stack_finish() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)); then print_logs; fi
  cont_databases
  "$KISEKAE" down --state "$STATE" --purge || rc=1
  exit "$rc"
}

stack_begin() {
  local name=$1 port_base=$2
  STATE=$BUILD/$name-stack
  LOGS=$BUILD/$name-logs
  if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
    STATE=/tmp/kisekae-$name-$(id -u)-$port_base
    echo "== $BUILD is not reachable by user nobody (nginx workers); the stack goes to $STATE"
  fi
  # A run killed before its teardown (e.g. by ctest's timeout) leaves a stack.
  if [[ -e $STATE/.kisekae-state ]]; then
    echo "== removing the stack a previous run left in $STATE"
    cont_databases
    "$KISEKAE" down --state "$STATE" --purge
  fi
  rm -rf "$LOGS"
  trap stack_finish EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

stack_runner() {
  local name=$1
  PORT_BASE=$2
  shift 2
  [[ $# == 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  BUILD=$(realpath -m -- "$1")
  KISEKAE=$ROOT/kisekae
  cd "$ROOT"
  stack_begin "$name" "$PORT_BASE"
}

# stack_up ARGS...: `./kisekae up ARGS` of the stack stack_runner set up
# (its state, port base and build).
stack_up() {
  echo "== ./kisekae up --state $STATE --port-base $PORT_BASE $*"
  "$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" "$@" --no-build --build-dir "$BUILD"
}

# stack_pytest NAME: the pytest tests of tests/NAME on that stack
# (KISEKAE_ENV names its stack.env, KISEKAE_BUILD and KISEKAE_BUILD_DIR the
# build), the slowest listed; then how long the suite took since STARTED.
stack_pytest() {
  local name=$1
  echo "== pytest tests/$name"
  KISEKAE_ENV=$STATE/stack.env KISEKAE_BUILD=$BUILD KISEKAE_BUILD_DIR=$BUILD \
    /usr/bin/python3 -m pytest -q -s --tb=short -p no:cacheprovider --durations=0 "tests/$name"
  echo "== $name: passed ($((SECONDS - ${STARTED:-0})) s)"
}

# stack_cluster_pytest NAME: what tests/cluster and tests/fault run on the
# stack stack_runner set up: `./kisekae up --api 2 --image 3 --replicas 2`
# with image servers beating every second and marked down after 4 s of
# silence, failed layer pushes and deletions tried again after a second;
# then the pytest tests of tests/NAME (KISEKAE_ENV names the stack.env).
stack_cluster_pytest() {
  STARTED=$SECONDS
  export KISEKAE_API_CONF_EXTRA="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}image_server_timeout 4
replica_retry 1
deletion_retry 1"
  export KISEKAE_IMAGE_HEARTBEAT_S=1
  stack_up --api 2 --image 3 --replicas 2
  stack_pytest "$1"
}
