import { type ElfSymbol, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, SHF_WRITE, SHN_UNDEF, STT_SECTION, definedInSection } from '@hotsplice/elf';
import { isBranch } from './branch';
import { targetUnit } from './correlate';
import { type External, sympos as symposOf } from './klp';
import type { ObjectModel, Unit, UnitReloc } from './model';
import { SIDE_CODE, type TableEntry } from './special';
import { isCopiedStatic } from './special-statics';
import { Exports } from './symvers';
import type { ParentSymbol } from './types';

/** Where one relocation of the new code points once the new code is cut out of the post object. */
export type Target =
  | { kind: 'unit'; unit: Unit; addend: bigint }
  | { kind: 'section'; sectionIndex: number; addend: bigint }
  | { kind: 'external'; external: External; addend: bigint }
  | { kind: 'symbol'; symbol: ElfSymbol; addend: bigint };

export interface InclusionContext {
  post: ObjectModel;
  /** For a post unit that existed before: its pre twin (whose name the kernel knows). */
  preTwin: Map<Unit, Unit>;
  objname: string;
  parent: ParentSymbol[];
  exported?: Set<string>;
  /** Source file basename, for sympos of duplicated locals. */
  sourceFile?: string;
  /** Old code for run-pre: every external stays a plain symbol of its own name (no klp, no sympos). */
  plain?: boolean;
  /** The pre object (the preTwin units' model): same-named locals of a module parent are chosen by content. */
  pre?: ObjectModel;
}

export interface Inclusion {
  units: Set<Unit>;
  /** Post sections copied whole: strings, anonymous read-only data, alternative replacement code. */
  sections: Set<number>;
  entries: TableEntry[];
  targets: Map<UnitReloc, Target>;
  externals: Map<string, External>;
  refused: Array<{ symbol: string; reason: string }>;
}

/** `copy`: the data of a copied static (include/special-statics.ts), whose read-only targets come along too. */
type Mode = 'code' | 'data' | 'table' | 'copy';

/**
 * The klp object that defines a global the new code uses: the parent, when it defines the name (its undefined
 * symbols are imports); else the module Module.symvers names as exporting it; else vmlinux. A module object's
 * `__SCT__might_resched` (might_sleep's static call) is vmlinux's: ext4.ko only imports it.
 */
function ownerOf(ctx: InclusionContext, name: string): string {
  if (ctx.parent.some((s) => s.name === name)) return ctx.objname;
  if (ctx.objname === 'vmlinux') return 'vmlinux';
  return (ctx.exported instanceof Exports ? ctx.exported.ownerOf(name) : undefined) ?? 'vmlinux';
}

/**
 * Inclusion closure (Ksplice's keep-new-code): the given functions, every new function and new data they reach,
 * the strings and anonymous data they use, and their special-table entries. Existing functions and data are
 * referenced, never copied; function pointers to existing functions stay on the original.
 */
