# /proc/<pid>/personality: line 2 is a read count kept in a shadow variable of the task read. Two reads of this
# shell's file must show consecutive counts even with a read of another task's (pid 1) file in between.
reads() { sed -n 's/^hotsplice-reads: //p' "/proc/$1/personality"; }
a=$(reads $$)
x=$(reads 1)
b=$(reads $$)
echo "personality reads of $$: '${a}' then '${b}' (pid 1: '${x}')"
[ -n "$a" ] && [ -n "$b" ] && [ -n "$x" ] && [ "$a" -ge 1 ] && [ "$b" -eq $((a + 1)) ]
