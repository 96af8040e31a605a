// The busy cases' patches: one more instruction (`nop`) in each named function, written against the prepared
// kernel tree itself, so the same cases build for whichever Debian kernel the tests boot. What is measured is
// the transition of a function tasks sleep in or run through all the time, not what a fix changes in it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NopSite {
  /** The function, as its definition names it. */
  fn: string;
  /**
   * `start`: after the declarations that open the body (before anything it calls); `end`: before the closing
   * brace (after everything it calls; the body must end in a plain statement, not a return).
   */
  at?: 'start' | 'end';
}

export const NOP_LINE = '\tasm volatile("nop"); /* hotsplice busy case: one more instruction, nothing else */';

/** One unified diff for `file` of `tree` with a hunk per site (sites of one file in one patch: no offsets). */
export function nopPatch(tree: string, file: string, sites: NopSite[]): string {
  const lines = readFileSync(join(tree, file), 'utf8').split('\n');
  const inserts = sites.map((site) => ({ after: insertionLine(lines, file, site), site })).sort((a, b) => a.after - b.after);
  const hunks: string[] = [];
  let added = 0;
  for (const { after } of inserts) {
    // Three lines of context on each side; `after` is the 0-based index of the line the nop follows.
    const from = Math.max(0, after - 2);
    const to = Math.min(lines.length, after + 4);
    const before = lines.slice(from, after + 1).map((l) => ` ${l}`);
    const rest = lines.slice(after + 1, to).map((l) => ` ${l}`);
    const count = to - from;
    hunks.push(`@@ -${from + 1},${count} +${from + 1 + added},${count + 1} @@`, ...before, `+${NOP_LINE}`, ...rest);
    added++;
  }
  return [`--- a/${file}`, `+++ b/${file}`, ...hunks, ''].join('\n');
}

/** The 0-based line after which the nop goes. */
function insertionLine(lines: string[], file: string, site: NopSite): number {
  const name = new RegExp(`^(?:[A-Za-z_][\\w\\s\\*]*[\\s\\*])?${site.fn}\\(`);
  const head = lines.findIndex((l, i) => name.test(l) && !/;\s*$/.test(l) && lines.slice(i, i + 8).some((x) => x === '{'));
  if (head < 0) throw new Error(`${file}: no definition of ${site.fn}() found`);
  const open = lines.indexOf('{', head);
  const close = lines.indexOf('}', open);
  if (site.at === 'end') {
    if (/^\s*return\b/.test(lines[close - 1])) throw new Error(`${file}: ${site.fn}() ends in a return; no plain end to put the nop at`);
    return close - 1;
  }
  // After the declarations: the first blank line of the body, if it comes before any statement block ends.
  const blank = lines.findIndex((l, i) => i > open && i < close && l.trim() === '');
  return blank > 0 ? blank : open;
}
