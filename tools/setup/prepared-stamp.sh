#!/usr/bin/env bash
# What decides whether `kernel:prepare` has anything to do. Nx hashes this output (a runtime input of the target),
# so prepare is a cache hit until the kernel cache, apt's package lists or the build step's system packages change.
# It runs at every Nx run of the main job: shell builtins and one `stat`.
cache="${HOTSPLICE_CACHE:-$HOME/.cache/hotsplice}"
shopt -s nullglob
# resolved-<abi>.json: an explicit --abi's answer; kbuild/: host tools built from an ABI's source (no kbuild package);
# updates/: the Debian update deltas `create --debian-update` fetched.
for file in "$cache"/resolved*.json "$cache"/kernel/*/prepared/.hotsplice-done "$cache"/kernel/*/kbuild/.hotsplice-done "$cache"/updates/*/.hotsplice-done; do
  IFS= read -r -d '' text < "$file" || true
  printf '%s\n' "$text"
done
stat -c %Y /var/lib/apt/lists 2>/dev/null
source "${BASH_SOURCE[0]%/*}/packages.sh"
missing_packages build
printf '%s' "$PROBED"
exit 0
