// @hotsplice/elf — ELF64 little-endian (x86-64) reader and writer. No kernel logic lives here.
export * from './constants';
export { ElfError } from './errors';
export type { ByteSource } from './byte-source';
export { BufferSource, FileSource } from './byte-source';
export type { ElfHeader, ElfSection, ElfSymbol, ProgramHeader, ReadOptions, Relocation, SectionGroup } from './types';
export { ElfFile, MAX_ENTRIES, symbolDisplayName } from './elf-file';
export { ElfObject, definedInSection, parseElf } from './elf-object';
export { writeElf, type WriteOptions } from './write-elf';
export { relocationTypeName, sectionTypeName, symbolBindName, symbolTypeName, symbolVisibilityName } from './names';
export { ObjectBuilder } from './object-builder';
export type {
  BuilderOptions, BuildGroup, BuildRelaSection, BuildRelocation, BuildSection, BuildSymbol, RelocationInit, SectionInit,
  SectionLink, SymbolInit,
} from './builder-types';
