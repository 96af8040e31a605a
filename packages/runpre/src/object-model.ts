import {
  type ElfObject, type ElfSymbol, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, STT_FUNC, STT_SECTION, definedInSection,
} from '@hotsplice/elf';
import { type FieldKind, fieldKind } from './fields';

/** A relocation of the object with its symbol and field kind (undefined kind: a type the matcher cannot compute). */
export interface ObjectReloc {
  offset: number;
  type: number;
  symbol: ElfSymbol;
  addend: bigint;
  kind?: FieldKind;
}

export interface ObjectFunction {
  symbol: ElfSymbol;
  name: string;
  section: number;
  start: number;
  size: number;
}

/** The parts of a relocatable object the matcher needs, indexed once. */
export class ObjectIndex {
  private readonly relocs = new Map<number, ObjectReloc[]>();
  private readonly symbolsOf = new Map<number, ElfSymbol[]>();

  constructor(readonly elf: ElfObject) {
    for (const s of elf.symbols) {
      const section = definedInSection(s);
      if (section === undefined || s.type === STT_SECTION || !s.name) continue;
      const list = this.symbolsOf.get(section);
      if (list) list.push(s);
      else this.symbolsOf.set(section, [s]);
    }
    for (const list of this.symbolsOf.values()) list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }

  /** Relocations applying to a section, sorted by offset. */
  sectionRelocs(section: number): ObjectReloc[] {
    let list = this.relocs.get(section);
    if (!list) {
      list = [];
      for (const rela of this.elf.relocationSectionsFor(section)) {
        for (const r of this.elf.relocations.get(rela.index) ?? []) {
          const symbol = this.elf.relocationSymbol(rela.index, r) ?? this.elf.symbols[0];
          list.push({ offset: Number(r.offset), type: r.type, symbol, addend: r.addend, kind: fieldKind(r.type) });
        }
      }
      list.sort((a, b) => a.offset - b.offset);
      this.relocs.set(section, list);
    }
    return list;
  }

  /** Named symbols defined in a section, by value. */
  namedSymbolsIn(section: number): readonly ElfSymbol[] {
    return this.symbolsOf.get(section) ?? [];
  }

  /** The named symbol a section offset belongs to: the one covering it, else the last one starting at or before it. */
  symbolAt(section: number, offset: number): ElfSymbol | undefined {
    const list = this.namedSymbolsIn(section);
    let best: ElfSymbol | undefined;
    for (const s of list) {
      if (Number(s.value) > offset) break;
      if (offset < Number(s.value + s.size) || !best || Number(best.value + best.size) <= offset) best = s;
    }
    return best ?? list[0];
  }

  isMergeSection(section: number): boolean {
    return (this.elf.section(section).flags & SHF_MERGE) !== 0n;
  }

  isStringSection(section: number): boolean {
    return (this.elf.section(section).flags & SHF_STRINGS) !== 0n;
  }

  /** Every defined function with code (the units run-pre compares), in symbol-table order. */
  functions(): ObjectFunction[] {
    const out: ObjectFunction[] = [];
    for (const s of this.elf.symbols) {
      const section = definedInSection(s);
      if (s.type !== STT_FUNC || section === undefined || s.size === 0n) continue;
      if ((this.elf.section(section).flags & SHF_EXECINSTR) === 0n) continue;
      // objtool --prefix (6.12's CALL_PADDING) names each function's padding __pfx_<name>: NOPs no code runs,
      // which call depth tracking may rewrite into its accounting thunk (arch/x86/kernel/callthunks.c).
      if (s.name.startsWith('__pfx_')) continue;
      out.push({ symbol: s, name: s.name, section, start: Number(s.value), size: Number(s.size) });
    }
    return out;
  }
}
