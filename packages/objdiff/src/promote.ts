import { SHF_ALLOC, SHF_EXECINSTR } from '@hotsplice/elf';
import { INIT_EXIT, hasFentry, isBranch, isJump } from './branch';
import { targetUnit } from './correlate';
import { PADDING_ENTRIES, type ObjectModel, type Unit, isIgnoredSection } from './model';
import { coldParent } from './names';
import { PATCH_API_SECTION } from './patch-api';
import { ORC_DATA, TABLES, type TableEntry } from './special';

/**
 * A changed function ftrace cannot redirect (no fentry call: `notrace`, or an `inline` gcc kept out of line, like a
 * SYSCALL_DEFINE body in `__do_sys_<name>`), carried into the update by the callers that call it: they are
 * patched, and their new copies call the new copy of it.
 */
export interface Promotion {
  /** The notrace function (post name). */
  function: string;
  /** Its callers in this object: patched ones (with an fentry call) and notrace ones carried the same way. */
  calledBy: string[];
  /**
   * A caller reaches it by a jump (gcc's sibling call: `__x64_sys_<name>` ends in `jmp __do_sys_<name>`). A task
   * already inside the old copy then has no patched frame on its stack and finishes the old copy after livepatch
   * switched it; allowed only when that old copy calls nothing the update replaces.
   */
  siblingCalled: boolean;
}

export interface PromotionResult {
  promotions: Promotion[];
  /** Callers with an fentry call: patched in place of the notrace functions. */
  callers: Set<Unit>;
  /** The notrace functions (changed ones and notrace callers between them and a patched caller), copied as they are. */
  carried: Unit[];
  refused: Array<{ symbol: string; reason: string }>;
}

interface Reference {
  /** The unit holding the reference, if a unit holds it. */
  from?: Unit;
  /** For reports: the unit, table entry or section holding it. */
  where: string;
  branch: boolean;
  jump: boolean;
}

/**
 * Promote changed notrace functions to their nearest traceable callers (issue 13). Sound only when every way into
 * the function is a call from this object that the update replaces: the function must be local (a global could be
 * called from other objects), nothing may hold its address (a function pointer would keep reaching the old copy),
 * and its callers must be functions that run again (init code of vmlinux already ran; a module's init/exit code
 * would run the old copy).
 */
export function promoteNotrace(
  post: ObjectModel,
  pre: ObjectModel,
  notrace: Unit[],
  ctx: {
    preTwin: Map<Unit, Unit>;
    objname: string;
    entries: TableEntry[];
    replaced: Unit[];
    /** hotsplice_force_unsafe: the author says old and new copies may run side by side (waives the sibling check). */
    forced: Set<Unit>;
  },
): PromotionResult {
  const refs = referencesIndex(post, ctx.entries);
  const result: PromotionResult = { promotions: [], callers: new Set(), carried: [], refused: [] };
  const queue = [...notrace];
  const seen = new Set<Unit>();
  while (queue.length) {
    const fn = queue.shift()!;
    if (seen.has(fn)) continue;
    seen.add(fn);
    const problems: string[] = [];
    if (!fn.local) problems.push('it is global: its callers in other objects cannot be found');
    const promotion: Promotion = { function: fn.name, calledBy: [], siblingCalled: false };
    const next: Unit[] = [];
    for (const ref of refs.get(fn) ?? []) {
      if (ref.from && coldParent(ref.from.name) === fn.name) continue; // its own .cold part jumping back
      const caller = ref.from && ownerOf(post, ref.from);
      if (!caller || caller.kind !== 'function' || !ref.branch) {
        problems.push(`${caller?.name ?? ref.where} takes its address`);
        continue;
      }
      if (INIT_EXIT.test(caller.section.name)) {
        // vmlinux's init code ran at boot and is freed; a module's would run the old copy again (load, unload).
        if (ctx.objname !== 'vmlinux') problems.push(`${caller.name} (${caller.section.name}) calls it`);
        continue;
      }
      promotion.siblingCalled ||= ref.jump;
      if (!promotion.calledBy.includes(caller.name)) promotion.calledBy.push(caller.name);
      if (!ctx.preTwin.has(caller)) continue; // a new function calls the new copy anyway
      if (hasFentry(caller)) result.callers.add(caller);
      else next.push(caller);
    }
    if (!problems.length && !promotion.calledBy.length) problems.push('no function of this object calls it');
    if (problems.length) {
      result.refused.push({ symbol: fn.name, reason: `changed function has no fentry call (notrace), so ftrace cannot redirect it, and ${problems.join('; ')}` });
      continue;
    }
    promotion.calledBy.sort();
    result.promotions.push(promotion);
    result.carried.push(fn);
    queue.push(...next);
  }
  const mixed = refuseMixedSiblingCalls(pre, result, ctx);
  result.promotions = result.promotions.filter((p) => !mixed.has(p.function));
  result.carried = result.carried.filter((u) => !mixed.has(u.name));
  return result;
}

