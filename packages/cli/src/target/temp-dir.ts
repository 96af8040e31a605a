// Private working directories in TMPDIR named after the process that made them ("<prefix><pid>-XXXXXX"), so a run
// killed with SIGKILL, which cannot clean up, has its directory removed by the next run.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, removeStale, systemCause } from '@hotsplice/kernel';

/** A new directory (mode 0700, mkdtemp's) `<TMPDIR>/<prefix><pid>-XXXXXX`, after removing dead runs' ones. */
export async function makeTempDir(prefix: string): Promise<string> {
  const parent = tmpdir();
  await removeStale(parent, prefix);
  return mkdtemp(join(parent, `${prefix}${process.pid}-`)).catch((err: unknown) => {
    const cause = systemCause(err) ?? (err instanceof Error ? err.message : String(err));
    throw new UserError(`cannot make a private directory in ${parent} (TMPDIR): ${cause}`);
  });
}
