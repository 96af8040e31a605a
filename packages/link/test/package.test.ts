// The reproducible tarball, the manifest and the summary, checked with GNU tar/gzip and readelf.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DiffReport } from '@hotsplice/objdiff';
import { type Manifest, buildIdNote, gzip, readBuildId, summary, tar, tarGz, writePackage } from '../src';
import { Scratch, run } from './helpers/toolchain';

const scratch = new Scratch();
afterAll(() => scratch.remove());

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function report(object: string, patched: Array<[string, number]>, extra: Partial<DiffReport> = {}): DiffReport {
  return {
    object,
    objname: 'vmlinux',
    changed: patched.map(([n]) => n),
    new: [],
    newData: [],
    refused: [],
    patched: patched.map(([name, sympos]) => ({ name, oldName: name, sympos, newSymbol: `__hotsplice_vmlinux__${name}__${sympos}` })),
    symbols: [],
    callbacks: [],
    ...extra,
  };
}

describe('tar + gzip', () => {
  const members = [
    { name: 'b.txt', data: Buffer.from('second\n') },
    { name: 'a.bin', data: Buffer.alloc(1000, 7) },
    { name: 'empty', data: Buffer.alloc(0) },
  ];

  it('gives the same bytes every time, whatever the member order', () => {
    const one = tarGz(members);
    expect(tarGz([...members].reverse()).equals(one)).toBe(true);
    expect(one.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]));
  });

  it('is a ustar archive GNU tar lists with fixed owner, mode and time, sorted', () => {
    const file = scratch.write('t.tar.gz', tarGz(members));
    run('gzip', ['-t', file]);
    expect(run('tar', ['-tzvf', file], { cwd: scratch.dir }).trim().split('\n')).toEqual([
      '-rw-r--r-- root/root      1000 1970-01-01 00:00 a.bin',
      '-rw-r--r-- root/root         7 1970-01-01 00:00 b.txt',
      '-rw-r--r-- root/root         0 1970-01-01 00:00 empty',
    ]);
    const raw = tar(members);
    expect(raw.length % 10240).toBe(0);
    expect(raw.toString('latin1', 257, 265)).toBe('ustar\u000000');
    expect(run('tar', ['-xzOf', file, 'b.txt'])).toBe('second\n');
  });

  it('gzip matches what gunzip reads back', () => {
    const data = Buffer.from('x'.repeat(100_000) + 'tail');
    const file = scratch.write('d.gz', gzip(data));
    expect(run('gzip', ['-dc', file])).toBe(data.toString());
  });

  it('refuses names ustar cannot hold in its name field', () => {
    expect(() => tar([{ name: 'x'.repeat(101), data: Buffer.alloc(0) }])).toThrow(/at most 100/);
    expect(() => tar([{ name: 'a', data: Buffer.alloc(0) }, { name: 'a', data: Buffer.alloc(1) }])).toThrow(/two members/);
  });
});

describe('build id', () => {
  it('reads the GNU build id note as readelf -n shows it', () => {
    const exe = scratch.path('prog');
    run('gcc-12', ['-o', exe, '-Wl,--build-id=sha1', scratch.write('prog.c', 'int main(void) { return 0; }\n')]);
    const want = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', exe]))![1];
    expect(readBuildId(exe)).toBe(want);
    expect(buildIdNote(Buffer.alloc(3))).toBeUndefined();
  });
});

