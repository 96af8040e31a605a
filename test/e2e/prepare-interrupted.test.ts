import { type ChildProcess, spawn } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '@hotsplice/guest';
import { cacheRoot, isDone, kernelPaths } from '@hotsplice/kernel';

const kernel = inject('kernel');
const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'hotsplice.js');

function prepare(cache: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'kernel', 'prepare', '--abi', kernel.abi, '--json'], {
    env: { ...process.env, HOTSPLICE_CACHE: cache },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout?.on('data', (c) => (stdout += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })));
}

describe('kernel prepare survives being killed mid-unpack', () => {
  let cache: string;
  afterAll(() => rm(cache, { recursive: true, force: true })); // ~1.5 GB of source tree

  it('detects the half-unpacked -dbg directory and redoes it', async () => {
    // A private cache seeded with the already downloaded packages (hard links: no copy, no download).
    cache = await mkdtemp(join(tmpdir(), 'hs-interrupted-'));
    const debs = join(cacheRoot(), 'debs');
    await mkdir(join(cache, 'debs'));
    for (const name of await readdir(debs)) {
      if (name.endsWith('.deb')) await link(join(debs, name), join(cache, 'debs', name));
    }
    const paths = kernelPaths(cache, kernel);

    const first = prepare(cache);
    const done = finished(first);
    await new Promise<void>((resolve) => {
      first.stderr?.on('data', (chunk: Buffer) => {
        if (/unpack linux-image-\S+-dbg .*: +[1-9]\d?%/.test(chunk.toString())) {
          first.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect((await done).code).toBe(null); // killed
    const dbgDir = join(paths.dir, 'dbg');
    expect(await isDone(dbgDir, kernel.version)).toBe(false);

    const second = await finished(prepare(cache));
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout);
    expect(result.vmlinux).toBe(paths.vmlinux);
    expect((await stat(result.vmlinux)).size).toBe((await stat(kernel.vmlinux)).size);
    expect(await isDone(dbgDir, kernel.version)).toBe(true);
  });
});
