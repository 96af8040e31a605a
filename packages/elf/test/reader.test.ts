import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EM_X86_64, ET_DYN, ET_EXEC, ET_REL, ELFOSABI_GNU, ELFOSABI_NONE, ElfFile, type ElfObject, GRP_COMDAT,
  R_X86_64_64, R_X86_64_PLT32, SHF_ALLOC, SHF_EXECINSTR, SHF_GROUP, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_DYNSYM,
  SHT_GROUP, SHT_NOBITS, SHT_PROGBITS, STB_GLOBAL, STB_GNU_UNIQUE, STB_LOCAL, STB_WEAK, STT_FUNC, STT_GNU_IFUNC,
  STT_OBJECT, STT_SECTION, STT_TLS, STV_HIDDEN, STV_INTERNAL, STV_PROTECTED, definedInSection, parseElf,
} from '../src';
import { ASM_SOURCE, C_SOURCE, CXX_SOURCE } from './helpers/fixtures';
import { expectMatchesReadelf, expectSectionsMatch, expectSymbolsMatch } from './helpers/oracle';
import { parseSymbols } from './helpers/readelf-parse';
import { Workdir, readelf, run } from './helpers/toolchain';

let work: Workdir;
const objects: Record<'c' | 'cxx' | 'asm', { file: string; bytes: Buffer; obj: ElfObject }> = {} as never;

beforeAll(() => {
  work = new Workdir();
  for (const [key, source, kind] of [['c', C_SOURCE, 'c'], ['cxx', CXX_SOURCE, 'c++'], ['asm', ASM_SOURCE, 'asm']] as const) {
    const bytes = work.compile(key, source, kind);
    objects[key] = { file: work.path(`${key}.o`), bytes, obj: parseElf(bytes) };
  }
});
afterAll(() => work?.remove());

describe('reader agrees with readelf -W on compiled objects', () => {
  it.each(['c', 'cxx', 'asm'] as const)('%s object: sections, symbols, relocations, groups', (key) => {
    const { obj, file } = objects[key];
    const counts = expectMatchesReadelf(obj, file);
    expect(counts.sections).toBeGreaterThan(15);
    expect(counts.symbols).toBeGreaterThan(12);
    expect(counts.relocations).toBeGreaterThan(5);
    if (key !== 'c') expect(counts.groups).toBeGreaterThanOrEqual(2);
    if (key === 'cxx') expect(counts.groups).toBeGreaterThanOrEqual(3); // inline / template instances
  });

  it('header fields match readelf -h', () => {
    for (const { obj, file } of Object.values(objects)) {
      const text = readelf('-h', file);
      expect(obj.header.type).toBe(ET_REL);
      expect(obj.header.machine).toBe(EM_X86_64);
      expect(obj.header.sectionCount).toBe(Number(/Number of section headers:\s+(\d+)/.exec(text)![1]));
      expect(obj.header.sectionNamesIndex).toBe(Number(/Section header string table index:\s+(\d+)/.exec(text)![1]));
      expect(obj.header.shoff).toBe(Number(/Start of section headers:\s+(\d+)/.exec(text)![1]));
      expect(obj.header.osabi).toBe(/OS\/ABI:\s+UNIX - GNU/.test(text) ? ELFOSABI_GNU : ELFOSABI_NONE);
    }
    // GNU_UNIQUE / IFUNC symbols make GNU as mark the object ELFOSABI_GNU (a byte elfy reads from the wrong place).
    expect(objects.asm.obj.header.osabi).toBe(ELFOSABI_GNU);
    expect(objects.c.obj.header.osabi).toBe(ELFOSABI_NONE);
  });
});

