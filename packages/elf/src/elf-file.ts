import { BufferSource, type ByteSource, FileSource } from './byte-source';
import {
  EI_CLASS, EI_DATA, EI_VERSION, EHDR_SIZE, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, PHDR_SIZE, REL_SIZE,
  RELA_SIZE, SHDR_SIZE, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHNDX_ENTRY_SIZE, SHT_DYNSYM, SHT_GROUP, SHT_NOBITS,
  SHT_NULL, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, STT_SECTION, SYM_SIZE, GROUP_WORD_SIZE,
} from './constants';
import { ElfError } from './errors';
import { sectionTypeName } from './names';
import { readCString } from './strings';
import { decodeHeader, decodeProgramHeader, decodeRelocation, decodeSectionHeader, decodeSymbol } from './structs';
import type { ElfHeader, ElfSection, ElfSymbol, ProgramHeader, ReadOptions, Relocation, SectionGroup } from './types';

/** No table may hold more entries than this, whatever the file claims (about 400 MB of symbols). */
export const MAX_ENTRIES = 1 << 24;

/** e_phnum value meaning "the real count is in section 0's sh_info". */
const PN_XNUM = 0xffff;

/**
 * Lazy reader for any ELF64 little-endian file: header, section headers and names are read when opened; symbols,
 * relocations, groups, program headers and section bytes only when asked for (and then cached). Works over a
 * buffer or over a file descriptor, so `ElfFile.open('vmlinux')` reads kilobytes, not the whole image.
 */
export class ElfFile {
  readonly header: ElfHeader;
  readonly sections: readonly ElfSection[];
  private readonly stringTables = new Map<number, Buffer>();
  private readonly symbolTables = new Map<number, ElfSymbol[]>();
  private phdrs: ProgramHeader[] | undefined;

  static fromBytes(bytes: Uint8Array, options: ReadOptions = {}): ElfFile {
    return new ElfFile(new BufferSource(bytes), options);
  }

  /** Opens a file for positioned reads; call close() when done. */
  static open(path: string, options: ReadOptions = {}): ElfFile {
    const source = new FileSource(path);
    try {
      return new ElfFile(source, options);
    } catch (error) {
      source.close();
      throw error;
    }
  }

  constructor(
    readonly source: ByteSource,
    options: ReadOptions = {},
  ) {
    const { header, sections } = readHeaders(source, options);
    this.header = header;
    this.sections = sections;
  }

  get size(): number {
    return this.source.size;
  }

  close(): void {
    this.source.close();
  }

  section(index: number): ElfSection {
    const section = this.sections[index];
    if (!section) throw new ElfError(`no section [${index}] (the file has ${this.sections.length})`);
    return section;
  }

  /** First section with this name. */
  sectionByName(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The section's bytes (empty for SHT_NOBITS and SHT_NULL). */
  sectionData(index: number): Buffer {
    const s = this.section(index);
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) return Buffer.alloc(0);
    return this.source.read(s.offset, s.size, `section [${index}] ${s.name}`);
  }

  programHeaders(): ProgramHeader[] {
    if (!this.phdrs) this.phdrs = readProgramHeaders(this.source, this.header, this.sections);
    return this.phdrs;
  }

  /** Index of the first section of this type (SHT_SYMTAB by default), or -1. */
  symbolTableIndex(type: number = SHT_SYMTAB): number {
    return this.sections.findIndex((s) => s.type === type);
  }

  /** Symbols of a SHT_SYMTAB / SHT_DYNSYM section (default: the .symtab; none → []). Extended indices resolved. */
  symbols(tableIndex: number = this.symbolTableIndex()): ElfSymbol[] {
    if (tableIndex < 0) return [];
    let symbols = this.symbolTables.get(tableIndex);
    if (!symbols) {
      symbols = this.readSymbols(tableIndex);
      this.symbolTables.set(tableIndex, symbols);
    }
    return symbols;
  }

  /** What readelf shows as a symbol's name: the section's name for a nameless section symbol. */
  symbolName(symbol: ElfSymbol): string {
    return symbolDisplayName(symbol, this.sections);
  }

  /** The string at `offset` of string table section `tableIndex`. */
  stringAt(tableIndex: number, offset: number): string {
    const s = this.section(tableIndex);
    return readCString(this.stringTable(tableIndex, 'string lookup'), offset, s.offset, `string table [${tableIndex}] ${s.name}`);
  }

  /** Entries of a SHT_RELA or SHT_REL section; symbol indices are checked against its sh_link symbol table. */
  relocations(sectionIndex: number): Relocation[] {
    const s = this.section(sectionIndex);
    const what = `relocation section [${sectionIndex}] ${s.name}`;
    if (s.type !== SHT_RELA && s.type !== SHT_REL) throw new ElfError(`${what} is ${sectionTypeName(s.type)}, not RELA/REL`);
    const withAddend = s.type === SHT_RELA;
    const entrySize = withAddend ? RELA_SIZE : REL_SIZE;
    const count = tableCount(s, entrySize, what);
    const symbolCount = s.link === SHN_UNDEF ? Infinity : this.symbolCount(s.link, what);
    const data = this.sectionData(sectionIndex);
    const relocations = new Array<Relocation>(count);
    for (let i = 0; i < count; i++) {
      const r = decodeRelocation(data, i * entrySize, withAddend);
      if (r.symbol >= symbolCount) {
        throw new ElfError(`${what}: entry ${i} refers to symbol ${r.symbol}, but the symbol table has ${symbolCount}`, s.offset + i * entrySize + 12);
      }
      relocations[i] = r;
    }
    return relocations;
  }

