#!/bin/sh
# Manual runner for all positive cases at once (13 is left out while it fails to link, see its case.json):
#   test/e2e/patches/try-all.sh combined   # one update from every fix.patch (id call), built here
#   test/e2e/patches/try-all.sh stacked    # the per-case updates cNN already built by try-case.sh, loaded in turn
# One guest boot: every check.sh before, after applying (modules with load "after" are loaded after it), after undo.
set -u
mode=${1:-combined}
skip=${HS_SKIP:-13}
W=$(mktemp -d /tmp/hs-all-XXXX)
K=$(ls -d ~/.cache/hotsplice/kernel/*/image/lib/modules/*/kernel)
cases=""; patches=""; files=""; before=""; after=""; kos=""
for d in test/e2e/patches/*/; do
  c=$(basename "$d"); n=${c%%-*}
  grep -q '"positive"' "$d/case.json" || continue
  case " $skip " in *" $n "*) continue ;; esac
  cases="$cases $n"; patches="$patches --patch ${d}fix.patch"
  cp "$d/check.sh" "$W/check-$n.sh"; files="$files --file $W/check-$n.sh"
  if [ -f "$d/check.c" ]; then gcc -static -O2 -o "$W/check-bin-$n" "$d/check.c" || exit 1; files="$files --file $W/check-bin-$n"; fi
  mpath=$(node -e "const c=require('./${d}case.json'); process.stdout.write(c.module?.path ?? '')")
  mload=$(node -e "const c=require('./${d}case.json'); process.stdout.write(c.module?.load ?? '')")
  if [ -n "$mpath" ]; then
    files="$files --file $K/$mpath"
    if [ "$mload" = before ]; then before="$before $(basename "$mpath")"; else after="$after $(basename "$mpath")"; fi
  fi
  [ "$mode" = stacked ] && kos="$kos c$n"
done
if [ "$mode" = combined ]; then
  npx hotsplice create $patches --id call --json >"$W/create.json" 2>"$W/create.err" || { echo "create failed: $(grep 'hotsplice: ' "$W/create.err" | tail -1)"; exit 1; }
  kos=call
fi
for id in $kos; do tar -xzf "dist/hotpatch/$id/hotsplice-$id.tar.gz" -C "$W" "$id.ko" || exit 1; files="$files --file $W/$id.ko"; done
cat > "$W/run.sh" <<EOF
runall() { for n in $cases; do mkdir -p /tmp/c\$n; cp check-\$n.sh /tmp/c\$n/check.sh; [ -f check-bin-\$n ] && cp check-bin-\$n /tmp/c\$n/check-bin; CASE_DIR=/tmp/c\$n sh /tmp/c\$n/check.sh >/tmp/out 2>&1; echo "\$1 \$n rc=\$? \$(tail -1 /tmp/out)"; done; }
for m in $before; do insmod \$m; done
runall before
for id in $kos; do
  insmod \$id.ko
  for i in \$(seq 1 100); do [ "\$(cat /sys/kernel/livepatch/\$id/transition)" = 0 ] && break; sleep 0.1; done
  echo "\$id transition=\$(cat /sys/kernel/livepatch/\$id/transition)"
done
for m in $after; do insmod \$m; done
runall after
for id in \$(echo $kos | tr ' ' '\n' | sed -n '1!G;h;\$p'); do
  echo 0 > /sys/kernel/livepatch/\$id/enabled
  for i in \$(seq 1 100); do [ -e /sys/kernel/livepatch/\$id ] || break; sleep 0.1; done
  rmmod \$id
done
runall undo
EOF
npx hotsplice guest --quiet --json --run "$W/run.sh" $files >"$W/guest.json" 2>"$W/guest.err"
echo "guest rc=$? ($W)"
node -e "const r=require('$W/guest.json'); const out=r.scripts.map(s=>s.output).join(''); console.log(out); console.log('problems:', JSON.stringify(r.problems));
const bad=out.split('\n').filter(l=>/^(before|undo) .* rc=0 /.test(l)||/^after .* rc=[1-9]/.test(l)); console.log(bad.length||r.problems.length ? 'RESULT FAILED' : 'RESULT ok')"
