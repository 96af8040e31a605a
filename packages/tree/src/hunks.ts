import { execa } from 'execa';
import { UserError } from '@hotsplice/kernel';
import type { PatchInput } from './journal';

/** A hunk GNU patch did not apply exactly where the patch said: moved by `offset` lines, or matched with fuzz. */
export interface HunkNote {
  patch: string;
  file: string;
  hunk: number;
  /** The line of the patched file the hunk landed at. */
  line: number;
  offset: number;
  /** Context lines GNU patch ignored to make the hunk fit (0: the context matched exactly). */
  fuzz: number;
}

/**
 * Apply one patch to copies in `dir` with GNU patch. Exact context by default (`--fuzz=0`; GNU patch's own
 * default of 2 can land a hunk whose context no longer matches in another function); only a `fuzz` the user set
 * allows more. Returns every hunk that moved or needed fuzz, for the report.
 */
export async function runPatch(dir: string, patch: PatchInput): Promise<HunkNote[]> {
  const fuzz = patch.fuzz ?? 0;
  const result = await execa('patch', ['-p1', '-f', `--fuzz=${fuzz}`, '--no-backup-if-mismatch', '--reject-file=-', '-d', dir], {
    input: patch.text,
    reject: false,
    all: true,
  });
  // patch prints "patching file X" before each file's hunk lines ("Hunk #N succeeded at L with fuzz F (offset K
  // lines)." or "Hunk #N FAILED at L."); name both.
  let file = '';
  const failures: string[] = [];
  const notes: HunkNote[] = [];
  for (const line of String(result.all ?? '').split('\n')) {
    const patching = /^patching file (.+)$/.exec(line);
    const moved = /^Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?\.$/.exec(line.trim());
    if (patching) file = patching[1]!;
    else if (moved) notes.push({ patch: patch.name, file, hunk: Number(moved[1]), line: Number(moved[2]), offset: Number(moved[4] ?? 0), fuzz: Number(moved[3] ?? 0) });
    else if (/FAILED at|can't find file|malformed|Only garbage/i.test(line)) failures.push(`${file}: ${line.trim()}`);
  }
  if (result.exitCode === 0) return notes;
  const hint = fuzz === 0 ? '; exact context is required (--fuzz N lets N context lines differ)' : '';
  throw new UserError(`${patch.name} does not apply to the kernel tree: ${failures.join('; ') || 'patch failed'} (tree untouched)${hint}`);
}

/** One line per note: `fs/x.c: hunk #2 applied at line 130 (offset 3 lines, fuzz 1)`. */
export function describeHunk(note: HunkNote): string {
  const how = [note.offset ? `offset ${note.offset} line${Math.abs(note.offset) === 1 ? '' : 's'}` : '', note.fuzz ? `fuzz ${note.fuzz}` : '']
    .filter(Boolean)
    .join(', ');
  return `${note.file}: hunk #${note.hunk} applied at line ${note.line} (${how})`;
}
