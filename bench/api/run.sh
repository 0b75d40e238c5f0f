#!/usr/bin/env bash
# bench/api: GetAvatar and ChangeOutfit requests/s against a bare gSOAP echo server
#
# Brings up a kisekae stack of its own (./kisekae up on its own port base and
# state folder), imports the bench members through ImportMembers (the bulk
# path, bench/api/import_members.py: each owns two items A and B of one
# exclusive category and wears A), starts ks-bench-echo (bench/api/
# echo_server.c: a bare gSOAP service, the ceiling) with as many worker
# threads as the API gets, and drives each target with wrk over keep-alive
# connections, posting SOAP bodies with HTTP Basic auth (bench/api/soap.lua):
#
#   echo                ks-bench-echo's Echo
#   getavatar-zipf      GetAvatar, members drawn with a Zipf distribution
#                       (s = 1: popular members asked more), default cache
#   getavatar-uniform   GetAvatar, members drawn uniformly, default cache
#   changeoutfit        ChangeOutfit: each call asks a member not asked before
#                       to wear B instead of A, so every call changes the
#                       outfit and the image server composes a new version
#   getavatar-uncached  GetAvatar, uniform draws, the API restarted with
#                       avatar_cache_ms 0: every call reads the database
#   createavatar        CreateAvatar of a member not seen before (each wears
#                       the default item of each required category): the
#                       API assigns an image server, writes the member and
#                       has the image server compose version 1
#   compose-create      the compose ceiling of createavatar: the same compose
#                       requests (a new member, version 1, the required
#                       defaults) POSTed by wrk straight to the image server's
#                       /internal/compose, no API and no database
#   compose-change      the compose ceiling of changeoutfit: as above with
#                       what a member wears after changeoutfit (the required
#                       defaults and B), version 2
#
# The ceilings run at the same concurrency (the same wrk connections and
# threads) against the one image server the API composes on, and their
# bodies are the API's own (canvas and thumbnail from the API's config, the
# layers from the database in the API's drawing order): after phase 1 the
# avatar and thumbnail a ceiling request stored must be byte for byte those
# of a createavatar (and a changeoutfit) call, or the run fails.
#
# Phase 1 (the API's default avatar cache) interleaves echo, getavatar-zipf,
# getavatar-uniform, changeoutfit, compose-change, createavatar and
# compose-create for ROUNDS rounds; phase 2 (cache off)
# echo and getavatar-uncached. Each figure is the median of its rounds and
# each ratio is against the echo median of the same phase. Any non-2xx answer
# or socket error fails the run. After phase 1 the members' versions are read
# back: their sum must have risen by the ChangeOutfit calls acknowledged (at
# most one more per connection and run: a call in flight when wrk stops may
# still be applied); the members createavatar made must be the calls it had
# acknowledged (the same bound), and every image server's member_count must
# add up to the members. The avatar cache hit rate is counted from the database:
# a GetAvatar the cache misses is one SELECT (Com_select, master and
# replicas). It ends with exactly these lines:
#   ratio getavatar-uncached vs echo: R
#   ratio getavatar-zipf vs echo: R
#   ratio changeoutfit vs echo: R
#   ratio createavatar vs compose ceiling: R
#   ratio changeoutfit vs compose ceiling: R
# and stops everything it started (also on failure or ^C).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KISEKAE=$ROOT/kisekae
HERE=$ROOT/bench/api
PYTHON=/usr/bin/python3

PORT_BASE=${KISEKAE_BENCH_PORT_BASE:-19000}
BUILD=$ROOT/build
WORKERS=8
CONNECTIONS=
THREADS=2
DURATION=5
ROUNDS=3
MEMBERS=100000