describe('writePackage', () => {
  const exe = () => {
    const path = scratch.path('vmlinux');
    run('gcc-12', ['-o', path, '-Wl,--build-id=sha1', scratch.write('vm.c', 'int main(void) { return 1; }\n')]);
    return path;
  };

  async function build(outDir: string) {
    const ko = scratch.write('m.ko', Buffer.from('not really a module'));
    const oldCode = scratch.write('old.o', Buffer.from('old code'));
    return writePackage({
      id: 'fix_thing',
      outDir,
      kernel: { abi: '6.1.0-99-amd64', version: '6.1.999-1', vmlinux: exe() },
      ko,
      oldCode,
      reports: [
        report('kernel/b.o', [['zeta', 0], ['alpha', 2]]),
        report('fs/a.o', [], { changed: [], refused: [{ symbol: 'table', reason: 'changed existing data: size 8 -> 16' }] }),
      ],
      patches: [{ name: 'fix.patch', text: '--- a/x\n+++ b/x\n' }],
    });
  }

  it('writes the tarball, report.json and summary.txt; same inputs, same bytes', async () => {
    const a = await build(join(scratch.dir, 'pkg-a'));
    const b = await build(join(scratch.dir, 'pkg-b'));
    for (const file of ['hotsplice-fix_thing.tar.gz', 'report.json', 'summary.txt']) {
      expect(readFileSync(join(scratch.dir, 'pkg-a', file)).equals(readFileSync(join(scratch.dir, 'pkg-b', file))), file).toBe(true);
    }
    expect(a.tarball).toBe(join(scratch.dir, 'pkg-a', 'hotsplice-fix_thing.tar.gz'));
    expect(b.manifest).toEqual(a.manifest);

    const listing = run('tar', ['-tzf', a.tarball]).trim().split('\n');
    expect(listing).toEqual(['manifest.json', 'fix_thing.ko', 'old-code.o', 'report.json']);
    const extract = join(scratch.dir, 'x');
    mkdirSync(extract);
    run('tar', ['-xzf', a.tarball, '-C', extract]);
    const manifest = JSON.parse(readFileSync(join(extract, 'manifest.json'), 'utf8'));
    expect(manifest).toEqual(a.manifest);
    for (const [name, hash] of Object.entries(manifest.members)) expect(sha256(readFileSync(join(extract, name))), name).toBe(hash);
    for (const name of listing.slice(1)) expect(manifest.sizes[name], name).toBe(statSync(join(extract, name)).size);
    expect(Object.keys(manifest.members).sort()).toEqual(['fix_thing.ko', 'old-code.o', 'report.json']);
    expect(manifest.kernel.vmlinuxBuildId).toBe(/Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', scratch.path('vmlinux')]))![1]);
    expect(manifest.patches).toEqual([{ name: 'fix.patch', sha256: sha256('--- a/x\n+++ b/x\n') }]);
    expect(manifest.objects).toEqual([
      {
        objname: 'vmlinux',
        functions: [
          { name: 'alpha', sympos: 2, object: 'kernel/b.o', newSymbol: '__hotsplice_vmlinux__alpha__2' },
          { name: 'zeta', sympos: 0, object: 'kernel/b.o', newSymbol: '__hotsplice_vmlinux__zeta__0' },
        ],
      },
    ]);
    expect(readFileSync(join(extract, 'report.json'), 'utf8')).toBe(readFileSync(a.report, 'utf8'));
  });

  it('names the notrace functions callers carry', () => {
    const sys = report('kernel/sys.o', [['__x64_sys_prctl', 0], ['__ia32_sys_prctl', 0]], {
      promoted: [{ function: '__do_sys_prctl', calledBy: ['__ia32_sys_prctl', '__x64_sys_prctl'], siblingCalled: true }],
    });
    const manifest = { module: 'fix_thing', objects: [{ objname: 'vmlinux', functions: [{}, {}] }] } as unknown as Manifest;
    const text = summary({ id: 'fix_thing', kernel: { abi: '6.1.0-99-amd64', version: '6.1.999-1', vmlinux: '' }, reports: [sys] }, manifest, 19);
    expect(text.split('\n').slice(-4)).toEqual(['', 'notrace functions carried by their callers:', '  kernel/sys.o: __do_sys_prctl, carried by __ia32_sys_prctl, __x64_sys_prctl', '']);
  });

  it('summarizes every object in a table, refusals with their reason', async () => {
    const { summary } = await build(join(scratch.dir, 'pkg-s'));
    expect(readFileSync(summary, 'utf8')).toBe(
      [
        'hotsplice update fix_thing for Linux 6.1.0-99-amd64 (Debian 6.1.999-1)',
        'module fix_thing.ko (19 bytes): 2 function(s) in vmlinux',
        'package hotsplice-fix_thing.tar.gz',
        'fixes no CVE named; effective Debian version 6.1.999-1',
        '',
        'object      klp object  changed      new  refused',
        'fs/a.o      vmlinux     -            -    table',
        'kernel/b.o  vmlinux     zeta, alpha  -    -',
        '',
        'refused:',
        '  fs/a.o: table: changed existing data: size 8 -> 16',
        '',
      ].join('\n'),
    );
  });
});
