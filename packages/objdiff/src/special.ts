import { altInstrEntrySize } from '@hotsplice/kernel';
import type { ObjectModel, UnitReloc } from './model';

/**
 * x86-64 special tables of Linux 6.1 and their entry sizes (design.md §8): each entry's first field points at the
 * code it describes, so a table is split per entry and an entry is kept only with its function.
 * `.orc_unwind` is the parallel array of `.orc_unwind_ip` (entry i describes the address in ip entry i).
 */
export const TABLES: Record<string, number> = {
  __bug_table: 12,
  __jump_table: 16,
  '.altinstructions': 12, // 14 in 6.12: altInstrEntrySize
  '.parainstructions': 16,
  __ex_table: 12,
  '.static_call_sites': 8,
  '.orc_unwind_ip': 4,
  '.smp_locks': 4,
  '.retpoline_sites': 4,
  '.return_sites': 4,
  '.call_sites': 4,
  '.ibt_endbr_seal': 4,
  __mcount_loc: 8,
  // Not __patchable_function_entries (6.12's CALL_PADDING padding, -fpatchable-function-entry=16,16): x86 has
  // HAVE_DYNAMIC_FTRACE_NO_PATCHABLE, so ftrace reads __mcount_loc (include/linux/ftrace.h FTRACE_CALLSITE_SECTION)
  // and no x86 code reads it; each copy is SHF_LINK_ORDER to its function's own section, which one merged table
  // cannot keep (binutils 2.44's ld -r crashed on the sh_link 0 a merged copy had).
};

export const ORC_DATA = '.orc_unwind';
export const ORC_DATA_SIZE = 6;

/** Sections only used through table entries (the code alternatives switch to). Copied whole when needed. */
export const SIDE_CODE = new Set(['.altinstr_replacement', '.altinstr_aux']);

export interface TableEntry {
  table: string;
  sectionIndex: number;
  index: number;
  offset: number;
  size: number;
  relocs: UnitReloc[];
  /** The relocation of the entry's first field: what the entry is about. */
  anchor?: UnitReloc;
}

/** Every entry of every special table of an object. */
export function tableEntries(model: ObjectModel): TableEntry[] {
  const entries: TableEntry[] = [];
  for (const section of model.elf.sections) {
    if (!TABLES[section.name]) continue;
    const relocs = model.sectionRelocs(section.index); // sorted by offset
    const size = section.name === '.altinstructions' ? altInstrEntrySize(section.size, relocs.length) : TABLES[section.name]!;
    let next = 0;
    for (let offset = 0, index = 0; offset + size <= section.size; offset += size, index++) {
      while (next < relocs.length && relocs[next].offset < offset) next++;
      const own: UnitReloc[] = [];
      for (let k = next; k < relocs.length && relocs[k].offset < offset + size; k++) own.push({ ...relocs[k], offset: relocs[k].offset - offset });
      entries.push({ table: section.name, sectionIndex: section.index, index, offset, size, relocs: own, anchor: own.find((r) => r.offset === 0) });
    }
  }
  return entries;
}
