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

# Image servers beat every second and are marked down after 4 s of silence;
# failed layer pushes are tried again after a second.
export KISEKAE_API_CONF_EXTRA="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}image_server_timeout 4
replica_retry 1
deletion_retry 1"
export KISEKAE_IMAGE_HEARTBEAT_S=1

started=$SECONDS
echo "== ./kisekae up --state $STATE --port-base $PORT_BASE --api 2 --image 3 --replicas 2"
"$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --api 2 --image 3 --replicas 2 \
  --no-build --build-dir "$BUILD"

echo "== pytest tests/cluster"
KISEKAE_ENV=$STATE/stack.env KISEKAE_BUILD=$BUILD KISEKAE_BUILD_DIR=$BUILD /usr/bin/python3 -m pytest -q -s --tb=short \
  -p no:cacheprovider --durations=0 tests/cluster
echo "== cluster: passed ($((SECONDS - started)) s)"
