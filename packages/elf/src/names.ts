// Human-readable names for ELF enums, spelled the way `readelf -W` prints them (handy in reports and tests).

const SECTION_TYPES: Record<number, string> = {
  0: 'NULL',
  1: 'PROGBITS',
  2: 'SYMTAB',
  3: 'STRTAB',
  4: 'RELA',
  5: 'HASH',
  6: 'DYNAMIC',
  7: 'NOTE',
  8: 'NOBITS',
  9: 'REL',
  10: 'SHLIB',
  11: 'DYNSYM',
  14: 'INIT_ARRAY',
  15: 'FINI_ARRAY',
  16: 'PREINIT_ARRAY',
  17: 'GROUP',
  18: 'SYMTAB SECTION INDICES',
  19: 'RELR',
  0x6ffffff5: 'GNU_ATTRIBUTES',
  0x6ffffff6: 'GNU_HASH',
  0x6ffffffd: 'VERDEF',
  0x6ffffffe: 'VERNEED',
  0x6fffffff: 'VERSYM',
  0x70000001: 'X86_64_UNWIND',
};

export function sectionTypeName(type: number): string {
  return SECTION_TYPES[type] ?? `0x${type.toString(16)}`;
}

const SYMBOL_TYPES: Record<number, string> = {
  0: 'NOTYPE',
  1: 'OBJECT',
  2: 'FUNC',
  3: 'SECTION',
  4: 'FILE',
  5: 'COMMON',
  6: 'TLS',
  10: 'IFUNC',
};

export function symbolTypeName(type: number): string {
  return SYMBOL_TYPES[type] ?? `<unknown>: ${type}`;
}

const SYMBOL_BINDS: Record<number, string> = { 0: 'LOCAL', 1: 'GLOBAL', 2: 'WEAK', 10: 'UNIQUE' };

export function symbolBindName(bind: number): string {
  return SYMBOL_BINDS[bind] ?? `<unknown>: ${bind}`;
}

const VISIBILITIES = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'];

export function symbolVisibilityName(visibility: number): string {
  return VISIBILITIES[visibility & 3];
}

const X86_64_RELOCATIONS = [
  'NONE', '64', 'PC32', 'GOT32', 'PLT32', 'COPY', 'GLOB_DAT', 'JUMP_SLOT', 'RELATIVE', 'GOTPCREL', '32', '32S',
  '16', 'PC16', '8', 'PC8', 'DTPMOD64', 'DTPOFF64', 'TPOFF64', 'TLSGD', 'TLSLD', 'DTPOFF32', 'GOTTPOFF',
  'TPOFF32', 'PC64', 'GOTOFF64', 'GOTPC32', 'GOT64', 'GOTPCREL64', 'GOTPC64', 'GOTPLT64', 'PLTOFF64', 'SIZE32',
  'SIZE64', 'GOTPC32_TLSDESC', 'TLSDESC_CALL', 'TLSDESC', 'IRELATIVE', 'RELATIVE64', undefined, undefined,
  'GOTPCRELX', 'REX_GOTPCRELX',
];

/** `R_X86_64_PLT32` for 4; unknown types as `unrecognized: 0x..`, like readelf. */
export function relocationTypeName(type: number): string {
  const name = X86_64_RELOCATIONS[type];
  return name === undefined ? `unrecognized: ${type.toString(16)}` : `R_X86_64_${name}`;
}
