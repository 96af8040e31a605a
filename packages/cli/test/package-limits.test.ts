// What an update package may make the target do before it is trusted: unpack no more than its manifest (and a hard
// cap) allows, and carry a manifest whose every field has the right type.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '@hotsplice/guest';
import { tar } from '@hotsplice/link';
import { UNPACK_CAP, untarGz } from '../src/target/untar';
import { openUpdate } from '../src/target/update-package';
import { MEMBERS, manifest, packageFile, scratch, tarHeader } from './helpers/packages';

/** gzip of `head` followed by `zeros` zero bytes, streamed (the test never holds the unpacked bytes). */
async function gzipWithZeros(head: Buffer, zeros: number): Promise<Buffer> {
  const gz = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  gz.write(head);
  const mib = Buffer.alloc(1 << 20);
  for (let n = 0; n < zeros; n += mib.length) if (!gz.write(mib.subarray(0, Math.min(mib.length, zeros - n)))) await once(gz, 'drain');
  gz.end();
  await once(gz, 'end');
  return Buffer.concat(out);
}

describe('unpacking is bounded', () => {
  it('refuses a gzip bomb past the hard cap while streaming, without a manifest to go by', async () => {
    const bomb = await gzipWithZeros(tarHeader('fix_1.ko', UNPACK_CAP + 4096), UNPACK_CAP + 4096);
    expect(bomb.length).toBeLessThan(2 << 20);
    const before = process.memoryUsage().rss;
    await expect(untarGz(bomb, 'bomb.tar.gz')).rejects.toThrow('bomb.tar.gz: unpacks to more than 256 MiB, the most a package may hold; refused');
    // Refused at the header (its size field is past the cap): nothing near the cap was allocated.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it('refuses zeros past the end of the archive once the cap is passed', async () => {
    const small = tar([{ name: 'a', data: Buffer.from('x') }]);
    await expect(untarGz(await gzipWithZeros(small, UNPACK_CAP), 'tail.tar.gz')).rejects.toThrow('tail.tar.gz: unpacks to more than 256 MiB, the most a package may hold; refused');
  });

  it('holds a package to the sizes its manifest lists: a bigger member, or bytes beyond them', async () => {
    const liar = manifest({ ...MEMBERS, 'fix_1.ko': Buffer.from('x') }, { members: manifest(MEMBERS).members });
    await expect(openUpdate(packageFile('liar.tar.gz', MEMBERS, liar))).rejects.toThrow('liar.tar.gz: fix_1.ko is 12 bytes; the manifest says 1');
    const good = packageFile('padded.tar.gz', MEMBERS);
    const padded = join(scratch, 'padded-more.tar.gz');
    const tarBytes = gunzipSync(readFileSync(good));
    writeFileSync(padded, gzipSync(Buffer.concat([tarBytes, Buffer.alloc(1 << 20)])));
    await expect(openUpdate(padded)).rejects.toThrow(/^padded-more\.tar\.gz: unpacks to more than the \d+ bytes its manifest accounts for; refused$/);
    const update = await openUpdate(good);
    await update.close();
  });

  it('still opens a package written before sizes existed (manifest last, no sizes)', async () => {
    const { sizes: _s, ...old } = manifest(MEMBERS);
    const path = join(scratch, 'legacy.tar.gz');
    const all = { ...MEMBERS, 'manifest.json': Buffer.from(JSON.stringify(old)) };
    writeFileSync(path, gzipSync(tar(Object.entries(all).map(([name, data]) => ({ name, data })))));
    const update = await openUpdate(path);
    expect(update.manifest.sizes).toBeUndefined();
    await update.close();
  });
});