describe('typed model', () => {
  it('keeps 64-bit addends and values exact', () => {
    const { obj } = objects.asm;
    const text = obj.sectionByName('.text')!;
    const addends = obj.relocationsFor(text.index).filter((r) => r.type === R_X86_64_64).map((r) => r.addend);
    expect(addends).toEqual([0x123456789abcdef0n, -0x7ffffffffffffff0n]);
    const bigAbs = obj.symbolByName('big_abs')!;
    expect(bigAbs.value).toBe(0xffffffff81000000n);
    expect(bigAbs.shndx).toBe(SHN_ABS);
    expect(definedInSection(bigAbs)).toBeUndefined();
  });

  it('decodes binding, type, visibility and special section indices', () => {
    const { obj } = objects.asm;
    const sym = (name: string) => obj.symbolByName(name)!;
    expect(sym('uniq_obj')).toMatchObject({ bind: STB_GNU_UNIQUE, type: STT_OBJECT, size: 4n });
    expect(sym('resolver')).toMatchObject({ bind: STB_GLOBAL, type: STT_GNU_IFUNC, value: 1n });
    expect(sym('hidden_fn').visibility).toBe(STV_HIDDEN);
    expect(sym('prot_obj').visibility).toBe(STV_PROTECTED);
    expect(sym('internal_obj').visibility).toBe(STV_INTERNAL);
    expect(sym('common_buf')).toMatchObject({ shndx: SHN_COMMON, value: 32n, size: 64n }); // COMMON: value = alignment
    expect(sym('weak_ref')).toMatchObject({ bind: STB_WEAK, shndx: SHN_UNDEF });
    expect(sym('tls_var')).toMatchObject({ type: STT_TLS, shndx: obj.sectionByName('.tbss')!.index });
    expect(sym('plain_helper').bind).toBe(STB_LOCAL);
  });

  it('groups: flags, members, signature and SHF_GROUP on members', () => {
    const { obj } = objects.asm;
    const groups = [...obj.groups.entries()];
    expect(groups.map(([i]) => obj.sections[i].type)).toEqual([SHT_GROUP, SHT_GROUP]);
    const [[comdatIndex, comdat], [plainIndex, plain]] = groups;
    expect(comdat.flags).toBe(GRP_COMDAT);
    expect(comdat.members.map((m) => obj.sections[m].name)).toEqual(['.text.grouped', '.rela.text.grouped', '.data.grouped', '.rela.data.grouped']);
    expect(obj.groupSignature(comdatIndex)!.name).toBe('grp_sig');
    expect(plain.flags).toBe(0);
    expect(obj.groupSignature(plainIndex)!.name).toBe('plain_sig');
    for (const m of comdat.members) expect(obj.sections[m].flags & SHF_GROUP).toBe(SHF_GROUP);
    expect(obj.groupOf(obj.sectionByName('.data.grouped')!.index)).toBe(comdatIndex);
    expect(obj.groupOf(obj.sectionByName('.text')!.index)).toBe(-1);
  });

  it('helpers: sections by name, symbols in a section, relocations for a section, data', () => {
    const { obj } = objects.c;
    const classify = obj.sectionByName('.text.classify')!;
    expect(classify.type).toBe(SHT_PROGBITS);
    expect(classify.flags & (SHF_ALLOC | SHF_EXECINSTR)).toBe(SHF_ALLOC | SHF_EXECINSTR);
    const defined = obj.symbolsInSection(classify.index);
    expect(defined.map((s) => [s.name, s.type])).toEqual([['', STT_SECTION], ['classify', STT_FUNC]]);
    expect(obj.sectionSymbol(classify.index)!.type).toBe(STT_SECTION);
    expect(Number(defined[1].size)).toBe(obj.sectionData(classify.index).length);

    const relocs = obj.relocationsFor(classify.index);
    const bySymbol = relocs.map((r) => [obj.symbolName(obj.symbols[r.symbol]), r.type, r.addend]);
    expect(bySymbol).toContainEqual(['__fentry__', R_X86_64_PLT32, -4n]);
    expect(bySymbol).toContainEqual(['ext_func', R_X86_64_PLT32, -4n]);
    // The fentry call is the first instruction: e8 at offset 0, relocation at 1.
    expect(relocs[0].offset).toBe(1n);
    expect(obj.sectionData(classify.index)[0]).toBe(0xe8);

    const strings = obj.sections.filter((s) => s.name.startsWith('.rodata') && s.name.includes('str1'));
    expect(strings.some((s) => Buffer.from(obj.sectionData(s.index)).includes('unknown name\0'))).toBe(true);
    expect(obj.sectionByName('.sched.text')).toBeDefined();
    expect(obj.symbolsInSection(obj.sectionByName('.sched.text')!.index).map((s) => s.name)).toContain('forced_section');
    expect(obj.sectionData(obj.sectionByName('.bss.bss_value')!.index).length).toBe(0); // NOBITS has no file bytes
    expect(obj.sectionByName('.bss.bss_value')).toMatchObject({ type: SHT_NOBITS, size: 4 });
    expect(obj.sectionByName('no such section')).toBeUndefined();
  });

  it('ElfFile over a file descriptor reads the same as parseElf over a buffer', () => {
    const { obj, file } = objects.cxx;
    const lazy = ElfFile.open(file);
    try {
      expect(lazy.sections).toEqual(obj.sections);
      expect(lazy.symbols()).toEqual(obj.symbols);
      for (const [index, relocs] of obj.relocations) expect(lazy.relocations(index)).toEqual(relocs);
      for (const [index, group] of obj.groups) expect(lazy.group(index)).toEqual(group);
      expect(Buffer.from(lazy.sectionData(5))).toEqual(Buffer.from(obj.sectionData(5)));
    } finally {
      lazy.close();
    }
  });
});

