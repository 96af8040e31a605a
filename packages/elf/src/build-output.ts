// Serializes an ObjectBuilder: assigns indices, generates the tables, lays the file out.
import type { BuildGroup, BuildRelaSection, BuildSection, BuildSymbol, SectionLink } from './builder-types';
import {
  EHDR_SIZE, ET_REL, EV_CURRENT, GROUP_WORD_SIZE, RELA_SIZE, SHDR_SIZE, SHF_GROUP, SHF_INFO_LINK, SHN_LORESERVE,
  SHN_UNDEF, SHN_XINDEX, SHNDX_ENTRY_SIZE, SHT_GROUP, SHT_NOBITS, SHT_NULL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB,
  SHT_SYMTAB_SHNDX, STB_LOCAL, SYM_SIZE,
} from './constants';
import { ElfError, encodeEach, encoding } from './errors';
import type { ObjectBuilder } from './object-builder';
import { StringTableBuilder } from './strings';
import { encodeHeader, encodeRelocation, encodeSectionHeader, encodeSymbol } from './structs';
import type { ElfSection } from './types';

/** One output section header plus its bytes. */
interface OutSection {
  header: Omit<ElfSection, 'index' | 'nameOffset' | 'offset' | 'size'>;
  /** Bytes, or for NOBITS the size. */
  content: Uint8Array | number;
}

export function serialize(b: ObjectBuilder): Buffer {
  check(b);
  const groupOf = new Map<BuildSection, BuildGroup>();
  for (const g of b.groups) for (const m of g.members) if (!groupOf.has(m)) groupOf.set(m, g);

  // Section order: null, groups (the gABI wants them before their members), each plain section followed by
  // its relocation sections, then .symtab [.symtab_shndx] .strtab .shstrtab.
  const index = new Map<BuildSection | BuildRelaSection | BuildGroup, number>();
  const order: (BuildSection | BuildRelaSection | BuildGroup)[] = [];
  const place = (item: BuildSection | BuildRelaSection | BuildGroup) => {
    index.set(item, order.length + 1);
    order.push(item);
  };
  b.groups.forEach(place);
  const relasByTarget = new Map<BuildSection, BuildRelaSection[]>();
  for (const r of b.relaSections) {
    const list = relasByTarget.get(r.target);
    if (list) list.push(r);
    else relasByTarget.set(r.target, [r]);
  }
  for (const s of b.sections) {
    place(s);
    for (const r of relasByTarget.get(s) ?? []) place(r);
  }
  const symtabIndex = order.length + 1;

  // Symbols: the null symbol, locals, then globals and weaks (sh_info of .symtab = index of the first non-local).
  const locals = b.symbols.filter((s) => s.bind === STB_LOCAL);
  const symbols = [...locals, ...b.symbols.filter((s) => s.bind !== STB_LOCAL)];
  const symbolIndex = new Map<BuildSymbol, number>(symbols.map((s, i) => [s, i + 1]));
  const symIndex = (s: BuildSymbol | null) => (s === null ? 0 : symbolIndex.get(s)!);
  const sectionOfSymbol = (s: BuildSymbol) => (typeof s.section === 'number' ? s.section : index.get(s.section)!);
  const needsExtendedIndices = symbols.some((s) => typeof s.section !== 'number' && sectionOfSymbol(s) >= SHN_LORESERVE);
  const strtabIndex = symtabIndex + (needsExtendedIndices ? 2 : 1);
  const shstrtabIndex = strtabIndex + 1;
  const sectionCount = shstrtabIndex + 1;

  const linkValue = (link: SectionLink): number => (link === 'symtab' ? symtabIndex : typeof link === 'number' ? link : index.get(link)!);
  const groupFlag = (s: BuildSection) => (groupOf.has(s) ? SHF_GROUP : 0n);

  const out: OutSection[] = [];
  for (const item of order) {
    if ('signature' in item) out.push(groupSection(item, symIndex(item.signature), symtabIndex, (s) => [index.get(s)!, ...(relasByTarget.get(s) ?? []).map((r) => index.get(r)!)]));
    else if ('target' in item) out.push(relaSection(item, symtabIndex, index.get(item.target)!, groupFlag(item.target), symIndex));
    else {
      out.push({
        header: {
          name: item.name, type: item.type, flags: (item.flags & ~SHF_GROUP) | groupFlag(item), addr: item.addr,
          link: linkValue(item.link), info: linkValue(item.info), addralign: item.align, entsize: item.entsize,
        },
        content: item.type === SHT_NOBITS ? item.size : item.data,
      });
    }
  }

  const strtab = new StringTableBuilder('.strtab');
  for (const s of symbols) strtab.add(s.name);
  const strings = strtab.finish();
  const symtabBytes = Buffer.alloc((symbols.length + 1) * SYM_SIZE);
  const shndxBytes = Buffer.alloc(needsExtendedIndices ? (symbols.length + 1) * SHNDX_ENTRY_SIZE : 0);
  encodeEach(symbols, (s, k) => `symbol ${s.name || k + 1}`, (s, k) => {
    const i = k + 1;
    const shndx = sectionOfSymbol(s);
    const extended = typeof s.section !== 'number' && shndx >= SHN_LORESERVE;
    if (extended) shndxBytes.writeUInt32LE(shndx, i * SHNDX_ENTRY_SIZE);
    encodeSymbol({
      nameOffset: strtab.offsetOf(s.name), bind: s.bind, type: s.type, other: s.otherFlags, visibility: s.visibility,
      rawShndx: extended ? SHN_XINDEX : shndx, value: s.value, size: s.size,
    }, symtabBytes, i * SYM_SIZE);
  });
  out.push({ header: table('.symtab', SHT_SYMTAB, strtabIndex, locals.length + 1, 8, SYM_SIZE), content: symtabBytes });
  if (needsExtendedIndices) out.push({ header: table('.symtab_shndx', SHT_SYMTAB_SHNDX, symtabIndex, 0, 4, SHNDX_ENTRY_SIZE), content: shndxBytes });
  out.push({ header: table('.strtab', SHT_STRTAB, 0, 0, 1, 0), content: strings });
  out.push({ header: table('.shstrtab', SHT_STRTAB, 0, 0, 1, 0), content: new Uint8Array(0) });

  const shstrtab = new StringTableBuilder('.shstrtab');
  for (const s of out) shstrtab.add(s.header.name);
  const sectionNames = shstrtab.finish();
  out[out.length - 1].content = sectionNames;

  return layout(b, out, shstrtab, sectionCount, shstrtabIndex);
}

