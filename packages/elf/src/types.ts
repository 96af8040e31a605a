// The typed model of an ELF64 file as read. Field names follow the ELF structures (without the sh_/st_/r_ prefix).
// Addresses and symbol values are bigint (kernel addresses exceed 2^53); file offsets, sizes, counts and indices are
// numbers, checked to be safe integers when read. Names are decoded as latin1, one character per byte, so any byte
// string round-trips exactly.

export interface ElfHeader {
  /** e_ident[EI_OSABI] and e_ident[EI_ABIVERSION]. */
  osabi: number;
  abiVersion: number;
  /** The 7 padding bytes of e_ident (normally zero); kept for exact round trips. */
  identPadding: Uint8Array;
  type: number;
  machine: number;
  version: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  /** e_shnum as stored: 0 when the count does not fit and lives in section 0's sh_size. */
  shnum: number;
  /** e_shstrndx as stored: SHN_XINDEX when the index lives in section 0's sh_link. */
  shstrndx: number;
  /** Resolved number of section headers. */
  sectionCount: number;
  /** Resolved index of the section-name string table (0 = none). */
  sectionNamesIndex: number;
}

export interface ElfSection {
  index: number;
  name: string;
  /** sh_name: offset of the name in the section-name string table. */
  nameOffset: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  /** The symbol's own name (st_name); empty for section symbols — see ElfObject.symbolName for a display name. */
  name: string;
  nameOffset: number;
  value: bigint;
  size: bigint;
  bind: number;
  type: number;
  /** The whole st_other byte; `visibility` is its low two bits (the writer combines them). */
  other: number;
  visibility: number;
  /** The resolved section index, or a special value (SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_LIVEPATCH...). */
  shndx: number;
  /** st_shndx as stored: SHN_XINDEX when the real index is in the SHT_SYMTAB_SHNDX table. */
  rawShndx: number;
}

export interface Relocation {
  offset: bigint;
  type: number;
  /** Index into the symbol table named by the relocation section's sh_link. */
  symbol: number;
  /** Explicit addend (0n for SHT_REL sections, which have none). */
  addend: bigint;
}

export interface SectionGroup {
  /** The group's flag word (GRP_COMDAT). */
  flags: number;
  /** Indices of the member sections, in file order. */
  members: number[];
}

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: bigint;
  align: bigint;
}

export interface ReadOptions {
  /** Accept any e_machine (default: only EM_X86_64). */
  anyMachine?: boolean;
}
