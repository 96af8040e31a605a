#!/usr/bin/env bash
# ensure-system.sh [STEP…]: install the Debian packages of those steps of system-packages.txt (every step when none
# is named) that this machine lacks. The main job's prepare asks for `build`, a guest's first boot for `guest`, the
# cache server for `cache-server`; `npm test` (pretest) for all. Idempotent; a few ms when all are present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
start=$EPOCHREALTIME
source "$here/packages.sh"
missing_packages "$@"
what="${*:-every step}"

if ((${#MISSING[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "hotsplice: missing system packages ($what); as root run: apt-get install ${MISSING[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "hotsplice: no apt-get on this machine; install the equivalents of: ${MISSING[*]}" >&2
    exit 1
  fi
  echo "hotsplice setup: installing ${MISSING[*]} ($what)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi
elapsed_ms=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
printf 'hotsplice setup: system packages ok for %s (%d installed now) in %d.%03d s\n' "$what" "${#MISSING[@]}" $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
