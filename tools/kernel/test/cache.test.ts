import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheRoot, isDone, once } from '../src/cache';
import { kernelPaths } from '../src/prepare';

describe('cache keys and interrupted steps', () => {
  it('lives outside the repo: $HOTSPLICE_CACHE, else ~/.cache/hotsplice', () => {
    expect(cacheRoot({ HOTSPLICE_CACHE: '/x/cache' })).toBe('/x/cache');
    expect(cacheRoot({ HOME: '/home/k' })).toBe('/home/k/.cache/hotsplice');
  });

  it('keys every kernel directory by ABI and package version', () => {
    const a = kernelPaths('/c', { abi: '6.1.0-56-amd64', version: '6.1.192-2' });
    const b = kernelPaths('/c', { abi: '6.1.0-56-amd64', version: '6.1.192-3' });
    expect(a.dir).toBe('/c/kernel/6.1.0-56-amd64_6.1.192-2');
    expect(b.dir).not.toBe(a.dir);
    expect(a.vmlinux).toBe('/c/kernel/6.1.0-56-amd64_6.1.192-2/dbg/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64');
    expect(a.headersTree).toBe('/c/kernel/6.1.0-56-amd64_6.1.192-2/headers/usr/src/linux-headers-6.1.0-56-amd64');
  });

  it('produces a step once, then skips it', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'hs-cache-')), 'step');
    let runs = 0;
    const produce = async (d: string) => {
      runs++;
      await writeFile(join(d, 'out'), 'data');
    };
    expect(await once(dir, 'v1', produce)).toBe(true);
    expect(await once(dir, 'v1', produce)).toBe(false);
    expect(runs).toBe(1);
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('data');
  });

  it('detects an interrupted unpack (no marker) and redoes it from an empty directory', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'hs-cache-')), 'step');
    await expect(
      once(dir, 'v1', async (d) => {
        await writeFile(join(d, 'half-written'), 'x');
        throw new Error('killed mid-unpack');
      }),
    ).rejects.toThrow('killed mid-unpack');
    expect(await isDone(dir, 'v1')).toBe(false);
    expect(await once(dir, 'v1', async (d) => writeFile(join(d, 'complete'), 'y'))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['.hotsplice-done', 'complete']);
  });

  it('redoes a step whose marker holds another key (new package version)', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'hs-cache-')), 'step');
    await mkdir(dir);
    await once(dir, '6.1.192-1', async (d) => writeFile(join(d, 'old'), ''));
    expect(await isDone(dir, '6.1.192-2')).toBe(false);
    expect(await once(dir, '6.1.192-2', async (d) => writeFile(join(d, 'new'), ''))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['.hotsplice-done', 'new']);
  });
});
