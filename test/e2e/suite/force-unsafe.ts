// The force-unsafe update of the patch suite: the sleeper case's patch plus KPATCH_FORCE_UNSAFE on the function
// a sleeping task holds, written as kpatch-build patches write it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A second patch, applied after `first`, that appends `added` to `file` of the kernel tree: the hunk's context is the
 * file's last three lines, its line numbers shifted by what `first` adds to the file (it applies to first's result).
 */
export function appendPatch(tree: string, file: string, first: string, added: string[]): string {
  const lines = readFileSync(join(tree, file), 'utf8').replace(/\n$/, '').split('\n');
  const context = lines.slice(-3);
  const start = lines.length - context.length + 1;
  const shift = linesAdded(first, file);
  const body = [...context.map((l) => ` ${l}`), ...added.map((l) => `+${l}`)];
  return `--- a/${file}\n+++ b/${file}\n@@ -${start + shift},${context.length} +${start + shift},${context.length + added.length} @@\n${body.join('\n')}\n`;
}

/** Lines a unified diff adds to one file, net. */
function linesAdded(patch: string, file: string): number {
  let inFile = false;
  let net = 0;
  for (const line of patch.split('\n')) {
    if (line.startsWith('+++ ')) inFile = line.slice(4).replace(/^b\//, '').split('\t')[0] === file;
    else if (line.startsWith('--- ') || line.startsWith('@@')) continue;
    else if (inFile && line.startsWith('+')) net++;
    else if (inFile && line.startsWith('-')) net--;
  }
  return net;
}
