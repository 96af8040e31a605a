#!/bin/sh
# Manual runner for one case folder (the vitest runner is the real one):
#   test/e2e/patches/try-case.sh NN-name [--no-create]
# Builds the update with `hotsplice create` (id cNN), then for a positive case boots the guest once and runs
# check.sh before apply, after apply, and after disable + rmmod. Prints one RESULT line. Run from /work/main.
set -u
case_name=${1:?case folder}; shift
dir=test/e2e/patches/$case_name
id=c$(echo "$case_name" | cut -d- -f1)
json() { node -e "const c=require('./$dir/case.json'); const v=$1; process.stdout.write(v===undefined||v===null?'':String(v))"; }
kind=$(json c.kind)
if [ "${1:-}" != --no-create ]; then
  start=$(date +%s.%N)
  npx hotsplice create --patch "$dir/fix.patch" --id "$id" --json >/tmp/hs-create-$id.json 2>/tmp/hs-create-$id.err
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  errline=$(grep -v '^\s*$' /tmp/hs-create-$id.err | tail -1)
  echo "CREATE $case_name rc=$rc seconds=$secs"
  if [ "$kind" = refuse ]; then
    re=$(json c.refuse)
    if [ "$rc" = 1 ] && grep -Eq -- "$re" /tmp/hs-create-$id.err; then echo "RESULT $case_name refuse ok: $(grep -E -- "$re" /tmp/hs-create-$id.err | head -1)"; exit 0; fi
    echo "RESULT $case_name refuse FAILED (rc=$rc): $errline"; exit 1
  fi
  [ "$rc" = 0 ] || { echo "RESULT $case_name create FAILED: $errline"; exit 1; }
fi
work=$(mktemp -d /tmp/hs-case-XXXX)
tar -xzf dist/hotpatch/$id/hotsplice-$id.tar.gz -C "$work"
ko=$(ls "$work"/*.ko | head -1); mod=$(basename "$ko" .ko)
files="--file $ko --file $dir/check.sh"
[ -f "$dir/check.c" ] && { gcc -static -O2 -o "$work/check-bin" "$dir/check.c" || exit 1; files="$files --file $work/check-bin"; }
mname=$(json c.module?.name); mpath=$(json c.module?.path); mload=$(json c.module?.load); setup=$(json c.setup)
if [ -n "$mpath" ]; then files="$files --file $(ls -d ~/.cache/hotsplice/kernel/*/image/lib/modules/*/kernel)/$mpath"; fi
mko=$(basename "${mpath:-none}")
cat > "$work/run.sh" <<SCRIPT
CASE_DIR=/hotsplice/files; export CASE_DIR
P=/sys/kernel/livepatch/$mod
${setup}
[ "$mload" = before ] && insmod \$CASE_DIR/$mko
sh \$CASE_DIR/check.sh; b=\$?
insmod \$CASE_DIR/$mod.ko || echo "insmod failed"
for i in \$(seq 1 100); do [ "\$(cat \$P/transition)" = 0 ] && break; sleep 0.1; done
echo "transition=\$(cat \$P/transition) enabled=\$(cat \$P/enabled)"
[ "$mload" = after ] && insmod \$CASE_DIR/$mko
sh \$CASE_DIR/check.sh; a=\$?
echo 0 > \$P/enabled
for i in \$(seq 1 100); do [ -e \$P ] || break; sleep 0.1; done
rmmod $mod || echo "rmmod failed"
sh \$CASE_DIR/check.sh; u=\$?
echo "CHECKS before=\$b after=\$a undo=\$u"
[ \$b != 0 ] && [ \$a = 0 ] && [ \$u != 0 ]
SCRIPT
npx hotsplice guest --quiet --json --run "$work/run.sh" $files >"$work/guest.json" 2>"$work/guest.err"
grc=$?
node -e "const r=require('$work/guest.json'); console.log(r.scripts.map(s=>s.output).join('')); console.log('problems:', JSON.stringify(r.problems)); console.log(r.dmesg.split('\n').filter(l=>/$mod|hotsplice|livepatch/.test(l)).join('\n'))" 2>/dev/null || cat "$work/guest.err"
echo "RESULT $case_name guest rc=$grc ($work)"