/**
 * A sibling-called function's old copy may still be running in a task livepatch has switched (see Promotion): it
 * must not call anything the update replaces, or that task would run old and new code of one update.
 */
function refuseMixedSiblingCalls(pre: ObjectModel, result: PromotionResult, ctx: { preTwin: Map<Unit, Unit>; replaced: Unit[]; forced: Set<Unit> }): Set<string> {
  const refused = new Set<string>();
  const replaced = new Set([...ctx.replaced, ...result.callers, ...result.carried].map((u) => ctx.preTwin.get(u)));
  for (const promotion of result.promotions.filter((p) => p.siblingCalled)) {
    const fn = result.carried.find((u) => u.name === promotion.function)!;
    if (ctx.forced.has(fn)) continue;
    const old = ctx.preTwin.get(fn)!;
    const calls = old.relocs.filter((r) => isBranch(old.bytes, r)).map((r) => targetUnit(pre, r, old.bytes));
    const mixed = calls.find((u) => u && u !== old && replaced.has(u));
    if (mixed) {
      refused.add(fn.name);
      result.refused.push({
        symbol: fn.name,
        reason:
          `changed function has no fentry call (notrace); ${promotion.calledBy.join(', ')} reach it by a sibling call, so a task inside ` +
          `its old copy has no patched frame on its stack, and that old copy calls ${mixed.name}, which the update replaces ` +
          `(hotsplice_force_unsafe(${fn.name}) accepts it if the two may run side by side)`,
      });
    }
  }
  return refused;
}

/** The function a unit's code belongs to: a `.cold` part counts as its parent. */
function ownerOf(model: ObjectModel, unit: Unit): Unit {
  const parent = coldParent(unit.name);
  return (parent !== undefined && model.units.find((u) => u.name === parent && u.kind === 'function')) || unit;
}

/**
 * Every reference to each unit of the object: from units (code and data), from special-table entries about another
 * unit (an entry about the unit itself, its ORC or exception entry, is no use of it), and from relocations in any
 * other allocated section (alternative replacement code calling it).
 */
function referencesIndex(model: ObjectModel, entries: TableEntry[]): Map<Unit, Reference[]> {
  const index = new Map<Unit, Reference[]>();
  const add = (to: Unit | undefined, ref: Reference) => {
    if (to && to !== ref.from) index.set(to, [...(index.get(to) ?? []), ref]);
  };
  for (const from of model.units) {
    if (PATCH_API_SECTION.test(from.section.name)) continue; // a registration names a function, it does not use it
    const code = from.kind === 'function' ? from.bytes : undefined;
    for (const r of from.relocs) {
      add(targetUnit(model, r, code), { from, where: from.name, branch: !!code && isBranch(code, r), jump: !!code && isJump(code, r) });
    }
  }
  for (const entry of entries) {
    const about = entry.anchor && targetUnit(model, entry.anchor);
    for (const r of entry.relocs) {
      const to = targetUnit(model, r);
      if (to !== about) add(to, { where: `${entry.table} entry ${entry.index}`, branch: false, jump: false });
    }
  }
  for (const section of model.elf.sections) {
    // A function's own padding entry takes no address of it (6.12: __do_sys_sysinfo's refused a promotion).
    if (!(section.flags & SHF_ALLOC) || isIgnoredSection(section.name) || TABLES[section.name] || section.name === ORC_DATA || section.name === PADDING_ENTRIES) continue;
    const code = section.flags & SHF_EXECINSTR ? model.elf.sectionData(section.index) : undefined;
    for (const r of model.sectionRelocs(section.index)) {
      if (model.unitAt(section.index, r.offset)) continue; // a unit's own relocation, indexed above
      add(targetUnit(model, r, code), { where: section.name, branch: !!code && isBranch(code, r), jump: !!code && isJump(code, r) });
    }
  }
  return index;
}
