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

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner dbpool "${KISEKAE_DBPOOL_PORT_BASE:-$((${KISEKAE_IT_PORT_BASE:-27000} + 200))}" "$@"

STARTED=$SECONDS
stack_up --replicas 2
stack_pytest dbpool
