import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectBuilder, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS } from '@hotsplice/elf';
import { VmlinuxSource, isPadding } from '../src';

describe('VmlinuxSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-runpre-vmlinux-'));
  const b = new ObjectBuilder();
  b.addSection({ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, addr: 0xffffffff81000000n, data: Buffer.from('text bytes') });
  b.addSection({ name: '.rodata', flags: SHF_ALLOC, addr: 0xffffffff82000000n, data: Buffer.from('hello\0') });
  b.addSection({ name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC, addr: 0xffffffff83000000n, size: 4096 });
  const vmlinux = join(dir, 'vmlinux');
  writeFileSync(vmlinux, b.toBuffer());
  const systemMap = join(dir, 'System.map');
  writeFileSync(systemMap, 'ffffffff81000000 T _text\nffffffff81000005 t dup\nffffffff81000002 t dup\n');

  it('reads bytes at kernel addresses through the section headers and lists System.map symbols', () => {
    const source = new VmlinuxSource(vmlinux, systemMap);
    try {
      expect(source.kind).toBe('file');
      expect(source.description).toBe('vmlinux');
      expect(source.read(0xffffffff81000005n, 5).toString()).toBe('bytes');
      expect(source.read(0xffffffff82000000n, 6).toString('latin1')).toBe('hello\0');
      expect(source.addressOf('dup', 1)).toBe(0xffffffff81000002n);
      expect(source.addressOf('_text')).toBe(0xffffffff81000000n);
      expect(() => source.read(0xffffffff83000000n, 4)).toThrow('vmlinux: 0xffffffff83000000+4 is not inside one section with file contents');
      expect(() => source.read(0xffffffff81000008n, 4)).toThrow(/not inside one section/);
      expect(() => source.addressOf('nope')).toThrow('nope: no such symbol in vmlinux');
    } finally {
      source.close();
    }
  });

  it('names a file that is not ELF', () => {
    expect(() => new VmlinuxSource(systemMap, [])).toThrow(/System.map: cannot read it as an ELF file \(not an ELF file/);
  });
});

describe('padding the kernel writes around patched instructions', () => {
  it('accepts long nops, int3 and a short jmp over the rest', () => {
    expect(isPadding(Uint8Array.from([0x66, 0x90, 0x0f, 0x1f, 0x00, 0xcc]), 0, 6)).toBe(true);
    expect(isPadding(Uint8Array.from([0xeb, 0x03, 0xcc, 0xcc, 0xcc]), 0, 5)).toBe(true);
    expect(isPadding(Uint8Array.from([0x0f, 0x1f, 0x44, 0x00, 0x01]), 0, 5)).toBe(false);
    expect(isPadding(Uint8Array.from([0x90, 0xc3]), 0, 2)).toBe(false);
  });
});
