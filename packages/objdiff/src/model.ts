import {
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Relocation,
  R_X86_64_16,
  R_X86_64_64,
  R_X86_64_8,
  R_X86_64_PC16,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PC8,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_MERGE,
  SHF_STRINGS,
  STB_LOCAL,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  definedInSection,
} from '@hotsplice/elf';

/** A function or data object: one symbol's bytes and the relocations inside them. */
export interface Unit {
  name: string;
  kind: 'function' | 'data';
  symbol: ElfSymbol;
  section: ElfSection;
  /** Offset of the unit inside its section. */
  start: number;
  size: number;
  bytes: Uint8Array;
  /** Relocations that fall inside the unit, offsets relative to the unit's start. */
  relocs: UnitReloc[];
  local: boolean;
  /**
   * NOP bytes the compiler put right before a function (-fpatchable-function-entry=N,N: 6.12's CALL_PADDING, 16
   * bytes, where call depth tracking writes its accounting thunk, arch/x86/kernel/callthunks.c patch_dest), told by
   * the function's `__patchable_function_entries` entry; 0 elsewhere.
   */
  padding: number;
}

export interface UnitReloc {
  offset: number;
  type: number;
  symbol: ElfSymbol;
  addend: bigint;
  /** The original relocation and the relocation section it came from. */
  raw: Relocation;
}

/**
 * gcc -fpatchable-function-entry=N,N's table (6.12's CALL_PADDING): one entry per function, pointing at its own
 * padding. An entry about the function itself, never a use of it (x86 ftrace reads __mcount_loc instead).
 */
export const PADDING_ENTRIES = '__patchable_function_entries';

/** Sections that carry no code or data the differ compares (debug info, notes, module metadata). */
export function isIgnoredSection(name: string): boolean {
  return (
    /^\.(debug|comment|note|BTF|discard|gnu\.build\.attributes|rela?\.)/.test(name) ||
    /^(\.modinfo|__ksymtab|__kcrctab|__ksymtab_strings|\.gnu\.linkonce\.this_module|__versions)/.test(name)
  );
}

/** Field width a relocation patches, by type (x86-64 psABI). */
export function relocWidth(type: number): number {
  switch (type) {
    case R_X86_64_64:
    case R_X86_64_PC64:
      return 8;
    case R_X86_64_16:
    case R_X86_64_PC16:
      return 2;
    case R_X86_64_8:
    case R_X86_64_PC8:
      return 1;
    default:
      return 4;
  }
}

export function isPcRelative(type: number): boolean {
  return type === R_X86_64_PC32 || type === R_X86_64_PLT32 || type === R_X86_64_PC64 || type === R_X86_64_PC16 || type === R_X86_64_PC8;
}

/** An indexed view of one object: its units by section, relocations per section, string lookup. */
export class ObjectModel {
  readonly units: Unit[] = [];
  private readonly unitsBySection = new Map<number, Unit[]>();
  private readonly relocsBySection = new Map<number, Array<{ r: Relocation; sym: ElfSymbol }>>();
  private readonly wholeSectionRelocs = new Map<number, UnitReloc[]>();

