import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { cacheRoot, fetchDebianUpdate, prepareKernel } from '@hotsplice/kernel';
import { runTask } from './common';

/**
 * The setup step (system packages) and `hotsplice kernel prepare`, in the executor's own process: warm, this is
 * ~0.1 s instead of the ~0.5 s of starting the CLI.
 */
export default async function prepare(options: { abi?: string; debianUpdate?: string }, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    // Only the build step's packages: QEMU, nginx and distcc come when a guest, the cache server or distcc first runs.
    const setup = spawnSync('bash', [join(context.root, 'tools', 'setup', 'ensure-system.sh'), 'build'], { stdio: 'inherit' });
    if (setup.status !== 0) return false;
    const kernel = await prepareKernel({ abi: options.abi === 'newest' ? undefined : options.abi });
    console.log(`hotsplice: kernel ${kernel.abi} ready (${kernel.sourceTree})`);
    if (options.debianUpdate) {
      const delta = await fetchDebianUpdate(cacheRoot(), kernel, options.debianUpdate);
      const sources = delta.files.filter((f) => f.kind === 'source').length;
      console.log(`hotsplice: Debian ${delta.from} -> ${delta.to}: ${delta.files.length} changed file(s), ${sources} C source(s) and header(s), ${delta.changelog.length} changelog item(s)`);
    }
  });
}