  /** A SHT_GROUP section: flag word and member section indices. */
  group(sectionIndex: number): SectionGroup {
    const s = this.section(sectionIndex);
    const what = `group section [${sectionIndex}] ${s.name}`;
    if (s.type !== SHT_GROUP) throw new ElfError(`${what} is ${sectionTypeName(s.type)}, not GROUP`);
    if (s.size < GROUP_WORD_SIZE || s.size % GROUP_WORD_SIZE !== 0) throw new ElfError(`${what}: size ${s.size} is not a whole number of 4-byte words`, s.offset);
    const data = this.sectionData(sectionIndex);
    const count = s.size / GROUP_WORD_SIZE - 1;
    if (count > MAX_ENTRIES) throw new ElfError(`${what}: ${count} members is too many`, s.offset);
    const members = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const member = data.readUInt32LE(GROUP_WORD_SIZE * (i + 1));
      if (member === 0 || member >= this.sections.length) {
        throw new ElfError(`${what}: member ${i} is section ${member}, which does not exist`, s.offset + GROUP_WORD_SIZE * (i + 1));
      }
      members[i] = member;
    }
    return { flags: data.readUInt32LE(0), members };
  }

  /** Number of entries in a symbol table section, without reading it. */
  private symbolCount(tableIndex: number, user: string): number {
    const table = this.sections[tableIndex];
    if (!table || (table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM)) {
      throw new ElfError(`${user}: sh_link ${tableIndex} is not a symbol table`);
    }
    return tableCount(table, SYM_SIZE, `symbol table [${tableIndex}] ${table.name}`);
  }

  private stringTable(index: number, user: string): Buffer {
    let table = this.stringTables.get(index);
    if (!table) {
      const s = this.sections[index];
      if (!s || s.type !== SHT_STRTAB) throw new ElfError(`${user}: section ${index} is not a string table`);
      table = this.sectionData(index);
      this.stringTables.set(index, table);
    }
    return table;
  }

  private readSymbols(tableIndex: number): ElfSymbol[] {
    const s = this.section(tableIndex);
    const what = `symbol table [${tableIndex}] ${s.name}`;
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) throw new ElfError(`${what} is ${sectionTypeName(s.type)}, not SYMTAB/DYNSYM`);
    const count = tableCount(s, SYM_SIZE, what);
    const strings = this.stringTable(s.link, what);
    const stringsAt = this.sections[s.link].offset;
    const data = this.sectionData(tableIndex);
    let extended: Buffer | undefined;
    const symbols = new Array<ElfSymbol>(count);
    for (let i = 0; i < count; i++) {
      const symbol = decodeSymbol(data, i * SYM_SIZE, i);
      if (symbol.rawShndx === SHN_XINDEX) {
        extended ??= this.extendedIndexTable(tableIndex, count, what);
        symbol.shndx = extended.readUInt32LE(i * SHNDX_ENTRY_SIZE);
      }
      symbol.name = readCString(strings, symbol.nameOffset, stringsAt, what);
      symbols[i] = symbol;
    }
    return symbols;
  }

  /** The SHT_SYMTAB_SHNDX section that belongs to a symbol table (its sh_link names the table). */
  private extendedIndexTable(tableIndex: number, count: number, what: string): Buffer {
    const index = this.sections.findIndex((s) => s.type === SHT_SYMTAB_SHNDX && s.link === tableIndex);
    if (index < 0) throw new ElfError(`${what}: a symbol uses SHN_XINDEX but there is no SYMTAB_SHNDX section for the table`);
    const s = this.sections[index];
    if (s.size < count * SHNDX_ENTRY_SIZE) {
      throw new ElfError(`${what}: SYMTAB_SHNDX [${index}] has ${s.size} bytes, ${count * SHNDX_ENTRY_SIZE} needed`, s.offset);
    }
    return this.sectionData(index);
  }
}

/** A symbol's name, or for a nameless STT_SECTION symbol the name of its section (as readelf prints it). */
export function symbolDisplayName(symbol: ElfSymbol, sections: readonly ElfSection[]): string {
  if (symbol.name !== '' || symbol.type !== STT_SECTION) return symbol.name;
  const index = symbol.rawShndx === SHN_XINDEX ? symbol.shndx : symbol.rawShndx;
  return index < SHN_LORESERVE || symbol.rawShndx === SHN_XINDEX ? sections[index]?.name ?? '' : '';
}