usage() {
  cat <<EOF
Usage: ./kisekae bench api [OPTIONS]

Measures GetAvatar (members drawn uniformly and by Zipf, with the API's
avatar cache and without) and ChangeOutfit (every call a real change) of the
SOAP API (standalone HTTP, keep-alive, wrk) against ks-bench-echo, a bare
gSOAP echo service with the same number of worker threads, on a stack of its
own, after importing the members with ImportMembers; checks the versions
ChangeOutfit made and prints the avatar cache hit rate, each figure and the
lines 'ratio getavatar-uncached vs echo: R', 'ratio getavatar-zipf vs echo: R'
and 'ratio changeoutfit vs echo: R'. CreateAvatar and ChangeOutfit are also
measured against their compose ceiling: the same compose requests POSTed
straight to the image server at the same concurrency ('ratio createavatar vs
compose ceiling: R', 'ratio changeoutfit vs compose ceiling: R'). Needs wrk
(Debian package wrk).

  --port-base N       ports of the bench stack, N..N+200 (default $PORT_BASE,
                      or KISEKAE_BENCH_PORT_BASE); the echo server takes N+80
  --build-dir DIR     build folder (default build/)
  --workers N         worker threads of the API and of the echo server ($WORKERS)
  --connections N     wrk keep-alive connections (default: --workers; the echo
                      server serves one connection per worker)
  --threads N         wrk threads ($THREADS)
  --duration S        seconds per measurement ($DURATION)
  --rounds N          measurements per target; the median counts ($ROUNDS)
  --members N         members imported and drawn from (default $MEMBERS, at
                      least 1000; ChangeOutfit asks each at most once)
  -h, --help          this help
EOF
}

while (($#)); do
  case $1 in
    --port-base) PORT_BASE=${2:?}; shift 2 ;;
    --build-dir) BUILD=${2:?}; shift 2 ;;
    --workers) WORKERS=${2:?}; shift 2 ;;
    --connections) CONNECTIONS=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --members) MEMBERS=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench api: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
CONNECTIONS=${CONNECTIONS:-$WORKERS}
for v in PORT_BASE WORKERS CONNECTIONS THREADS DURATION ROUNDS MEMBERS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench api: $v must be a number (see --help)" >&2; exit 2; }
done
((WORKERS >= 1 && CONNECTIONS >= THREADS && MEMBERS >= 1000 && ROUNDS >= 1 && DURATION >= 1)) ||
  { echo "bench api: bad option values (see --help)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench api: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

BUILD=$(realpath -m -- "$BUILD")
STATE=$BUILD/bench-api-stack
# As root, nginx workers run as nobody and must reach the stack's folders.
if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
  STATE=/tmp/kisekae-bench-$(id -u)-$PORT_BASE
fi
WORK=$STATE.bench
ECHO_PORT=$((PORT_BASE + 80))   # free: the API metrics are on N+59..N+69
ECHO_PID=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $ECHO_PID ]] && kill -0 "$ECHO_PID" 2>/dev/null; then
    kill "$ECHO_PID" 2>/dev/null || true
    wait "$ECHO_PID" 2>/dev/null || true
  fi
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

# bring_up EXTRA: ./kisekae up with these API config lines (again: the API
# servers whose config changed are restarted).
bring_up() {
  echo "== ./kisekae up --state $STATE --port-base $PORT_BASE (API: $(tr '\n' ' ' <<<"$1"))"
  KISEKAE_API_CONF_EXTRA=$1 "$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" \
    --build-dir "$BUILD" >>"$BUILD/bench-api-up.log" 2>&1 ||
    { tail -n 30 "$BUILD/bench-api-up.log" >&2; echo "bench api: ./kisekae up failed (log: $BUILD/bench-api-up.log)" >&2; exit 1; }
}
: >"$BUILD/bench-api-up.log"
# KISEKAE_API_CONF_EXTRA: more kisekae-api.conf lines (e.g. auth_recheck_ms 0).
BASE_CONF="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}workers $WORKERS"
bring_up "$BASE_CONF"
[[ -x $BUILD/bench/api/ks-bench-echo ]] || { echo "bench api: $BUILD/bench/api/ks-bench-echo was not built" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$STATE/stack.env"
set +a

rm -rf "$WORK"
mkdir -p "$WORK"
echo "== importing $MEMBERS members (ImportMembers, 1000 per call)"
"$PYTHON" "$HERE/import_members.py" --env "$STATE/stack.env" --members "$MEMBERS" \
  --out "$WORK/members" 2>"$WORK/import.log" | sed 's/^/   /'

"$BUILD/bench/api/ks-bench-echo" --listen "127.0.0.1:$ECHO_PORT" --workers "$WORKERS" \
  --user "$KISEKAE_SITE_USER" --password "$KISEKAE_SITE_PASSWORD" 2>"$WORK/echo.log" &
ECHO_PID=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$ECHO_PORT") 2>/dev/null && break
  sleep 0.1
done

export KS_BENCH_AUTH KS_BENCH_MEMBERS=$WORK/members KS_BENCH_THREADS=$THREADS
KS_BENCH_AUTH=$(printf '%s:%s' "$KISEKAE_SITE_USER" "$KISEKAE_SITE_PASSWORD" | base64 -w0)

# The image server the API composes on (the bench stack has one), and the
# compose bodies of the ceilings: the lines after user_id and version, as
# api-server/image_client.c writes them, for a new member (the required
# categories' defaults) and for a member after changeoutfit (those and B).
IMAGE_INTERNAL=${KISEKAE_IMAGE_INTERNAL_URLS%% *}
IMAGE_SECRET=${KISEKAE_IMAGE_SECRETS%% *}
RUN_ID=$$
SEQ=0
conf_value() {      # KEY: the API's setting, else the sample's (the default)
  local v
  v=$(awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$STATE/api1/kisekae-api.conf")
  [[ -n $v ]] || v=$(awk -v k="$1" '$1 == k { v = $2 } END { print v }' \
                       "$ROOT/api-server/kisekae-api.conf.sample")
  echo "$v"
}
compose_tail() {    # [ITEM]: the body's tail for the required defaults (and ITEM)
  local canvas crop size
  canvas=$(conf_value canvas) crop=$(conf_value thumb_crop) size=$(conf_value thumb_size)
  printf 'canvas %s\nthumb %s %s\n' "${canvas/x/ }" "${crop//,/ }" "${size/x/ }"
  printf '%s\n' "$(sql "SELECT CONCAT('layer ', item_id, ' ', layer_no, ' ', z_order, ' ', x, ' ', y, ' ', sha256)
       FROM item_layers WHERE item_id IN (SELECT default_item_id FROM categories
       WHERE required = 1 AND default_item_id IS NOT NULL) OR item_id = ${1:-0}
       ORDER BY z_order, item_id, layer_no")"
}
url_of() {
  case $1 in
    echo) echo "http://127.0.0.1:$ECHO_PORT/" ;;
    compose-*) echo "$IMAGE_INTERNAL/internal/compose" ;;
    *) echo "$KISEKAE_API_URL" ;;
  esac
}

