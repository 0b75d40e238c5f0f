#!/usr/bin/env bash
# bench/batch: kisekae-batch regenerate against the compose ceiling.
#
# Brings up a stack of its own with one API server and one image server
# (./kisekae up --api 1 --image 1 on its own port base and state folder),
# creates the bench members on img1 (setup.py: each wears six layers) and
# measures a regenerate of all of them two ways, on the same cores:
#
#   batch    `kisekae-batch regenerate --server img1 --parallel P`: lists the
#            members (ListAvatarsByServer), sends them in batches of 50 to the
#            API (RebuildAvatars), which reads each member's recipe from the
#            database and has the image server compose the batch in one
#            request on its FastCGI threads: each avatar and thumbnail is
#            composed, encoded and compared with the stored file, and
#            written (temp file, fsync, rename) when missing or different.
#   ceiling  ks-bench-batch-ceiling (ceiling.c): the same members' recipes,
#            fetched once beforehand (GetImageRecipe, not timed), composed in
#            one process with P threads by the image server's own code
#            (ks_image_core: recipe parser, item store and layer cache on
#            img1's store, compositor, PNG encoders), then compared with the
#            stored files, or written atomically to a scratch store. No API,
#            database, network or FastCGI.
#
# Each side is measured in wall-clock time and in CPU time: for the batch,
# the CPU of every process of the stack (the API server, MariaDB, nginx,
# the image server: the sessions of STATE/run/*.pid) plus the tool's own;
# for the ceiling, its process's. On a machine shared with other work the
# wall clock says more about the neighbours than about kisekae, so the
# figure that counts is members per CPU-second.
#
# First with img1's store intact (every member composed and compared,
# nothing written: where the API's, database's and transport's share shows
# most), ROUNDS rounds taking turns, medians; then once with its avatars/
# emptied (a lost disk: every file written, two fsyncs each on both sides).
# It prints every figure and ends with exactly (intact store, per CPU-second)
#   ratio batch vs compose ceiling: 0.81
# and stops everything it started (also on failure or ^C).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KISEKAE=$ROOT/kisekae
HERE=$ROOT/bench/batch
PYTHON=/usr/bin/python3

PORT_BASE=${KISEKAE_BENCH_BATCH_PORT_BASE:-19400}
BUILD=$ROOT/build
MEMBERS=20000
PARALLEL=2
ROUNDS=3

usage() {
  cat <<EOF
Usage: ./kisekae bench batch [OPTIONS]

Regenerates MEMBERS members (avatar and thumbnail) of a one-image-server stack
of its own with kisekae-batch after emptying the image server's avatar store,
then composes the same recipes with the image server's own code in-process
(no API, database or network), and prints the members/s of each and
'ratio batch vs compose ceiling: R'. bench/batch/run.sh says what each side does.

  --port-base N    ports of the bench stack, N..N+200 (default $PORT_BASE,
                   or KISEKAE_BENCH_BATCH_PORT_BASE)
  --build-dir DIR  build folder (default build/)
  --members N      members to create and regenerate ($MEMBERS)
  --parallel N     kisekae-batch --parallel and the ceiling's threads ($PARALLEL;
                   the image server composes max_batches, 2, at once)
  --rounds N       rounds on the intact store, taking turns; medians count ($ROUNDS)
  -h, --help       this help
EOF
}

while (($#)); do
  case $1 in
    --port-base) PORT_BASE=${2:?}; shift 2 ;;
    --build-dir) BUILD=${2:?}; shift 2 ;;
    --members) MEMBERS=${2:?}; shift 2 ;;
    --parallel) PARALLEL=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench batch: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in PORT_BASE MEMBERS PARALLEL ROUNDS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench batch: $v must be a number (see --help)" >&2; exit 2; }
done
((MEMBERS >= 1 && PARALLEL >= 1 && PARALLEL <= 64 && ROUNDS >= 1)) ||
  { echo "bench batch: bad option values (see --help)" >&2; exit 2; }