export function includeClosure(ctx: InclusionContext, roots: Unit[], entries: TableEntry[]): Inclusion {
  const inc: Inclusion = { units: new Set(), sections: new Set(), entries: [], targets: new Map(), externals: new Map(), refused: [] };
  const queue: Array<{ bytes: Uint8Array; relocs: UnitReloc[]; mode: Mode }> = [];
  const addUnit = (unit: Unit) => {
    if (inc.units.has(unit)) return;
    inc.units.add(unit);
    queue.push({ bytes: unit.bytes, relocs: unit.relocs, mode: unit.kind === 'function' ? 'code' : !ctx.plain && isCopiedStatic(unit) ? 'copy' : 'data' });
  };
  const addSection = (index: number) => {
    if (inc.sections.has(index)) return;
    inc.sections.add(index);
    const mode = ctx.post.elf.sections[index].flags & SHF_EXECINSTR ? 'code' : 'data';
    queue.push({ bytes: ctx.post.elf.sectionData(index), relocs: ctx.post.sectionRelocs(index), mode });
  };
  roots.forEach(addUnit);

  const classify = (from: Uint8Array, r: UnitReloc, mode: Mode): Target => {
    const { symbol } = r;
    const unit = targetUnit(ctx.post, r, mode === 'code' ? from : undefined);
    if (unit) {
      const addend = symbol.type === STT_SECTION ? r.addend - BigInt(unit.start) : r.addend;
      const twin = ctx.preTwin.get(unit);
      // New functions and data come along, and so do statics the new code carries its own copy of (a pr_debug
      // descriptor) with the constants they point at (its `__func__`): a klp reference into a module would stay
      // NULL until that module loads, and dynamic debug reads these strings. Old code for run-pre names the originals.
      const constant = mode === 'copy' && unit.kind === 'data' && !(unit.section.flags & SHF_WRITE);
      if (!twin || constant || (!ctx.plain && isCopiedStatic(unit))) {
        addUnit(unit);
        return { kind: 'unit', unit, addend };
      }
      // Calls go to the new copy, and so do table entries about it; any other use takes the original's address.
      const local = mode === 'table' || (unit.kind === 'function' && isBranch(from, r));
      if (inc.units.has(unit) && local) return { kind: 'unit', unit, addend };
      return { kind: 'external', external: external(twin.name, twin.local, twin), addend };
    }
    if (symbol.type === STT_SECTION) {
      const index = definedInSection(symbol)!;
      const section = ctx.post.elf.sections[index];
      if (section.flags & (SHF_STRINGS | SHF_MERGE) || ctx.post.unitsInSection(index).length === 0 || SIDE_CODE.has(section.name)) {
        addSection(index);
        return { kind: 'section', sectionIndex: index, addend: r.addend };
      }
      inc.refused.push({ symbol: section.name, reason: `reference into ${section.name}+${r.addend} that no symbol covers` });
      return { kind: 'symbol', symbol, addend: r.addend };
    }
    const label = ctx.post.stringLabel(symbol);
    if (label) {
      addSection(label.sectionIndex);
      return { kind: 'section', sectionIndex: label.sectionIndex, addend: label.offset + r.addend };
    }
    if (symbol.rawShndx === SHN_UNDEF) return { kind: 'external', external: external(symbol.name, false), addend: r.addend };
    return { kind: 'symbol', symbol, addend: r.addend };
  };

  const external = (name: string, local: boolean, twin?: Unit): External => {
    const known = inc.externals.get(`${local}:${name}`);
    if (known) return known;
    const objname = local ? ctx.objname : ownerOf(ctx, name);
    const exported = ctx.plain || (!local && (ctx.exported ? ctx.exported.has(name) : true));
    let pos = 0;
    if (local && !ctx.plain) {
      const result = symposOf(ctx.parent, name, ctx.sourceFile, twin && ctx.pre ? { model: ctx.pre, unit: twin } : undefined);
      if ('error' in result) inc.refused.push({ symbol: name, reason: result.error });
      else pos = result.sympos;
    }
    // A module's export (this module's or another's) would make the update module depend on that module, which
    // then must be loaded before the update: livepatch binds it when the patched module loads instead, and the
    // kernel allows a module's klp section to name another module's symbols (kernel/livepatch/core.c
    // klp_resolve_symbols refuses only vmlinux symbols there; those stay ordinary imports).
    const klp = !exported || (!ctx.plain && objname !== 'vmlinux');
    const relaObject = objname === 'vmlinux' ? 'vmlinux' : ctx.objname;
    const e: External = { name, local, klp, objname, relaObject, sympos: pos };
    inc.externals.set(`${local}:${name}`, e);
    return e;
  };

  const drain = () => {
    while (queue.length) {
      const item = queue.shift()!;
      for (const r of item.relocs) inc.targets.set(r, classify(item.bytes, r, item.mode));
    }
  };
  drain();
  // Table entries about included code come along, with whatever their other fields point at.
  for (let changed = true; changed; ) {
    changed = false;
    for (const entry of entries) {
      if (inc.entries.includes(entry) || !entry.anchor) continue;
      const about = targetUnit(ctx.post, entry.anchor);
      const inSideCode = entry.anchor.symbol.type === STT_SECTION && inc.sections.has(definedInSection(entry.anchor.symbol)!);
      if (!(about && inc.units.has(about)) && !inSideCode) continue;
      inc.entries.push(entry);
      for (const r of entry.relocs) inc.targets.set(r, classify(new Uint8Array(), r, 'table'));
      drain();
      changed = true;
    }
  }
  return inc;
}
