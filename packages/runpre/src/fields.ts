import { R_X86_64_32, R_X86_64_32S, R_X86_64_64, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32, relocationTypeName } from '@hotsplice/elf';

/** How a relocation field is computed (x86-64 psABI): S + A, or S + A - P for the PC-relative kinds. */
export interface FieldKind {
  width: 4 | 8;
  pcRelative: boolean;
  /** How the stored bits widen back to an address: 32S / PC32 sign-extend, 32 zero-extends. */
  signed: boolean;
}

const KINDS = new Map<number, FieldKind>([
  [R_X86_64_PC32, { width: 4, pcRelative: true, signed: true }],
  [R_X86_64_PLT32, { width: 4, pcRelative: true, signed: true }],
  [R_X86_64_32S, { width: 4, pcRelative: false, signed: true }],
  [R_X86_64_32, { width: 4, pcRelative: false, signed: false }],
  [R_X86_64_64, { width: 8, pcRelative: false, signed: false }],
  [R_X86_64_PC64, { width: 8, pcRelative: true, signed: false }],
]);

export function fieldKind(type: number): FieldKind | undefined {
  return KINDS.get(type);
}

export function typeName(type: number): string {
  return relocationTypeName(type);
}

const MASK64 = (1n << 64n) - 1n;

/** The field's bits as stored (unsigned, `width` bytes little-endian). */
export function readField(bytes: Uint8Array, at: number, width: 4 | 8): bigint {
  let value = 0n;
  for (let i = width - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]);
  return value;
}

/** What the linker writes into the field for a target S (modulo the field width). */
export function fieldValue(kind: FieldKind, s: bigint, addend: bigint, place: bigint): bigint {
  const value = s + addend - (kind.pcRelative ? place : 0n);
  return value & ((1n << BigInt(kind.width * 8)) - 1n);
}

/** The inverse: S + A as the stored field says (the address the instruction really refers to, before the addend). */
export function fieldTarget(kind: FieldKind, stored: bigint, place: bigint): bigint {
  const bits = BigInt(kind.width * 8);
  let value = stored;
  if (kind.signed && kind.width === 4 && stored >= 1n << (bits - 1n)) value = stored - (1n << bits);
  return ((kind.pcRelative ? place : 0n) + value) & MASK64;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

export function addr(value: bigint): string {
  return `0x${value.toString(16)}`;
}
