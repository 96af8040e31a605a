// Objects with 0xff00 (65280) or more sections: e_shnum = 0 and the count in section 0's sh_size, e_shstrndx =
// SHN_XINDEX with the index in section 0's sh_link, and symbols in high sections through SHT_SYMTAB_SHNDX.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ElfObject, ObjectBuilder, R_X86_64_64, SHF_ALLOC, SHF_EXECINSTR, SHN_LORESERVE, SHN_XINDEX, SHT_SYMTAB_SHNDX,
  STT_FUNC, parseElf, relocationTypeName, sectionTypeName, symbolBindName, symbolTypeName, writeElf,
} from '../src';
import { plainSectionsView, relocationsView, symbolsView } from './helpers/compare';
import { manySectionsAsm } from './helpers/fixtures';
import { readelfNdx } from './helpers/oracle';
import { parseRelocations, parseSections, parseSymbols, readelfFlagLetters } from './helpers/readelf-parse';
import { Workdir, readelf, run } from './helpers/toolchain';

const FUNCTIONS = 70_000;
let work: Workdir;
let bytes: Buffer;
let obj: ElfObject;

beforeAll(() => {
  work = new Workdir();
  bytes = work.compile('many', manySectionsAsm(FUNCTIONS), 'asm');
  obj = parseElf(bytes);
});
afterAll(() => work?.remove());

/** Checks a many-section object against readelf (every section and symbol) and returns readelf -h text. */
function expectAgreesWithReadelf(o: ElfObject, file: string): void {
  const sections = parseSections(readelf('-S', file));
  expect(o.sections.map((s) => [s.index, s.name, sectionTypeName(s.type), s.offset, s.size, readelfFlagLetters(s.flags), s.link, s.info, s.addralign]))
    .toEqual(sections.map((s) => [s.index, s.name, s.type, s.offset, s.size, s.flags, s.link, s.info, s.align]));
  const symbols = parseSymbols(readelf('-s', file));
  expect(o.symbols.map((s) => [s.index, s.value, s.size, symbolTypeName(s.type), symbolBindName(s.bind), readelfNdx(s), o.symbolName(s)]))
    .toEqual(symbols.map((s) => [s.index, s.value, s.size, s.type, s.bind, s.ndx, s.name]));
}

describe(`${FUNCTIONS} sections (extended numbering)`, () => {
  it('reader agrees with readelf: counts, names, every section and symbol, high st_shndx', () => {
    const file = work.path('many.o');
    const header = readelf('-h', file);
    expect(header).toMatch(/Number of section headers:\s+0 \((\d+)\)/);
    expect(obj.header.shnum).toBe(0);
    expect(obj.header.shstrndx).toBe(SHN_XINDEX);
    expect(obj.header.sectionCount).toBe(Number(/Number of section headers:\s+0 \((\d+)\)/.exec(header)![1]));
    expect(obj.header.sectionNamesIndex).toBe(Number(/Section header string table index:\s+65535 \((\d+)\)/.exec(header)![1]));
    expect(obj.sections.length).toBeGreaterThan(FUNCTIONS);
    expect(obj.sections[0].size).toBe(obj.sections.length);
    expect(obj.sections[1].name).toBe('.text');
    expect(obj.sections[obj.sections.length - 1].name).toBe('.shstrtab');
    expect(obj.sections.filter((s) => s.type === SHT_SYMTAB_SHNDX)).toHaveLength(1);

    expectAgreesWithReadelf(obj, file);

    // Spot checks: low and high sections through SHN_XINDEX.
    const last = obj.symbolByName(`f${FUNCTIONS - 1}`)!;
    expect(last.rawShndx).toBe(SHN_XINDEX);
    expect(obj.sections[last.shndx].name).toBe(`.text.f${FUNCTIONS - 1}`);
    const first = obj.symbolByName('f0')!;
    expect(first.rawShndx).toBe(first.shndx);
    expect(obj.sections[first.shndx].name).toBe('.text.f0');
    expect(obj.symbols.filter((s) => s.rawShndx === SHN_XINDEX).every((s) => s.shndx >= SHN_LORESERVE)).toBe(true);

    // The relocation to the last function: symbol index past 65280, 64-bit addend.
    const relocs = parseRelocations(readelf('-r', file));
    const data = obj.sectionByName('.data')!;
    const ours = obj.relocationsFor(data.index).map((r) => ({
      offset: r.offset, info: (BigInt(r.symbol) << 32n) | BigInt(r.type), type: relocationTypeName(r.type), symbolName: obj.symbols[r.symbol].name, addend: r.addend,
    }));
    expect(ours).toEqual(relocs[0].entries);
    expect(ours[0]).toMatchObject({ type: relocationTypeName(R_X86_64_64), symbolName: `f${FUNCTIONS - 1}`, addend: 0x123456789abcdef0n });
  });

  it('round-trips byte-identical', () => {
    expect(writeElf(obj).equals(bytes)).toBe(true);
    expect(writeElf(obj, { keepGaps: false }).equals(bytes)).toBe(true);
  });

  it('the builder rewrites it: readelf and ld -r accept, contents equal', () => {
    const built = ObjectBuilder.fromElf(obj).toBuffer();
    const file = work.write('many.built.o', built);
    const rebuilt = parseElf(built);
    expect(rebuilt.header).toMatchObject({ shnum: 0, shstrndx: SHN_XINDEX, sectionCount: obj.sections.length });
    expectAgreesWithReadelf(rebuilt, file);
    expect(plainSectionsView(rebuilt)).toEqual(plainSectionsView(obj));
    expect(symbolsView(rebuilt)).toEqual(symbolsView(obj));
    expect(relocationsView(rebuilt)).toEqual(relocationsView(obj));
    run('ld', ['-r', '-o', work.path('many.linked.o'), file]);
    expect(parseElf(work.read('many.linked.o')).symbolByName(`f${FUNCTIONS - 1}`)!.rawShndx).toBe(SHN_XINDEX);
  });

  it.each([
    // total = null + n + .symtab .strtab .shstrtab
    ['exactly 0xff00 sections: e_shnum escapes, e_shstrndx (0xfeff) still fits', SHN_LORESERVE - 4, false],
    ['0xff01 sections: both escape', SHN_LORESERVE - 3, true],
  ])('builder at the boundary, %s', (_, plainSections, namesEscape) => {
    const b = new ObjectBuilder();
    let section = b.addSection({ name: '.text.s0', flags: SHF_ALLOC | SHF_EXECINSTR, data: Uint8Array.of(0xc3) });
    for (let i = 1; i < plainSections; i++) section = b.addSection({ name: `.text.s${i}`, flags: SHF_ALLOC | SHF_EXECINSTR, data: Uint8Array.of(0xc3) });
    b.addSymbol({ name: 'last', section, size: 1, type: STT_FUNC });
    const built = b.toBuffer();
    const file = work.write(`boundary-${plainSections}.o`, built);
    const o = parseElf(built);
    expect(o.header.shnum).toBe(0);
    expect(o.header.sectionCount).toBe(plainSections + 4);
    expect(o.header.shstrndx).toBe(namesEscape ? SHN_XINDEX : SHN_LORESERVE - 1);
    expect(o.sections.some((s) => s.type === SHT_SYMTAB_SHNDX)).toBe(false); // no symbol needs it
    expect(o.symbolByName('last')!.shndx).toBe(plainSections);
    expectAgreesWithReadelf(o, file);
  });
});
