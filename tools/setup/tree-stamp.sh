#!/usr/bin/env bash
# What the manifest step of one update reads of a prepared kernel tree, for Nx to hash (a runtime input of
# `manifest`, packages/nx-plugin/src/graph.ts): the update's key (its patches and hotpatch.json, hashed at graph
# time), the compiler the manifest asks for its version line (the build root's marker, or the file the compiler's
# name finds on PATH: a package upgrade, or another gcc-12 first on PATH, changes it), then the content of every
# affected object's kbuild record (`.X.o.cmd`: its command and dependency list, scripts/basic/fixdep.c) and of every
# file that record names (the source and each header).
# Content, not mtimes: each run's test-apply restores the patched files as new copies (packages/tree journal.ts).
# The tree as the manifest will see it: a file that another run holds patched (or that a killed run left so) is
# read from the journal's backup, which the manifest restores before it hashes anything.
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
journal="${tree%/*}/.hotsplice-journal"
declare -A journaled=()
if [[ -f $journal/journal.json ]]; then
  while IFS= read -r path; do journaled[$path]=1; done < <(grep -o '"path":"[^"]*"' "$journal/journal.json" | cut -d'"' -f4)
fi
# The record itself, then `source_X.o := X.c` and the `  path \` lines of `deps_X.o := \` (not the
# `$(wildcard include/config/…)` ones: the config is the prepared tree's, in prepared-stamp.sh's markers).
mapfile -t files < <(awk 'FNR == 1 && !seen[FILENAME]++ { print FILENAME }
     /^source_[^ ]* := [^ ]*$/ { file = $3 }
     /^  [^$ ][^ ]* \\$/ { file = $1 }
     file != "" && !seen[file]++ { print file }
     { file = "" }' "${records[@]}" /dev/null)
here=() backup=()
for file in "${files[@]}"; do
  if [[ -z ${journaled[$file]} ]]; then here+=("$file")
  elif [[ -f $journal/files/$file ]]; then backup+=("$file")
  else printf 'absent %s\n' "$file"; fi
done
{
  [[ ${#here[@]} -eq 0 ]] || sha256sum -- "${here[@]}" 2>&1
  [[ ${#backup[@]} -eq 0 ]] || (cd "$journal/files" && sha256sum -- "${backup[@]}" 2>&1)
} | LC_ALL=C sort -k 2
exit 0