describe('the manifest is checked field by field', () => {
  const refused = (name: string, text: string) => openUpdate(packageFile(name, MEMBERS, text));
  const withField = (patch: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(JSON.stringify(manifest(MEMBERS))) as Record<string, unknown>;
    patch(m);
    return JSON.stringify(m);
  };

  it('refuses a manifest that is null, an array or a string, in one line naming the file', async () => {
    await expect(refused('null.tar.gz', 'null')).rejects.toThrow(/^null\.tar\.gz: manifest\.json must hold a JSON object, not null$/);
    await expect(refused('array.tar.gz', '[]')).rejects.toThrow(/^array\.tar\.gz: manifest\.json must hold a JSON object, not an array$/);
    await expect(refused('string.tar.gz', '"x"')).rejects.toThrow(/^string\.tar\.gz: manifest\.json must hold a JSON object, not a string$/);
  });

  it('names the field of the wrong type', async () => {
    const cases: Array<[(m: Record<string, unknown>) => void, string]> = [
      [(m) => ((m.kernel as Record<string, unknown>).abi = 61), 'kernel.abi must be a string, not a number'],
      [(m) => (m.kernel = null), 'kernel must be an object, not null'],
      [(m) => (m.replace = 'yes'), 'replace must be a boolean, not a string'],
      [(m) => (m.members = { 'fix_1.ko': null }), 'members["fix_1.ko"] must be a string, not null'],
      [(m) => (m.objects = {}), 'objects must be an array, not an object'],
      [(m) => (m.objects = [{ objname: 'vmlinux', functions: [{ name: 'f', sympos: '1', object: 'a.o', newSymbol: 'n' }] }]), 'objects[0].functions[0].sympos must be a whole number ≥ 0, not a string'],
      [(m) => (m.objects = [{ objname: 'vmlinux', functions: [{ name: 'f', sympos: 0, object: 'a.o', newSymbol: 'n', forceUnsafe: 1 }] }]), 'objects[0].functions[0].forceUnsafe must be true when present, not a number'],
      [(m) => (m.patches = [{ name: 7 }]), 'patches[0].name must be a string, not a number'],
      [(m) => (m.sizes = { 'fix_1.ko': 12 }), 'sizes["old-code.o"] is missing (a whole number ≥ 0)'],
      [(m) => (m.id = undefined), 'id is missing (a string)'],
    ];
    for (const [i, [patch, line]] of cases.entries()) {
      await expect(refused(`typed-${i}.tar.gz`, withField(patch)), line).rejects.toThrow(`typed-${i}.tar.gz: manifest.json: ${line}`);
    }
  });
});

// The target bundle, the form that ships to a target machine (the workspace CLI needs TMPDIR for its compiler cache).
describe('the target CLI reports a bad package in one line', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await bundleCli(join(scratch, 'hotsplice.cjs'));
  });
  const hotsplice = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('a null manifest: exit 1, not an internal error', () => {
    const r = hotsplice(['verify', packageFile('null-cli.tar.gz', MEMBERS, 'null')]);
    expect([r.status, r.stderr]).toEqual([1, 'hotsplice: null-cli.tar.gz: manifest.json must hold a JSON object, not null\n']);
  });

  it('a gzip bomb: exit 1 with the limit named', async () => {
    const path = join(scratch, 'bomb-cli.tar.gz');
    writeFileSync(path, await gzipWithZeros(tarHeader('fix_1.ko', 1 << 30), 300 << 20));
    const r = hotsplice(['verify', path]);
    expect([r.status, r.stderr]).toEqual([1, 'hotsplice: bomb-cli.tar.gz: unpacks to more than 256 MiB, the most a package may hold; refused\n']);
  });

  it('a missing TMPDIR: exit 1 naming it', () => {
    const r = hotsplice(['verify', packageFile('tmpdir.tar.gz', MEMBERS)], { TMPDIR: join(scratch, 'no-such-dir') });
    expect([r.status, r.stderr]).toEqual([1, `hotsplice: cannot make a private directory in ${join(scratch, 'no-such-dir')} (TMPDIR): no such file or directory\n`]);
  });

  it('removes the private directories of runs killed before they could (kill -9), and only those', () => {
    const tmp = join(scratch, 'tmp-stale');
    mkdirSync(tmp);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    for (const name of [`hotsplice-apply-${dead}-aaaaaa`, `hotsplice-apply-${process.pid}-bbbbbb`, 'hotsplice-apply-cccccc', 'other-dir']) {
      mkdirSync(join(tmp, name));
      writeFileSync(join(tmp, name, 'fix_1.ko'), 'left behind');
    }
    // verify opens the package (and so tidies TMPDIR) before it fails on this machine's kernel.
    hotsplice(['verify', packageFile('stale.tar.gz', MEMBERS)], { TMPDIR: tmp });
    expect(readdirSync(tmp).sort()).toEqual([`hotsplice-apply-${process.pid}-bbbbbb`, 'hotsplice-apply-cccccc', 'other-dir']);
  });
});
