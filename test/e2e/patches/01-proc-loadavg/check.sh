# /proc/loadavg: the patched loadavg_proc_show adds a second line after the usual one.
line=$(sed -n 2p /proc/loadavg)
echo "loadavg line 2: '${line}'"
[ "$line" = "hotsplice: loadavg checked by 01-proc-loadavg" ]
