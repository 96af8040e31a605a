# binfmt_misc's status file, mounted here if needed (the module may be loaded only after the update).
d=/proc/sys/fs/binfmt_misc
if ! grep -qw binfmt_misc /proc/filesystems; then echo "binfmt_misc: module not loaded"; exit 1; fi
[ -e "$d/status" ] || mount -t binfmt_misc binfmt_misc "$d" || exit 1
s=$(cat "$d/status")
echo "binfmt_misc status: '${s}'"
[ "$s" = "enabled (hotsplice-10)" ]
