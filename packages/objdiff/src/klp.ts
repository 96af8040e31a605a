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
  let file: string | undefined;
  for (const s of symbols) {
    if (s.type === STT_FILE) {
      file = s.name;
      continue;
    }
    if (!s.name || s.index === 0 || s.rawShndx === SHN_UNDEF) continue;
    const unit = model?.unitOfSymbol(s);
    out.push({
      name: s.name, type: s.type, local: s.bind === STB_LOCAL, value: s.value, size: s.size, file: s.bind === STB_LOCAL ? file : undefined,
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
  const ours = same.findIndex((s) => s.file === sourceFile);
  if (ours < 0) return { error: `local symbol ${name} appears ${same.length} times in the parent, none from ${sourceFile ?? 'this object'}` };
  if (same.filter((s) => s.file === sourceFile).length > 1) {
    return { error: `local symbol ${name} appears more than once in ${sourceFile}; run-pre matching must tell them apart` };
  }
  return { sympos: ours + 1 };
}

export function klpSymbolName(e: External): string {
  return `.klp.sym.${e.objname}.${e.name},${e.sympos}`;
}

export function klpRelaName(objname: string, section: string): string {
  return `.klp.rela.${objname}.${section}`;
}
