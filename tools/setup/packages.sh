# Sourced by ensure-system.sh and prepared-stamp.sh: the Debian packages of some steps of system-packages.txt, and
# which of them this machine lacks. Shell builtins only (no process per package): prepared-stamp.sh runs at every
# Nx run of the main job.

# missing_packages STEP…: sets MISSING to the packages of those steps (every step when none is named) whose probe
# (a command on PATH, or an absolute path) is not there; PROBED to "package ok|missing" lines.
missing_packages() {
  local file pkg probe step wanted=" $* "
  file="${BASH_SOURCE[0]%/*}/system-packages.txt"
  MISSING=() PROBED=''
  while read -r pkg probe step; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    [[ "$wanted" == "  " || "$wanted" == *" $step "* ]] || continue
    if [[ "$probe" == /* && -e "$probe" ]] || { [[ "$probe" != /* ]] && command -v "$probe" >/dev/null 2>&1; }; then
      PROBED+="$pkg ok"$'\n'
    else
      PROBED+="$pkg missing"$'\n'
      MISSING+=("$pkg")
    fi
  done < "$file"
}
