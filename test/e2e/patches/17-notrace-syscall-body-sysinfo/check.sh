# The patched sysinfo body answers the probe task (see check.c).
"$CASE_DIR/check-bin"
