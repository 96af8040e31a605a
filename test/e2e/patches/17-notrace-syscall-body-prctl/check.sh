# The patched prctl body answers the probe option (see check.c).
"$CASE_DIR/check-bin"