BUILD=$(realpath -m -- "$BUILD")
STATE=$BUILD/bench-batch-stack
# As root, nginx workers run as nobody and must reach the stack's folders.
if [[ $(id -u) == 0 ]] && ! runuser -u nobody -- test -x "$BUILD" 2>/dev/null; then
  STATE=/tmp/kisekae-bench-batch-$(id -u)-$PORT_BASE
fi
WORK=$STATE.bench

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

echo "== ./kisekae up --state $STATE --port-base $PORT_BASE --api 1 --image 1"
"$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --api 1 --image 1 \
  --build-dir "$BUILD" >"$BUILD/bench-batch-up.log" 2>&1 ||
  { tail -n 30 "$BUILD/bench-batch-up.log" >&2; echo "bench batch: ./kisekae up failed (log: $BUILD/bench-batch-up.log)" >&2; exit 1; }
for binary in kisekae-batch bench/batch/ks-bench-batch-ceiling; do
  [[ -x $BUILD/$binary ]] || { echo "bench batch: $BUILD/$binary was not built" >&2; exit 1; }
done
set -a
# shellcheck disable=SC1091
. "$STATE/stack.env"
set +a
rm -rf "$WORK"
mkdir -p "$WORK"

echo "== creating $MEMBERS members on img1"
"$PYTHON" "$HERE/setup.py" --env "$STATE/stack.env" --catalog "$STATE/catalog" \
  --members "$MEMBERS" --threads 8

