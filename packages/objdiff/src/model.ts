import {
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Relocation,
  R_X86_64_16,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_8,
  R_X86_64_PC16,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PC8,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_STRINGS,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
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
}

export interface UnitReloc {
  offset: number;
  type: number;
  symbol: ElfSymbol;
  addend: bigint;
  /** The original relocation and the relocation section it came from. */
  raw: Relocation;
}

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

export function isAbsolute(type: number): boolean {
  return type === R_X86_64_64 || type === R_X86_64_32 || type === R_X86_64_32S;
}

/** An indexed view of one object: its units by section, relocations per section, string lookup. */
export class ObjectModel {
  readonly units: Unit[] = [];
  private readonly unitsBySection = new Map<number, Unit[]>();
  private readonly relocsBySection = new Map<number, Array<{ r: Relocation; sym: ElfSymbol }>>();

  constructor(readonly elf: ElfObject) {
    for (const section of elf.sections) {
      const relocs = elf.relocationSectionsFor(section.index).flatMap((rs) =>
        (elf.relocations.get(rs.index) ?? []).map((r) => ({ r, sym: elf.relocationSymbol(rs.index, r)! })),
      );
      relocs.sort((a, b) => (a.r.offset < b.r.offset ? -1 : a.r.offset > b.r.offset ? 1 : 0));
      this.relocsBySection.set(section.index, relocs);
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
      });
    }
    for (const unit of this.units) {
      const list = this.unitsBySection.get(unit.section.index) ?? [];
      list.push(unit);
      this.unitsBySection.set(unit.section.index, list);
    }
  }

  unitsInSection(sectionIndex: number): Unit[] {
    return this.unitsBySection.get(sectionIndex) ?? [];
  }

  /** Relocations of a section whose field starts in [start, start+size), relative to start. */
  relocsIn(sectionIndex: number, start: number, size: number): UnitReloc[] {
    return (this.relocsBySection.get(sectionIndex) ?? [])
      .filter(({ r }) => Number(r.offset) >= start && Number(r.offset) < start + size)
      .map(({ r, sym }) => ({ offset: Number(r.offset) - start, type: r.type, symbol: sym, addend: r.addend, raw: r }));
  }

  sectionRelocs(sectionIndex: number): UnitReloc[] {
    const section = this.elf.sections[sectionIndex];
    return this.relocsIn(sectionIndex, 0, Math.max(section.size, 1 << 30));
  }

  /** The unit a (symbol, addend) reference lands in, for section-symbol references. */
  unitAt(sectionIndex: number, offset: number): Unit | undefined {
    return this.unitsInSection(sectionIndex).find((u) => offset >= u.start && offset < u.start + Math.max(u.size, 1));
  }

  unitOfSymbol(symbol: ElfSymbol): Unit | undefined {
    const index = definedInSection(symbol);
    return index === undefined ? undefined : this.unitsInSection(index).find((u) => u.symbol === symbol);
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

  isSectionSymbol(symbol: ElfSymbol): boolean {
    return symbol.type === STT_SECTION;
  }
}
