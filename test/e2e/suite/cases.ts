// The e2e patch corpus (test/e2e/patches/NN-name/): a patch, what building it must do, and a check script.
// A case written for 6.1 whose patch does not apply to another series' sources has that series' own files beside
// the 6.1 ones (`fix-6.12.patch`, `check-6.12.sh`), chosen by the kernel's series; case.json's "skip" names the
// series a case cannot run on yet, and why.
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
  /** The patch for the series the cases were loaded for. */
  patch: string;
  /** The guest's check script for that series (positive cases). */
  check: string;
  /** For refusals: what the one-line create error must match. */
  refuse?: RegExp;
  module?: { name: string; path: string; load: 'before' | 'after' };
  setup?: string;
  /** check.c beside check.sh: compiled static for the guest. */
  checkSource?: string;
  /** Why the case does not run on this series yet (case.json "skip": { "<series>": "why" }). */
  skip?: string;
}

type CaseJson = Omit<PatchCase, 'refuse' | 'skip'> & { refuse?: string; skip?: Record<string, string> };

/** The series' own file of a case when it has one (`fix-6.12.patch`), else the 6.1 one (`fix.patch`). */
function forSeries(dir: string, base: string, ext: string, series: string): string {
  const own = join(dir, `${base}-${series}${ext}`);
  return existsSync(own) ? own : join(dir, `${base}${ext}`);
}

/** Every case, with the patch and check of kernel series `series` (6.1: bookworm, 6.12: trixie). */
export function loadCases(series = '6.1'): PatchCase[] {
  return readdirSync(PATCHES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d\d-/.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(PATCHES_DIR, name);
      const json = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseJson;
      return {
        ...json,
        name,
        id: `e2e_${name.slice(0, 2)}`,
        dir,
        patch: forSeries(dir, 'fix', '.patch', series),
        check: forSeries(dir, 'check', '.sh', series),
        refuse: json.refuse === undefined ? undefined : new RegExp(json.refuse),
        checkSource: existsSync(join(dir, 'check.c')) ? join(dir, 'check.c') : undefined,
        skip: json.skip?.[series],
      };
    });
}
