#!/usr/bin/env bash
# Promotion test (ctest `promote`): starts a stack of its own with a MariaDB
# master and two replicas (semi-synchronous) and two API servers behind nginx
# (`./kisekae up --api 2 --replicas 2`), then runs test_promote.py: the master
# killed -9 under a mixed load, `./kisekae promote r1`, nothing acknowledged
# lost, the old master back as a replica. Always tears the stack down.
#
#   tests/promote/run.sh BUILD_DIR
#
# Port base: KISEKAE_PROMOTE_PORT_BASE (default 24600). State:
# BUILD_DIR/promote-stack (or a /tmp folder when nginx's workers could not
# reach BUILD_DIR). On failure the logs' tails are printed and the logs kept
# in BUILD_DIR/promote-logs.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner promote "${KISEKAE_PROMOTE_PORT_BASE:-24600}" "$@"

STARTED=$SECONDS
stack_up --api 2 --image 1 --replicas 2
stack_pytest promote
