# 6.12 (no s_show in mm/vmalloc.c): the tracefs trace file's header carries the tag, printed by kernel/trace/trace.c's
# s_show, the third of three same-named static s_show in vmlinux; /proc/kallsyms (the second) keeps its format.
t=/sys/kernel/tracing
[ -e "$t/trace" ] || mount -t tracefs nodev "$t" || exit 1
n=$(head -5 "$t/trace" | grep -c '^# hs-sympos-18$')
k=$(head -1 /proc/kallsyms)
echo "trace header tagged lines: ${n}; kallsyms line 1: '${k}'"
echo "$k" | grep -Eq '^[0-9a-f]{16} [a-zA-Z] [^ ]+$' || exit 2
[ "$n" -gt 0 ]
