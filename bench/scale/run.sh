#!/usr/bin/env bash
# bench/scale: the API's latencies at 1,000 members and at a million, on one stack
#
# Brings up a kisekae stack of its own (./kisekae up on its own port base and
# state folder; one API server with avatar_cache_ms 0, so every read reads the
# database; MariaDB given KISEKAE_DB_CONF_EXTRA, by default a 1 GiB buffer
# pool, as a production database holding its working set), then:
#
#   1. imports 1,000 members through ImportMembers (bench/api/import_members.py:
#      each owns the required defaults and two items A and B of one exclusive
#      category, and wears A) and measures, one call at a time
#      (bench/scale/latency.py), p50 and p99 of GetAvatar, GetAvatars(100),
#      ListMemberItems, CreateAvatar and ChangeOutfit (A to B: each composes);
#   2. imports up to --members (1,000,000 by default) the same way, timed,
#      showing its progress every 10,000 members;
#   3. measures the same operations again (ChangeOutfit on members not asked
#      before), then the image store's disk use per member it composed.
#
# It ends with these lines (goal: every ratio at most 1.2; 1M is --members
# written short: 200k for 200000):
#   import: N members in S s: R members/s
#   ratio p50 1M vs 1k OPERATION: R          (one per operation)
# and stops everything it started (also on failure or ^C).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KISEKAE=$ROOT/kisekae
PYTHON=/usr/bin/python3

PORT_BASE=${KISEKAE_BENCH_PORT_BASE:-19600}
BUILD=$ROOT/build
MEMBERS=1000000
SAMPLES=1000
WRITES=200
DB_CONF=${KISEKAE_DB_CONF_EXTRA:-innodb-buffer-pool-size=1G}
FIRST=1000

usage() {
  cat <<EOF
Usage: ./kisekae bench scale [OPTIONS]

Measures p50 and p99 of GetAvatar, GetAvatars(100), ListMemberItems,
CreateAvatar and ChangeOutfit (one call at a time) on a stack of its own with
$FIRST members, imports members up to --members through ImportMembers (timed),
measures again and prints 'import: N members in S s: R members/s' and one
'ratio p50 1M vs 1k OPERATION: R' line per operation (goal: at most 1.2).

  --port-base N     ports of the bench stack, N..N+200 (default $PORT_BASE,
                    or KISEKAE_BENCH_PORT_BASE)
  --build-dir DIR   build folder (default build/)
  --members N       members at the second measurement (default $MEMBERS,
                    at least $((FIRST * 2)))
  --samples N       calls per read operation and measurement ($SAMPLES)
  --writes N        calls per write operation and measurement ($WRITES, at
                    most $((FIRST / 2)))
  -h, --help        this help

KISEKAE_DB_CONF_EXTRA: the stack's MariaDB lines (default
'$DB_CONF').
EOF
}

while (($#)); do
  case $1 in
    --port-base) PORT_BASE=${2:?}; shift 2 ;;
    --build-dir) BUILD=${2:?}; shift 2 ;;
    --members) MEMBERS=${2:?}; shift 2 ;;
    --samples) SAMPLES=${2:?}; shift 2 ;;
    --writes) WRITES=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench scale: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in PORT_BASE MEMBERS SAMPLES WRITES; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench scale: $v must be a number (see --help)" >&2; exit 2; }
done
((MEMBERS >= FIRST * 2 && SAMPLES >= 10 && WRITES >= 10 && WRITES <= FIRST / 2)) ||
  { echo "bench scale: bad option values (see --help)" >&2; exit 2; }

# The second measurement's label: 1M, 200k, 2500.
if ((MEMBERS % 1000000 == 0)); then LARGE=$((MEMBERS / 1000000))M
elif ((MEMBERS % 1000 == 0)); then LARGE=$((MEMBERS / 1000))k
else LARGE=$MEMBERS
fi

BUILD=$(realpath -m -- "$BUILD")
STATE=$BUILD/bench-scale-stack
# As root, nginx workers run as nobody and must reach the stack's folders.
if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
  STATE=/tmp/kisekae-bench-scale-$(id -u)-$PORT_BASE
fi
WORK=$STATE.bench
LOG=$BUILD/bench-scale-up.log

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  "$KISEKAE" down --state "$STATE" --purge >/dev/null || rc=1
  rm -rf "$WORK"
  exit "$rc"
}

