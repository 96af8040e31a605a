import { type ElfSymbol, STB_LOCAL, STT_FILE } from '@hotsplice/elf';
import type { ParentSymbol } from './types';

/** A symbol the new code uses but does not carry: it stays in the running kernel (or module). */
export interface External {
  /** The name the kernel knows it by (the pre build's name: `foo.constprop.0`). */
  name: string;
  local: boolean;
  /** Resolved by livepatch (`.klp.sym.<objname>.<name>,<sympos>`), or a plain undefined symbol for the loader. */
  klp: boolean;
  objname: string;
  sympos: number;
}

/** The parent's symbols in address order, each with the STT_FILE in effect (kallsyms order, design.md §8b). */
export function parentSymbols(symbols: readonly ElfSymbol[]): ParentSymbol[] {
  const out: ParentSymbol[] = [];
  let file: string | undefined;
  for (const s of symbols) {
    if (s.type === STT_FILE) {
      file = s.name;
      continue;
    }
    if (!s.name || s.index === 0) continue;
    out.push({ name: s.name, type: s.type, local: s.bind === STB_LOCAL, value: s.value, size: s.size, file: s.bind === STB_LOCAL ? file : undefined });
  }
  return out.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

export type SymposResult = { sympos: number } | { error: string };

/**
 * sympos of a local symbol: 0 when its name is unique in the parent, else its 1-based position among the
 * same-named locals in address order. Which one is ours is told by the source file name (STT_FILE).
 */
export function sympos(parent: ParentSymbol[], name: string, sourceFile: string | undefined): SymposResult {
  const same = parent.filter((s) => s.local && s.name === name);
  if (same.length <= 1) return { sympos: 0 };
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
