// toLinkable / finalizeKlp on real gcc-12 objects and differ output, with ld and readelf as the oracle.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ObjectBuilder, R_X86_64_32S, R_X86_64_PC32, R_X86_64_PLT32, SHF_ALLOC, SHF_EXECINSTR, SHN_LIVEPATCH, STB_GLOBAL,
  STT_FUNC, parseElf,
} from '@hotsplice/elf';
import { diffObjects } from '@hotsplice/objdiff';
import { finalizeKlp, parseKlpSymbol, toLinkable } from '../src';
import { Scratch, type ReadelfReloc, relocations, sectionBytes, sections, symbols } from './helpers/toolchain';

const scratch = new Scratch();
afterAll(() => scratch.remove());

// `show` changes; it reads a static variable and calls a static helper: both stay in the running kernel, so the
// new code reaches them through klp relocations.
const PRE = `
static int counter;
static int __attribute__((noinline)) helper(int x) { return x * 3 + counter; }
int __attribute__((noinline)) show(int x) { counter++; return helper(x) + 1; }
int __attribute__((noinline)) other(int x) { return x - 1; }
`;
const POST = PRE.replace('counter++; return helper(x) + 1;', 'counter += 2; return helper(x) + helper(x + 1) + 7;');

function newCode(): Buffer {
  const pre = parseElf(readFileSync(scratch.compile(PRE, 'pre')));
  const post = parseElf(readFileSync(scratch.compile(POST, 'post')));
  const { report, newCode } = diffObjects(pre, post, { object: 'show.o' });
  expect(report.changed).toEqual(['show']);
  return newCode!;
}

const isKlpRela = (name: string) => name.startsWith('.klp.rela.');
const key = (r: ReadelfReloc) => `${r.offset}:${r.type}:${r.symbol}:${r.addend}`;

describe('toLinkable', () => {
  it('ld -r alone loses the klp form (why this package exists): SHN_LIVEPATCH becomes ABS, the section stops being RELA', () => {
    const original = scratch.write('original.o', newCode());
    const linked = scratch.ldr('original-linked.o', [original]);
    expect(symbols(original).find((s) => s.name.startsWith('.klp.sym.'))!.ndx).toBe('OS [0xff20]');
    expect(symbols(linked).find((s) => s.name.startsWith('.klp.sym.'))!.ndx).toBe('ABS');
    expect(sections(linked).find((s) => isKlpRela(s.name))!.type).not.toBe('RELA');
  });

  it('leaves no livepatch symbol or section: klp symbols are WEAK undefined, their relocations join the ordinary section', () => {
    const code = newCode();
    const linkable = scratch.write('linkable.o', toLinkable(code));
    const original = scratch.write('orig.o', code);
    expect(sections(linkable).filter((s) => isKlpRela(s.name))).toEqual([]);
    const klp = symbols(linkable).filter((s) => s.name.startsWith('.klp.sym.'));
    expect(klp.map((s) => s.name).sort()).toEqual(['.klp.sym.vmlinux.counter,0', '.klp.sym.vmlinux.helper,0']);
    for (const s of klp) expect([s.bind, s.ndx]).toEqual(['WEAK', 'UND']);
    // The same relocations, now all in .rela.text.show, sorted by offset.
    const before = [...relocations(original)].filter(([name]) => name.endsWith('.text.show')).flatMap(([, r]) => r.map(key)).sort();
    const after = relocations(linkable).get('.rela.text.show')!;
    expect(after.map(key).sort()).toEqual(before);
    expect(after.map((r) => r.offset)).toEqual([...after.map((r) => r.offset)].sort((a, b) => (a < b ? -1 : 1)));
  });
});

