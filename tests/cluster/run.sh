#!/usr/bin/env bash
# Cluster test (ctest `cluster`): starts a stack of its own with a MariaDB
# master and two replicas, two API servers behind nginx and three image
# servers (`./kisekae up --api 2 --image 3 --replicas 2`) and runs the pytest
# tests of this folder against it: items replicated everywhere, an image
# server killed and caught up, a fourth one added live, weighted assignment,
# draining, missing files rebuilt, members moved, an API server killed under
# a load of writes. Always tears the stack down.
#
#   tests/cluster/run.sh BUILD_DIR
#
# Port base: KISEKAE_CLUSTER_PORT_BASE (default 25600). State:
# BUILD_DIR/cluster-stack (or a /tmp folder when nginx's workers could not
# reach BUILD_DIR). On failure the logs' tails are printed and the logs kept
# in BUILD_DIR/cluster-logs.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner cluster "${KISEKAE_CLUSTER_PORT_BASE:-25600}" "$@"

stack_cluster_pytest cluster