if [[ -e $STATE/.kisekae-state ]]; then
  echo "== removing the bench stack a previous run left in $STATE"
  "$KISEKAE" down --state "$STATE" --purge >/dev/null
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== ./kisekae up --state $STATE --port-base $PORT_BASE (API: avatar_cache_ms 0;" \
     "MariaDB: $(tr '\n' ' ' <<<"$DB_CONF"))"
: >"$LOG"
KISEKAE_API_CONF_EXTRA="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}avatar_cache_ms 0" KISEKAE_DB_CONF_EXTRA=$DB_CONF \
  "$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --build-dir "$BUILD" >>"$LOG" 2>&1 ||
  { tail -n 30 "$LOG" >&2; echo "bench scale: ./kisekae up failed (log: $LOG)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK"

# sql QUERY [INSTANCE]: one value from the master (or db-rK).
sql() { "$KISEKAE" sql --state "$STATE" "${2:-db-m}" -- -N -B -e "$1"; }

# caught_up: waits (at most 10 minutes) until every replica applied what the
# master holds: the reads go to the replicas.
caught_up() {
  local pos instance k=0
  pos=$(sql "SELECT @@gtid_binlog_pos")
  for instance in $(. "$STATE/stack.env" && echo "$KISEKAE_DB_REPLICAS"); do
    k=$((k + 1))
    [[ $(sql "SELECT MASTER_GTID_WAIT('$pos', 600)" "db-r$k") == 0 ]] ||
      { echo "bench scale: replica db-r$k ($instance) did not reach $pos in 10 minutes" >&2; exit 1; }
  done
}

# import FIRST LAST: members bench-FIRST .. bench-LAST; import_members.py's
# progress (every 20 calls) goes to the terminal.
import() {
  "$PYTHON" "$ROOT/bench/api/import_members.py" --env "$STATE/stack.env" --first "$1" \
    --members "$2" --out "$WORK/members" 2> >(sed -u 's/^/   /' >&2) | sed 's/^/   /'
}

# measure TAG CHANGE_FROM: the latencies at $MEMBERS_NOW members, into $WORK/TAG.
measure() {
  echo "== latencies at $(sql "SELECT COUNT(*) FROM members") members ($1: $SAMPLES calls per" \
       "read, $WRITES per write, one at a time; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$PYTHON" "$ROOT/bench/scale/latency.py" --env "$STATE/stack.env" --members "$MEMBERS_NOW" \
    --tag "$1" --samples "$SAMPLES" --writes "$WRITES" --change-from "$2" \
    --item-b "$(awk 'NR == 1 { print $3 }' "$WORK/members")" | tee "$WORK/$1" | sed 's/^/   /'
}

echo "== importing $FIRST members (ImportMembers, 1000 per call)"
import 1 "$FIRST"
MEMBERS_NOW=$FIRST
caught_up
measure 1k 1

echo "== importing members $((FIRST + 1)) to $MEMBERS (ImportMembers, 1000 per call)"
import $((FIRST + 1)) "$MEMBERS" | tee "$WORK/import"
MEMBERS_NOW=$MEMBERS
caught_up
measure "$LARGE" $((MEMBERS / 2))

# The image store: what the composed members (CreateAvatar, ChangeOutfit,
# and the ones composed on their first GET) hold on disk.
store=$STATE/img1/store
composed=$(find "$store/avatars" -mindepth 3 -maxdepth 3 -type d | wc -l)
if ((composed > 0)); then
  echo "== image store: $composed members' folders, $(du -sk "$store/avatars" | cut -f1) KiB" \
       "under avatars/: $(($(du -sk "$store/avatars" | cut -f1) / composed)) KiB per member" \
       "(du, current version's avatar and thumbnail plus versions not yet deleted);" \
       "most entries in one folder: $(find "$store/avatars" -mindepth 1 -maxdepth 3 -printf '%h\n' |
                                      sort | uniq -c | sort -n | tail -n 1 | awk '{ print $1 }')"
fi

echo "== $(uptime | sed 's/^ *//')"
grep '^   import: [0-9]* members in' "$WORK/import" | sed 's/^ *//' | tail -n 1
for op in getavatar getavatars100 listmemberitems createavatar changeoutfit; do
  small=$(sed -n "s/^latency 1k $op: p50 \([0-9.]*\) ms.*/\1/p" "$WORK/1k")
  large=$(sed -n "s/^latency $LARGE $op: p50 \([0-9.]*\) ms.*/\1/p" "$WORK/$LARGE")
  awk -v o="$op" -v s="$small" -v l="$large" -v n="$LARGE" \
    'BEGIN { printf "ratio p50 %s vs 1k %s: %.2f\n", n, o, l / s }'
done
