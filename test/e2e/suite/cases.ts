// The e2e patch corpus (test/e2e/patches/NN-name/): a patch, what building it must do, and a check script.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PATCHES_DIR = join(__dirname, '..', 'patches');

export interface PatchCase {
  /** Folder name, e.g. "01-proc-loadavg". */
  name: string;
  /** The update id, e.g. "e2e_01". */
  id: string;
  dir: string;
  title: string;
  kind: 'positive' | 'refuse';
  /** For refusals: what the one-line create error must match. */
  refuse?: RegExp;
  module?: { name: string; path: string; load: 'before' | 'after' };
  setup?: string;
  /** check.c beside check.sh: compiled static for the guest. */
  checkSource?: string;
}

export function loadCases(): PatchCase[] {
  return readdirSync(PATCHES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d\d-/.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(PATCHES_DIR, name);
      const json = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Omit<PatchCase, 'refuse'> & { refuse?: string };
      return {
        ...json,
        name,
        id: `e2e_${name.slice(0, 2)}`,
        dir,
        refuse: json.refuse === undefined ? undefined : new RegExp(json.refuse),
        checkSource: existsSync(join(dir, 'check.c')) ? join(dir, 'check.c') : undefined,
      };
    });
}
