// Private working directories in TMPDIR named after the process that made them ("<prefix><pid>-XXXXXX"), so a run
// killed with SIGKILL, which cannot clean up, has its directory removed by the next run.
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, systemCause } from '@hotsplice/kernel';

/** A new directory (mode 0700, mkdtemp's) `<TMPDIR>/<prefix><pid>-XXXXXX`, after removing dead runs' ones. */
export async function makeTempDir(prefix: string): Promise<string> {
  const parent = tmpdir();
  await removeStale(parent, prefix);
  return mkdtemp(join(parent, `${prefix}${process.pid}-`)).catch((err: unknown) => {
    const cause = systemCause(err) ?? (err instanceof Error ? err.message : String(err));
    throw new UserError(`cannot make a private directory in ${parent} (TMPDIR): ${cause}`);
  });
}

/** Remove `<prefix><pid>-*` directories of ours whose process is gone; anything else is left alone. */
export async function removeStale(parent: string, prefix: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(new RegExp(`^${prefix}(\\d+)-[^/]+$`).exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    const path = join(parent, name);
    const info = await lstat(path).catch(() => undefined);
    // Only our own real directories: TMPDIR is shared, and a name is easy to fake.
    if (!info?.isDirectory() || info.uid !== process.getuid?.()) continue;
    await rm(path, { recursive: true, force: true }).then(() => removed.push(path), () => undefined);
  }
  return removed;
}

/** Whether a process with this id exists (signal 0 checks without sending; EPERM: it exists, not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
