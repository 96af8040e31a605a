import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';

/**
 * On a fresh machine the graph was built before the kernel existed, so it holds no per-object targets. After
 * `prepare`, run Nx again on the same target: the new graph has them (design.md §5, "nested Nx invocation").
 */
export default async function renest(options: { target: string; summary: string }, context: ExecutorContext): Promise<{ success: boolean }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_TASK') && k !== 'NX_CLI_SET'));
  const nx = join(context.root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [nx, 'run', options.target], { cwd: context.root, env, stdio: 'inherit' });
    child.on('close', resolve);
  });
  if (code === 0) process.stdout.write(await readFile(join(context.root, options.summary), 'utf8'));
  return { success: code === 0 };
}
