#!/usr/bin/env bash
# What the manifest step of one update reads of a prepared kernel tree, for Nx to hash (a runtime input of
# `manifest`, packages/nx-plugin/src/graph.ts): the update's key (its patches and hotpatch.json, hashed at graph
# time), then the content of every affected object's kbuild record (`.X.o.cmd`: its command and dependency list,
# scripts/basic/fixdep.c) and of every file that record names (the source and each header), and what a run that was
# interrupted left in the tree's journal. Content, not mtimes: each run's test-apply restores the patched files as
# new copies (packages/tree journal.ts), so their times change when nothing else does.
# The compiler the manifest asks for its version line is named too: the build root's marker, or the file the
# compiler's name finds on PATH (a package upgrade, or another gcc-12 first on PATH, changes it).
# Usage: tree-stamp.sh KEY TREE BUILD-ROOT|- COMPILER OBJECT...
key=$1 tree=$2 root=$3 compiler=$4
shift 4
printf '%s\n' "$key"
if [[ $root != - ]]; then cat "$root/.hotsplice-done" 2>&1; fi
if found=$(command -v -- "$compiler"); then stat -L -c 'compiler %n %s %.9Y' -- "$found" 2>&1; fi
cd "$tree" 2>/dev/null || { printf 'no tree %s\n' "$tree"; exit 0; }
records=()
for object in "$@"; do
  record="${object%/*}/.${object##*/}.cmd"
  if [[ -f $record ]]; then records+=("$record"); else printf 'no record %s\n' "$object"; fi
done
shopt -s nullglob
for entry in "${tree%/*}"/.hotsplice-journal/*; do printf 'journal %s\n' "${entry##*/}"; done
# The record itself, then `source_X.o := X.c` and the `  path \` lines of `deps_X.o := \` (not the
# `$(wildcard include/config/…)` ones: the config is the prepared tree's, in prepared-stamp.sh's markers).
awk 'FNR == 1 && !seen[FILENAME]++ { print FILENAME }
     /^source_[^ ]* := [^ ]*$/ { file = $3 }
     /^  [^$ ][^ ]* \\$/ { file = $1 }
     file != "" && !seen[file]++ { print file }
     { file = "" }' "${records[@]}" /dev/null | xargs -r -d '\n' sha256sum -- 2>&1
exit 0
