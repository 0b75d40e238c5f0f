#!/usr/bin/env bash
# tests/deploy/verify.sh BUILD_DIR: checks the files of deploy/ (ctest deploy_verify).
#
# - every systemd unit of deploy/systemd passes `systemd-analyze verify` with
#   no complaint at all (an unknown key is only a warning there: any output
#   fails the test), and every service's exposure by `systemd-analyze
#   security` stays at most 2.0 (its hardening does not regress). The units name /usr/local/bin/kisekae-*: they are
#   rendered into a temporary folder with the build's binaries instead (a
#   binary this build does not make is replaced by a stand-in, and said);
#   a template (name@.service) is checked as an instance;
# - every nginx site file of deploy/nginx passes `nginx -t`, alone, under a
#   minimal main configuration in a temporary prefix: the snippets, the
#   certificates (a self-signed pair made here), the logs and every `listen`
#   rendered into it. Listens become 127.0.0.1 ports from
#   KISEKAE_DEPLOY_PORT_BASE (default 26400, ports base..base+49): nginx -t
#   binds them for a moment;
# - deploy/conf's kisekae-api.conf and kisekae-image.conf pass the binaries'
#   own --check.
# Nothing is started; the temporary folder is removed at the end.
set -euo pipefail

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(realpath -- "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
port_base=${KISEKAE_DEPLOY_PORT_BASE:-26400}
failures=0

tmp=$(mktemp -d /tmp/kisekae-deploy-verify.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
  printf 'FAIL %s\n' "$*"
  failures=$((failures + 1))
}

# ---- systemd units ------------------------------------------------------------------
command -v systemd-analyze >/dev/null || { fail "systemd-analyze is not installed (Debian: systemd)"; exit 1; }
mkdir -p "$tmp/units" "$tmp/bin"
declare -A stand_in=()
units=0
for unit in "$root"/deploy/systemd/*.service "$root"/deploy/systemd/*.timer; do
  name=$(basename "$unit")
  # a template is checked as the instance "verify"
  [[ $name == *@.* ]] && name=${name/@./@verify.}
  rendered=$tmp/units/$name
  cp "$unit" "$rendered"
  for binary in $(grep -o '/usr/local/bin/kisekae-[a-z-]*' "$unit" | sort -u); do
    exe=$(basename "$binary")
    path=$(find "$build" -maxdepth 3 -type f -name "$exe" -perm -u+x 2>/dev/null | sort | head -n 1)
    if [[ -z $path ]]; then
      path=$tmp/bin/$exe
      if [[ -z ${stand_in[$exe]:-} ]]; then
        printf '#!/bin/sh\nexit 0\n' >"$path"
        chmod 0755 "$path"
        stand_in[$exe]=1
        echo "note: $exe is not built in $build; its units are verified with a stand-in"
      fi
    fi
    sed -i "s#$binary\\b#$path#g" "$rendered"
  done
  units=$((units + 1))
done
# EnvironmentFile= and the like are read at start, not by verify.
if ! out=$(cd "$tmp/units" && systemd-analyze verify --man=no ./* 2>&1) || [[ -n $out ]]; then
  fail "systemd-analyze verify:"
  printf '%s\n' "$out"
else
  echo "ok   systemd-analyze verify: $units units ($(cd "$tmp/units" && echo *))"
fi

# The hardening must not regress: every service's exposure (systemd-analyze
# security, 0 best .. 10 worst) stays at most KS_EXPOSURE_MAX/10.
KS_EXPOSURE_MAX=20
for rendered in "$tmp"/units/*.service; do
  name=$(basename "$rendered")
  out=$(cd "$tmp/units" && systemd-analyze security --offline=yes --threshold=$KS_EXPOSURE_MAX \
          "./$name" 2>&1) && status=0 || status=$?
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
  if ((status == 0)); then
    echo "ok   systemd-analyze security $name: exposure $level"
  else
    fail "systemd-analyze security $name: exposure ${level:-?} is over $((KS_EXPOSURE_MAX / 10)).$((KS_EXPOSURE_MAX % 10)):"
    grep '✗' <<<"$out" | head -n 20 || true
  fi
done

# ---- nginx site files -----------------------------------------------------------------
ngx=$tmp/nginx
mkdir -p "$ngx/snippets" "$ngx/sites" "$ngx/ssl" "$ngx/logs" "$ngx/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kisekae.test \
  -keyout "$ngx/ssl/test.key" -out "$ngx/ssl/test.crt" >"$tmp/openssl.log" 2>&1 ||
  { cat "$tmp/openssl.log"; fail "openssl could not make a test certificate"; exit 1; }

# render FILE OUT: the snippets, logs, certificates and every listen moved
# into the temporary prefix (port_next is the next port to hand out).
port_next=$port_base
render() {
  local line addr
  while IFS= read -r line; do
    if [[ $line =~ ^([[:space:]]*)listen[[:space:]]+[^[:space:]\;]+(.*)$ ]]; then
      addr="127.0.0.1:$port_next"
      port_next=$((port_next + 1))
      printf '%slisten %s%s\n' "${BASH_REMATCH[1]}" "$addr" "${BASH_REMATCH[2]}"
    elif [[ $line =~ ^([[:space:]]*ssl_certificate(_key)?)[[:space:]]+[^[:space:]\;]+\;(.*)$ ]]; then
      if [[ -n ${BASH_REMATCH[2]} ]]; then
        printf '%s %s;%s\n' "${BASH_REMATCH[1]}" "$ngx/ssl/test.key" "${BASH_REMATCH[3]}"
      else
        printf '%s %s;%s\n' "${BASH_REMATCH[1]}" "$ngx/ssl/test.crt" "${BASH_REMATCH[3]}"
      fi
    else
      printf '%s\n' "$line"
    fi
  done < <(sed -e "s#/etc/nginx/snippets/#$ngx/snippets/#g" \
                -e "s#/var/log/nginx/#$ngx/logs/#g" "$1") >"$2"
}

for snippet in "$root"/deploy/nginx/snippets/*.conf; do
  render "$snippet" "$ngx/snippets/$(basename "$snippet")"
done
sites=0
for site in "$root"/deploy/nginx/*.conf; do
  name=$(basename "$site" .conf)
  render "$site" "$ngx/sites/$name.conf"
  if ((port_next > port_base + 49)); then
    fail "the nginx files need more than 50 ports"
    break
  fi
  cat >"$ngx/$name.main.conf" <<EOF
# the minimal main configuration of the test: the site file at http level
worker_processes 1;
pid $ngx/$name.pid;
error_log $ngx/logs/error.log;
events {
  worker_connections 64;
}
http {
  include /etc/nginx/mime.types;
  client_body_temp_path $ngx/tmp/body;
  fastcgi_temp_path $ngx/tmp/fastcgi;
  proxy_temp_path $ngx/tmp/proxy;
  uwsgi_temp_path $ngx/tmp/uwsgi;
  scgi_temp_path $ngx/tmp/scgi;
  include $ngx/sites/$name.conf;
}
EOF
  if out=$(nginx -t -q -p "$ngx" -e "$ngx/logs/error.log" -c "$ngx/$name.main.conf" 2>&1); then
    echo "ok   nginx -t deploy/nginx/$name.conf"
  else
    fail "nginx -t deploy/nginx/$name.conf:"
    printf '%s\n' "$out"
  fi
  sites=$((sites + 1))
done
((sites > 0)) || fail "no nginx site file in deploy/nginx"

# ---- commented configurations --------------------------------------------------------
for pair in kisekae-api:kisekae-api.conf kisekae-image:kisekae-image.conf; do
  exe=${pair%%:*}
  conf=$root/deploy/conf/${pair#*:}
  if out=$("$build/$exe" -c "$conf" --check 2>&1); then
    echo "ok   $exe --check deploy/conf/${pair#*:}"
  else
    fail "$exe --check deploy/conf/${pair#*:}:"
    printf '%s\n' "$out"
  fi
done

if ((failures)); then
  echo "deploy_verify: $failures failure(s)"
  exit 1
fi
echo "deploy_verify: passed"
