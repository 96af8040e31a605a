# /proc/meminfo: a new field, in the kB format of its neighbours, right after MemAvailable.
line=$(grep '^HsSlabTotal:' /proc/meminfo)
prev=$(grep -B1 '^HsSlabTotal:' /proc/meminfo | head -1 | cut -d: -f1)
echo "meminfo field: '${line}' after '${prev}'"
echo "$line" | grep -Eq '^HsSlabTotal: +[1-9][0-9]* kB$' && [ "$prev" = MemAvailable ]
