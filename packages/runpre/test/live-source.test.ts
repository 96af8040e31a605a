import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '@hotsplice/kernel';
import { KcoreSource, kcoreOpenReason, matchObject, parseSymbolText, readSegments } from '../src';
import { kallsymsText, writeCoreFile } from './helpers/core-file';
import { fixtureKernel } from './helpers/fixture-kernel';
import { sampleObject } from './helpers/sample-object';

const dir = mkdtempSync(join(tmpdir(), 'hs-runpre-live-'));
let n = 0;

/** A fake /proc: kcore from segments, kallsyms text, kptr_restrict and lockdown files. */
function fakeProc(init: { segments: Array<{ vaddr: bigint; bytes: Uint8Array }>; kallsyms: string; kptrRestrict?: string; lockdown?: string }) {
  const d = join(dir, `p${n++}`);
  const paths = { kcore: `${d}.kcore`, kallsyms: `${d}.kallsyms`, kptrRestrict: `${d}.kptr`, lockdown: `${d}.lockdown` };
  writeCoreFile(paths.kcore, init.segments);
  writeFileSync(paths.kallsyms, init.kallsyms);
  writeFileSync(paths.kptrRestrict, `${init.kptrRestrict ?? '0'}\n`);
  writeFileSync(paths.lockdown, `${init.lockdown ?? '[none] integrity confidentiality'}\n`);
  return paths;
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('kallsyms / System.map text', () => {
  it('parses addresses, types and module names', () => {
    const symbols = parseSymbolText('ffffffff81000000 T _text\nffffffffc0a01000 t ext4_fill_super\t[ext4]\nbad line\n0000000000000000 A fixed_percpu_data\n');
    expect(symbols).toEqual([
      { name: '_text', address: 0xffffffff81000000n, type: 'T' },
      { name: 'ext4_fill_super', address: 0xffffffffc0a01000n, type: 't', module: 'ext4' },
      { name: 'fixed_percpu_data', address: 0n, type: 'A' },
    ]);
  });
});

describe('KcoreSource over a synthetic ELF core', () => {
  const text = 0xffffffff9a000000n; // a KASLR-shifted _text
  const segments = [
    { vaddr: text, bytes: Buffer.from('0123456789abcdef'.repeat(300)) },
    { vaddr: 0xffff888000000000n, bytes: Buffer.from('direct map') },
  ];
  const kallsyms = kallsymsText([
    { name: '_text', address: text, type: 'T' },
    { name: 'dup', address: text + 0x20n },
    { name: 'dup', address: text + 0x10n },
    { name: 'mod_fn', address: 0xffffffffc0001000n, module: 'ext4' },
  ]);

  it('maps virtual addresses through PT_LOAD segments and lists symbols in address order', () => {
    const paths = fakeProc({ segments, kallsyms });
    expect(readSegments(paths.kcore).map((s) => s.start)).toEqual([0xffff888000000000n, text]);
    const live = KcoreSource.open({ paths, uid: 0 });
    try {
      expect(live.kind).toBe('live');
      expect(live.read(text + 0x1000n + 3n, 5).toString()).toBe('3456789abcdef'.slice(0, 5));
      expect(live.read(0xffff888000000000n, 10).toString()).toBe('direct map');
      expect(live.symbols('dup').map((s) => s.address)).toEqual([text + 0x10n, text + 0x20n]);
      expect(live.addressOf('dup', 2)).toBe(text + 0x20n);
      expect(live.symbols('mod_fn')).toEqual([]); // vmlinux only: module symbols belong to their own klp object
      expect(errorOf(() => live.addressOf('dup')).message).toBe('dup: 2 symbols of this name in live kernel (' + paths.kcore + '); give its sympos (1..2)');
      expect(errorOf(() => live.read(text + 4800n - 2n, 4)).message).toBe(`${paths.kcore}: 0xffffffff9a0012be+4 is not in any PT_LOAD segment`);
    } finally {
      live.close();
    }
    const ext4 = KcoreSource.open({ paths, uid: 0, module: 'ext4' });
    expect(ext4.addressOf('mod_fn')).toBe(0xffffffffc0001000n);
    ext4.close();
  });

  it.skipIf(!existsSync('/dev/shm'))('reads segments at file offsets beyond 2^53, as /proc/kcore places them', () => {
    const far = 0xffffffb5804000n; // measured: a real kcore program header of Debian's kernel under QEMU
    const paths = { ...fakeProc({ segments, kallsyms }), kcore: join('/dev/shm', `hs-runpre-kcore-${process.pid}`) };
    try {
      writeCoreFile(paths.kcore, [{ vaddr: text, bytes: Buffer.from('far text bytes'), offset: far }]);
      expect(readSegments(paths.kcore)).toEqual([{ start: text, end: text + 14n, offset: far }]);
      const live = KcoreSource.open({ paths, uid: 0 });
      expect(live.read(text + 4n, 10).toString()).toBe('text bytes');
      live.close();
    } finally {
      rmSync(paths.kcore, { force: true });
      rmSync(`${paths.kcore}.segment`, { force: true });
    }
  });

  it('matches an object against a kernel image served through kcore', async () => {
    const k = fixtureKernel();
    k.poke(k.addressOf('f'), [0x0f, 0x1f, 0x44, 0x00, 0x00]); // ftrace_init() made fentry a nop
    const paths = fakeProc({ segments: k.regions.map((r) => ({ vaddr: r.address, bytes: r.bytes })), kallsyms: kallsymsText(k.symbols) });
    const live = KcoreSource.open({ paths, uid: 0 });
    const report = await matchObject(sampleObject(), live, { object: 'sample.o', allowOverriddenWeak: true });
    live.close();
    expect(report.ok).toBe(true);
    expect(report.functions.find((f) => f.name === 'f')).toMatchObject({ status: 'matched', address: k.addressOf('f'), patchedSites: [{ offset: 0, kind: 'fentry', bytes: '0f 1f 44 00 00' }] });
    expect(report.functions.find((f) => f.name === 'helper')).toMatchObject({ status: 'matched', sympos: 2 });
  });
});

describe('failures of reading the live kernel, one line each (design.md §8b)', () => {
  const zeroes = kallsymsText([{ name: '_text', address: 0n, type: 'T' }, { name: 'f', address: 0n }]);
  const segments = [{ vaddr: 0xffffffff81000000n, bytes: new Uint8Array(16) }];

  it('not root: kallsyms addresses are zero', () => {
    const e = errorOf(() => KcoreSource.open({ paths: fakeProc({ segments, kallsyms: zeroes }), uid: 1000 }));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/kallsyms shows only zero addresses: reading the live kernel needs root \(running as uid 1000\)$/);
  });

  it('kptr_restrict=2: zero addresses even for root', () => {
    const e = errorOf(() => KcoreSource.open({ paths: fakeProc({ segments, kallsyms: zeroes, kptrRestrict: '2' }), uid: 0 }));
    expect(e.message).toMatch(/kallsyms shows only zero addresses: kernel\.kptr_restrict=2 hides them even from root/);
  });

  it('not root: kcore EACCES', () => {
    const paths = fakeProc({ segments, kallsyms: kallsymsText([{ name: '_text', address: 0xffffffff81000000n }]) });
    expect(kcoreOpenReason(paths, 'EACCES', 1000)).toBe(`${paths.kcore}: permission denied: reading the live kernel needs root (running as uid 1000)`);
  });

  it('lockdown confidentiality: kcore EPERM for root', () => {
    const paths = fakeProc({ segments, kallsyms: '', lockdown: 'none integrity [confidentiality]' });
    expect(kcoreOpenReason(paths, 'EPERM', 0)).toBe(`${paths.kcore}: kernel lockdown is in confidentiality mode, which forbids reading kernel memory (boot with lockdown=integrity or none)`);
    expect(kcoreOpenReason({ ...paths, lockdown: join(dir, 'absent') }, 'EPERM', 0)).toMatch(/operation not permitted \(lockdown mode: unknown/);
  });

  it('a kcore path that cannot be opened is named with its errno', () => {
    const paths = fakeProc({ segments, kallsyms: kallsymsText([{ name: '_text', address: 0xffffffff81000000n }]) });
    const e = errorOf(() => KcoreSource.open({ paths: { ...paths, kcore: join(dir, 'no-kcore') }, uid: 0 }));
    expect(e.message).toBe(`${join(dir, 'no-kcore')} does not exist: the kernel is built without CONFIG_PROC_KCORE`);
  });

  it('a file that is not an ELF core is refused', () => {
    const paths = fakeProc({ segments, kallsyms: kallsymsText([{ name: '_text', address: 0xffffffff81000000n }]) });
    writeCoreFile(paths.kcore, segments, 62, 1);
    expect(errorOf(() => KcoreSource.open({ paths, uid: 0 })).message).toBe(`${paths.kcore}: ELF type 1 is not a core file (ET_CORE)`);
  });
});
