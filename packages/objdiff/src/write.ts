import {
  type BuildRelaSection,
  type BuildSection,
  type BuildSymbol,
  ObjectBuilder,
  SHF_ALLOC,
  SHF_GROUP,
  SHF_INFO_LINK,
  SHF_RELA_LIVEPATCH,
  SHN_LIVEPATCH,
  SHT_NOBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_NOTYPE,
} from '@hotsplice/elf';
import type { Inclusion, Target } from './include';
import { type External, klpRelaName, klpSymbolName } from './klp';
import type { ObjectModel, Unit, UnitReloc } from './model';
import { ORC_DATA, ORC_DATA_SIZE, type TableEntry } from './special';
import { keepsSectionName } from './special-statics';

/** A function of the new code the loader's generated tables name: a local copy plus this global alias. */
export interface AliasedFunction {
  unit: Unit;
  newSymbol: string;
}

/** A function the new code replaces: the loader's klp_func comes from this (old_name, sympos, new copy). */
export interface PatchedFunction extends AliasedFunction {
  oldName: string;
  sympos: number;
}

/**
 * The global name the loader uses for the new copy of `oldName` (sympos) in klp object `objname`. The copy itself
 * stays local, so new code of several objects links into one module without clashes.
 */
export function newFunctionSymbol(objname: string, oldName: string, sympos: number): string {
  return `__hotsplice_${objname}__${oldName}__${sympos}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Emit an object holding `inc`'s units, sections and table entries, relocated as `inc.targets` says. */
export function writeIncluded(post: ObjectModel, inc: Inclusion, aliased: AliasedFunction[]): Buffer {
  const b = new ObjectBuilder();
  const unitSymbols = new Map<Unit, BuildSymbol>();
  const copied = new Map<number, BuildSection>();
  // Per target section (by identity: copied pr_debug descriptors are several sections all named __dyndbg) and
  // per klp object, the relocation section that holds its entries.
  const relaOf = new Map<BuildSection, Map<string, BuildRelaSection>>();

  const units = [...inc.units].sort((x, y) => x.section.index - y.section.index || x.start - y.start);
  const unitSections = new Map<Unit, BuildSection>();
  for (const unit of units) {
    // A function's padding comes along (module code gets call depth tracking's thunk there too).
    const from = unit.start - unit.padding;
    const whole = (from === 0 && unit.padding + unit.size === unit.section.size) || keepsSectionName(unit);
    const section = b.addSection({
      name: whole ? unit.section.name : `${unit.section.name}.${unit.name}`,
      type: unit.section.type,
      flags: unit.section.flags & ~SHF_GROUP,
      align: unit.section.addralign,
      data: unit.section.type === SHT_NOBITS ? undefined : Uint8Array.from(post.elf.sectionData(unit.section.index).subarray(from, unit.start + unit.size)),
      size: unit.padding + unit.size,
    });
    unitSections.set(unit, section);
    unitSymbols.set(
      unit,
      b.addSymbol({
        name: unit.name,
        section,
        value: BigInt(unit.padding),
        size: unit.size,
        bind: unit.symbol.bind,
        type: unit.symbol.type,
        visibility: unit.symbol.visibility,
      }),
    );
  }
  for (const index of [...inc.sections].sort((x, y) => x - y)) {
    const s = post.elf.sections[index];
    copied.set(
      index,
      b.addSection({ name: s.name, type: s.type, flags: s.flags & ~SHF_GROUP, align: s.addralign, entsize: s.entsize, data: s.type === SHT_NOBITS ? undefined : Uint8Array.from(post.elf.sectionData(index)), size: s.size }),
    );
  }

  const externals = new Map<External, BuildSymbol>();
  const symbolFor = (t: Target): { symbol: BuildSymbol; klp?: External } => {
    switch (t.kind) {
      case 'unit':
        return { symbol: unitSymbols.get(t.unit)! };
      case 'section':
        return { symbol: b.sectionSymbol(copied.get(t.sectionIndex)!) };
      case 'symbol':
        return { symbol: b.undefinedSymbol(t.symbol.name) };
      case 'external': {
        const e = t.external;
        let symbol = externals.get(e);
        if (!symbol) {
          symbol = e.klp
            ? b.addSymbol({ name: klpSymbolName(e), section: SHN_LIVEPATCH, bind: STB_GLOBAL, type: STT_NOTYPE })
            : b.undefinedSymbol(e.name);
          externals.set(e, symbol);
        }
        return { symbol, klp: e.klp ? e : undefined };
      }
    }
  };
  const relocate = (target: BuildSection, relocs: UnitReloc[], shift = 0) => {
    for (const r of relocs) {
      const t = inc.targets.get(r);
      if (!t) continue;
      const { symbol, klp } = symbolFor(t);
      // Livepatch resolves .klp.sym.* through .klp.rela.<obj>.<section> (kernel/livepatch/core.c);
      // SHF_ALLOC keeps them in memory for modules loaded after the patch (Documentation/livepatch/module-elf-format.rst).
      const key = klp ? klp.relaObject : '';
      if (!relaOf.has(target)) relaOf.set(target, new Map());
      let rela = relaOf.get(target)!.get(key);
      if (!rela) {
        rela = klp
          ? b.addRelaSection({ target, name: klpRelaName(klp.relaObject, target.name), flags: SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH })
          : b.addRelaSection({ target });
        relaOf.get(target)!.set(key, rela);
      }
      rela.relocations.push({ offset: BigInt(r.offset + shift), type: r.type, symbol, addend: t.addend });
    }
  };
  for (const unit of units) relocate(unitSections.get(unit)!, unit.relocs, unit.padding);
  for (const [index, section] of copied) relocate(section, post.sectionRelocs(index));
  writeTables(b, post, inc.entries, relocate);
  for (const p of aliased) {
    const copy = unitSymbols.get(p.unit)!;
    copy.bind = STB_LOCAL;
    b.addSymbol({ name: p.newSymbol, section: unitSections.get(p.unit)!, value: BigInt(p.unit.padding), size: p.unit.size, bind: STB_GLOBAL, type: STT_FUNC });
  }
  return b.toBuffer();
}

function writeTables(
  b: ObjectBuilder,
  post: ObjectModel,
  entries: TableEntry[],
  relocate: (target: BuildSection, relocs: UnitReloc[], shift?: number) => void,
): void {
  const byTable = new Map<string, TableEntry[]>();
  for (const e of entries) byTable.set(e.table, [...(byTable.get(e.table) ?? []), e]);
  for (const [name, list] of byTable) {
    list.sort((x, y) => x.offset - y.offset);
    const original = post.elf.sections[list[0].sectionIndex];
    const data = Buffer.concat(list.map((e) => post.elf.sectionData(e.sectionIndex).subarray(e.offset, e.offset + e.size)));
    const section = b.addSection({ name, type: original.type, flags: original.flags & ~SHF_GROUP, align: original.addralign, entsize: original.entsize, data });
    list.forEach((e, i) => relocate(section, e.relocs, i * e.size));
    if (name === '.orc_unwind_ip') {
      // .orc_unwind holds entry i of .orc_unwind_ip's addresses: keep the same indices.
      const orc = post.elf.sectionByName(ORC_DATA);
      if (orc) {
        const orcData = post.elf.sectionData(orc.index);
        const kept = Buffer.concat(list.map((e) => orcData.subarray(e.index * ORC_DATA_SIZE, (e.index + 1) * ORC_DATA_SIZE)));
        b.addSection({ name: ORC_DATA, type: orc.type, flags: orc.flags & ~SHF_GROUP, align: orc.addralign, data: kept });
      }
    }
  }
}
