#!/usr/bin/env bash
# bench/api: GetAvatar and ChangeOutfit requests/s against a bare gSOAP echo server
#
# Brings up a kisekae stack of its own (./kisekae up on its own port base and
# state folder), creates bench members, starts ks-bench-echo (bench/api/
# echo_server.c: a bare gSOAP service, the ceiling) with as many worker
# threads as the API gets, and drives each target with wrk over keep-alive
# connections, posting SOAP bodies with HTTP Basic auth (bench/api/soap.lua):
#
#   echo          ks-bench-echo's Echo
#   getavatar     GetAvatar, cycling over the bench members
#   changeoutfit  ChangeOutfit, cycling over them: each call makes a version
#                 that the image server composes and stores
#
# The targets take turns for ROUNDS rounds (the machine's load drifts; turns
# spread it evenly); each figure is the median of its rounds. Any non-2xx
# answer or socket error fails the run. It prints the requests/s of each
# target, then exactly:
#   ratio getavatar vs echo: 0.52
#   ratio changeoutfit vs echo: 0.11
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
MEMBERS=64
AVATAR_CACHE_MS=

usage() {
  cat <<EOF
Usage: ./kisekae bench api [OPTIONS]

Measures GetAvatar and ChangeOutfit requests/s of the SOAP API (standalone
HTTP, keep-alive, wrk) against ks-bench-echo, a bare gSOAP echo service with
the same number of worker threads, on a stack of its own; prints each
figure and the lines 'ratio getavatar vs echo: R' and
'ratio changeoutfit vs echo: R'. Needs wrk (Debian package wrk).

  --port-base N       ports of the bench stack, N..N+200 (default $PORT_BASE,
                      or KISEKAE_BENCH_PORT_BASE); the echo server takes N+60
  --build-dir DIR     build folder (default build/)
  --workers N         worker threads of the API and of the echo server ($WORKERS)
  --connections N     wrk keep-alive connections (default: --workers; the echo
                      server serves one connection per worker)
  --threads N         wrk threads ($THREADS)
  --duration S        seconds per measurement ($DURATION)
  --rounds N          measurements per target; the median counts ($ROUNDS)
  --members N         bench members GetAvatar and ChangeOutfit cycle over ($MEMBERS)
  --avatar-cache-ms N the API's avatar_cache_ms (default: the API's default;
                      0 makes every GetAvatar read the database)
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
    --avatar-cache-ms) AVATAR_CACHE_MS=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench api: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
CONNECTIONS=${CONNECTIONS:-$WORKERS}
for v in PORT_BASE WORKERS CONNECTIONS THREADS DURATION ROUNDS MEMBERS ${AVATAR_CACHE_MS:+AVATAR_CACHE_MS}; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench api: $v must be a number (see --help)" >&2; exit 2; }
done
((WORKERS >= 1 && CONNECTIONS >= THREADS && MEMBERS >= 1 && ROUNDS >= 1 && DURATION >= 1)) ||
  { echo "bench api: bad option values (see --help)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench api: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

BUILD=$(realpath -m -- "$BUILD")
STATE=$BUILD/bench-api-stack
# As root, nginx workers run as nobody and must reach the stack's folders.
if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
  STATE=/tmp/kisekae-bench-$(id -u)-$PORT_BASE
fi
WORK=$STATE.bench
ECHO_PORT=$((PORT_BASE + 60))
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

extra="${KISEKAE_API_CONF_EXTRA:+$KISEKAE_API_CONF_EXTRA
}workers $WORKERS"          # more kisekae-api.conf lines (e.g. auth_recheck_ms 1000)
[[ -z $AVATAR_CACHE_MS ]] || extra+=$'\n'"avatar_cache_ms $AVATAR_CACHE_MS"
echo "== ./kisekae up --state $STATE --port-base $PORT_BASE (API workers: $WORKERS)"
KISEKAE_API_CONF_EXTRA=$extra "$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" \
  --build-dir "$BUILD" >"$BUILD/bench-api-up.log" 2>&1 ||
  { tail -n 30 "$BUILD/bench-api-up.log" >&2; echo "bench api: ./kisekae up failed (log: $BUILD/bench-api-up.log)" >&2; exit 1; }
[[ -x $BUILD/bench/api/ks-bench-echo ]] || { echo "bench api: $BUILD/bench/api/ks-bench-echo was not built" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$STATE/stack.env"
set +a

rm -rf "$WORK"
mkdir -p "$WORK"
"$PYTHON" "$HERE/setup.py" --env "$STATE/stack.env" --members "$MEMBERS" --out "$WORK/members"

"$BUILD/bench/api/ks-bench-echo" --listen "127.0.0.1:$ECHO_PORT" --workers "$WORKERS" \
  --user "$KISEKAE_SITE_USER" --password "$KISEKAE_SITE_PASSWORD" 2>"$WORK/echo.log" &
ECHO_PID=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$ECHO_PORT") 2>/dev/null && break
  sleep 0.1
done

export KS_BENCH_AUTH KS_BENCH_MEMBERS=$WORK/members
KS_BENCH_AUTH=$(printf '%s:%s' "$KISEKAE_SITE_USER" "$KISEKAE_SITE_PASSWORD" | base64 -w0)

url_of() {
  case $1 in
    echo) echo "http://127.0.0.1:$ECHO_PORT/" ;;
    *) echo "$KISEKAE_API_URL" ;;
  esac
}

# measure TARGET SECONDS: prints the requests/s; fails on any error answer.
measure() {
  local target=$1 seconds=$2 out line requests duration status sockets
  out=$(KS_BENCH_OP=$target wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" \
          -s "$HERE/soap.lua" "$(url_of "$target")" 2>&1) ||
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
  awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f\n", r / (d / 1e6) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

targets=(echo getavatar changeoutfit)
echo "== warming up (1 s each)"
for t in "${targets[@]}"; do measure "$t" 1 >/dev/null; done
declare -A results=()
for ((r = 1; r <= ROUNDS; r++)); do
  for t in "${targets[@]}"; do
    rps=$(measure "$t" "$DURATION")
    results[$t]+="$rps "
    printf '   round %d  %-13s %8s requests/s\n' "$r" "$t" "$rps"
  done
done

echo "== $CONNECTIONS keep-alive connections, $WORKERS worker threads each, median of $ROUNDS x ${DURATION} s"
declare -A med=()
for t in "${targets[@]}"; do
  # shellcheck disable=SC2086  # the figures are space-separated on purpose
  med[$t]=$(printf '%s\n' ${results[$t]} | median)
  printf '%s: %.0f requests/s\n' "$t" "${med[$t]}"
done
awk -v a="${med[getavatar]}" -v e="${med[echo]}" 'BEGIN { printf "ratio getavatar vs echo: %.2f\n", a / e }'
awk -v c="${med[changeoutfit]}" -v e="${med[echo]}" 'BEGIN { printf "ratio changeoutfit vs echo: %.2f\n", c / e }'
