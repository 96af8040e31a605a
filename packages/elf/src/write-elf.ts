import { EHDR_SIZE, GROUP_WORD_SIZE, PHDR_SIZE, REL_SIZE, RELA_SIZE, SHDR_SIZE, SHN_XINDEX, SHNDX_ENTRY_SIZE, SHT_GROUP, SHT_NOBITS, SHT_NULL, SHT_RELA, SHT_SYMTAB_SHNDX, SYM_SIZE } from './constants';
import type { ElfObject } from './elf-object';
import { ElfError, encodeEach, encoding } from './errors';
import { readCString } from './strings';
import { encodeHeader, encodeProgramHeader, encodeRelocation, encodeSectionHeader, encodeSymbol } from './structs';
import type { ElfSection } from './types';

export interface WriteOptions {
  /**
   * Copy bytes the model does not describe (padding between sections, trailing bytes) from the original image
   * (default). With false they are zero, which is what GNU as and ld write anyway.
   */
  keepGaps?: boolean;
}

/**
 * Serializes an ElfObject at the offsets it records: header, program headers, section headers, every section's
 * bytes, with the symbol table, relocation sections and groups encoded from the model. An unchanged parsed object
 * comes back byte-identical. Edits must keep the layout (same counts and sizes, names already in the string
 * tables); anything else throws ElfError — build a new object with ObjectBuilder.fromElf() instead.
 */
export function writeElf(obj: ElfObject, options: WriteOptions = {}): Buffer {
  const { header, sections } = obj;
  checkCounts(obj);
  let size = EHDR_SIZE;
  const grow = (end: number) => (size = Math.max(size, end));
  for (const s of sections) if (hasFileBytes(s)) grow(s.offset + s.size);
  if (sections.length > 0) grow(header.shoff + sections.length * SHDR_SIZE);
  if (obj.programHeaders.length > 0) grow(header.phoff + obj.programHeaders.length * PHDR_SIZE);
  const keepGaps = options.keepGaps ?? true;
  if (keepGaps) grow(obj.image.length);

  const out = Buffer.alloc(size);
  if (keepGaps) obj.image.copy(out);

  for (const s of sections) {
    if (!hasFileBytes(s)) continue;
    const content = sectionContent(obj, s);
    if (content.length !== s.size) {
      throw new ElfError(`section [${s.index}] ${s.name}: content is ${content.length} bytes but sh_size is ${s.size}; sizes changed, use ObjectBuilder`);
    }
    out.set(content, s.offset);
  }
  checkNames(obj, out);

  encodeEach(obj.programHeaders, (_, i) => `program header [${i}]`, (p, i) => encodeProgramHeader(p, out, header.phoff + i * PHDR_SIZE));
  encodeEach(sections, (s, i) => `section header [${i}] ${s.name}`, (s, i) => encodeSectionHeader(s, out, header.shoff + i * SHDR_SIZE));
  encoding('ELF header', () => encodeHeader(header, out));
  return out;
}

function hasFileBytes(s: ElfSection): boolean {
  return s.type !== SHT_NOBITS && s.type !== SHT_NULL;
}

/** The header's section count and name-table index (plain or via section 0) must describe `sections`. */
function checkCounts(obj: ElfObject): void {
  const { header, sections } = obj;
  sections.forEach((s, i) => {
    if (s.index !== i) throw new ElfError(`sections[${i}] has index ${s.index}; the in-place writer cannot reorder sections, use ObjectBuilder`);
  });
  const count = header.shnum === 0 && sections.length > 0 ? sections[0].size : header.shnum;
  if (count !== sections.length) throw new ElfError(`the header describes ${count} sections but the model has ${sections.length}; use ObjectBuilder to add or remove sections`);
  if (obj.programHeaders.length !== header.phnum && header.phnum !== 0xffff) {
    throw new ElfError(`e_phnum is ${header.phnum} but the model has ${obj.programHeaders.length} program headers`);
  }
}

/** The bytes of one section: encoded from the model for the symtab, relocation and group sections. */
function sectionContent(obj: ElfObject, s: ElfSection): Uint8Array {
  const i = s.index;
  if (i === obj.symtabIndex) {
    const out = Buffer.alloc(obj.symbols.length * SYM_SIZE);
    encodeEach(obj.symbols, (sym, k) => `symbol ${k} ${sym.name}`, (sym, k) => {
      if (sym.rawShndx !== SHN_XINDEX && sym.shndx !== sym.rawShndx) {
        throw new ElfError(`symbol ${k} ${sym.name}: shndx ${sym.shndx} differs from rawShndx ${sym.rawShndx}; set both (rawShndx SHN_XINDEX for extended indices)`);
      }
      encodeSymbol(sym, out, k * SYM_SIZE);
    });
    return out;
  }
  const relocations = obj.relocations.get(i);
  if (relocations) {
    const withAddend = s.type === SHT_RELA;
    const entrySize = withAddend ? RELA_SIZE : REL_SIZE;
    const out = Buffer.alloc(relocations.length * entrySize);
    encodeEach(relocations, (_, k) => `relocation ${k} of ${s.name}`, (r, k) => encodeRelocation(r, out, k * entrySize, withAddend));
    return out;
  }
  const group = obj.groups.get(i);
  if (group && s.type === SHT_GROUP) {
    const out = Buffer.alloc((group.members.length + 1) * GROUP_WORD_SIZE);
    encoding(`group ${s.name}`, () => {
      out.writeUInt32LE(group.flags, 0);
      group.members.forEach((m, k) => out.writeUInt32LE(m, (k + 1) * GROUP_WORD_SIZE));
    });
    return out;
  }
  if (s.type === SHT_SYMTAB_SHNDX && s.link === obj.symtabIndex && obj.symtabIndex >= 0) {
    // Keep the table as read, but make the entries of SHN_XINDEX symbols hold their (possibly edited) index.
    const out = Buffer.from(obj.data[i]);
    obj.symbols.forEach((sym, k) => {
      if (sym.rawShndx !== SHN_XINDEX) return;
      if ((k + 1) * SHNDX_ENTRY_SIZE > out.length) throw new ElfError(`SYMTAB_SHNDX ${s.name} is too small for symbol ${k}`);
      encoding(`extended index of symbol ${k}`, () => out.writeUInt32LE(sym.shndx, k * SHNDX_ENTRY_SIZE));
    });
    return out;
  }
  return obj.data[i];
}

/** Section and symbol names must still be at their recorded offsets in the string tables being written. */
function checkNames(obj: ElfObject, out: Buffer): void {
  const table = (index: number) => {
    const s = obj.sections[index];
    return s && hasFileBytes(s) ? out.subarray(s.offset, s.offset + s.size) : Buffer.alloc(0);
  };
  const namesIndex = obj.header.sectionNamesIndex;
  if (namesIndex !== 0) {
    const names = table(namesIndex);
    for (const s of obj.sections) {
      if (readCString(names, s.nameOffset, 0, `section [${s.index}]`) !== s.name) {
        throw new ElfError(`section [${s.index}] was renamed to ${JSON.stringify(s.name)}; the in-place writer keeps string tables, use ObjectBuilder`);
      }
    }
  }
  if (obj.symtabIndex >= 0) {
    const strings = table(obj.sections[obj.symtabIndex].link);
    for (const sym of obj.symbols) {
      if (readCString(strings, sym.nameOffset, 0, `symbol ${sym.index}`) !== sym.name) {
        throw new ElfError(`symbol ${sym.index} was renamed to ${JSON.stringify(sym.name)}; the in-place writer keeps string tables, use ObjectBuilder`);
      }
    }
  }
}