describe('toLinkable → ld -r → finalizeKlp', () => {
  it('gives back real klp sections and SHN_LIVEPATCH symbols with the same relocations as the differ wrote', () => {
    const code = newCode();
    const original = scratch.write('rt-orig.o', code);
    const linkable = scratch.write('rt-linkable.o', toLinkable(code));
    const linked = scratch.ldr('rt-linked.o', [linkable]);
    const final = scratch.write('rt-final.o', finalizeKlp(readFileSync(linked)));

    const klp = sections(final).filter((s) => isKlpRela(s.name));
    expect(klp.map((s) => s.name)).toEqual(['.klp.rela.vmlinux..text.show']);
    const [section] = klp;
    expect(section.type).toBe('RELA');
    for (const flag of ['A', 'I', 'o']) expect(section.flags).toContain(flag);
    const all = sections(final);
    expect(all[section.info - 1].name).toBe('.text.show'); // sh_info: the target
    expect(all[section.link - 1].name).toBe('.symtab');

    const klpSyms = symbols(final).filter((s) => s.name.startsWith('.klp.sym.'));
    for (const s of klpSyms) expect([s.bind, s.ndx]).toEqual(['GLOBAL', 'OS [0xff20]']);
    expect(klpSyms).toHaveLength(2);

    // Offsets, types, addends and symbols of every relocation are what the differ wrote, split the same way.
    const want = relocations(original);
    const got = relocations(final);
    expect(got.get('.klp.rela.vmlinux..text.show')!.map(key)).toEqual(want.get('.klp.rela.vmlinux..text.show')!.map(key));
    expect(new Set(got.get('.klp.rela.vmlinux..text.show')!.map((r) => r.symbol))).toEqual(new Set(['.klp.sym.vmlinux.counter,0', '.klp.sym.vmlinux.helper,0']));
    expect(got.get('.rela.text.show')!.map(key).sort()).toEqual(want.get('.rela.text.show')!.map(key).sort());
    expect(sectionBytes(final, '.text.show').equals(sectionBytes(original, '.text.show'))).toBe(true);
  });

  it('moves offsets with the linker when sections of several objects merge', () => {
    // Two objects, each a 0x30-byte `.text` with one klp relocation at 0x10: after ld -r the second one's entry
    // sits at 0x40 — the offset only a linker-visible relocation gets adjusted to.
    const object = (symbol: string, type: number) => {
      const b = new ObjectBuilder();
      const text = b.addSection({ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, align: 16, data: new Uint8Array(0x30).fill(0x90) });
      b.addSymbol({ name: `f_${symbol}`, section: text, size: 0x30, type: STT_FUNC, bind: STB_GLOBAL });
      const klp = b.addSymbol({ name: `.klp.sym.vmlinux.${symbol},0`, section: SHN_LIVEPATCH });
      b.addRelaSection({ target: text, name: '.klp.rela.vmlinux..text', flags: 0x100042n }).relocations.push({ offset: 0x10n, type, symbol: klp, addend: -4n });
      return toLinkable(b.toBuffer());
    };
    const a = scratch.write('merge-a.o', object('alpha', R_X86_64_PC32));
    const b = scratch.write('merge-b.o', object('beta', R_X86_64_PLT32));
    const final = scratch.write('merge-final.o', finalizeKlp(readFileSync(scratch.ldr('merge-linked.o', [a, b]))));
    expect(relocations(final).get('.klp.rela.vmlinux..text')!.map(key)).toEqual([
      '16:R_X86_64_PC32:.klp.sym.vmlinux.alpha,0:-4',
      '64:R_X86_64_PLT32:.klp.sym.vmlinux.beta,0:-4',
    ]);
    expect(relocations(final).has('.rela.text')).toBe(false);
  });

  it('splits by the symbol\'s object: one .klp.rela section per klp object and target', () => {
    const b = new ObjectBuilder();
    const text = b.addSection({ name: '.text.f', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16) });
    const plain = b.undefinedSymbol('printk');
    const k1 = b.addSymbol({ name: '.klp.sym.vmlinux.a,0', section: SHN_LIVEPATCH });
    const k2 = b.addSymbol({ name: '.klp.sym.ext4.ext4_b.constprop.0,2', section: SHN_LIVEPATCH });
    b.addRela(text, { offset: 0, type: R_X86_64_PLT32, symbol: plain, addend: -4 });
    const klp = (name: string) => b.addRelaSection({ target: text, name, flags: 0x100042n });
    klp('.klp.rela.vmlinux..text.f').relocations.push({ offset: 4n, type: R_X86_64_32S, symbol: k1, addend: 0n });
    klp('.klp.rela.ext4..text.f').relocations.push({ offset: 8n, type: R_X86_64_PC32, symbol: k2, addend: -4n });
    const final = scratch.write('split.o', finalizeKlp(readFileSync(scratch.ldr('split-linked.o', [scratch.write('split-in.o', toLinkable(b.toBuffer()))]))));
    const got = relocations(final);
    expect([...got.keys()].sort()).toEqual(['.klp.rela.ext4..text.f', '.klp.rela.vmlinux..text.f', '.rela.text.f']);
    expect(got.get('.klp.rela.ext4..text.f')!.map(key)).toEqual(['8:R_X86_64_PC32:.klp.sym.ext4.ext4_b.constprop.0,2:-4']);
    expect(got.get('.rela.text.f')!.map((r) => r.symbol)).toEqual(['printk']);
    expect(parseKlpSymbol('.klp.sym.ext4.ext4_b.constprop.0,2')).toEqual({ objname: 'ext4', name: 'ext4_b.constprop.0', sympos: 2 });
  });

  it('keeps another module\'s export in the patched module\'s section through ld -r (resolved when that module loads)', () => {
    const b = new ObjectBuilder();
    const text = b.addSection({ name: '.text.f', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16) });
    const own = b.addSymbol({ name: '.klp.sym.hci_intel.intel_lpm,0', section: SHN_LIVEPATCH });
    const other = b.addSymbol({ name: '.klp.sym.bluetooth.bt_info,0', section: SHN_LIVEPATCH });
    const klp = b.addRelaSection({ target: text, name: '.klp.rela.hci_intel..text.f', flags: 0x100042n });
    klp.relocations.push({ offset: 4n, type: R_X86_64_PC32, symbol: own, addend: -4n }, { offset: 9n, type: R_X86_64_PLT32, symbol: other, addend: -4n });
    const final = scratch.write('cross.o', finalizeKlp(readFileSync(scratch.ldr('cross-linked.o', [scratch.write('cross-in.o', toLinkable(b.toBuffer()))]))));
    const got = relocations(final);
    expect([...got.keys()]).toEqual(['.klp.rela.hci_intel..text.f']);
    expect(got.get('.klp.rela.hci_intel..text.f')!.map(key)).toEqual([
      '4:R_X86_64_PC32:.klp.sym.hci_intel.intel_lpm,0:-4',
      '9:R_X86_64_PLT32:.klp.sym.bluetooth.bt_info,0:-4',
    ]);
    expect(symbols(final).filter((s) => s.name.includes('@'))).toEqual([]);
  });

  it('is idempotent and keeps every other section, symbol and relocation', () => {
    const linked = scratch.ldr('keep-linked.o', [scratch.write('keep-in.o', toLinkable(newCode()))]);
    const once = finalizeKlp(readFileSync(linked));
    expect(finalizeKlp(once).equals(once)).toBe(true);
    const final = scratch.write('keep-final.o', once);
    const before = sections(linked).filter((s) => s.type !== 'RELA' && !['.symtab', '.strtab', '.shstrtab'].includes(s.name));
    const after = sections(final).filter((s) => s.type !== 'RELA' && !['.symtab', '.strtab', '.shstrtab'].includes(s.name));
    expect(after.map((s) => [s.name, s.type, s.flags, s.size])).toEqual(before.map((s) => [s.name, s.type, s.flags, s.size]));
    for (const s of before) if (s.type !== 'NOBITS' && s.size) expect(sectionBytes(final, s.name).equals(sectionBytes(linked, s.name)), s.name).toBe(true);
    // Section indices move (a section was added), so a symbol's section is compared by name.
    const names = (file: string) => {
      const byIndex = new Map(sections(file).map((x) => [String(x.index), x.name]));
      return symbols(file).map((s) => `${s.name}:${s.type}:${s.name.startsWith('.klp.sym.') ? '' : `${s.bind}:${byIndex.get(s.ndx) ?? s.ndx}`}`).sort();
    };
    expect(names(final)).toEqual(names(linked));
    const flat = (file: string) => [...relocations(file).values()].flat().map(key).sort();
    expect(flat(final)).toEqual(flat(linked));
  });

  it('refuses what the kernel could not resolve', () => {
    const b = new ObjectBuilder();
    const text = b.addSection({ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(8) });
    b.addRela(text, { offset: 0, type: R_X86_64_PC32, symbol: b.undefinedSymbol('.klp.sym.vmlinux.no_sympos'), addend: -4 });
    expect(() => finalizeKlp(b.toBuffer())).toThrow(/\.klp\.sym\.vmlinux\.no_sympos: not \.klp\.sym/);

    const d = new ObjectBuilder();
    const debug = d.addSection({ name: '.debug_info', data: new Uint8Array(8) });
    d.addRela(debug, { offset: 0, type: R_X86_64_PC32, symbol: d.undefinedSymbol('.klp.sym.vmlinux.x,0'), addend: 0 });
    expect(() => finalizeKlp(d.toBuffer())).toThrow(/referenced from \.debug_info, which is not loaded/);
  });
});
