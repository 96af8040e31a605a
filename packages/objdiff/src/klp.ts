import { type ElfSymbol, SHN_UNDEF, STB_LOCAL, STT_FILE } from '@hotsplice/elf';
import type { ObjectModel } from './model';
import { type UnitOf, chooseByContent } from './parent-match';
import type { ParentSymbol } from './types';

/** A symbol the new code uses but does not carry: it stays in the running kernel (or module). */
export interface External {
  /** The name the kernel knows it by (the pre build's name: `foo.constprop.0`). */
  name: string;
  local: boolean;
  /** Resolved by livepatch (`.klp.sym.<objname>.<name>,<sympos>`), or a plain undefined symbol for the loader. */
  klp: boolean;
  /** The object that defines it. */
  objname: string;
  /**
   * The klp object whose load resolves it (`.klp.rela.<this>.<section>`): vmlinux for vmlinux's symbols (when the
   * update loads), the patched module for everything a module object uses (when that module loads, after the
   * modules it depends on).
   */
  relaObject: string;
  sympos: number;
}

/**
 * The symbols the parent defines, each with the STT_FILE in effect, in the order livepatch counts sympos in:
 * vmlinux's by address (kallsyms order, design.md §8b); a module's (or any relocatable object's) in symbol-table
 * order, since klp_find_object_symbol walks the module's own symtab (kernel/module/kallsyms.c
 * module_kallsyms_on_each_symbol). Undefined symbols are the parent's imports, not its own.
 */
export function parentSymbols(symbols: readonly ElfSymbol[], order: 'address' | 'table' = 'address', model?: ObjectModel): ParentSymbol[] {
  const out: ParentSymbol[] = [];
  let file: ElfSymbol | undefined;
  for (const s of symbols) {
    if (s.type === STT_FILE) {
      file = s;
      continue;
    }
    if (!s.name || s.index === 0 || s.rawShndx === SHN_UNDEF) continue;
    const unit = model?.unitOfSymbol(s);
    const local = s.bind === STB_LOCAL;
    out.push({
      name: s.name, type: s.type, local, value: s.value, size: s.size,
      ...(local && file ? { file: file.name, fileGroup: file.index } : {}),
      ...(unit && model ? { content: { model, unit } } : {}),
    });
  }
  return order === 'table' ? out : out.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

export type SymposResult = { sympos: number } | { error: string };

/**
 * sympos of a local symbol: 0 when its name is unique in the parent, else its 1-based position among the
 * same-named locals (parentSymbols' order). Which one is ours is told by the source file name (STT_FILE); a
 * module has none (Debian strips them), so there by what the candidate holds and who references it (`pre`: the
 * symbol's unit in the pre object).
 */
export function sympos(parent: ParentSymbol[], name: string, sourceFile: string | undefined, pre?: UnitOf): SymposResult {
  const same = parent.filter((s) => s.local && s.name === name);
  if (same.length <= 1) return { sympos: 0 };
  if (pre && !same.some((s) => s.file) && same.every((s) => s.content)) {
    const chosen = chooseByContent(same.map((s) => s.content!), pre);
    return 'index' in chosen ? { sympos: chosen.index + 1 } : { error: `local symbol ${name} appears ${same.length} times in the parent: ${chosen.error}` };
  }
  const fromFile = same.filter((s) => s.file === sourceFile);
  if (!fromFile.length) return { error: `local symbol ${name} appears ${same.length} times in the parent, none from ${sourceFile ?? 'this object'}` };
  if (fromFile.length === 1) return { sympos: same.indexOf(fromFile[0]) + 1 };
  // Several objects' sources share the basename (vmlinux has eleven inode.c): the object is the STT_FILE group whose
  // locals are this object's own.
  const group = pre && objectGroup(parent, sourceFile!, pre.model);
  const ours = group === undefined ? [] : fromFile.filter((s) => s.fileGroup === group);
  if (ours.length !== 1) {
    return { error: `local symbol ${name} appears ${fromFile.length} times in files named ${sourceFile}, and which one is this object's cannot be told` };
  }
  return { sympos: same.indexOf(ours[0]) + 1 };
}

const groupsOf = new WeakMap<ParentSymbol[], Map<string, Map<ObjectModel, number | undefined>>>();

/**
 * The STT_FILE group of the parent (the locals the linker keeps after one object's file symbol) that is this object:
 * of the groups with its source file's name, the one holding the most of the object's own local names, when one
 * holds more than any other. Computed once per parent, file and object.
 */
function objectGroup(parent: ParentSymbol[], sourceFile: string, model: ObjectModel): number | undefined {
  const byFile = groupsOf.get(parent) ?? new Map<string, Map<ObjectModel, number | undefined>>();
  groupsOf.set(parent, byFile);
  const byModel = byFile.get(sourceFile) ?? new Map<ObjectModel, number | undefined>();
  byFile.set(sourceFile, byModel);
  if (byModel.has(model)) return byModel.get(model);
  const own = new Set(model.units.filter((u) => u.local).map((u) => u.name));
  const score = new Map<number, number>();
  for (const s of parent) {
    if (s.file === sourceFile && s.fileGroup !== undefined && own.has(s.name)) score.set(s.fileGroup, (score.get(s.fileGroup) ?? 0) + 1);
  }
  const ranked = [...score].sort((a, b) => b[1] - a[1]);
  const group = ranked.length && (ranked.length === 1 || ranked[0][1] > ranked[1][1]) ? ranked[0][0] : undefined;
  byModel.set(model, group);
  return group;
}

export function klpSymbolName(e: External): string {
  return `.klp.sym.${e.objname}.${e.name},${e.sympos}`;
}

export function klpRelaName(objname: string, section: string): string {
  return `.klp.rela.${objname}.${section}`;
}