function table(name: string, type: number, link: number, info: number, align: number, entsize: number): OutSection['header'] {
  return { name, type, flags: 0n, addr: 0n, link, info, addralign: align, entsize };
}

function groupSection(g: BuildGroup, signature: number, symtabIndex: number, memberIndices: (s: BuildSection) => number[]): OutSection {
  const words = [g.flags, ...g.members.flatMap(memberIndices)];
  const bytes = Buffer.alloc(words.length * GROUP_WORD_SIZE);
  encodeEach(words, () => `group ${g.name}`, (w, i) => bytes.writeUInt32LE(w, i * GROUP_WORD_SIZE));
  return { header: table(g.name, SHT_GROUP, symtabIndex, signature, 4, GROUP_WORD_SIZE), content: bytes };
}

function relaSection(r: BuildRelaSection, symtabIndex: number, target: number, groupFlag: bigint, symIndex: (s: BuildSymbol | null) => number): OutSection {
  const bytes = Buffer.alloc(r.relocations.length * RELA_SIZE);
  encodeEach(r.relocations, (_, k) => `relocation ${k} of ${r.name}`, (rel, k) =>
    encodeRelocation({ offset: rel.offset, type: rel.type, symbol: symIndex(rel.symbol), addend: rel.addend }, bytes, k * RELA_SIZE, true),
  );
  return {
    header: { ...table(r.name, SHT_RELA, symtabIndex, target, 8, RELA_SIZE), flags: ((r.flags | SHF_INFO_LINK) & ~SHF_GROUP) | groupFlag },
    content: bytes,
  };
}

/**
 * File offsets are aligned to sh_addralign, but to at most this. ELF asks relocatable objects for aligned
 * addresses, not aligned file offsets; the cap keeps a 2 MiB-aligned section (or a corrupt alignment read from
 * an input) from padding the file with megabytes of zeros. (GNU as pads fully.)
 */
export const MAX_FILE_ALIGNMENT = 4096;

