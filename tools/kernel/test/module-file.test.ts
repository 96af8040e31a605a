// trixie's image ships its modules compressed (dummy.ko.xz) where modules.order names dummy.ko.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uncompressedModule } from '../src/module-file';

describe('uncompressedModule', () => {
  it('decompresses a .ko.xz once beside it, and takes a plain .ko as it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hs-ko-'));
    const bytes = Buffer.from('\x7fELF module bytes');
    await writeFile(join(dir, 'dummy.ko.src'), bytes);
    execFileSync('sh', ['-c', `xz -c "$1" > "$2"`, 'sh', join(dir, 'dummy.ko.src'), join(dir, 'dummy.ko.xz')]);
    expect(await uncompressedModule(join(dir, 'dummy.ko'))).toBe(join(dir, 'dummy.ko'));
    expect(await readFile(join(dir, 'dummy.ko'))).toEqual(bytes);
    await writeFile(join(dir, 'plain.ko'), 'plain');
    expect(await uncompressedModule(join(dir, 'plain.ko'))).toBe(join(dir, 'plain.ko'));
    await expect(uncompressedModule(join(dir, 'missing.ko'))).rejects.toThrow(`no module ${join(dir, 'missing.ko')} (nor .xz, .zst, .gz)`);
  });
});
