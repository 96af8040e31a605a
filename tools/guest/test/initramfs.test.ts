import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCpio } from '../src/cpio';
import { initramfsEntries } from '../src/initramfs';

describe('initramfs contents', () => {
  it('holds busybox, /init, the scripts in order and the files, with every parent directory', async () => {
    const work = await mkdtemp(join(tmpdir(), 'hs-initrd-'));
    const busybox = join(work, 'busybox');
    const payload = join(work, 'payload.bin');
    await writeFile(busybox, Buffer.alloc(1234, 1));
    await writeFile(payload, 'hello');
    const entries = initramfsEntries({
      busybox,
      scripts: [
        { name: 'first', content: 'echo one\n' },
        { name: 'second.sh', content: 'echo two\n' },
      ],
      files: [{ source: payload }, { source: payload, dest: '/lib/modules/x.ko' }],
    });
    const cpio = join(work, 'initrd.cpio');
    await writeCpio(entries, cpio);

    // `cpio -t` is the oracle: the kernel's unpacker reads the same newc format.
    const listing = execFileSync('cpio', ['-it', '--quiet'], { input: await readFile(cpio) }).toString().trim().split('\n');
    expect(listing).toEqual([
      'bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'root',
      'hotsplice', 'hotsplice/files',
      'dev/console', 'bin/busybox', 'bin/sh', 'usr/bin/env', 'init',
      'hotsplice/scripts', 'hotsplice/scripts/01-first', 'hotsplice/scripts/02-second.sh',
      'hotsplice/files/payload.bin',
      'lib', 'lib/modules', 'lib/modules/x.ko',
    ]);

    const verbose = execFileSync('cpio', ['-itv', '--quiet'], { input: await readFile(cpio) }).toString();
    expect(verbose).toMatch(/^crw-------\s.*\b5,\s+1\b.*dev\/console$/m);
    expect(verbose).toMatch(/^-rwxr-xr-x\s.*\b1234\b.*bin\/busybox$/m);
    expect(verbose).toMatch(/^lrwxrwxrwx\s.*usr\/bin\/env -> \/bin\/busybox$/m);

    // Extract and compare bodies byte for byte.
    const out = join(work, 'x');
    execFileSync('sh', ['-c', `mkdir -p ${out} && cd ${out} && cpio -id --quiet < ${cpio}`]);
    expect(await readFile(join(out, 'hotsplice/files/payload.bin'), 'utf8')).toBe('hello');
    expect(await readFile(join(out, 'hotsplice/scripts/02-second.sh'), 'utf8')).toBe('echo two\n');
    const init = await readFile(join(out, 'init'), 'utf8');
    expect(init.indexOf('run_one 01-first')).toBeLessThan(init.indexOf('run_one 02-second.sh'));
    expect(init).toContain('poweroff -f');
  });

  it('refuses a script name that could break the console markers', () => {
    expect(() => initramfsEntries({ busybox: '/bin/busybox', scripts: [{ name: 'a b', content: '' }] })).toThrow(
      'guest script name "a b"',
    );
  });
});
