#!/usr/bin/env bash
# Launcher secrets test (ctest `launcher_secrets`): brings a stack up with
# `./kisekae up` and makes admin calls (`./kisekae admin`: an answer, a
# fault with its code, bad usage that exits 2) with shims in
# front of the programs the launcher hands secrets to (mariadb,
# mariadb-admin, curl, kisekae-api is fed on stdin already) and of chmod,
# then checks that
#   - no secret of STATE/secrets.env appeared on any of their command lines
#     (which every user sees in `ps`): they go through stdin or files;
#   - no file was made private with chmod 0600 after it was created
#     readable by others (stack.env was 0644 until its chmod);
#   - stack.env and secrets.env are 0600.
# Always tears the stack down.
#
#   tests/launcher/run.sh BUILD_DIR
#
# Port base: KISEKAE_LAUNCHER_PORT_BASE (default 23800). State:
# BUILD_DIR/launcher-stack (or a /tmp folder, see tests/stack_lib.sh).
set -euo pipefail

# shellcheck source=tests/stack_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stack_lib.sh"
stack_runner launcher "${KISEKAE_LAUNCHER_PORT_BASE:-23800}" "$@"

SHIMS=$BUILD/launcher-shims
CALLS=$BUILD/launcher-calls.log
rm -rf "$SHIMS"
mkdir -p "$SHIMS"
: >"$CALLS"

# shim NAME: a NAME in SHIMS that records its arguments (one line, NUL-free)
# and runs the real NAME.
shim() {
  local real
  real=$(command -v "$1") || { echo "FAIL: no $1 on PATH"; exit 1; }
  cat >"$SHIMS/$1" <<SHIM
#!/usr/bin/env bash
printf '%s %s\n' "$1" "\$*" >>"$CALLS"
exec "$real" "\$@"
SHIM
  chmod 0755 "$SHIMS/$1"
}
for program in mariadb mariadb-admin curl; do shim "$program"; done

# chmod: records, before it runs, a file made 0600 that others could read.
real_chmod=$(command -v chmod)
cat >"$SHIMS/chmod" <<SHIM
#!/usr/bin/env bash
if [[ \${1:-} == 0600 || \${1:-} == 600 ]]; then
  for f in "\${@:2}"; do
    if [[ -f \$f ]] && (( (8#\$(stat -c %a "\$f") & 8#077) != 0 )); then
      printf 'OPEN-BEFORE-CHMOD %s %s\n' "\$(stat -c %a "\$f")" "\$f" >>"$CALLS"
    fi
  done
fi
exec "$real_chmod" "\$@"
SHIM
"$real_chmod" 0755 "$SHIMS/chmod"

echo "== ./kisekae up --state $STATE --port-base $PORT_BASE (programs shimmed)"
PATH=$SHIMS:$PATH "$KISEKAE" up --state "$STATE" --port-base "$PORT_BASE" --no-build \
  --build-dir "$BUILD"
echo "== ./kisekae admin ListImageServers"
PATH=$SHIMS:$PATH "$KISEKAE" admin --state "$STATE" --build-dir "$BUILD" ListImageServers \
  >"$BUILD/launcher-admin.out"

failed=0
# kisekae-ctl's answer, a fault with its code, and bad usage.
if ! grep -qx 'server:' "$BUILD/launcher-admin.out" ||
   ! grep -qx '  name: img1' "$BUILD/launcher-admin.out"; then
  echo "FAIL: ListImageServers printed:"; cat "$BUILD/launcher-admin.out"; failed=1
fi
status=0
"$KISEKAE" admin --state "$STATE" --build-dir "$BUILD" SetImageServerMode name=nosuch \
  mode=draining >/dev/null 2>"$BUILD/launcher-admin.err" || status=$?
if ((status != 1)) || ! grep -q 'NotFound: image server "nosuch"' "$BUILD/launcher-admin.err"; then
  echo "FAIL: a NotFound fault exited $status, printing:"; cat "$BUILD/launcher-admin.err"; failed=1
fi
for bad in "ListImageServers 1name=x" "ListImageServers Extra" ""; do
  status=0
  # shellcheck disable=SC2086
  "$KISEKAE" admin --state "$STATE" --build-dir "$BUILD" $bad >/dev/null 2>&1 || status=$?
  ((status == 2)) || { echo "FAIL: ./kisekae admin $bad exited $status, not 2"; failed=1; }
done
calls=$(wc -l <"$CALLS")
((calls > 0)) || { echo "FAIL: the shims saw no call"; failed=1; }
while IFS='=' read -r key value; do
  [[ $key =~ ^KS_[A-Z0-9_]+$ && -n $value ]] || continue
  if grep -qF -- "$value" "$CALLS"; then
    echo "FAIL: the secret $key appeared on a command line:"
    grep -F -- "$value" "$CALLS" | sed "s/$value/<$key>/g" | cut -c1-200
    failed=1
  fi
done <"$STATE/secrets.env"
if grep -q '^OPEN-BEFORE-CHMOD' "$CALLS"; then
  echo "FAIL: files readable by others before they were made private:"
  grep '^OPEN-BEFORE-CHMOD' "$CALLS"
  failed=1
fi
for f in stack.env secrets.env; do
  mode=$(stat -c %a "$STATE/$f")
  [[ $mode == 600 ]] || { echo "FAIL: $f is $mode, not 600"; failed=1; }
done
((failed == 0)) || exit 1
echo "== launcher_secrets: passed ($calls calls seen)"