# sql QUERY: one value from the master (or INSTANCE db-rK as $2).
sql() { "$KISEKAE" sql --state "$STATE" "${2:-db-m}" -- -N -B -e "$1"; }
# selects: Com_select summed over the master and the replicas.
selects() {
  local total=0 n instance
  for instance in db-m $(seq -f db-r%g "$(wc -w <<<"$KISEKAE_DB_REPLICAS")"); do   # stack.env, sourced above
    n=$(sql "SHOW GLOBAL STATUS LIKE 'Com_select'" "$instance" | awk '{ print $2 }')
    total=$((total + n))
  done
  echo "$total"
}

# The changeoutfit runs take disjoint slices of the members, in order.
SLICE_NEXT=1
SLICE_SIZE=$((MEMBERS / (ROUNDS + 1)))
CHANGES_ACKED=0
CHANGE_RUNS=0
CREATES_ACKED=0
CREATE_RUNS=0
declare -A first_prefix=()    # target -> the user id prefix of its first run (same-work check)

# measure TARGET SECONDS: writes the requests/s to $WORK/last-rps and the
# requests to $WORK/last-requests; fails on any error answer. Not in a
# subshell: it keeps the changeoutfit counts.
measure() {
  local target=$1 seconds=$2 out line requests duration status sockets op draw=uniform
  local prefix version
  local -a env=()
  case $target in
    echo) op='echo' ;;
    getavatar-zipf) op=getavatar draw=zipf ;;
    getavatar-*) op=getavatar ;;
    changeoutfit)
      op=changeoutfit
      env=(KS_BENCH_SLICE="$SLICE_NEXT $SLICE_SIZE")
      SLICE_NEXT=$((SLICE_NEXT + SLICE_SIZE)) ;;
    createavatar|compose-*)
      SEQ=$((SEQ + 1))
      case $target in
        createavatar) op=createavatar prefix=ca$RUN_ID-$SEQ- ;;
        compose-create) op=compose prefix=cc$RUN_ID-$SEQ- version=1 ;;
        compose-change) op=compose prefix=co$RUN_ID-$SEQ- version=2 ;;
      esac
      env=(KS_BENCH_PREFIX="$prefix" KS_BENCH_COMPOSE="$WORK/$target.tail"
           KS_BENCH_VERSION="${version:-}" KS_BENCH_SECRET="$IMAGE_SECRET")
      first_prefix[$target]=${first_prefix[$target]:-$prefix} ;;
  esac
  out=$(env "${env[@]}" KS_BENCH_OP=$op KS_BENCH_DRAW=$draw wrk -t"$THREADS" -c"$CONNECTIONS" \
          -d"${seconds}s" -s "$HERE/soap.lua" "$(url_of "$target")" 2>&1) ||
    { echo "$out" >&2; echo "bench api: wrk failed on $target" >&2; return 1; }
  line=$(grep '^ks-bench ' <<<"$out" || true)
  [[ -n $line ]] || { echo "$out" >&2; echo "bench api: no summary from wrk on $target" >&2; return 1; }
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
  duration=$(sed -n 's/.*duration_us=\([0-9]*\).*/\1/p' <<<"$line")
  status=$(sed -n 's/.*status_errors=\([0-9]*\).*/\1/p' <<<"$line")
  sockets=$(sed -n 's/.*socket_errors=\([0-9]*\).*/\1/p' <<<"$line")
  if ((status > 0 || sockets > 0 || requests == 0)); then
    echo "$out" >&2
    echo "bench api: $target: $status error answers, $sockets socket errors in $requests requests" >&2
    return 1
  fi
  if [[ $target == changeoutfit ]]; then
    if ((requests > SLICE_SIZE)); then
      echo "bench api: changeoutfit made $requests calls, more than its $SLICE_SIZE members:" \
           "give more --members or a shorter --duration" >&2
      return 1
    fi
    CHANGES_ACKED=$((CHANGES_ACKED + requests))
    CHANGE_RUNS=$((CHANGE_RUNS + 1))
  fi
  if [[ $target == createavatar ]]; then
    CREATES_ACKED=$((CREATES_ACKED + requests))
    CREATE_RUNS=$((CREATE_RUNS + 1))
  fi
  echo "$requests" >"$WORK/last-requests"
  awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f\n", r / (d / 1e6) }' >"$WORK/last-rps"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A results=() med=() hits=() reqs=()
