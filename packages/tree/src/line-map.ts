import { parsePatch } from './patch';

/**
 * Where each line of `file` moves under the patch: pre line → post line, undefined for a line the patch removes.
 * Built from the hunk headers and bodies, for objdiff's `__LINE__`-shift detection.
 */
export function lineMapFromPatch(patch: string, file: string): (line: number) => number | undefined {
  if (!parsePatch(patch).some((f) => f.path === file)) return (line) => line;
  const lines = patch.split('\n');
  // [preStart, preEnd) ranges the hunks change, each with the shift that applies after it.
  const removed = new Set<number>();
  const shifts: Array<{ from: number; delta: number }> = [];
  let inFile = false;
  let delta = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('+++ ')) inFile = lines[i].slice(4).split('\t')[0].trim().replace(/^[^/]+\//, '') === file;
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]);
    if (!inFile || !hunk) continue;
    let pre = Number(hunk[1]);
    let post = Number(hunk[3]);
    let left = Number(hunk[2] ?? 1) + Number(hunk[4] ?? 1);
    while (left > 0 && i + 1 < lines.length) {
      const body = lines[++i];
      if (body.startsWith('\\')) continue;
      if (body.startsWith('-')) {
        removed.add(pre++);
        left--;
      } else if (body.startsWith('+')) {
        post++;
        left--;
      } else {
        if (post - pre !== delta) shifts.push({ from: pre, delta: (delta = post - pre) });
        pre++;
        post++;
        left -= 2;
      }
    }
    if (post - pre !== delta) shifts.push({ from: pre, delta: (delta = post - pre) });
  }
  return (line) => {
    if (removed.has(line)) return undefined;
    let d = 0;
    for (const s of shifts) if (line >= s.from) d = s.delta;
    return line + d;
  };
}
