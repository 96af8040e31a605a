import type { CallbackKind, DiffReport } from '@hotsplice/objdiff';
import { UserError } from '@hotsplice/kernel';

/**
 * include/linux/module.h: MODULE_NAME_LEN is 64 - sizeof(unsigned long) = 56 on x86-64, with the NUL; livepatch
 * scans object names with "%55[^.]" (kernel/livepatch/core.c), which is the same bound.
 */
export const MAX_MODULE_NAME = 55;

/**
 * The module name of an update: its id lower-cased, every character other than [a-z0-9_] turned into `_`
 * (kbuild would do the same to '-' in KBUILD_MODNAME; this keeps the .ko file name and the sysfs directory
 * /sys/kernel/livepatch/<name> the same string).
 */
export function moduleName(id: string): string {
  const name = id.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (!/[a-z0-9]/.test(name)) throw new UserError(`update id "${id}" has no letter or digit to name a module with`);
  if (name.length > MAX_MODULE_NAME) throw new UserError(`update id "${id}" is ${name.length} characters; a module name has at most ${MAX_MODULE_NAME}`);
  return name;
}

export interface MetaOptions {
  id: string;
  /** klp_patch.replace (atomic replace of every earlier patch). */
  replace?: boolean;
  /** Symbol namespaces the new code's imports belong to (importedNamespaces). */
  namespaces?: string[];
}

/** One klp object of the patch: the functions it replaces and the patch's callbacks for it. */
export interface MetaObject {
  objname: string;
  funcs: Array<{ oldName: string; newSymbol: string; sympos: number; object: string; forceUnsafe: boolean }>;
  callbacks: Array<{ kind: CallbackKind; newSymbol: string; object: string; takesObject: boolean }>;
}

const CALLBACK_KINDS: CallbackKind[] = ['pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch'];

/** The changed functions and callbacks of every report, per klp object (vmlinux first, then modules by name). */
export function metaObjects(reports: DiffReport[]): MetaObject[] {
  const byObject = new Map<string, MetaObject>();
  const objectFor = (objname: string) => {
    let obj = byObject.get(objname);
    if (!obj) byObject.set(objname, (obj = { objname, funcs: [], callbacks: [] }));
    return obj;
  };
  const seen = new Map<string, string>();
  for (const report of [...reports].sort((a, b) => compare(a.object, b.object))) {
    for (const c of report.callbacks ?? []) {
      objectFor(report.objname).callbacks.push({ kind: c.kind, newSymbol: c.newSymbol, object: report.object, takesObject: c.takesObject ?? false });
    }
    for (const p of report.patched) {
      const key = `${report.objname}\0${p.oldName}\0${p.sympos}`;
      const other = seen.get(key) ?? (seen.has(p.newSymbol) ? seen.get(p.newSymbol) : undefined);
      if (other !== undefined) {
        throw new UserError(`${report.objname}: ${p.oldName} (sympos ${p.sympos}) is replaced by both ${other} and ${report.object}`);
      }
      seen.set(key, report.object).set(p.newSymbol, report.object);
      const forceUnsafe = report.forced?.includes(p.name) ?? false;
      objectFor(report.objname).funcs.push({ oldName: p.oldName, newSymbol: p.newSymbol, sympos: p.sympos, object: report.object, forceUnsafe });
    }
  }
  refuseBesideSleepHeld(reports);
  // livepatch names the first replaced function it finds on a task's stack, objects and functions in table order
  // (kernel/livepatch/transition.c klp_check_stack); apply forces a transition only when every task holding it is
  // named on a force-unsafe function. Those go last, so a task also inside another replaced function is named on that.
  const unsafe = (o: MetaObject) => (o.funcs.some((f) => f.forceUnsafe) ? 2 : 0);
  const objects = [...byObject.values()].sort((a, b) => unsafe(a) + rank(a.objname) - unsafe(b) - rank(b.objname) || compare(a.objname, b.objname));
  for (const o of objects) {
    if (o.objname !== 'vmlinux' && !/^[A-Za-z0-9_-]{1,55}$/.test(o.objname)) throw new UserError(`klp object "${o.objname}" is not a module name`);
    o.funcs.sort((a, b) => Number(a.forceUnsafe) - Number(b.forceUnsafe) || compare(a.oldName, b.oldName) || a.sympos - b.sympos);
  }
  return objects;
}

/**
 * An update that forces a function every sleeping task holds (objdiff sleep-held.ts) carries nothing else, across
 * its objects too: livepatch's force switches every task of the patch, whatever it is inside.
 */
function refuseBesideSleepHeld(reports: DiffReport[]): void {
  const held = reports.flatMap((r) => r.sleepHeld ?? []);
  if (!held.length) return;
  for (const r of reports) {
    const other = r.patched.find((p) => !r.sleepHeld?.includes(p.name));
    if (other) throw new UserError(`${r.object}: ${other.name}: an update that forces ${held.join(', ')} (every sleeping task holds it) may replace nothing else; ship it in another update`);
  }
}