  constructor(readonly elf: ElfObject) {
    for (const [relaIndex, list] of elf.relocations) {
      const target = elf.sections[relaIndex].info;
      const relocs = this.relocsBySection.get(target) ?? [];
      for (const r of list) relocs.push({ r, sym: elf.relocationSymbol(relaIndex, r)! });
      this.relocsBySection.set(target, relocs);
    }
    for (const relocs of this.relocsBySection.values()) {
      relocs.sort((a, b) => (a.r.offset < b.r.offset ? -1 : a.r.offset > b.r.offset ? 1 : 0));
    }
    for (const symbol of elf.symbols) {
      if (symbol.type !== STT_FUNC && symbol.type !== STT_OBJECT) continue;
      const index = definedInSection(symbol);
      if (index === undefined) continue;
      const section = elf.sections[index];
      if (!section || !(section.flags & SHF_ALLOC) || isIgnoredSection(section.name)) continue;
      const start = Number(symbol.value);
      const size = Number(symbol.size);
      const data = elf.sectionData(index);
      this.units.push({
        name: symbol.name,
        kind: symbol.type === STT_FUNC || section.flags & SHF_EXECINSTR ? 'function' : 'data',
        symbol,
        section,
        start,
        size,
        bytes: data.length ? data.subarray(start, start + size) : new Uint8Array(size),
        relocs: this.relocsIn(index, start, size),
        local: symbol.bind === STB_LOCAL,
        padding: 0,
      });
    }
    for (const unit of this.units) {
      const list = this.unitsBySection.get(unit.section.index) ?? [];
      list.push(unit);
      this.unitsBySection.set(unit.section.index, list);
    }
    for (const list of this.unitsBySection.values()) {
      if (list.filter((u) => u.kind === 'function').length > 1) for (const u of list) this.addImplicitBranches(u, list);
    }
    this.findPadding();
  }

  /**
   * Each `__patchable_function_entries` entry (one per function, gcc -fpatchable-function-entry=N,N) points at the N
   * NOPs before a function's entry: that many bytes are the function's padding.
   */
  private findPadding(): void {
    for (const table of this.elf.sections.filter((s) => s.name === PADDING_ENTRIES)) {
      for (const { r, sym } of this.relocsBySection.get(table.index) ?? []) {
        const section = definedInSection(sym);
        if (section === undefined) continue;
        const at = Number(sym.value + r.addend);
        const data = this.elf.sectionData(section);
        const fn = this.unitsInSection(section).find((u) => u.kind === 'function' && u.start > at && u.start - at <= 64);
        if (fn && data.subarray(at, fn.start).every((b) => b === 0x90)) fn.padding = fn.start - at;
      }
    }
  }

  /**
   * In a section shared by several functions (.sched.text, .noinstr.text, …) gas resolves a call or jump to a
   * static function of the same section itself and leaves no relocation. Make those branches explicit, so they
   * compare by target and survive being cut out: an e8/e9 whose rel32 lands exactly on another function's start.
   */
  private addImplicitBranches(unit: Unit, neighbours: Unit[]): void {
    if (unit.kind !== 'function') return;
    const covered = new Uint8Array(unit.size);
    for (const r of unit.relocs) covered.fill(1, r.offset, r.offset + relocWidth(r.type));
    const starts = new Map(neighbours.filter((n) => n.kind === 'function' && n !== unit).map((n) => [n.start, n]));
    const view = Buffer.from(unit.bytes.buffer, unit.bytes.byteOffset, unit.bytes.length);
    for (let op = 0; op + 5 <= unit.size; op++) {
      if ((view[op] !== 0xe8 && view[op] !== 0xe9) || covered[op] || covered[op + 1] || covered[op + 4]) continue;
      const target = starts.get(unit.start + op + 5 + view.readInt32LE(op + 1));
      if (!target) continue;
      const raw: Relocation = { offset: BigInt(unit.start + op + 1), type: R_X86_64_PLT32, symbol: target.symbol.index, addend: -4n };
      unit.relocs.push({ offset: op + 1, type: R_X86_64_PLT32, symbol: target.symbol, addend: -4n, raw });
      covered.fill(1, op + 1, op + 5);
    }
    unit.relocs.sort((a, b) => a.offset - b.offset);
  }

  unitsInSection(sectionIndex: number): Unit[] {
    return this.unitsBySection.get(sectionIndex) ?? [];
  }

  /** Relocations of a section whose field starts in [start, start+size), relative to start. */
  relocsIn(sectionIndex: number, start: number, size: number): UnitReloc[] {
    // Sorted by offset: binary search the first, so a linked .ko's one big .text is not scanned once per function.
    const all = this.relocsBySection.get(sectionIndex) ?? [];
    let lo = 0;
    for (let hi = all.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (Number(all[mid].r.offset) < start) lo = mid + 1;
      else hi = mid;
    }
    const out: UnitReloc[] = [];
    for (let i = lo; i < all.length && Number(all[i].r.offset) < start + size; i++) {
      const { r, sym } = all[i];
      out.push({ offset: Number(r.offset) - start, type: r.type, symbol: sym, addend: r.addend, raw: r });
    }
    return out;
  }

