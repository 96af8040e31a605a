# The callbacks log "hotsplice-09: <callback>" lines; after an apply the last two are pre_patch then post_patch,
# after an undo they are pre_unpatch then post_unpatch. post_patch also turns on the first line of /proc/softirqs
# (pre_unpatch turns it off).
last=$(dmesg | sed -n 's/.*hotsplice-09: \([a-z_]*\).*/\1/p' | tail -2 | tr '\n' ' ')
first=$(head -1 /proc/softirqs)
echo "last callbacks: '${last}'; softirqs line 1: '${first}'"
[ "$last" = "pre_patch post_patch " ] && [ "$first" = "# hotsplice-09: post_patch ran" ]
