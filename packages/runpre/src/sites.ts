import { definedInSection } from '@hotsplice/elf';
import { altInstrEntrySize } from '@hotsplice/kernel';
import type { ObjectIndex, ObjectReloc } from './object-model';

/** The kinds of patch site the kernel rewrites at boot or at run time, each listed in a table of the object. */
export type SiteKind = 'fentry' | 'return-thunk' | 'retpoline' | 'static-call' | 'alternative' | 'paravirt' | 'lock-prefix' | 'jump-label' | 'endbr' | 'call';

export interface Replacement {
  section: number;
  offset: number;
  length: number;
}

export interface PatchSite {
  kind: SiteKind;
  section: number;
  offset: number;
  /** Bytes the kernel may rewrite (for retpoline and jump-label sites: the length of the original instruction). */
  length: number;
  /** .altinstructions: every replacement for this site (ALTERNATIVE_2 lists two entries for one site). */
  replacements: Replacement[];
}

/**
 * Entry size and the site kind of each table, per the 6.1 structs: struct alt_instr (arch/x86/include/asm/
 * alternative.h) 12 bytes (14 in 6.12: altInstrEntrySize), struct paravirt_patch_site (asm/paravirt_types.h) 16, struct jump_entry
 * (asm/jump_label.h) 16, struct static_call_site (include/linux/static_call_types.h) 8, the s32 tables of
 * objtool 4, __mcount_loc 8 (scripts/recordmcount / gcc -mrecord-mcount).
 */
const TABLES: Record<string, { entry: number; kind: SiteKind }> = {
  __mcount_loc: { entry: 8, kind: 'fentry' },
  '.return_sites': { entry: 4, kind: 'return-thunk' },
  '.retpoline_sites': { entry: 4, kind: 'retpoline' },
  '.static_call_sites': { entry: 8, kind: 'static-call' },
  '.altinstructions': { entry: 12, kind: 'alternative' },
  '.parainstructions': { entry: 16, kind: 'paravirt' },
  '.smp_locks': { entry: 4, kind: 'lock-prefix' },
  __jump_table: { entry: 16, kind: 'jump-label' },
  '.ibt_endbr_seal': { entry: 4, kind: 'endbr' },
  // Direct calls call depth tracking may redirect into the callee's padding (6.12 objtool --hacks=skylake,
  // arch/x86/kernel/callthunks.c patch_call).
  '.call_sites': { entry: 4, kind: 'call' },
};


/** Where a table field points: (section, offset) of S + A, the address a `.long 1b - .` or `.quad 1b` names. */
function pointee(reloc: ObjectReloc | undefined): { section: number; offset: number } | undefined {
  if (!reloc) return undefined;
  const section = definedInSection(reloc.symbol);
  if (section === undefined) return undefined;
  return { section, offset: Number(reloc.symbol.value + reloc.addend) };
}

/** Every patch site of the object, grouped by code section and sorted by offset. */
export function patchSites(index: ObjectIndex): Map<number, PatchSite[]> {
  const out = new Map<number, PatchSite[]>();
  const add = (site: PatchSite) => {
    const list = out.get(site.section) ?? [];
    const same = list.find((s) => s.offset === site.offset && s.kind === site.kind);
    if (same) {
      same.replacements.push(...site.replacements);
      same.length = Math.max(same.length, site.length);
    } else list.push(site);
    out.set(site.section, list);
  };
  for (const table of index.elf.sections) {
    const spec = TABLES[table.name];
    if (!spec) continue;
    const data = index.elf.sectionData(table.index);
    const relocs = new Map(index.sectionRelocs(table.index).map((r) => [r.offset, r]));
    const entry = spec.kind === 'alternative' ? altInstrEntrySize(data.length, relocs.size) : spec.entry;
    for (let at = 0; at + entry <= data.length; at += entry) {
      const site = pointee(relocs.get(at));
      if (!site) continue;
      const code = index.elf.sectionData(site.section);
      let length = 5;
      const replacements: Replacement[] = [];
      if (spec.kind === 'alternative') {
        length = data[at + entry - 2]; // u8 instrlen, u8 replacementlen: the entry's last two bytes
        const repl = pointee(relocs.get(at + 4));
        if (repl) replacements.push({ ...repl, length: data[at + entry - 1] });
      } else if (spec.kind === 'paravirt') length = data[at + 9]; // u8 type, u8 len
      else if (spec.kind === 'lock-prefix') length = 1;
      else if (spec.kind === 'endbr') length = 4;
      else if (spec.kind === 'retpoline') length = instructionLength(code, site.offset);
      else if (spec.kind === 'jump-label') length = code[site.offset] === 0xeb || (code[site.offset] === 0x66 && code[site.offset + 1] === 0x90) ? 2 : 5;
      if (length > 0) add({ kind: spec.kind, section: site.section, offset: site.offset, length, replacements });
    }
  }
  // Static call trampolines are listed in no table: they are the functions named __SCT__<key>
  // (include/linux/static_call_types.h), whose first instruction __static_call_transform() rewrites to a jmp to
  // the current target or a `ret` (arch/x86/kernel/static_call.c).
  for (const fn of index.functions()) {
    if (fn.name.startsWith('__SCT__') && fn.size >= 5) add({ kind: 'static-call', section: fn.section, offset: fn.start, length: 5, replacements: [] });
  }
  for (const list of out.values()) list.sort((a, b) => a.offset - b.offset);
  return out;
}

/** Length of a retpoline site's instruction: [cs] call/jmp rel32 (5, 6 with the prefix) or jcc rel32 (6). */
function instructionLength(code: Uint8Array, at: number): number {
  let n = 0;
  if (code[at] === 0x2e) n = 1; // -mindirect-branch-cs-prefix
  return n + (code[at + n] === 0x0f ? 6 : 5);
}