  /**
   * A whole section's relocations, the same objects on every call: the inclusion keys each relocation's target by
   * its object, and the writer looks them up again. (New objects per call dropped every relocation of a copied
   * section, e.g. .altinstr_replacement's `jmp` back into the function, which left objtool's pass of 6.12's old code
   * at "can't find jump dest" with no tables.)
   */
  sectionRelocs(sectionIndex: number): UnitReloc[] {
    let relocs = this.wholeSectionRelocs.get(sectionIndex);
    if (!relocs) {
      relocs = this.relocsIn(sectionIndex, 0, Math.max(this.elf.sections[sectionIndex].size, 1 << 30));
      this.wholeSectionRelocs.set(sectionIndex, relocs);
    }
    return relocs;
  }

  /** The unit a (symbol, addend) reference lands in, for section-symbol references. */
  unitAt(sectionIndex: number, offset: number): Unit | undefined {
    return this.unitsInSection(sectionIndex).find((u) => offset >= u.start && offset < u.start + Math.max(u.size, 1));
  }

  unitOfSymbol(symbol: ElfSymbol): Unit | undefined {
    const index = definedInSection(symbol);
    return index === undefined ? undefined : this.unitsInSection(index).find((u) => u.symbol === symbol);
  }

  /**
   * A local label into a mergeable section: a string (gcc's `.LC7` for a WARN's file name in `__bug_table`,
   * written by the asm in arch/x86/include/asm/bug.h) or a constant of a `.rodata.cst<N>` pool (`.LC18`, a 2-byte
   * constant net/key/af_key.c loads). The section and the offset it names, so it is handled like a section
   * reference. Label numbers change between builds; the strings and constants do not.
   */
  stringLabel(symbol: ElfSymbol): { sectionIndex: number; offset: bigint } | undefined {
    if (symbol.type !== STT_NOTYPE || symbol.bind !== STB_LOCAL) return undefined;
    const index = definedInSection(symbol);
    if (index === undefined || !(this.elf.sections[index]?.flags & SHF_MERGE)) return undefined;
    return { sectionIndex: index, offset: symbol.value };
  }

  /** The fixed-size constant containing `offset` in a `.rodata.cst<N>` pool (SHF_MERGE, not strings), as hex. */
  constantAt(sectionIndex: number, offset: number): { hex: string; at: number } | undefined {
    const section = this.elf.sections[sectionIndex];
    if (!section || !(section.flags & SHF_MERGE) || section.flags & SHF_STRINGS || section.entsize <= 0) return undefined;
    const data = this.elf.sectionData(sectionIndex);
    const begin = Math.floor(offset / section.entsize) * section.entsize;
    if (offset < 0 || begin + section.entsize > data.length) return undefined;
    return { hex: Buffer.from(data.subarray(begin, begin + section.entsize)).toString('hex'), at: offset - begin };
  }

  /** The NUL-terminated string containing `offset` in a SHF_STRINGS section, and where in it `offset` points. */
  stringAt(sectionIndex: number, offset: number): { text: string; at: number } | undefined {
    const section = this.elf.sections[sectionIndex];
    if (!section || !(section.flags & SHF_STRINGS)) return undefined;
    const data = this.elf.sectionData(sectionIndex);
    if (offset < 0 || offset > data.length) return undefined;
    let begin = offset;
    while (begin > 0 && data[begin - 1] !== 0) begin--;
    let end = offset;
    while (end < data.length && data[end] !== 0) end++;
    return { text: Buffer.from(data.subarray(begin, end)).toString('latin1'), at: offset - begin };
  }
}