# phase TARGET...: warms up and measures the targets in ROUNDS interleaved
# rounds, counting database SELECTs of the getavatar targets.
phase() {
  local t r rps before
  echo "== warming up (1 s each)"
  for t in "$@"; do
    [[ $t == changeoutfit ]] && continue      # its members are counted: no warm-up
    measure "$t" 1
  done
  for ((r = 1; r <= ROUNDS; r++)); do
    for t in "$@"; do
      before=$(selects)
      measure "$t" "$DURATION"
      rps=$(cat "$WORK/last-rps")
      if [[ $t == getavatar-* ]]; then
        hits[$t]=$(( ${hits[$t]:-0} + $(selects) - before ))
        reqs[$t]=$(( ${reqs[$t]:-0} + $(cat "$WORK/last-requests") ))
      fi
      results[$t]+="$rps "
      printf '   round %d  %-19s %8s requests/s\n' "$r" "$t" "$rps"
    done
  done
  for t in "$@"; do
    # shellcheck disable=SC2086  # the figures are space-separated on purpose
    med[$t]=$(printf '%s\n' ${results[$t]} | median)
  done
}

read -r _ _ ITEM_B <"$WORK/members"
compose_tail >"$WORK/compose-create.tail"
compose_tail "$ITEM_B" >"$WORK/compose-change.tail"

echo "== phase 1: the API's default avatar cache"
last_id=$(sql "SELECT MAX(id) FROM members")     # createavatar's members come after
versions_before=$(sql "SELECT SUM(version) FROM members WHERE id <= $last_id")
members_before=$(sql "SELECT COUNT(*) FROM members")
phase echo getavatar-zipf getavatar-uniform changeoutfit compose-change createavatar \
  compose-create
sleep 1                                    # calls in flight when wrk stopped
versions_after=$(sql "SELECT SUM(version) FROM members WHERE id <= $last_id")
created=$(( $(sql "SELECT COUNT(*) FROM members") - members_before ))
med[echo1]=${med[echo]}
results[echo]=

rise=$((versions_after - versions_before))
echo "== ChangeOutfit: $CHANGES_ACKED calls acknowledged in $CHANGE_RUNS runs; the members' versions rose by $rise"
if ((rise < CHANGES_ACKED || rise > CHANGES_ACKED + CONNECTIONS * CHANGE_RUNS)); then
  echo "bench api: the versions rose by $rise for $CHANGES_ACKED acknowledged calls:" \
       "not every call changed the outfit" >&2
  exit 1
