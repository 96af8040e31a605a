// Directories named after the process that made them ("<prefix><pid>" or "<prefix><pid>-…"): a run killed with
// SIGKILL cannot remove its own, so the next run removes those whose process is gone.
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Remove `<parent>/<prefix><pid>[-…]` directories of ours whose process is gone; returns what it removed. */
export async function removeStale(parent: string, prefix: string): Promise<string[]> {
  const removed: string[] = [];
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(new RegExp(`^${escaped}(\\d+)(-[^/]*)?$`).exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    const path = join(parent, name);
    const info = await lstat(path).catch(() => undefined);
    // Only our own real directories: TMPDIR is shared, and a name is easy to fake.
    if (!info?.isDirectory() || info.uid !== process.getuid?.()) continue;
    await rm(path, { recursive: true, force: true }).then(() => removed.push(path), () => undefined);
  }
  return removed;
}

/** Whether a process with this id exists (signal 0 checks without sending; EPERM: it exists, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
