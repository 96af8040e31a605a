// Statics the compiler creates for kernel macros, which the differ treats by what the kernel does with them rather
// than as ordinary data (design.md §8, §11).
import type { Unit } from './model';

/**
 * pr_debug/dev_dbg's descriptor (include/linux/dynamic_debug.h struct _ddebug, in section `__dyndbg`): modname,
 * function, filename, format (4 pointers), then the bitfield word `lineno:18, class_id:6, flags:8` at +32, then the
 * static key. lib/dynamic_debug.c finds a module's descriptors through its `__dyndbg` section (kernel/module/main.c
 * find_module_sections), so a copy carried in the update module works on its own, with its own key.
 */
export const DYNDBG_SECTION = '__dyndbg';
const DYNDBG_LINENO_OFFSET = 32;
const DYNDBG_LINENO_BITS = 18;

export function isDynamicDebugDescriptor(unit: Unit): boolean {
  return unit.kind === 'data' && unit.section.name === DYNDBG_SECTION;
}

/**
 * Statics that are never referenced in place from new code: the new code carries its own copy. A descriptor's
 * static key lives inside it, and a key defined in a module cannot serve patch code (its jump entries are set up
 * before livepatch relocations); a copy also gives the changed function's pr_debug its new line.
 */
export function isCopiedStatic(unit: Unit): boolean {
  return isDynamicDebugDescriptor(unit);
}

/** The bytes compared for a unit: a descriptor's line number does not count (a line added above moves it). */
export function comparableBytes(unit: Unit): Uint8Array {
  if (!isDynamicDebugDescriptor(unit) || unit.bytes.length < DYNDBG_LINENO_OFFSET + 4) return unit.bytes;
  const bytes = Uint8Array.from(unit.bytes);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const word = view.readUInt32LE(DYNDBG_LINENO_OFFSET);
  view.writeUInt32LE((word & ~((1 << DYNDBG_LINENO_BITS) - 1)) >>> 0, DYNDBG_LINENO_OFFSET);
  return bytes;
}

/** Sections the kernel reads as one array by name: copied units go back into the section itself, not `<sec>.<name>`. */
export function keepsSectionName(unit: Unit): boolean {
  return unit.section.name === DYNDBG_SECTION;
}
