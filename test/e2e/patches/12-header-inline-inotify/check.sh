# inotify fdinfo: the patched inline marks directory watches with IN_ISDIR (see check.c).
"$CASE_DIR/check-bin"
