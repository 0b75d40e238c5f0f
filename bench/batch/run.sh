#!/usr/bin/env bash
# bench/batch: kisekae-batch regenerate against the compose ceiling.
#
# Brings up a stack of its own with one API server and one image server
# (./kisekae up --api 1 --image 1 on its own port base and state folder),
# creates the bench members on img1 (setup.py: each wears six layers), empties
# img1's avatar store (a lost disk) and measures, on the same cores:
#
#   batch    `kisekae-batch regenerate --server img1 --parallel P`: lists the
#            members (ListAvatarsByServer), sends them in batches of 50 to the
#            API (RebuildAvatars), which reads each member's recipe from the
#            database and has the image server compose the batch in one
#            request; the image server composes each avatar and thumbnail,
#            finds the files missing and writes them (temp file, fsync,
#            rename). Members/s from the tool's own summary.
#   ceiling  ks-bench-batch-ceiling (ceiling.c): the same members' recipes,
#            fetched once beforehand (GetImageRecipe, not timed), composed in
#            one process with P threads by the image server's own code
#            (ks_image_core: recipe parser, item store and layer cache on
#            img1's store, compositor, PNG encoders, atomic writes to a
#            scratch store). No API, database, network or FastCGI.
#
# It prints both rates and ends with exactly
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
PARALLEL=4

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
                   the image server composes on its 4 FastCGI threads)
  -h, --help       this help
EOF
}

while (($#)); do
  case $1 in
    --port-base) PORT_BASE=${2:?}; shift 2 ;;
    --build-dir) BUILD=${2:?}; shift 2 ;;
    --members) MEMBERS=${2:?}; shift 2 ;;
    --parallel) PARALLEL=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench batch: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in PORT_BASE MEMBERS PARALLEL; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench batch: $v must be a number (see --help)" >&2; exit 2; }
done
((MEMBERS >= 1 && PARALLEL >= 1 && PARALLEL <= 64)) ||
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
  --members "$MEMBERS" --threads 4

echo "== emptying img1's avatar store, then: kisekae-batch regenerate --server img1 --parallel $PARALLEL"
find "$STATE/img1/store/avatars" -mindepth 1 -delete
"$KISEKAE" batch --state "$STATE" --build-dir "$BUILD" regenerate --server img1 \
  --parallel "$PARALLEL" --restart | tee "$WORK/batch.out"
batch_rate=$(sed -n 's/^  done: \([0-9]*\) members in .* (\([0-9.]*\) members\/s)$/\2/p' "$WORK/batch.out")
failed=$(sed -n 's/^  failed *\([0-9]*\)$/\1/p' "$WORK/batch.out")
[[ -n $batch_rate && $failed == 0 ]] || { echo "bench batch: the regenerate run failed" >&2; exit 1; }
avatars=$(find "$STATE/img1/store/avatars" -name '*.png' ! -name '*-thumb.png' | wc -l)
((avatars >= MEMBERS)) || { echo "bench batch: only $avatars avatars on img1 after the run" >&2; exit 1; }

echo "== compose ceiling: ks-bench-batch-ceiling --threads $PARALLEL"
"$BUILD/bench/batch/ks-bench-batch-ceiling" --api-url "$KISEKAE_API_URL" \
  --admin "$KISEKAE_ADMIN_USER:$KISEKAE_ADMIN_PASSWORD" \
  --node "$KISEKAE_NODE_USER:$KISEKAE_NODE_PASSWORD" --server img1 \
  --store "$STATE/img1/store" --out "$WORK/ceiling-store" --threads "$PARALLEL" |
  tee "$WORK/ceiling.out"
ceiling_rate=$(sed -n 's/^ceiling: .*: \([0-9.]*\) members\/s.*/\1/p' "$WORK/ceiling.out")
[[ -n $ceiling_rate ]] || { echo "bench batch: no rate from the ceiling" >&2; exit 1; }

echo "== $MEMBERS members, avatar and thumbnail each, $PARALLEL in parallel"
printf 'batch regenerate: %s members/s\n' "$batch_rate"
printf 'compose ceiling:  %s members/s\n' "$ceiling_rate"
awk -v b="$batch_rate" -v c="$ceiling_rate" 'BEGIN { printf "ratio batch vs compose ceiling: %.2f\n", b / c }'
