#!/usr/bin/env bash
# conf_sample.sh BINARY SAMPLE [-o name=value]...: the commented sample
# config of a binary is valid (BINARY -c SAMPLE --check, with the overrides
# given for what a sample must leave to be set, such as a secret) and names
# every option of its table (the options BINARY --help lists), set or
# commented out (`#name value`), so a new option cannot be forgotten in the
# sample. ctest: conf_sample/NAME.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BINARY SAMPLE [-o name=value]..." >&2; exit 2; }
binary=$1 sample=$2 missing=()
shift 2
"$binary" -c "$sample" "$@" --check >/dev/null 2>&1 ||
  { "$binary" -c "$sample" "$@" --check; echo "FAIL: $sample does not pass --check" >&2; exit 1; }
options=$("$binary" --help | sed -n '/^options/,$p' | sed -n 's/^  \([a-z_][a-z0-9_]*\) .*/\1/p')
# a tool lists its options apart (kisekae-batch --config-help)
[[ -n $options ]] ||
  options=$("$binary" --config-help 2>/dev/null | sed -n 's/^  \([a-z_][a-z0-9_]*\) .*/\1/p')
[[ -n $options ]] || { echo "FAIL: $binary --help lists no options" >&2; exit 1; }
for option in $options; do
  grep -Eq "^#?$option( |$)" "$sample" || missing+=("$option")
done
if ((${#missing[@]})); then
  echo "FAIL: $sample does not mention: ${missing[*]}" >&2
  exit 1
fi
echo "ok: $sample passes --check and mentions all $(wc -w <<<"$options") options"
