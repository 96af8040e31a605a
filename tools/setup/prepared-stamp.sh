#!/usr/bin/env bash
# What decides whether `kernel:prepare` has anything to do. Nx hashes this output (a runtime input of the target),
# so prepare is a cache hit until the kernel cache, apt's package lists or the system packages change.
cache="${HOTSPLICE_CACHE:-$HOME/.cache/hotsplice}"
# resolved-<abi>.json: an explicit --abi's answer; kbuild/: host tools built from an ABI's source (no kbuild package);
# updates/: the Debian update deltas `create --debian-update` fetched.
cat "$cache"/resolved*.json "$cache"/kernel/*/prepared/.hotsplice-done "$cache"/kernel/*/kbuild/.hotsplice-done "$cache"/updates/*/.hotsplice-done 2>/dev/null
stat -c %Y /var/lib/apt/lists 2>/dev/null
awk '!/^#/ && NF { print $1 }' "$(dirname "$0")/system-packages.txt" | xargs dpkg-query -W -f '${Package} ${Status}\n' 2>&1
exit 0
