#!/usr/bin/env bash
# EXPLAIN test (ctest `explain`): every statement the API sends, EXPLAINed
# against large tables; a full scan of a table that grows with the members fails.
#
#   tests/explain/run.sh BUILD_DIR
#
# Starts a stack of its own (two image servers, no admin UI) on port base
# KISEKAE_EXPLAIN_PORT_BASE (default 30200), imports 10,000 members through
# ImportMembers (bench/api/import_members.py: members, inventory and outfit
# rows), turns on MariaDB's general log (log_output TABLE) on the master and
# the replicas, runs the integration tests that call every operation family
# (members, avatars, outfits, inventory, catalog and its admin, albums,
# import, cluster and batch operations; the API's renderer, deletion worker
# and the image servers' heartbeats run meanwhile), turns the log off, fills
# the other tables that grow with the members (album photos and who stands
# in them, render queue, image deletions, tombstones: 10,000 rows each, due
# in 2099 so no worker takes them), ANALYZEs them and has explain.py EXPLAIN
# each distinct statement on the master: a full table or index scan of a
# large table fails, with the statement and its plan printed.
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner explain "${KISEKAE_EXPLAIN_PORT_BASE:-30200}" "$@"

SEED=10000
PYTHON=/usr/bin/python3

# webhook deliveries tried again after a second, as in the integration tests
export KISEKAE_API_CONF_EXTRA="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}webhook_retry 1
webhook_interval 200"
echo "== [${SECONDS}s] ./kisekae up --state $STATE --port-base $PORT_BASE --image 2 --admin 0"
"$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --image 2 --admin 0 --no-build \
  --build-dir "$BUILD" >"$BUILD/explain-up.log" 2>&1 ||
  { tail -n 30 "$BUILD/explain-up.log"; echo "FAIL: ./kisekae up"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$STATE/stack.env"
set +a
export KISEKAE_IT_PORT_BASE=$PORT_BASE KISEKAE_BUILD_DIR=$BUILD

# sql INSTANCE QUERY
sql() { "$KISEKAE" sql --state "$STATE" "$1" -- -N -B -e "$2"; }
instances() {
  echo db-m
  sed -n 's/^KISEKAE_DB_REPLICAS=//p' "$STATE/stack.env" | tr ',' '\n' | awk 'NF { printf "db-r%d\n", NR }'
}

echo "== [${SECONDS}s] importing $SEED members (ImportMembers)"
"$PYTHON" bench/api/import_members.py --env "$STATE/stack.env" --members "$SEED" --prefix explain \
  2>/dev/null | sed 's/^/   /'

echo "== [${SECONDS}s] general log on ($(instances | paste -sd ' '))"
for i in $(instances); do
  sql "$i" "SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1"
done

echo "== [${SECONDS}s] the operations: pytest on a stack with $SEED members"
rc=0
KISEKAE_TIME_SCALE=${KISEKAE_TIME_SCALE:-1} "$PYTHON" -m pytest -q --tb=short -p no:cacheprovider \
  tests/integration/test_ops_zeep.py tests/integration/test_zeep_scenario.py \
  tests/integration/test_album_zeep.py tests/integration/test_import_zeep.py \
  tests/integration/test_catalog_admin_zeep.py tests/integration/test_members_admin_zeep.py \
  tests/integration/test_cluster_ops.py tests/integration/test_batch_ops.py \
  tests/integration/test_webhooks_zeep.py \
  -k "not missed_scene and not pages_list_every and not stopped_image_server and not beyond_max_batches" ||
  rc=$?
for i in $(instances); do
  sql "$i" "SET GLOBAL general_log = 0"
done
if ((rc != 0)); then
  echo "FAIL: the operations' tests (pytest exit $rc): the statements they did not reach went unchecked"
  exit 1
fi

echo "== [${SECONDS}s] filling album photos, render queue, image deletions, tombstones and webhook deliveries ($SEED rows each)"
sql db-m "
INSERT INTO album_photos (member_id, image_server_id, scene_id, scene_sha256, width, height, quality)
  SELECT m.id, m.image_server_id, (SELECT MIN(id) FROM scenes), REPEAT('0', 64), 240, 320, 80
  FROM members m WHERE m.user_id LIKE 'explain-%';
INSERT INTO album_photo_members (photo_id, slot_no, member_id, user_id, avatar_version, x, y)
  SELECT p.id, 0, p.member_id, m.user_id, 1, 0, 0
  FROM album_photos p JOIN members m ON m.id = p.member_id WHERE m.user_id LIKE 'explain-%';
INSERT INTO album_photo_layers (photo_id, seq, slot_no, item_id, layer_no, z_order, x, y, sha256)
  SELECT p.id, 0, 0, 1, 0, 0, 0, 0, REPEAT('0', 64)
  FROM album_photos p JOIN members m ON m.id = p.member_id WHERE m.user_id LIKE 'explain-%';
INSERT IGNORE INTO render_queue (member_id, reason, not_before)
  SELECT id, 'explain test', '2099-01-01' FROM members WHERE user_id LIKE 'explain-%';
INSERT INTO image_deletions (image_server_id, user_id, not_before)
  SELECT image_server_id, user_id, '2099-01-01' FROM members WHERE user_id LIKE 'explain-%';
INSERT IGNORE INTO member_tombstones (user_id, last_version)
  SELECT CONCAT('gone-', user_id), 1 FROM members WHERE user_id LIKE 'explain-%';
INSERT INTO webhooks (url, secret, events)
  VALUES ('http://127.0.0.1:9/explain', 'explain-test-secret-0123', 'avatar.changed');
INSERT INTO webhook_events (type, user_id, data)
  SELECT 'avatar.changed', user_id, '{}' FROM members WHERE user_id LIKE 'explain-%';
INSERT INTO webhook_deliveries (webhook_id, event_id, user_id, state)
  SELECT (SELECT MAX(id) FROM webhooks), e.id, e.user_id, 'delivered'
  FROM webhook_events e WHERE e.user_id LIKE 'explain-%';
ANALYZE TABLE members, inventory, outfit, album_photos, album_photo_members, album_photo_layers,
  render_queue, image_deletions, member_tombstones, webhook_events, webhook_deliveries;" >/dev/null

echo "== [${SECONDS}s] explain.py: EXPLAIN of every distinct statement"
"$PYTHON" tests/explain/explain.py --state "$STATE"
echo "== [${SECONDS}s] explain: passed"