/**
 * The C file with the patch's tables (kernel-module/include/hotsplice.h macros): per klp object one klp_func
 * table `{ .old_name, .new_func = <newSymbol>, .old_sympos }`, the klp_object table (vmlinux → `.name = NULL`),
 * and klp_patch.replace. The output depends only on its inputs (sorted), so the module is reproducible.
 */
export function generateMeta(reports: DiffReport[], options: MetaOptions): string {
  const name = moduleName(options.id);
  const objects = metaObjects(reports);
  if (!objects.length) throw new UserError(`update ${options.id}: no changed function to patch`);
  const lines = [
    '// SPDX-License-Identifier: GPL-2.0',
    `/* Generated by @hotsplice/link for update ${cString(name)}; do not edit. */`,
    '#include "hotsplice.h"',
    '',
  ];
  for (const o of objects) for (const f of o.funcs) lines.push(`HOTSPLICE_NEW_FUNC(${cIdent(f.newSymbol)});`);
  for (const o of objects) {
    for (const c of o.callbacks) {
      lines.push(`HOTSPLICE_CALLBACK${c.takesObject ? '_OBJ' : ''}(${c.kind === 'pre_patch' ? 'int' : 'void'}, ${cIdent(c.newSymbol)});`);
    }
  }
  lines.push('');
  objects.forEach((o, i) => lines.push(...hookFunctions(o, i)));
  objects.forEach((o, i) => {
    if (!o.funcs.length) {
      lines.push(`/* klp object ${o.objname}: callbacks only */`, `HOTSPLICE_NO_FUNCS(hotsplice_funcs_${i});`, '');
      return;
    }
    lines.push(`/* klp object ${o.objname} */`, `HOTSPLICE_FUNCS(hotsplice_funcs_${i},`);
    o.funcs.forEach((f, k) => {
      const comma = k === o.funcs.length - 1 ? ');' : ',';
      lines.push(`\tHOTSPLICE_FUNC(${cString(f.oldName)}, ${cIdent(f.newSymbol)}, ${f.sympos})${comma} /* ${comment(f.object)} */`);
    });
    lines.push('');
  });
  lines.push('HOTSPLICE_OBJECTS(');
  objects.forEach((o, i) => {
    const objname = o.objname === 'vmlinux' ? 'NULL' : cString(o.objname);
    lines.push(`\tHOTSPLICE_OBJECT(${objname}, hotsplice_funcs_${i})${i === objects.length - 1 ? ');' : ','}`);
  });
  lines.push('', 'HOTSPLICE_HOOKS(');
  objects.forEach((o, i) => {
    const fields = CALLBACK_KINDS.filter((k) => o.callbacks.some((c) => c.kind === k)).map((k) => `.${k} = hotsplice_${k}_${i}`);
    lines.push(`\t${fields.length ? `{ ${fields.join(', ')} }` : '{}'}${i === objects.length - 1 ? ');' : ','} /* ${o.objname} */`);
  });
  lines.push('', `HOTSPLICE_REPLACE(${options.replace ? 'true' : 'false'});`);
  for (const namespace of options.namespaces ?? []) lines.push(`MODULE_IMPORT_NS(${cIdent(namespace)});`);
  lines.push('');
  return lines.join('\n');
}

/**
 * One C function per callback kind the object has, running the patch's callbacks of that kind in order; a
 * pre_patch one that fails stops the rest and refuses the object (and so the update).
 */
function hookFunctions(o: MetaObject, index: number): string[] {
  const lines: string[] = [];
  for (const kind of CALLBACK_KINDS) {
    const calls = o.callbacks.filter((c) => c.kind === kind);
    if (!calls.length) continue;
    const call = (c: MetaObject['callbacks'][number]) => `${c.newSymbol}(${c.takesObject ? 'obj' : ''}); /* ${comment(c.object)} */`;
    if (kind === 'pre_patch') {
      lines.push(`static int hotsplice_${kind}_${index}(struct klp_object *obj)`, '{', '\tint ret = 0;', '');
      for (const c of calls) lines.push('\tif (!ret)', `\t\tret = ${call(c)}`);
      lines.push('\treturn ret;', '}', '');
    } else {
      lines.push(`static void hotsplice_${kind}_${index}(struct klp_object *obj)`, '{');
      for (const c of calls) lines.push(`\t${call(c)}`);
      lines.push('}', '');
    }
  }
  return lines;
}

function rank(objname: string): number {
  return objname === 'vmlinux' ? 0 : 1;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`"${name}" is not a C identifier`);
  return name;
}

function cString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new UserError(`"${text}" has characters a C string here should not`);
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function comment(text: string): string {
  return text.replace(/\*\//g, '* /');
}
