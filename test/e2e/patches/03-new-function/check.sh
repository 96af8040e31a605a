# /proc/uptime: line 2 comes from the new function uptime_show_days; the guest is up for less than a day.
line=$(sed -n 2p /proc/uptime)
echo "uptime line 2: '${line}'"
[ "$line" = "hotsplice-uptime-days: 0" ]