fi
echo "== CreateAvatar: $CREATES_ACKED calls acknowledged in $CREATE_RUNS runs; $created members were made"
if ((created < CREATES_ACKED || created > CREATES_ACKED + CONNECTIONS * CREATE_RUNS)); then
  echo "bench api: $created members made for $CREATES_ACKED acknowledged CreateAvatar calls" >&2
  exit 1
fi
for _ in 1 2 3 4 5 6; do                   # a failed raise waits for the renderer's round
  counted=$(sql "SELECT SUM(member_count) FROM image_servers")
  (( counted == $(sql "SELECT COUNT(*) FROM members") )) && break
  sleep 1
done
echo "== the image servers' member_count add up to $counted; the members are $(sql "SELECT COUNT(*) FROM members")"
(( counted == $(sql "SELECT COUNT(*) FROM members") )) ||
  { echo "bench api: member_count does not add up to the members" >&2; exit 1; }

# stored PATTERN VERSION: the avatar file (without .png) at version of a
# member whose user id matches PATTERN in the image server's store
# (avatars/ab/cd/USER/VERSION.png), or nothing.
stored() {
  find "$STATE/img1/store/avatars" -mindepth 3 -maxdepth 3 -type d -name "$1" \
    -exec test -f "{}/$2.png" ';' -print -quit | sed "s|\$|/$2|"
}
# same_work API_USER API_VERSION CEILING_USER CEILING_VERSION: the avatar and
# thumbnail the ceiling stored are those the API's call stored (user ids as
# patterns of stored).
same_work() {
  local a b
  a=$(stored "$1" "$2") b=$(stored "$3" "$4")
  if [[ -z $a || -z $b ]] || ! cmp -s "$a.png" "$b.png" || ! cmp -s "$a-thumb.png" "$b-thumb.png"; then
    echo "bench api: $3 (ceiling) and $1 (API) were not composed alike: '$b' '$a'" >&2
    exit 1
  fi
}
read -r changed_user changed_version < <(sql "SELECT user_id, version FROM members
  WHERE id <= $last_id ORDER BY updated_at DESC LIMIT 1")
same_work "${first_prefix[createavatar]}*" 1 "${first_prefix[compose-create]}*" 1
same_work "$changed_user" "$changed_version" "${first_prefix[compose-change]}*" 2
echo "== the ceilings stored the same avatars and thumbnails, byte for byte, as CreateAvatar and ChangeOutfit"

echo "== phase 2: the API restarted with avatar_cache_ms 0"
bring_up "$BASE_CONF"$'\n'"avatar_cache_ms 0"
phase echo getavatar-uncached
med[echo2]=${med[echo]}

echo "== $CONNECTIONS keep-alive connections, $WORKERS worker threads each, median of $ROUNDS x ${DURATION} s, $MEMBERS members"
for t in echo1 getavatar-zipf getavatar-uniform changeoutfit compose-change createavatar \
         compose-create echo2 getavatar-uncached; do
  printf '%s: %.0f requests/s\n' "${t/echo[12]/echo (phase ${t#echo})}" "${med[$t]}"
done
for t in getavatar-zipf getavatar-uniform getavatar-uncached; do
  awk -v t="$t" -v s="${hits[$t]}" -v n="${reqs[$t]}" 'BEGIN {
    h = 1 - s / n; if (h < 0) h = 0
    printf "avatar cache hit rate %s: %.1f%% (%d database SELECTs for %d GetAvatar calls)\n", t, 100 * h, s, n }'
done
awk -v a="${med[getavatar-uncached]}" -v e="${med[echo2]}" 'BEGIN { printf "ratio getavatar-uncached vs echo: %.3f\n", a / e }'
awk -v a="${med[getavatar-zipf]}" -v e="${med[echo1]}" 'BEGIN { printf "ratio getavatar-zipf vs echo: %.3f\n", a / e }'
awk -v c="${med[changeoutfit]}" -v e="${med[echo1]}" 'BEGIN { printf "ratio changeoutfit vs echo: %.3f\n", c / e }'
echo "(compose ceiling: the API's compose requests for the same avatars POSTed straight to the"
echo " image server's /internal/compose at the same concurrency: compose-create for createavatar,"
echo " compose-change for changeoutfit)"
awk -v c="${med[createavatar]}" -v e="${med[compose-create]}" 'BEGIN { printf "ratio createavatar vs compose ceiling: %.3f\n", c / e }'
awk -v c="${med[changeoutfit]}" -v e="${med[compose-change]}" 'BEGIN { printf "ratio changeoutfit vs compose ceiling: %.3f\n", c / e }'
