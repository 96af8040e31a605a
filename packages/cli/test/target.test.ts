// The target side's own checks, on real archives (our tar writer and GNU tar) and real ELF notes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Manifest, tar, tarGz } from '@hotsplice/link';
import { untarGz } from '../src/target/untar';
import { openUpdate } from '../src/target/update-package';
import { checkKernel, runningKernel } from '../src/target/running-kernel';
import { MEMBERS, manifest, packageFile, scratch } from './helpers/packages';

describe('untarGz', () => {
  it('reads back what the package writer wrote, byte for byte', async () => {
    const files = await untarGz(tarGz([{ name: 'a.ko', data: Buffer.alloc(1000, 7) }, { name: 'b', data: Buffer.from('x') }]), 'p');
    expect([...files.keys()]).toEqual(['a.ko', 'b']);
    expect(files.get('a.ko')).toEqual(Buffer.alloc(1000, 7));
  });

  it('refuses links, absolute names, .. and a damaged header, naming the member', async () => {
    const dir = mkdtempSync(join(scratch, 'gnu-'));
    writeFileSync(join(dir, 'real'), 'x');
    symlinkSync('/etc/passwd', join(dir, 'evil'));
    const archive = (...args: string[]) => execFileSync('tar', ['-cz', '-C', dir, ...args]);
    await expect(untarGz(archive('evil'), 'p.tar.gz')).rejects.toThrow("p.tar.gz: evil: only regular files are allowed (tar type '2')");
    await expect(untarGz(archive('--transform', 's,^,../,', 'real'), 'p')).rejects.toThrow('p: member "../real" would land outside the package directory');
    await expect(untarGz(archive('-P', '--transform', 's,^,/tmp/,', 'real'), 'p')).rejects.toThrow('p: member "/tmp/real" would land outside the package directory');
    const damaged = tar([{ name: 'a', data: Buffer.from('x') }]);
    damaged[0] = 0x62; // name "b" but the checksum is of "a"
    await expect(untarGz(execFileSync('gzip', ['-c'], { input: damaged }), 'p')).rejects.toThrow('p: damaged tar header at byte 0');
    await expect(untarGz(Buffer.from('not gzip'), 'p')).rejects.toThrow('p: not a gzip-compressed package');
  });
});

describe('openUpdate', () => {
  it('unpacks a verified package into a private directory', async () => {
    const update = await openUpdate(packageFile('good.tar.gz', MEMBERS));
    expect(update.manifest.module).toBe('fix_1');
    expect(readFileSync(update.ko, 'utf8')).toBe('module bytes');
    expect(statSync(update.dir).mode & 0o777).toBe(0o700);
    expect(statSync(update.oldCode).mode & 0o777).toBe(0o600);
    await update.close();
    expect(() => statSync(update.dir)).toThrow();
  });

  it('refuses a member whose sha256 differs, one missing, one unlisted, and a foreign format', async () => {
    const tampered = packageFile('tampered.tar.gz', { ...MEMBERS, 'old-code.o': Buffer.from('old codf') }, manifest(MEMBERS));
    await expect(openUpdate(tampered)).rejects.toThrow('tampered.tar.gz: old-code.o does not match its sha256 in the manifest');
    const { 'report.json': _r, ...fewer } = MEMBERS;
    await expect(openUpdate(packageFile('missing.tar.gz', fewer, manifest(MEMBERS)))).rejects.toThrow('missing.tar.gz: report.json is listed in the manifest but missing');
    await expect(openUpdate(packageFile('extra.tar.gz', { ...MEMBERS, 'x.sh': Buffer.from('') }, manifest(MEMBERS)))).rejects.toThrow('extra.tar.gz: x.sh is not listed in the manifest');
    const foreign = manifest(MEMBERS, { format: 'other/2' as Manifest['format'] });
    await expect(openUpdate(packageFile('foreign.tar.gz', MEMBERS, foreign))).rejects.toThrow('foreign.tar.gz: manifest format "other/2" is not hotsplice-update/1');
    await expect(openUpdate(join(scratch, 'absent.tar.gz'))).rejects.toThrow(`cannot read the update package ${join(scratch, 'absent.tar.gz')}`);
  });
});

describe('the running kernel', () => {
  it('reads the build id from kernel notes and refuses another release or build', async () => {
    // The same layout as /sys/kernel/notes: an Xen note first, then the GNU build id (namesz 4, type 3).
    const note = (name: string, type: number, desc: Buffer) => {
      const n = Buffer.alloc((name.length + 1 + 3) & ~3);
      n.write(name);
      const head = Buffer.alloc(12);
      head.writeUInt32LE(name.length + 1, 0);
      head.writeUInt32LE(desc.length, 4);
      head.writeUInt32LE(type, 8);
      return Buffer.concat([head, n, desc, Buffer.alloc((4 - (desc.length % 4)) % 4)]);
    };
    const notes = join(scratch, 'notes');
    writeFileSync(notes, Buffer.concat([note('Xen', 6, Buffer.from('linux')), note('GNU', 3, Buffer.from('0123456789abcdef01234567', 'hex'))]));
    const running = await runningKernel(notes);
    expect(running.buildId).toBe('0123456789abcdef01234567');
    const m = manifest(MEMBERS, { kernel: { abi: running.release, version: 'v', vmlinuxBuildId: running.buildId } });
    expect(() => checkKernel(m, running)).not.toThrow();
    expect(() => checkKernel(m, { ...running, release: '6.1.0-99-amd64' })).toThrow(`update fix_1 is for Linux ${running.release}; this machine runs 6.1.0-99-amd64`);
    expect(() => checkKernel(m, { ...running, buildId: 'ffff' })).toThrow(`built for the ${running.release} kernel with build id 0123456789abcdef01234567; the running kernel's is ffff`);
    await expect(runningKernel(join(scratch, 'none'))).rejects.toThrow(`cannot read ${join(scratch, 'none')}`);
  });
});
