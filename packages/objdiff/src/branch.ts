import { R_X86_64_PC32, R_X86_64_PLT32 } from '@hotsplice/elf';
import type { Unit, UnitReloc } from './model';

/**
 * A call or jump to the function: those go to the new copy; any other use takes its address. call/jmp rel32
 * (e8/e9) and jcc rel32 (0f 80..8f), which is how a function and its `.cold` part jump into each other.
 */
export function isBranch(from: Uint8Array, reloc: UnitReloc): boolean {
  if (reloc.type === R_X86_64_PLT32) return true;
  if (reloc.type !== R_X86_64_PC32) return false;
  const op = from[reloc.offset - 1];
  return op === 0xe8 || op === 0xe9 || isJcc(from, reloc.offset);
}

/**
 * A branch that does not come back: jmp rel32 (e9) or jcc rel32, gcc's sibling call. The caller's frame is gone
 * once it is taken, so a task inside the target shows no frame of the caller on its stack.
 */
export function isJump(from: Uint8Array, reloc: UnitReloc): boolean {
  return isBranch(from, reloc) && (from[reloc.offset - 1] === 0xe9 || isJcc(from, reloc.offset));
}

function isJcc(from: Uint8Array, field: number): boolean {
  const op = from[field - 1];
  return field >= 2 && from[field - 2] === 0x0f && op >= 0x80 && op <= 0x8f;
}

/** Sections whose functions run once at boot or unload: their code is gone from the running kernel. */
export const INIT_EXIT = /^\.(init|exit)\.text\b|^\.(init|exit)\.text\./;

/**
 * Whether ftrace can redirect the function: gcc's -mfentry puts `call __fentry__` first (after `endbr64` with IBT).
 * `notrace` functions, and `inline` ones gcc kept out of line (include/linux/compiler_types.h: inline implies
 * notrace), have none.
 */
export function hasFentry(u: Unit): boolean {
  return u.relocs.some((r) => r.symbol.name === '__fentry__' && r.offset <= 16);
}
