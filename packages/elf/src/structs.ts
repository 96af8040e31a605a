// Byte layout of the ELF64 little-endian records. Callers bounds-check before decoding; these functions only
// convert between bytes and the typed model.
import { EI_ABIVERSION, EI_CLASS, EI_DATA, EI_OSABI, EI_VERSION, ELFCLASS64, ELFDATA2LSB, ELFMAG, EV_CURRENT } from './constants';
import { ElfError } from './errors';
import type { ElfHeader, ElfSection, ElfSymbol, ProgramHeader, Relocation } from './types';

/** A u64 field that must fit a JS number (file offsets, sizes, alignments). */
function safeU64(b: Buffer, at: number, fileOffset: number, field: string, record = '', index = 0): number {
  const v = b.readBigUInt64LE(at);
  if (v > MAX_SAFE) throw new ElfError(`${record ? `${record} [${index}] ` : ''}${field} 0x${v.toString(16)} is too large`, fileOffset);
  return Number(v);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export type HeaderFields = Omit<ElfHeader, 'sectionCount' | 'sectionNamesIndex'>;

export function decodeHeader(b: Buffer): HeaderFields {
  return {
    osabi: b[EI_OSABI],
    abiVersion: b[EI_ABIVERSION],
    identPadding: Uint8Array.from(b.subarray(9, 16)),
    type: b.readUInt16LE(16),
    machine: b.readUInt16LE(18),
    version: b.readUInt32LE(20),
    entry: b.readBigUInt64LE(24),
    phoff: safeU64(b, 32, 32, 'e_phoff'),
    shoff: safeU64(b, 40, 40, 'e_shoff'),
    flags: b.readUInt32LE(48),
    ehsize: b.readUInt16LE(52),
    phentsize: b.readUInt16LE(54),
    phnum: b.readUInt16LE(56),
    shentsize: b.readUInt16LE(58),
    shnum: b.readUInt16LE(60),
    shstrndx: b.readUInt16LE(62),
  };
}

export function encodeHeader(h: HeaderFields, out: Buffer): void {
  out.set(ELFMAG, 0);
  out[EI_CLASS] = ELFCLASS64;
  out[EI_DATA] = ELFDATA2LSB;
  out[EI_VERSION] = EV_CURRENT;
  out[EI_OSABI] = h.osabi;
  out[EI_ABIVERSION] = h.abiVersion;
  out.set(h.identPadding.subarray(0, 7), 9);
  out.writeUInt16LE(h.type, 16);
  out.writeUInt16LE(h.machine, 18);
  out.writeUInt32LE(h.version, 20);
  out.writeBigUInt64LE(h.entry, 24);
  out.writeBigUInt64LE(BigInt(h.phoff), 32);
  out.writeBigUInt64LE(BigInt(h.shoff), 40);
  out.writeUInt32LE(h.flags, 48);
  out.writeUInt16LE(h.ehsize, 52);
  out.writeUInt16LE(h.phentsize, 54);
  out.writeUInt16LE(h.phnum, 56);
  out.writeUInt16LE(h.shentsize, 58);
  out.writeUInt16LE(h.shnum, 60);
  out.writeUInt16LE(h.shstrndx, 62);
}

/** Section header at `at` (64 bytes); `fileOffset` is where `at` lies in the file, for error messages. The name is
 * left empty for the caller to fill in. */
export function decodeSectionHeader(b: Buffer, at: number, index: number, fileOffset: number): ElfSection {
  return {
    index,
    name: '',
    nameOffset: b.readUInt32LE(at),
    type: b.readUInt32LE(at + 4),
    flags: b.readBigUInt64LE(at + 8),
    addr: b.readBigUInt64LE(at + 16),
    offset: safeU64(b, at + 24, fileOffset + 24, 'sh_offset', 'section', index),
    size: safeU64(b, at + 32, fileOffset + 32, 'sh_size', 'section', index),
    link: b.readUInt32LE(at + 40),
    info: b.readUInt32LE(at + 44),
    addralign: safeU64(b, at + 48, fileOffset + 48, 'sh_addralign', 'section', index),
    entsize: safeU64(b, at + 56, fileOffset + 56, 'sh_entsize', 'section', index),
  };
}

export function encodeSectionHeader(s: Omit<ElfSection, 'name' | 'index'>, out: Buffer, at: number): void {
  out.writeUInt32LE(s.nameOffset, at);
  out.writeUInt32LE(s.type, at + 4);
  out.writeBigUInt64LE(s.flags, at + 8);
  out.writeBigUInt64LE(s.addr, at + 16);
  out.writeBigUInt64LE(BigInt(s.offset), at + 24);
  out.writeBigUInt64LE(BigInt(s.size), at + 32);
  out.writeUInt32LE(s.link, at + 40);
  out.writeUInt32LE(s.info, at + 44);
  out.writeBigUInt64LE(BigInt(s.addralign), at + 48);
  out.writeBigUInt64LE(BigInt(s.entsize), at + 56);
}

/** Elf64_Sym: st_name u32, st_info u8, st_other u8, st_shndx u16, st_value u64, st_size u64. The name is left
 * empty and shndx equal to the stored st_shndx, for the caller to resolve. */
export function decodeSymbol(b: Buffer, at: number, index: number): ElfSymbol {
  const info = b[at + 4];
  const other = b[at + 5];
  const rawShndx = b.readUInt16LE(at + 6);
  return {
    index,
    name: '',
    nameOffset: b.readUInt32LE(at),
    bind: info >> 4,
    type: info & 0xf,
    other,
    visibility: other & 3,
    shndx: rawShndx,
    rawShndx,
    value: b.readBigUInt64LE(at + 8),
    size: b.readBigUInt64LE(at + 16),
  };
}

export function encodeSymbol(s: Omit<ElfSymbol, 'name' | 'shndx' | 'index'>, out: Buffer, at: number): void {
  out.writeUInt32LE(s.nameOffset, at);
  out[at + 4] = ((s.bind & 0xf) << 4) | (s.type & 0xf);
  out[at + 5] = (s.other & ~3 & 0xff) | (s.visibility & 3);
  out.writeUInt16LE(s.rawShndx, at + 6);
  out.writeBigUInt64LE(BigInt.asUintN(64, s.value), at + 8);
  out.writeBigUInt64LE(BigInt.asUintN(64, s.size), at + 16);
}

/** Elf64_Rela: r_offset u64, r_info u64 (symbol << 32 | type), r_addend s64. Elf64_Rel lacks the addend. */
export function decodeRelocation(b: Buffer, at: number, withAddend: boolean): Relocation {
  return {
    offset: b.readBigUInt64LE(at),
    type: b.readUInt32LE(at + 8),
    symbol: b.readUInt32LE(at + 12),
    addend: withAddend ? b.readBigInt64LE(at + 16) : 0n,
  };
}

export function encodeRelocation(r: Relocation, out: Buffer, at: number, withAddend: boolean): void {
  out.writeBigUInt64LE(BigInt.asUintN(64, r.offset), at);
  out.writeUInt32LE(r.type, at + 8);
  out.writeUInt32LE(r.symbol, at + 12);
  if (withAddend) out.writeBigInt64LE(BigInt.asIntN(64, r.addend), at + 16);
}

/** Elf64_Phdr: p_type u32, p_flags u32, then offset, vaddr, paddr, filesz, memsz, align (u64 each). */
export function decodeProgramHeader(b: Buffer, at: number, index: number, fileOffset: number): ProgramHeader {
  return {
    type: b.readUInt32LE(at),
    flags: b.readUInt32LE(at + 4),
    offset: safeU64(b, at + 8, fileOffset + 8, 'p_offset', 'program header', index),
    vaddr: b.readBigUInt64LE(at + 16),
    paddr: b.readBigUInt64LE(at + 24),
    filesz: safeU64(b, at + 32, fileOffset + 32, 'p_filesz', 'program header', index),
    memsz: b.readBigUInt64LE(at + 40),
    align: b.readBigUInt64LE(at + 48),
  };
}

export function encodeProgramHeader(p: ProgramHeader, out: Buffer, at: number): void {
  out.writeUInt32LE(p.type, at);
  out.writeUInt32LE(p.flags, at + 4);
  out.writeBigUInt64LE(BigInt(p.offset), at + 8);
  out.writeBigUInt64LE(BigInt.asUintN(64, p.vaddr), at + 16);
  out.writeBigUInt64LE(BigInt.asUintN(64, p.paddr), at + 24);
  out.writeBigUInt64LE(BigInt(p.filesz), at + 32);
  out.writeBigUInt64LE(BigInt.asUintN(64, p.memsz), at + 40);
  out.writeBigUInt64LE(BigInt.asUintN(64, p.align), at + 48);
}