describe('executables and shared objects (as later stages read vmlinux)', () => {
  const PT_NAMES: Record<number, string> = {
    1: 'LOAD', 2: 'DYNAMIC', 3: 'INTERP', 4: 'NOTE', 6: 'PHDR', 7: 'TLS',
    0x6474e550: 'GNU_EH_FRAME', 0x6474e551: 'GNU_STACK', 0x6474e552: 'GNU_RELRO', 0x6474e553: 'GNU_PROPERTY',
  };

  function expectProgramHeadersMatch(file: string): number {
    const lines = readelf('-l', file).split('\n');
    const rows = lines
      .map((l) => /^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    const elf = ElfFile.open(file);
    try {
      const actual = elf.programHeaders().map((p) => [
        PT_NAMES[p.type], p.offset, p.vaddr, p.paddr, p.filesz, p.memsz,
        `${p.flags & 4 ? 'R' : ' '}${p.flags & 2 ? 'W' : ' '}${p.flags & 1 ? 'E' : ' '}`, p.align,
      ]);
      const expected = rows.map((m) => [
        m[1], parseInt(m[2], 16), BigInt(`0x${m[3]}`), BigInt(`0x${m[4]}`), parseInt(m[5], 16), BigInt(`0x${m[6]}`), m[7], BigInt(`0x${m[8]}`),
      ]);
      expect(actual).toEqual(expected);
    } finally {
      elf.close();
    }
    return rows.length;
  }

  it('ET_EXEC: program headers, sections and symbols', () => {
    work.write('exe.c', 'int data = 3; void _start(void) { for (;;) data++; }\n');
    run('gcc-12', ['-O2', '-nostdlib', '-static', '-no-pie', '-o', work.path('exe'), work.path('exe.c')]);
    const obj = parseElf(work.read('exe'));
    expect(obj.header.type).toBe(ET_EXEC);
    expect(expectProgramHeadersMatch(work.path('exe'))).toBeGreaterThanOrEqual(2);
    expectSectionsMatch(obj, work.path('exe'));
    expectSymbolsMatch(obj, work.path('exe'));
    expect(obj.symbolByName('_start')!.value).toBe(obj.header.entry);
  });

  it('ET_DYN: .dynsym through ElfFile.symbols(index)', () => {
    work.write('lib.c', 'int exported(int x) { return x + 1; }\nint counter;\n');
    run('gcc-12', ['-O2', '-shared', '-fPIC', '-nostdlib', '-o', work.path('lib.so'), work.path('lib.c')]);
    const file = work.path('lib.so');
    expect(parseElf(work.read('lib.so')).header.type).toBe(ET_DYN);
    expectProgramHeadersMatch(file);
    const elf = ElfFile.open(file);
    try {
      const dynsym = elf.symbols(elf.symbolTableIndex(SHT_DYNSYM));
      const expected = parseSymbols(readelf('--dyn-syms', file), '.dynsym');
      expect(dynsym.map((s) => [s.index, s.name, s.value, s.size])).toEqual(expected.map((s) => [s.index, s.name, s.value, s.size]));
      expect(dynsym.map((s) => s.name)).toContain('exported');
    } finally {
      elf.close();
    }
  });
});
