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

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner topology "${KISEKAE_TOPOLOGY_PORT_BASE:-21400}" "$@"

STARTED=$SECONDS
stack_up --api 2 --image 2 --replicas 1
stack_pytest topology