/** Assigns file offsets (each section aligned, headers at the end) and writes the file. */
function layout(b: ObjectBuilder, out: OutSection[], shstrtab: StringTableBuilder, sectionCount: number, shstrtabIndex: number): Buffer {
  let cursor = EHDR_SIZE;
  const offsets: number[] = [];
  for (const s of out) {
    const align = s.header.addralign;
    if (!Number.isSafeInteger(align) || align < 0 || (align > 0 && !Number.isInteger(Math.log2(align)))) {
      throw new ElfError(`section ${s.header.name}: alignment ${align} is not 0 or a power of two`);
    }
    const offset = alignUp(cursor, Math.min(MAX_FILE_ALIGNMENT, Math.max(1, align)));
    offsets.push(offset);
    if (typeof s.content !== 'number') cursor = offset + s.content.length;
  }
  const shoff = alignUp(cursor, 8);
  const file = Buffer.alloc(shoff + sectionCount * SHDR_SIZE);

  // Section 0: all zero, except that it carries the count and the name-table index when they do not fit.
  const extendedCount = sectionCount >= SHN_LORESERVE;
  const extendedNames = shstrtabIndex >= SHN_LORESERVE;
  encodeSectionHeader({ nameOffset: 0, type: SHT_NULL, flags: 0n, addr: 0n, offset: 0, size: extendedCount ? sectionCount : 0, link: extendedNames ? shstrtabIndex : 0, info: 0, addralign: 0, entsize: 0 }, file, shoff);
  encodeEach(out, (s) => `section header ${s.header.name}`, (s, k) => {
    const h = s.header;
    const size = typeof s.content === 'number' ? s.content : s.content.length;
    if (typeof s.content !== 'number') file.set(s.content, offsets[k]);
    const record = { nameOffset: shstrtab.offsetOf(h.name), type: h.type, flags: h.flags, addr: h.addr, offset: offsets[k], size, link: h.link, info: h.info, addralign: h.addralign, entsize: h.entsize };
    encodeSectionHeader(record, file, shoff + (k + 1) * SHDR_SIZE);
  });
  encoding('ELF header', () =>
    encodeHeader({
      osabi: b.osabi, abiVersion: b.abiVersion, identPadding: new Uint8Array(7), type: ET_REL, machine: b.machine, version: EV_CURRENT,
      entry: 0n, phoff: 0, shoff, flags: b.flags, ehsize: EHDR_SIZE, phentsize: 0, phnum: 0, shentsize: SHDR_SIZE,
      shnum: extendedCount ? 0 : sectionCount, shstrndx: extendedNames ? SHN_XINDEX : shstrtabIndex,
    }, file),
  );
  return file;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Every reference in the model must point at something that is still in the builder. */
function check(b: ObjectBuilder): void {
  const sections = new Set(b.sections);
  if (sections.size !== b.sections.length) throw new ElfError('a section was added to the builder twice');
  const symbols = new Set(b.symbols);
  if (symbols.size !== b.symbols.length) throw new ElfError('a symbol was added to the builder twice');
  const symbolName = (s: BuildSymbol) => JSON.stringify(s.name || '(unnamed)');
  for (const s of b.sections) {
    for (const link of [s.link, s.info]) {
      if (typeof link === 'object' && !sections.has(link)) throw new ElfError(`section ${s.name}: sh_link/sh_info refers to section ${link.name}, which is not in the builder`);
    }
  }
  for (const s of b.symbols) {
    if (typeof s.section === 'number') {
      if (s.section !== SHN_UNDEF && (s.section < SHN_LORESERVE || s.section === SHN_XINDEX)) {
        throw new ElfError(`symbol ${symbolName(s)}: section ${s.section} must be a section object or a special index (SHN_UNDEF, SHN_ABS, ...)`);
      }
    } else if (!sections.has(s.section)) {
      throw new ElfError(`symbol ${symbolName(s)} is defined in section ${s.section.name}, which is not in the builder`);
    }
  }
  for (const r of b.relaSections) {
    if (!sections.has(r.target)) throw new ElfError(`relocation section ${r.name} applies to section ${r.target.name}, which is not in the builder`);
    r.relocations.forEach((rel, k) => {
      if (rel.symbol && !symbols.has(rel.symbol)) throw new ElfError(`relocation ${k} in ${r.name} refers to symbol ${symbolName(rel.symbol)}, which is not in the builder`);
    });
  }
  for (const g of b.groups) {
    if (!symbols.has(g.signature)) throw new ElfError(`group ${g.name}: signature symbol ${symbolName(g.signature)} is not in the builder`);
    for (const m of g.members) if (!sections.has(m)) throw new ElfError(`group ${symbolName(g.signature)}: member ${m.name} is not in the builder`);
  }
}
