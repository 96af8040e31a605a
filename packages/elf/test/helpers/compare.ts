// Layout-independent views of an ElfObject, for comparing an object with a rebuilt one.
import { type ElfObject, SHT_GROUP, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX } from '../../src';

/** Sections without file offsets and name offsets (which a rebuild may change), with their bytes. */
export function sectionsView(obj: ElfObject) {
  return obj.sections.map((s) => ({
    index: s.index, name: s.name, type: s.type, flags: s.flags, addr: s.addr, size: s.size, link: s.link, info: s.info,
    addralign: s.addralign, entsize: s.entsize, data: Buffer.from(obj.sectionData(s.index)).toString('hex'),
  }));
}

/** Like sectionsView, but the bytes of the tables a rebuild regenerates (symbols, relocations, groups, extended
 * indices) are left out — compare them decoded — and so is the size of string tables, whose layout may differ. */
export function plainSectionsView(obj: ElfObject) {
  const tables = new Set([SHT_SYMTAB, SHT_RELA, SHT_REL, SHT_GROUP, SHT_SYMTAB_SHNDX]);
  return sectionsView(obj).map((s) => {
    if (s.type === SHT_STRTAB) return { ...s, data: '(strings)', size: -1 };
    return tables.has(s.type) ? { ...s, data: '(table)' } : s;
  });
}

export function symbolsView(obj: ElfObject) {
  return obj.symbols.map(({ nameOffset: _, ...rest }) => ({ ...rest, display: obj.symbolName(obj.symbols[rest.index]) }));
}

export function relocationsView(obj: ElfObject) {
  return [...obj.relocations].map(([index, relocs]) => ({
    section: obj.sections[index].name,
    target: obj.sections[obj.sections[index].info].name,
    relocs: relocs.map((r) => ({ ...r, symbolName: r.symbol === 0 ? '' : obj.symbolName(obj.symbols[r.symbol]) })),
  }));
}

export function groupsView(obj: ElfObject) {
  return [...obj.groups].map(([index, g]) => ({
    index, flags: g.flags, signature: obj.groupSignature(index)?.name, members: g.members.map((m) => obj.sections[m].name),
  }));
}
