# /proc/filesystems: the last line shows a counter kept in a new global that starts at 1000; two reads in a row
# must show consecutive values above 1000.
a=$(grep '^# hotsplice reads: ' /proc/filesystems | cut -d: -f2 | tr -d ' ')
b=$(grep '^# hotsplice reads: ' /proc/filesystems | cut -d: -f2 | tr -d ' ')
echo "filesystems reads: '${a}' then '${b}'"
[ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 1000 ] && [ "$b" -eq $((a + 1)) ]
