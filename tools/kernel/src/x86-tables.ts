/**
 * The entry size of `.altinstructions`: struct alt_instr is 12 bytes in 6.1 (u16 cpuid, u8 instrlen, u8
 * replacementlen) and 14 in 6.12 (u32 ft_flags; arch/x86/include/asm/alternative.h). Every entry has two
 * relocations (instr_offset, repl_offset), so a relocatable object's table tells its own entry size; instrlen and
 * replacementlen are always its last two bytes.
 */
export function altInstrEntrySize(sectionSize: number, relocations: number, fallback = 12): number {
  const entries = relocations / 2;
  return relocations >= 2 && relocations % 2 === 0 && sectionSize % entries === 0 ? sectionSize / entries : fallback;
}
