# The patched prctl_set_mm answers the probe sub-option (see check.c).
"$CASE_DIR/check-bin"
