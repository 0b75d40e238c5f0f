#!/usr/bin/env bash
# Integration test (ctest `integration`): starts a whole stack of its own
# (MariaDB master + replica, nginx, the API server and two image servers, the
# sample catalog) with ./kisekae on port base 27000 and state
# BUILD_DIR/it-stack (or a /tmp folder when nginx's workers could not reach
# BUILD_DIR), so it runs
# beside a stack started by `./kisekae up`; drives it with the C SOAP client
# (ks-scenario, its avatar checked by check_avatar.py against Pillow) and the
# Python tests in this folder, then runs the Python client tests again through
# the FastCGI API behind nginx; always tears it down.
#
#   tests/integration/run.sh BUILD_DIR
#
# KISEKAE_IT_PORT_BASE overrides the port base (for parallel runs). On failure
# the logs' tails are printed and the logs are kept in BUILD_DIR/it-logs.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner it "${KISEKAE_IT_PORT_BASE:-27000}" "$@"

failed=()

# A short heartbeat timeout, so test_node_ops.py sees a silent server
# marked down within seconds (the stack's image servers beat every second),
# and failed layer pushes, deletions and webhook deliveries are tried again
# after a second.
export KISEKAE_API_CONF_EXTRA="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}image_server_timeout 6
replica_retry 1
deletion_retry 1
webhook_retry 1
webhook_interval 200"
export KISEKAE_IMAGE_HEARTBEAT_S=1
# test_self_heal.py waits for the image servers' periodic re-sync.
export KISEKAE_IMAGE_SYNC_S=2

# Two image servers: test_self_heal.py asks one for the other's images.
stack_up --image 2

set -a
# shellcheck disable=SC1091
. "$STATE/stack.env"
set +a
# The fault tests stop components and bring them back with this build;
# test_limits.py starts API servers of its own on ports from P+50.
export KISEKAE_IT_PORT_BASE=$PORT_BASE KISEKAE_BUILD_DIR=$BUILD

# ks-scenario writes the layers it uploaded and the avatar it downloaded to
# OUT_DIR; check_avatar.py composes the same layers with Pillow (the
# independent oracle) and compares.
SCENARIO_OUT=$BUILD/it-scenario
rm -rf "$SCENARIO_OUT"
mkdir -p "$SCENARIO_OUT"
echo "== ks-scenario $SCENARIO_OUT (C gSOAP client)"
if [[ ! -x $BUILD/tests/integration/ks-scenario ]]; then
  echo "FAIL: $BUILD/tests/integration/ks-scenario is not built"
  failed+=(ks-scenario)
elif ! "$BUILD/tests/integration/ks-scenario" "$SCENARIO_OUT"; then
  echo "FAIL: ks-scenario"
  failed+=(ks-scenario)
fi
# The oracle runs whenever the scenario got as far as downloading the avatar.
if [[ -f tests/integration/check_avatar.py && -f $SCENARIO_OUT/layers.txt && -f $SCENARIO_OUT/avatar.png ]]; then
  echo "== check_avatar.py $SCENARIO_OUT (Pillow oracle)"
  if ! /usr/bin/python3 tests/integration/check_avatar.py "$SCENARIO_OUT"; then
    echo "FAIL: check_avatar.py"
    failed+=(check_avatar)
  fi
elif [[ ! " ${failed[*]} " == *" ks-scenario "* ]]; then
  echo "FAIL: ks-scenario left no layers.txt / avatar.png in $SCENARIO_OUT for check_avatar.py"
  failed+=(check_avatar)
fi

echo "== pytest tests/integration (Python clients)"
shopt -s nullglob
py_tests=(tests/integration/test_*.py tests/integration/*_test.py)
shopt -u nullglob
if ((${#py_tests[@]} == 0)); then
  echo "SKIP: no Python tests in tests/integration yet"
else
  rc=0
  /usr/bin/python3 -m pytest -q --tb=short -p no:cacheprovider tests/integration || rc=$?
  if ((rc == 5)); then
    echo "SKIP: pytest collected no tests"
  elif ((rc != 0)); then
    echo "FAIL: pytest (exit $rc)"
    failed+=(pytest)
  fi
  # The same clients through nginx and the FastCGI API: the same answers.
  echo "== pytest: the Python client tests again through FastCGI ($KISEKAE_API_FCGI_URL)"
  rc=0
  KISEKAE_API_URL=$KISEKAE_API_FCGI_URL KISEKAE_WSDL_URL="${KISEKAE_API_FCGI_URL}?wsdl" \
    /usr/bin/python3 -m pytest -q --tb=short -p no:cacheprovider \
    tests/integration/test_zeep_scenario.py tests/integration/test_faults_zeep.py || rc=$?
  if ((rc != 0)); then
    echo "FAIL: pytest through FastCGI (exit $rc)"
    failed+=(pytest-fastcgi)
  fi
fi

if ((${#failed[@]})); then
  echo "== integration: FAILED: ${failed[*]}"
  exit 1
fi
echo "== integration: passed"
