#!/usr/bin/env bash
# Batch tool test (ctest `batch`): starts a stack of its own with two API
# servers behind nginx and two image servers (`./kisekae up --api 2 --image
# 2`) and runs the pytest tests of this folder, which drive kisekae-batch
# (through `./kisekae batch`) against it: a lost store regenerated, kill -9
# and --resume, an API server killed during a run, outfits changed during a
# run, audit and --repair, sync-items, move, bad usage. Always tears the
# stack down.
#
#   tests/batch/run.sh BUILD_DIR
#
# Port base: KISEKAE_BATCH_PORT_BASE (default 28100). State:
# BUILD_DIR/batch-stack (or a /tmp folder when nginx's workers could not
# reach BUILD_DIR). On failure the logs' tails are printed and the logs kept
# in BUILD_DIR/batch-logs.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner batch "${KISEKAE_BATCH_PORT_BASE:-28100}" "$@"

STARTED=$SECONDS
stack_up --api 2 --image 2
stack_pytest batch