/** Entry count of a table section, requiring the standard entry size. */
function tableCount(s: ElfSection, entrySize: number, what: string): number {
  if (s.entsize !== entrySize) throw new ElfError(`${what}: sh_entsize is ${s.entsize}, expected ${entrySize}`);
  if (s.size % entrySize !== 0) throw new ElfError(`${what}: size ${s.size} is not a multiple of ${entrySize}`);
  const count = s.size / entrySize;
  if (count > MAX_ENTRIES) throw new ElfError(`${what}: ${count} entries is too many`);
  return count;
}

function readHeaders(source: ByteSource, options: ReadOptions): { header: ElfHeader; sections: ElfSection[] } {
  if (source.size < EHDR_SIZE) throw new ElfError(`file is ${source.size} bytes, too small for an ELF header`);
  const ident = source.read(0, EHDR_SIZE, 'ELF header');
  if (!ELFMAG.every((byte, i) => ident[i] === byte)) throw new ElfError('not an ELF file (bad magic)');
  if (ident[EI_CLASS] !== ELFCLASS64) throw new ElfError(`ELF class ${ident[EI_CLASS]} is not ELFCLASS64`, EI_CLASS);
  if (ident[EI_DATA] !== ELFDATA2LSB) throw new ElfError(`ELF data encoding ${ident[EI_DATA]} is not little-endian`, EI_DATA);
  if (ident[EI_VERSION] !== 1) throw new ElfError(`ELF ident version ${ident[EI_VERSION]} is not 1`, EI_VERSION);
  const fields = decodeHeader(ident);
  if (!options.anyMachine && fields.machine !== EM_X86_64) throw new ElfError(`e_machine ${fields.machine} is not x86-64 (62)`, 18);

  const header: ElfHeader = { ...fields, sectionCount: fields.shnum, sectionNamesIndex: fields.shstrndx };
  if (fields.shoff === 0) {
    // No section header table. (Extended numbering needs one, so the stored values must be plain.)
    if (fields.shnum !== 0) throw new ElfError(`e_shnum is ${fields.shnum} but e_shoff is 0`, 60);
    header.sectionNamesIndex = SHN_UNDEF;
    return { header, sections: [] };
  }
  if (fields.shentsize !== SHDR_SIZE) throw new ElfError(`e_shentsize is ${fields.shentsize}, expected ${SHDR_SIZE}`, 58);

  // Section 0 carries the real count / name-table index when they do not fit the 16-bit header fields.
  const zero = decodeSectionHeader(source.read(fields.shoff, SHDR_SIZE, 'section header 0'), 0, 0, fields.shoff);
  if (fields.shnum === 0) header.sectionCount = zero.size;
  if (fields.shstrndx === SHN_XINDEX) header.sectionNamesIndex = zero.link;
  else if (fields.shstrndx >= SHN_LORESERVE) throw new ElfError(`e_shstrndx 0x${fields.shstrndx.toString(16)} is a reserved index`, 62);

  const count = header.sectionCount;
  if (count > MAX_ENTRIES) throw new ElfError(`${count} section headers is too many`, fields.shoff);
  const table = source.read(fields.shoff, count * SHDR_SIZE, `section header table (${count} entries)`);
  const sections = new Array<ElfSection>(count);
  for (let i = 0; i < count; i++) {
    const s = decodeSectionHeader(table, i * SHDR_SIZE, i, fields.shoff + i * SHDR_SIZE);
    if (s.type !== SHT_NOBITS && s.type !== SHT_NULL && (s.offset > source.size || s.size > source.size - s.offset)) {
      throw new ElfError(`section [${i}]: bytes 0x${s.offset.toString(16)}+0x${s.size.toString(16)} lie beyond the end of the file`, fields.shoff + i * SHDR_SIZE + 24);
    }
    sections[i] = s;
  }

  const namesIndex = header.sectionNamesIndex;
  if (namesIndex === SHN_UNDEF) return { header, sections };
  const names = sections[namesIndex];
  if (!names) throw new ElfError(`section name table index ${namesIndex} is past the ${count} sections`, 62);
  if (names.type !== SHT_STRTAB) throw new ElfError(`section name table [${namesIndex}] is ${sectionTypeName(names.type)}, not STRTAB`, fields.shoff + namesIndex * SHDR_SIZE + 4);
  const strings = source.read(names.offset, names.size, 'section name table');
  for (const s of sections) s.name = readCString(strings, s.nameOffset, names.offset, 'section name');
  return { header, sections };
}

function readProgramHeaders(source: ByteSource, header: ElfHeader, sections: readonly ElfSection[]): ProgramHeader[] {
  let count = header.phnum;
  if (count === PN_XNUM && sections.length > 0) count = sections[0].info;
  if (count === 0) return [];
  if (header.phentsize !== PHDR_SIZE) throw new ElfError(`e_phentsize is ${header.phentsize}, expected ${PHDR_SIZE}`, 54);
  if (count > MAX_ENTRIES) throw new ElfError(`${count} program headers is too many`, 56);
  const table = source.read(header.phoff, count * PHDR_SIZE, `program header table (${count} entries)`);
  const phdrs: ProgramHeader[] = [];
  for (let i = 0; i < count; i++) phdrs.push(decodeProgramHeader(table, i * PHDR_SIZE, i, header.phoff + i * PHDR_SIZE));
  return phdrs;
}
