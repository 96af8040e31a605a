import { type ElfObject, SHF_EXECINSTR, STT_FILE } from '@hotsplice/elf';
import { INIT_EXIT, hasFentry } from './branch';
import { compareUnits } from './compare';
import { correlate } from './pairing';
import { type Inclusion, includeClosure } from './include';
import { parentSymbols, sympos } from './klp';
import { ObjectModel, type Unit } from './model';
import { coldParent } from './names';
import { tableEntries } from './special';
import { referrers } from './correlate';
import { PATCH_API_SECTION, readPatchApi } from './patch-api';
import { promoteNotrace } from './promote';
import { checkSleepHeld } from './sleep-held';
import { isCopiedStatic } from './special-statics';
import type { DiffOptions, DiffReport, DiffResult, SymbolReport } from './types';
import { type PatchedFunction, newFunctionSymbol, writeIncluded } from './write';

/**
 * Diff the pre and post build of one kernel object (Ksplice's objmanip): what changed, the new-code object for
 * the livepatch module, the old-code object for run-pre matching, and a report saying why.
 */
export function diffObjects(preElf: ElfObject, postElf: ElfObject, options: DiffOptions = {}): DiffResult {
  const pre = new ObjectModel(preElf);
  const post = new ObjectModel(postElf);
  const objname = options.objname ?? 'vmlinux';
  const pairing = correlate(pre, post);
  const nameOf = (u: Unit) => pairing.preNames.get(u) ?? pairing.postNames.get(u) ?? u.name;
  const ignored: string[] = [];
  const report: DiffReport = { object: options.object ?? '', objname, changed: [], new: [], newData: [], refused: [], patched: [], callbacks: [], promoted: [], ignored, forced: [], symbols: [] };
  const refuse = (symbol: string, reason: string) => report.refused.push({ symbol, reason });

  const preTwin = new Map<Unit, Unit>();
  const changedPost = new Set<Unit>();
  const details = new Map<Unit, SymbolReport>();
  for (const [a, b] of pairing.pairs) {
    preTwin.set(b, a);
    const difference = compareUnits(pre, a, post, b, nameOf, options.lineMap);
    details.set(b, { name: b.name, kind: b.kind, status: difference ? 'changed' : 'unchanged', firstDifference: difference });
    if (difference) changedPost.add(b);
  }
  for (const u of pairing.onlyPost) details.set(u, { name: u.name, kind: u.kind, status: 'new' });

  // A changed or new `.cold` part changes its parent.
  const byName = new Map(post.units.map((u) => [u.name, u]));
  const coldOf = new Map<Unit, Unit[]>();
  for (const u of post.units) {
    const parent = coldParent(u.name);
    const owner = parent === undefined ? undefined : byName.get(parent);
    if (!owner) continue;
    coldOf.set(owner, [...(coldOf.get(owner) ?? []), u]);
    if ((changedPost.has(u) || !preTwin.has(u)) && preTwin.has(owner) && !changedPost.has(owner)) {
      changedPost.add(owner);
      details.set(owner, { ...details.get(owner)!, status: 'changed', reason: `its cold part ${u.name} changed` });
    }
  }
  const isCold = (u: Unit) => coldParent(u.name) !== undefined && byName.has(coldParent(u.name)!);

  // A copied static (pr_debug's descriptor) that changed beyond its line (a new format) is no changed data:
  // the functions using it changed, and their new code carries the new copy.
  const usedBy = referrers(post);
  for (const u of [...changedPost].filter(isCopiedStatic)) {
    changedPost.delete(u);
    for (const f of usedBy.get(u) ?? []) {
      const owner = byName.get(coldParent(f.name) ?? f.name) ?? f;
      if (owner.kind !== 'function' || !preTwin.has(owner) || changedPost.has(owner)) continue;
      changedPost.add(owner);
      details.set(owner, { ...details.get(owner)!, status: 'changed', reason: `its ${u.name} changed` });
    }
  }

  // What the patch said through <linux/hotsplice.h>: callbacks, and changes that are side effects to ignore.
  const api = readPatchApi(post, preTwin, objname);
  for (const r of api.refused) refuse(r.symbol, r.reason);
  for (const u of [...changedPost]) {
    const why = api.ignoredFunctions.has(u) ? 'hotsplice_ignore_function' : api.ignoredSections.has(u.section.name) ? 'hotsplice_ignore_section' : undefined;
    if (!why) continue;
    changedPost.delete(u);
    details.set(u, { ...details.get(u)!, status: 'unchanged', reason: `changed, ignored by the patch (${why})` });
    ignored.push(u.name);
  }

  const notrace: Unit[] = [];
  for (const u of changedPost) {
    if (isCold(u)) continue;
    if (u.kind === 'data') {
      const twin = preTwin.get(u)!;
      const why = twin.size !== u.size ? `size ${twin.size} -> ${u.size}` : `initializer (+${details.get(u)!.firstDifference?.offset ?? 0})`;
      refuse(u.name, `changed existing data: ${why}; livepatch cannot change data in place`);
    } else if (INIT_EXIT.test(u.section.name)) {
      refuse(u.name, `${u.section.name.slice(1, 5)} code changed; it already ran (or runs at unload) and cannot be patched`);
    } else if (!hasFentry(u)) {
      notrace.push(u);
    } else {
      report.changed.push(u.name);
    }
  }
  // Changed notrace functions are carried by the callers that call them, which are patched instead.
  const entries = tableEntries(post);
  const replaced = [...changedPost].filter((u) => report.changed.includes(u.name));
  const promotion = promoteNotrace(post, pre, notrace, { preTwin, objname, entries, replaced, forced: api.forced });
  for (const r of promotion.refused) refuse(r.symbol, r.reason);
  for (const p of promotion.promotions) {
    for (const name of p.calledBy) {
      const caller = [...promotion.callers].find((c) => c.name === name);
      if (!caller || report.changed.includes(name)) continue;
      report.changed.push(name);
      changedPost.add(caller);
      details.set(caller, { ...details.get(caller)!, status: 'changed', reason: `calls the changed notrace function ${p.function}` });
    }
  }
  for (const u of promotion.carried) {
    const d = details.get(u)!;
    details.set(u, { ...d, reason: `notrace: carried by ${promotion.promotions.find((p) => p.function === u.name)!.calledBy.join(', ')}` });
  }
  report.promoted = promotion.promotions;
  report.sleepHeld = checkSleepHeld({ pre, post, preTwin, nameOf, changed: [...changedPost].filter((u) => report.changed.includes(u.name)), carried: promotion.carried, forced: api.forced, refuse });
  const callbacks = api.callbacks;
  for (const u of pairing.onlyPost) {
    if (isCold(u) || PATCH_API_SECTION.test(u.section.name)) continue;
    if (u.kind === 'function') report.new.push(u.name);
    else report.newData.push(u.name);
  }
  report.changed.sort();
  report.new.sort();
  report.newData.sort();

  const changedFunctions = [...changedPost].filter((u) => u.kind === 'function' && !isCold(u) && report.changed.includes(u.name));
  // A new global is the update's own interface: another object of the update may call it (a fix adds a helper in
  // one file and uses it from another), which this object's diff cannot see. It always comes along.
  const newGlobals = pairing.onlyPost.filter((u) => !u.local && !isCold(u) && !PATCH_API_SECTION.test(u.section.name));
  const roots = [...changedFunctions, ...promotion.carried, ...callbacks.map((c) => c.unit), ...newGlobals].flatMap((u) => [u, ...(coldOf.get(u) ?? [])]);
  const parent = options.parent ?? parentSymbols(preElf.symbols, 'table', pre);
  const sourceFile = sourceFileOf(preElf);
  let inc: Inclusion | undefined;
  if (!report.refused.length && roots.length) {
    inc = includeClosure({ post, preTwin, objname, parent, exported: options.exported, sourceFile, pre }, roots, entries);
    for (const r of inc.refused) refuse(r.symbol, r.reason);
    for (const e of inc.entries) {
      if (e.table === '__jump_table' || e.table === '.static_call_sites') {
        const key = inc.targets.get(e.relocs.find((r) => r.offset === (e.table === '__jump_table' ? 8 : 4))!);
        if (key?.kind === 'external' && key.external.objname !== 'vmlinux') {
          refuse(key.external.name, `static key defined in module ${key.external.objname}: its jump entries are set up before livepatch relocations`);
        }
      }
    }
  }
  for (const u of post.units) if (!isCold(u) && details.has(u)) report.symbols.push(details.get(u)!);
  for (const r of report.refused) {
    const d = report.symbols.find((s) => s.name === r.symbol);
    if (d) Object.assign(d, { status: 'refused', reason: r.reason });
  }
  if (report.refused.length || !inc) return { report };

  const patched: PatchedFunction[] = changedFunctions.map((u) => {
    const twin = preTwin.get(u)!;
    const pos = twin.local ? sympos(parent, twin.name, sourceFile, { model: pre, unit: twin }) : { sympos: 0 };
    const at = 'sympos' in pos ? pos.sympos : 0;
    return { unit: u, oldName: twin.name, sympos: at, newSymbol: newFunctionSymbol(objname, twin.name, at) };
  });
  report.patched = patched.map((p) => ({ name: p.unit.name, oldName: p.oldName, sympos: p.sympos, newSymbol: p.newSymbol }));
  report.callbacks = callbacks.map((c) => ({ kind: c.kind, function: c.unit.name, newSymbol: c.newSymbol, takesObject: c.takesObject }));
  report.forced = changedFunctions.filter((u) => api.forced.has(u)).map((u) => u.name);
  const newCode = writeIncluded(post, inc, [...patched, ...callbacks]);

  // keep-old-code: the pre code of the changed functions, every reference plain, for run-pre matching.
  const preRoots = [...changedFunctions, ...promotion.carried].flatMap((u) => {
    const twin = preTwin.get(u)!;
    return [twin, ...pre.units.filter((p) => coldParent(p.name) === twin.name && p.section.flags & SHF_EXECINSTR)];
  });
  const identity = new Map(pre.units.map((u) => [u, u]));
  const oldInc = includeClosure({ post: pre, preTwin: identity, objname, parent, plain: true, sourceFile }, preRoots, tableEntries(pre));
  const oldCode = writeIncluded(pre, oldInc, []);
  return { report, newCode, oldCode };
}

/** The source file named by the object's first STT_FILE symbol (gcc writes the .c file's basename). */
function sourceFileOf(elf: ElfObject): string | undefined {
  return elf.symbols.find((s) => s.type === STT_FILE)?.name;
}
