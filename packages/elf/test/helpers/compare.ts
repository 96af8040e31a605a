// Layout-independent views of an ElfObject, for comparing an object with a rebuilt one. The builder writes the
// same sections in the same relative order, but it may move the tables it generates (objtool, for one, appends
// sections after .symtab in kernel objects), so indices are shown as the names they point at.
import {
  type ElfObject, SHF_INFO_LINK, SHF_LINK_ORDER, SHT_GROUP, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX,
  definedInSection,
} from '../../src';

const TABLES = new Set([SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_REL, SHT_GROUP, SHT_SYMTAB_SHNDX]);

/** Plain sections (not the generated tables) in order, with their bytes; links as section names. */
export function plainSectionsView(obj: ElfObject) {
  const linkName = (value: number, isSection: boolean) => (isSection && value !== 0 ? `section ${obj.sections[value]?.name}` : value);
  return obj.sections
    .filter((s) => s.index !== 0 && !TABLES.has(s.type))
    .map((s) => ({
      name: s.name, type: s.type, flags: s.flags, addr: s.addr, size: s.size, addralign: s.addralign, entsize: s.entsize,
      link: linkName(s.link, (s.flags & SHF_LINK_ORDER) !== 0n), info: linkName(s.info, (s.flags & SHF_INFO_LINK) !== 0n),
      data: Buffer.from(obj.sectionData(s.index)).toString('hex'),
    }));
}

export function symbolsView(obj: ElfObject) {
  return obj.symbols.map((s) => {
    const defined = definedInSection(s);
    return {
      index: s.index, name: s.name, value: s.value, size: s.size, bind: s.bind, type: s.type, other: s.other,
      section: defined === undefined ? `special ${s.rawShndx}` : obj.sections[defined]?.name, display: obj.symbolName(s),
    };
  });
}

export function relocationsView(obj: ElfObject) {
  return [...obj.relocations].map(([index, relocs]) => ({
    section: obj.sections[index].name,
    flags: obj.sections[index].flags,
    target: obj.sections[obj.sections[index].info].name,
    relocs: relocs.map((r) => ({ ...r, symbolName: r.symbol === 0 ? '' : obj.symbolName(obj.symbols[r.symbol]) })),
  }));
}

export function groupsView(obj: ElfObject) {
  return [...obj.groups].map(([index, g]) => ({
    name: obj.sections[index].name, flags: g.flags, signature: obj.groupSignature(index)?.name, members: g.members.map((m) => obj.sections[m].name),
  }));
}
