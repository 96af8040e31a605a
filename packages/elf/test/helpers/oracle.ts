// Field-by-field comparison of a parsed ElfObject with what readelf prints for the same file.
import { expect } from 'vitest';
import {
  type ElfObject, type ElfSymbol, GRP_COMDAT, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHN_XINDEX, SHT_REL, SHT_RELA,
  relocationTypeName, sectionTypeName, symbolBindName, symbolTypeName, symbolVisibilityName,
} from '../../src';
import { readelf } from './toolchain';
import { parseGroups, parseRelocations, parseSections, parseSymbols, readelfFlagLetters } from './readelf-parse';

export interface OracleCounts {
  sections: number;
  symbols: number;
  relocations: number;
  groups: number;
}

/** How readelf prints a symbol's Ndx column. */
export function readelfNdx(symbol: ElfSymbol): string {
  if (symbol.rawShndx === SHN_XINDEX) return String(symbol.shndx);
  if (symbol.rawShndx === SHN_UNDEF) return 'UND';
  if (symbol.rawShndx === SHN_ABS) return 'ABS';
  if (symbol.rawShndx === SHN_COMMON) return 'COM';
  return String(symbol.rawShndx);
}

export function expectSectionsMatch(obj: ElfObject, file: string): number {
  const expected = parseSections(readelf('-S', file));
  expect(obj.sections.length).toBe(expected.length);
  obj.sections.forEach((s, i) => {
    const e = expected[i];
    expect({
      index: s.index, name: s.name, type: sectionTypeName(s.type), addr: s.addr, offset: s.offset, size: s.size,
      entsize: s.entsize, flags: readelfFlagLetters(s.flags), link: s.link, info: s.info, align: s.addralign,
    }).toEqual(e);
  });
  return expected.length;
}

export function expectSymbolsMatch(obj: ElfObject, file: string): number {
  const expected = parseSymbols(readelf('-s', file));
  expect(obj.symbols.length).toBe(expected.length);
  obj.symbols.forEach((sym, i) => {
    expect({
      index: sym.index, value: sym.value, size: sym.size, type: symbolTypeName(sym.type), bind: symbolBindName(sym.bind),
      vis: symbolVisibilityName(sym.visibility), ndx: readelfNdx(sym), name: obj.symbolName(sym),
    }).toEqual(expected[i]);
  });
  return expected.length;
}

export function expectRelocationsMatch(obj: ElfObject, file: string): number {
  const expected = parseRelocations(readelf('-r', file));
  const ours = obj.sections.filter((s) => s.type === SHT_RELA || s.type === SHT_REL);
  expect(ours.map((s) => s.name)).toEqual(expected.map((e) => e.section));
  let total = 0;
  ours.forEach((s, k) => {
    const entries = obj.relocations.get(s.index) ?? [];
    const actual = entries.map((r) => {
      const symbol = obj.relocationSymbol(s.index, r);
      return {
        offset: r.offset, info: (BigInt(r.symbol) << 32n) | BigInt(r.type), type: relocationTypeName(r.type),
        symbolName: r.symbol === 0 || !symbol ? '' : obj.symbolName(symbol), addend: r.addend,
      };
    });
    expect(actual).toEqual(expected[k].entries);
    total += entries.length;
  });
  return total;
}

export function expectGroupsMatch(obj: ElfObject, file: string): number {
  const expected = parseGroups(readelf('-g', file));
  const actual = [...obj.groups].map(([index, g]) => ({
    index,
    comdat: (g.flags & GRP_COMDAT) !== 0,
    signature: obj.groupSignature(index)?.name ?? '',
    members: g.members.map((m) => ({ index: m, name: obj.sections[m].name })),
  }));
  expect(actual).toEqual(expected);
  return actual.length;
}

/** Compares sections, symbols, relocations and groups with readelf; returns how many of each were checked. */
export function expectMatchesReadelf(obj: ElfObject, file: string): OracleCounts {
  return {
    sections: expectSectionsMatch(obj, file),
    symbols: expectSymbolsMatch(obj, file),
    relocations: expectRelocationsMatch(obj, file),
    groups: expectGroupsMatch(obj, file),
  };
}
