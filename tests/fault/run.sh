#!/usr/bin/env bash
# Fault matrix (ctest `fault`): starts a stack of its own with a MariaDB
# master and two replicas, two API servers behind nginx and three image
# servers (`./kisekae up --api 2 --image 3 --replicas 2`) and runs
# tests/fault/test_fault.py against it: under a mixed load, kill -9 and
# SIGSTOP of a replica, an API server, an nginx worker and an image server,
# then an image server's disk full. Always tears the stack down (and
# unmounts the tmpfs the disk-full test mounts over an image server's store).
#
#   tests/fault/run.sh BUILD_DIR
#
# Port base: KISEKAE_FAULT_PORT_BASE (default 24000; ports base..base+199).
# State: BUILD_DIR/fault-stack (or a /tmp folder when nginx's workers could
# not reach BUILD_DIR). On failure the logs' tails are printed and the logs
# kept in BUILD_DIR/fault-logs. Needs root (mount) for the disk-full test.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner fault "${KISEKAE_FAULT_PORT_BASE:-24000}" "$@"

# fault_unmount: a tmpfs the test left over an image server's store (it
# unmounts it itself unless it was killed).
fault_unmount() {
  local store
  for store in "$STATE"/img*/store; do
    if mountpoint -q "$store" 2>/dev/null; then umount "$store" || umount -l "$store" || true; fi
  done
}
# fault_finish: the unmount, then stack_lib's teardown (which reads the exit
# status from $?).
fault_finish() {
  local rc=$?
  fault_unmount
  set +e
  (exit "$rc")
  stack_finish
}
trap fault_finish EXIT

stack_cluster_pytest fault
