import { open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError, processAlive } from '@hotsplice/kernel';

/**
 * The kernel tree is shared by every process on the machine (tests, benchmarks, Nx tasks): one patches it while
 * another builds from it only under this lock. A lock whose owner process is gone is taken over.
 */
export async function withTreeLock<T>(tree: string, work: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const lock = join(dirname(tree), '.hotsplice-tree.lock');
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(lock, 'utf8').catch(() => '0'));
      if (owner && !processAlive(owner)) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new UserError(`kernel tree ${tree} is locked by process ${owner}`);
      if (!told) process.stderr.write(`hotsplice: waiting for process ${owner}, which is using the kernel tree\n`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}
