import { asBuffer } from './byte-source';
import { SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_GROUP, SHT_REL, SHT_RELA, STT_SECTION } from './constants';
import { ElfFile, symbolDisplayName } from './elf-file';
import { ElfError } from './errors';
import type { ElfHeader, ElfSection, ElfSymbol, ProgramHeader, ReadOptions, Relocation, SectionGroup } from './types';

/**
 * A whole ELF file read into memory (meant for relocatable objects, works for any type): sections, the .symtab,
 * every RELA/REL section's entries and every group, decoded up front and checked. The model is plain mutable
 * data; writeElf() serializes it back at the same offsets (byte-identical when nothing changed). For changes in
 * layout (adding or removing sections, symbols, relocations) use ObjectBuilder.fromElf().
 */
export class ElfObject {
  /** Index of the .symtab section (-1 if none). */
  readonly symtabIndex: number;
  readonly symbols: ElfSymbol[];
  /** Entries of each relocation section, keyed by the relocation section's index. */
  readonly relocations = new Map<number, Relocation[]>();
  /** Each SHT_GROUP section, keyed by its index. */
  readonly groups = new Map<number, SectionGroup>();
  readonly programHeaders: ProgramHeader[];
  private byName: Map<string, ElfSection> | undefined;

  constructor(
    readonly header: ElfHeader,
    readonly sections: ElfSection[],
    /** Each section's bytes as read (views into `image`; empty for NOBITS). */
    readonly data: Uint8Array[],
    /** The original file; writeElf() keeps its bytes in gaps the model does not describe. */
    readonly image: Buffer,
    file: ElfFile,
  ) {
    this.symtabIndex = file.symbolTableIndex();
    this.symbols = file.symbols(this.symtabIndex);
    for (const s of sections) {
      if (s.type === SHT_RELA || s.type === SHT_REL) this.relocations.set(s.index, file.relocations(s.index));
      else if (s.type === SHT_GROUP) this.groups.set(s.index, file.group(s.index));
    }
    this.programHeaders = file.programHeaders();
  }

  section(index: number): ElfSection {
    const section = this.sections[index];
    if (!section) throw new ElfError(`no section [${index}] (the object has ${this.sections.length})`);
    return section;
  }

  /** First section with this name. */
  sectionByName(name: string): ElfSection | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const s of this.sections) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    }
    return this.byName.get(name);
  }

  sectionData(index: number): Uint8Array {
    this.section(index);
    return this.data[index];
  }

  /** First symbol with this name (local or global). */
  symbolByName(name: string): ElfSymbol | undefined {
    return this.symbols.find((s) => s.name === name);
  }

  /** Symbols defined in a section, in symbol-table order. */
  symbolsInSection(sectionIndex: number): ElfSymbol[] {
    return this.symbols.filter((s) => definedInSection(s) === sectionIndex);
  }

  /** The section symbol (STT_SECTION) for a section, if the object has one. */
  sectionSymbol(sectionIndex: number): ElfSymbol | undefined {
    return this.symbols.find((s) => s.type === STT_SECTION && definedInSection(s) === sectionIndex);
  }

  /** What readelf shows as a symbol's name: the section name for section symbols without one. */
  symbolName(symbol: ElfSymbol): string {
    return symbolDisplayName(symbol, this.sections);
  }

  /** Relocation sections (RELA or REL) whose sh_info names `sectionIndex` as the section they apply to. */
  relocationSectionsFor(sectionIndex: number): ElfSection[] {
    return this.sections.filter((s) => (s.type === SHT_RELA || s.type === SHT_REL) && s.info === sectionIndex);
  }

  /** All relocations that apply to a section (from every relocation section targeting it). */
  relocationsFor(sectionIndex: number): Relocation[] {
    return this.relocationSectionsFor(sectionIndex).flatMap((s) => this.relocations.get(s.index) ?? []);
  }

  /** The symbol a relocation refers to, given the relocation section it came from. */
  relocationSymbol(relocationSectionIndex: number, relocation: Relocation): ElfSymbol | undefined {
    const link = this.section(relocationSectionIndex).link;
    return link === this.symtabIndex ? this.symbols[relocation.symbol] : undefined;
  }

  /** The group's signature symbol (the symtab entry named by the group section's sh_info). */
  groupSignature(groupIndex: number): ElfSymbol | undefined {
    const s = this.section(groupIndex);
    return s.link === this.symtabIndex ? this.symbols[s.info] : undefined;
  }

  /** Index of the group section containing a section, or -1. */
  groupOf(sectionIndex: number): number {
    for (const [index, group] of this.groups) if (group.members.includes(sectionIndex)) return index;
    return -1;
  }
}

/** The section a symbol is defined in, or undefined for undefined/absolute/common/other special symbols. */
export function definedInSection(symbol: ElfSymbol): number | undefined {
  if (symbol.rawShndx === SHN_XINDEX) return symbol.shndx;
  if (symbol.rawShndx === SHN_UNDEF || symbol.rawShndx >= SHN_LORESERVE) return undefined;
  return symbol.rawShndx;
}

/** Reads a whole ELF64 little-endian file from memory. Malformed input throws ElfError. */
export function parseElf(bytes: Uint8Array, options: ReadOptions = {}): ElfObject {
  const image = asBuffer(bytes);
  const file = ElfFile.fromBytes(image, options);
  const sections = file.sections as ElfSection[]; // the file object is private to this call: no copy needed
  const data = sections.map((s) => file.sectionData(s.index));
  return new ElfObject({ ...file.header, identPadding: Uint8Array.from(file.header.identPadding) }, sections, data, image, file);
}
