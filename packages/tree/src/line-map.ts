import { splitPatch } from './patch';

/**
 * Where each line of `file` moves under the patch: pre line → post line, undefined for a line the patch removes.
 * Built from the hunk headers and bodies, for objdiff's `__LINE__`-shift detection.
 */
export function lineMapFromPatch(patch: string, file: string): (line: number) => number | undefined {
  const section = splitPatch(patch).get(file);
  if (section === undefined) return (line) => line;
  const lines = section.split('\n');
  // Lines the hunks remove, and from which pre line on each new shift applies.
  const removed = new Set<number>();
  const shifts: Array<{ from: number; delta: number }> = [];
  let delta = 0;
  for (let i = 0; i < lines.length; i++) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]);
    if (!hunk) continue;
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
