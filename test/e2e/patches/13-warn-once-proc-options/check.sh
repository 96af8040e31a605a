# /proc/mounts: the proc mount's options name hidepid even when it is off. The patched function keeps
# hidepid2str's WARN_ONCE (never reached for a valid value); the runner fails on any WARNING in dmesg.
opts=$(awk '$3 == "proc" { print $4; exit }' /proc/mounts)
echo "proc mount options: '${opts}'"
case ",$opts," in *,hidepid=off,*) exit 0 ;; *) exit 1 ;; esac
