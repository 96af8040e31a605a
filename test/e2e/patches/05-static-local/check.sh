# /proc/execdomains: line 2 shows a function-local static counter; two reads must show consecutive values.
a=$(sed -n 's/^# hotsplice calls: //p' /proc/execdomains)
b=$(sed -n 's/^# hotsplice calls: //p' /proc/execdomains)
echo "execdomains calls: '${a}' then '${b}'"
[ -n "$a" ] && [ -n "$b" ] && [ "$a" -ge 1 ] && [ "$b" -eq $((a + 1)) ]
