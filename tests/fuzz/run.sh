#!/bin/bash
# tests/fuzz/run.sh [SECONDS] [BUILD_DIR]: builds the libFuzzer targets with
# clang (AddressSanitizer + UndefinedBehaviorSanitizer) and runs each for
# SECONDS (default 60), starting from the corpus in BUILD_DIR/fuzz-corpus
# (seeded with tests/crashers and the sample-like PNGs below). Findings are
# written to BUILD_DIR/fuzz-findings and fail the run.
#
#   tests/fuzz/run.sh 600          # ten minutes each, for a real session
#   ctest -R fuzz                  # the short run CI does (20 s each)
set -euo pipefail

SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${2:-$ROOT/build}
OUT=$BUILD/fuzz
CC=${KS_FUZZ_CC:-clang}

if ! command -v "$CC" >/dev/null; then
  echo "fuzz: $CC not found (./kisekae deps installs clang)" >&2
  exit 1
fi
mkdir -p "$OUT" "$BUILD/fuzz-findings"

SOURCES=(common/ks.c common/image.c common/png_codec.c common/png_encode.c
         common/deflate_runs.c common/compose.c common/resize.c common/jpeg_codec.c
         image-server/compose_request.c common/paths.c common/sha256.c)
FLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$ROOT/common" -I"$ROOT/image-server")
LIBS=($(pkg-config --libs libpng libdeflate libjpeg libcrypto) -lm)

for target in intake compose; do
  echo "== building fuzz_$target"
  "$CC" "${FLAGS[@]}" -o "$OUT/fuzz_$target" "$ROOT/tests/fuzz/fuzz_$target.c" \
    "${SOURCES[@]/#/$ROOT/}" "${LIBS[@]}"
done

# Seeds: the hostile PNGs and a few valid ones of every colour type.
mkdir -p "$BUILD/fuzz-corpus/intake" "$BUILD/fuzz-corpus/compose"
cp -n "$ROOT"/tests/crashers/*.png "$BUILD/fuzz-corpus/intake/" 2>/dev/null || true
if [[ -x /usr/bin/python3 ]]; then
  /usr/bin/python3 - "$BUILD/fuzz-corpus/intake" <<'PY' || true
import sys
from PIL import Image, ImageDraw
out = sys.argv[1]
img = Image.new("RGBA", (24, 16), (0, 0, 0, 0))
ImageDraw.Draw(img).ellipse((2, 2, 20, 14), fill=(200, 100, 50, 180))
img.save(out + "/seed-rgba.png")
img.convert("LA").save(out + "/seed-la.png")
img.convert("RGB").save(out + "/seed-rgb.png")
img.quantize(8).save(out + "/seed-palette.png")
img.save(out + "/seed-interlaced.png", interlace=1)
PY
fi
head -c 4096 /dev/urandom > "$BUILD/fuzz-corpus/compose/seed-random" 2>/dev/null || true

rc=0
for target in intake compose; do
  echo "== fuzz_$target for ${SECONDS_EACH}s"
  if ! (cd "$BUILD/fuzz-findings" &&
        "$OUT/fuzz_$target" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
          -max_len=65536 -print_final_stats=1 "$BUILD/fuzz-corpus/$target" 2>&1 |
        tail -n 25); then
    echo "FAIL: fuzz_$target found a problem; reproduce with $OUT/fuzz_$target <file in $BUILD/fuzz-findings>"
    rc=1
  fi
done
exit $rc