# stack_cpu: CPU seconds (user + system) used so far by the stack's
# processes: those in the sessions of the PIDs in STATE/run/*.pid (each
# component runs in a session of its own; nginx's workers share its master's).
stack_cpu() {
  "$PYTHON" - "$STATE/run" <<'PY'
import glob, os, sys

def fields(pid):                      # /proc/PID/stat after "(comm)": state is [0]
    with open("/proc/%s/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()

sessions = set()
for path in glob.glob(sys.argv[1] + "/*.pid"):
    try:
        with open(path) as f:
            sessions.add(fields(f.readline().strip())[3])
    except (OSError, IndexError):
        pass
total = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        f = fields(pid)
    except OSError:
        continue
    if f[3] in sessions:
        total += int(f[11]) + int(f[12])      # utime, stime
print("%.2f" % (total / os.sysconf("SC_CLK_TCK")))
PY
}

# batch_round NAME: one regenerate of img1; appends "members wall_s cpu_s" to
# WORK/NAME.figures. Fails the bench when a member failed.
batch_round() {
  local out=$WORK/batch.out before after tool members wall
  before=$(stack_cpu)
  TIMEFORMAT='%U %S'
  { time "$KISEKAE" batch --state "$STATE" --build-dir "$BUILD" regenerate --server img1 \
      --parallel "$PARALLEL" --restart >"$out" 2>&1; } 2>"$WORK/batch.time" ||
    { cat "$out" >&2; echo "bench batch: the regenerate run failed" >&2; exit 1; }
  after=$(stack_cpu)
  tool=$(awk '{ print $1 + $2 }' "$WORK/batch.time")
  grep -v '^\[' "$out" || true
  members=$(sed -n 's/^  done: \([0-9]*\) members in \([0-9.]*\) s .*/\1/p' "$out")
  wall=$(sed -n 's/^  done: \([0-9]*\) members in \([0-9.]*\) s .*/\2/p' "$out")
  [[ -n $members ]] && grep -q '^  failed     0$' "$out" ||
    { echo "bench batch: the regenerate run failed" >&2; exit 1; }
  awk -v m="$members" -v w="$wall" -v b="$before" -v a="$after" -v t="$tool" \
    'BEGIN { printf "%d %.2f %.2f\n", m, w, a - b + t }' | tee -a "$WORK/$1.figures"
}

# ceiling_round NAME MODE: one pass of the ceiling; appends "members wall_s cpu_s".
ceiling_round() {
  local out=$WORK/ceiling.out
  rm -rf "$WORK/ceiling-store"
  "$BUILD/bench/batch/ks-bench-batch-ceiling" --api-url "$KISEKAE_API_URL" \
    --admin "$KISEKAE_ADMIN_USER:$KISEKAE_ADMIN_PASSWORD" \
    --node "$KISEKAE_NODE_USER:$KISEKAE_NODE_PASSWORD" --server img1 \
    --store "$STATE/img1/store" --out "$WORK/ceiling-store" --threads "$PARALLEL" \
    --mode "$2" --recipes "$WORK/recipes" | tee "$out"
  sed -n 's/^ceiling [a-z]*: \([0-9]*\) members in \([0-9.]*\) s, \([0-9.]*\) CPU-s (.*, 0 differ)$/\1 \2 \3/p' \
    "$out" | grep . | tee -a "$WORK/$1.figures" ||
    { echo "bench batch: no figures from the ceiling (or its files differ from img1's)" >&2; exit 1; }
}

# rates NAME: "members/s members-per-CPU-s", medians over WORK/NAME.figures.
rates() {
  awk '{ wall[NR] = $1 / $2; cpu[NR] = $1 / $3 }
       function median(v, n,   i, j, t) {
         for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
         return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
       }
       END { printf "%.1f %.1f\n", median(wall, NR), median(cpu, NR) }' "$WORK/$1.figures"
}

for ((r = 1; r <= ROUNDS; r++)); do
  echo "== intact store, round $r of $ROUNDS: kisekae-batch regenerate --server img1 --parallel $PARALLEL"
  batch_round batch-compare
  grep -q '^  unchanged  [1-9]' "$WORK/batch.out" ||
    { echo "bench batch: the intact store's members were not unchanged" >&2; exit 1; }
  echo "== intact store, round $r of $ROUNDS: ks-bench-batch-ceiling --mode compare --threads $PARALLEL"
  ceiling_round ceiling-compare compare
done

echo "== lost store: img1's avatars/ emptied, then kisekae-batch regenerate --server img1"
find "$STATE/img1/store/avatars" -mindepth 1 -delete
batch_round batch-write
avatars=$(find "$STATE/img1/store/avatars" -name '*.png' ! -name '*-thumb.png' | wc -l)
((avatars >= MEMBERS)) || { echo "bench batch: only $avatars avatars on img1 after the run" >&2; exit 1; }
echo "== lost store: ks-bench-batch-ceiling --mode write --threads $PARALLEL"
ceiling_round ceiling-write write

read -r bc_wall bc_cpu < <(rates batch-compare)
read -r cc_wall cc_cpu < <(rates ceiling-compare)
read -r bw_wall bw_cpu < <(rates batch-write)
read -r cw_wall cw_cpu < <(rates ceiling-write)
echo "== $MEMBERS members, avatar and thumbnail each, $PARALLEL in parallel (intact: median of $ROUNDS)"
printf '%-28s %14s %20s\n' "" "members/s" "members per CPU-s"
printf '%-28s %14s %20s\n' "intact store, batch" "$bc_wall" "$bc_cpu" "intact store, ceiling" "$cc_wall" "$cc_cpu" \
  "lost store, batch" "$bw_wall" "$bw_cpu" "lost store, ceiling" "$cw_wall" "$cw_cpu"
awk -v b="$bc_wall" -v c="$cc_wall" 'BEGIN { printf "ratio wall-clock (intact store): %.2f\n", b / c }'
awk -v b="$bw_cpu" -v c="$cw_cpu" 'BEGIN { printf "ratio with writes (per CPU-s): %.2f\n", b / c }'
awk -v b="$bc_cpu" -v c="$cc_cpu" 'BEGIN { printf "ratio batch vs compose ceiling: %.2f\n", b / c }'
