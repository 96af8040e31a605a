# The patched do_nanosleep skips the sleep for a task named hs-nap-06 (see check.c).
"$CASE_DIR/check-bin"
