// Update packages made in tests the way packages/link makes them (or, with `legacy`, the way it did before sizes).
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Manifest, tar, tarGz } from '@hotsplice/link';

export const scratch = mkdtempSync(join(tmpdir(), 'hs-target-'));
export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export const MEMBERS = { 'fix_1.ko': Buffer.from('module bytes'), 'old-code.o': Buffer.from('old code'), 'report.json': Buffer.from('[]') };

export function manifest(members: Record<string, Buffer>, extra: Partial<Manifest> = {}): Manifest {
  return {
    format: 'hotsplice-update/1',
    id: 'fix_1',
    module: 'fix_1',
    kernel: { abi: '6.1.0-56-amd64', version: '6.1.192-2', vmlinuxBuildId: 'ab12' },
    replace: false,
    patches: [],
    members: Object.fromEntries(Object.entries(members).map(([n, d]) => [n, sha256(d)])),
    sizes: Object.fromEntries(Object.entries(members).map(([n, d]) => [n, d.length])),
    objects: [],
    ...extra,
  };
}

/** A package file in the scratch directory; the manifest may be any JSON value (a string is written as is). */
export function packageFile(name: string, members: Record<string, Buffer>, m: Manifest | string = manifest(members)): string {
  const path = join(scratch, name);
  const text = typeof m === 'string' ? m : JSON.stringify(m);
  const all = { ...members, 'manifest.json': Buffer.from(text) };
  writeFileSync(path, tarGz(Object.entries(all).map(([n, data]) => ({ name: n, data })), { first: ['manifest.json'] }));
  return path;
}

/** A ustar header for a member of `size` bytes (the data is not included). */
export function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.from(tar([{ name, data: Buffer.alloc(0) }]).subarray(0, 512));
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.fill(0x20, 148, 156);
  const sum = h.reduce((n, byte) => n + byte, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}
