// preparedKernel: what graph-time callers see without asking apt, for the newest ABI and for an --abi one whose
// kbuild host tools are built from its source (the kbuild/ step must be done too).
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagesFor } from '../src/apt';
import { RECIPE, markDone } from '../src/cache';
import { configChanges, hostToolsKey, kernelPaths, preparedKernel, preparedKey, prepareKernel, sourceKbuildDir } from '../src/prepare';

const ABI = '6.1.0-56-amd64';
const pkgs = packagesFor(ABI, '6.1.192-2', { from: 'source', version: '6.1.192-2' });

async function cacheWithResolution(file: string, requested: string): Promise<string> {
  const cache = await mkdtemp(join(tmpdir(), 'hs-prepared-'));
  const key = JSON.stringify({ listsStamp: 0, requested, recipe: RECIPE, resolver: 2 });
  await writeFile(join(cache, file), JSON.stringify({ key, pkgs }));
  return cache;
}

async function mark(dir: string, key: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await markDone(dir, key);
}

describe('preparedKernel for an ABI with kbuild built from source', () => {
  it('is ready only once both the prepared tree and its kbuild/ directory are done', async () => {
    const cache = await cacheWithResolution(`resolved-${ABI}.json`, ABI);
    const { dir, ...layout } = kernelPaths(cache, pkgs, pkgs.hostTools);
    const paths = { ...layout, compiler: 'gcc-12' };
    // What prepare records once it has chosen the toolchain (the machine's gcc-12, no build root).
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'toolchain.json'), JSON.stringify({ cc: 'gcc-12', versionText: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0' }));
    await mark(join(dir, 'prepared'), preparedKey(paths));
    expect(await preparedKernel(ABI, cache)).toBeUndefined();
    await mark(sourceKbuildDir(dir), hostToolsKey(paths));
    const ready = await preparedKernel(ABI, cache);
    expect(ready?.hostTools).toBe('built from source 6.1.192-2');
    expect(ready?.headersTree).toBe(join(cache, 'kernel', `${ABI}_6.1.192-2`, 'headers', 'usr', 'src', `linux-headers-${ABI}`));
  });

  it('keeps an --abi answer apart from the newest one (resolved.json stays what Nx’s graph reads)', async () => {
    const cache = await cacheWithResolution(`resolved-${ABI}.json`, ABI);
    expect(await preparedKernel('newest', cache)).toBeUndefined();
    const legacy = await cacheWithResolution('resolved.json', ABI);
    expect(await preparedKernel(ABI, legacy)).toBeUndefined();
  });

  it('refuses an ABI that cannot be a file name before asking apt, in one line', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'hs-prepared-'));
    await expect(prepareKernel({ abi: '../../etc', cache, quiet: true })).rejects.toThrow('not a kernel ABI: "../../etc"');
  });
});

describe('configChanges: the prepared tree must keep Debian’s config', () => {
  it('names what olddefconfig turned off or changed, ignoring what only the tree’s config adds', () => {
    const debian = 'CONFIG_DEBUG_INFO_BTF=y\nCONFIG_PAHOLE_VERSION=130\n# CONFIG_RUST is not set\nCONFIG_X86_KERNEL_IBT=y\n';
    const tree = '# CONFIG_DEBUG_INFO_BTF is not set\nCONFIG_PAHOLE_VERSION=0\nCONFIG_X86_KERNEL_IBT=y\nCONFIG_BUILD_SALT=""\n';
    expect(configChanges(debian, tree)).toEqual(['CONFIG_DEBUG_INFO_BTF: y -> not set', 'CONFIG_PAHOLE_VERSION: 130 -> 0']);
    expect(configChanges(debian, `${debian}CONFIG_BUILD_SALT=""\n`)).toEqual([]);
  });
});
