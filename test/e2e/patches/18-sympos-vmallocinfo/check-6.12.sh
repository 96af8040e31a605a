# 6.12 (no s_show in mm/vmalloc.c): /proc/kallsyms's s_show (kernel/kallsyms.c, the second of three same-named
# static s_show in vmlinux) tags version_proc_show's line; the tracefs trace header (kernel/trace/trace.c's s_show,
# the third) and the other kallsyms lines keep their format.
n=$(grep -c ' version_proc_show hs-sympos-18$' /proc/kallsyms)
k=$(head -1 /proc/kallsyms)
t=/sys/kernel/tracing
[ -e "$t/trace" ] || mount -t tracefs nodev "$t" || exit 1
h=$(head -1 "$t/trace")
echo "kallsyms tagged lines: ${n}; kallsyms line 1: '${k}'; trace header: '${h}'"
echo "$k" | grep -Eq '^[0-9a-f]{16} [a-zA-Z] [^ ]+$' || exit 2
echo "$h" | grep -Eq '^# tracer: [a-z]+$' || exit 2
[ "$n" -gt 0 ]
