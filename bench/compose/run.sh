#!/usr/bin/env bash
# run.sh: kisekae's compositor against libvips and ImageMagick, in one run
# (`./kisekae bench compose` runs this after installing what it needs).
#
# Draws the 10-layer avatars (make_avatars.py, Pillow), builds bench-compose
# and kisekae-compose, and runs bench-compose pinned to one CPU with one
# thread for every library; it prints a table and, last, one `ratio ...`
# line per figure. README.md ("Benchmarks") explains how to read them.
set -euo pipefail

KS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$KS_ROOT/bench/compose
PYTHON=/usr/bin/python3

usage() {
  cat <<EOF
Usage: ./kisekae bench compose [--build-dir DIR] [--work DIR] [--seconds S] [--rounds N]
                               [--quality Q] [--background RRGGBB]

Composites the same 10-layer avatars (240x320 and 480x640) with kisekae
(warm; cold from the PNGs and from its .kl files; PNG and JPEG), libvips (C
API, concurrency 1; cold from the PNGs and from .v files) and ImageMagick
(MagickWand, one thread), on one core, at each one's default PNG settings and
at equal ones (zlib level 1, no filter); then whole processes:
kisekae-compose, 'vips composite' and 'convert'. Prints composites per
second, output sizes and the ratios, ending with lines like
  ratio warm-png 240x320 vs libvips: 12.3 (size 1.11x)
Every output is first checked to show the same picture. Takes about a minute.

  --build-dir DIR      build folder (default: build/); must not be a sanitizer build
  --work DIR           inputs, trimmed layers and outputs (default: DIR/bench-compose)
  --seconds S          CPU time per case and round (default 0.4)
  --rounds N           interleaved rounds; the median is reported (default 5)
  --quality Q          JPEG quality for all (default 85)
  --background RRGGBB  JPEG background (default e8f0ff)

Needs the Debian packages libvips-dev libvips-tools libmagickwand-dev
imagemagick (./kisekae bench compose installs them when run as root).
EOF
}

die() { printf 'bench compose: error: %s\n' "$*" >&2; exit 1; }
step() { printf '==> %s\n' "$*" >&2; }

build_dir=$KS_ROOT/build
work=''
pass=()
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --build-dir) build_dir=${2:?--build-dir needs a folder}; shift 2 ;;
    --work) work=${2:?--work needs a folder}; shift 2 ;;
    --seconds|--rounds|--quality|--background)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      pass+=("$1" "$2"); shift 2 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
build_dir=$(realpath -m -- "$build_dir")
work=$(realpath -m -- "${work:-$build_dir/bench-compose}")

for tool in pkg-config cmake vips convert; do
  command -v "$tool" >/dev/null ||
    die "no '$tool': run './kisekae bench compose' (it installs libvips-tools and imagemagick)"
done
pkg-config --exists vips MagickWand ||
  die "pkg-config finds no vips or MagickWand: install libvips-dev and libmagickwand-dev" \
      "('./kisekae bench compose' does)"
"$PYTHON" -c 'import PIL' 2>/dev/null || die "$PYTHON has no Pillow (Debian: python3-pil)"

step "drawing the avatars in $work/inputs"
mkdir -p "$work/inputs"
"$PYTHON" "$HERE/make_avatars.py" "$work/inputs"

step "building bench-compose and kisekae-compose in $build_dir"
cmake -S "$KS_ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/cmake.log" 2>&1 ||
  { tail -n 20 "$work/cmake.log" >&2; die "cmake configure failed (log: $work/cmake.log)"; }
for option in KS_ASAN KS_UBSAN; do
  if grep -q "^$option:BOOL=ON" "$build_dir/CMakeCache.txt"; then
    die "$build_dir is a sanitizer build ($option=ON): its figures would mean nothing;" \
        "give another --build-dir"
  fi
done
cmake --build "$build_dir" -j2 --target bench-compose kisekae-compose >"$work/build.log" 2>&1 ||
  { tail -n 30 "$work/build.log" >&2; die "build failed (log: $work/build.log)"; }

# One CPU: the first this process may use. Every library gets one thread.
pin=()
if command -v taskset >/dev/null; then
  cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
  cpu=${cpus%%[,-]*}
  if [[ $cpu =~ ^[0-9]+$ ]]; then pin=(taskset -c "$cpu"); fi
fi
export OMP_NUM_THREADS=1 MAGICK_THREAD_LIMIT=1 VIPS_CONCURRENCY=1

step "running bench-compose${pin:+ (pinned to CPU $cpu)}"
exec "${pin[@]}" "$build_dir/bench/compose/bench-compose" \
  --inputs "$work/inputs" --work "$work" \
  --kisekae-compose "$build_dir/kisekae-compose" \
  --vips "$(command -v vips)" --convert "$(command -v convert)" \
  "${pass[@]}"
