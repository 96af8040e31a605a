#!/usr/bin/env bash
# Install the Debian packages listed in system-packages.txt that this machine lacks.
# Called first by the main job (kernel:prepare) and by `npm test` (pretest). Idempotent; ~0.1 s when all are present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
start=$EPOCHREALTIME
missing=()
while read -r pkg probe; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  if [[ "$probe" == /* ]]; then [[ -e "$probe" ]] && continue
  else command -v "$probe" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done < "$here/system-packages.txt"

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "hotsplice: missing system packages; as root run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "hotsplice: no apt-get on this machine; install the equivalents of: ${missing[*]}" >&2
    exit 1
  fi
  echo "hotsplice setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
elapsed_ms=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
printf 'hotsplice setup: system packages ok (%d installed now) in %d.%03d s\n' "${#missing[@]}" $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
