# /proc/vmallocinfo's vmalloc lines carry the tag; /proc/kallsyms (another s_show) must keep its format.
n=$(grep -c ' vmalloc hs-sympos-18' /proc/vmallocinfo)
k=$(head -1 /proc/kallsyms)
echo "vmallocinfo tagged lines: ${n}; kallsyms line 1: '${k}'"
echo "$k" | grep -Eq '^[0-9a-f]{16} [a-zA-Z] [^ ]+$' || exit 2
[ "$n" -gt 0 ]
