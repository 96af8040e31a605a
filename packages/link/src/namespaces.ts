import { STB_GLOBAL, SHN_UNDEF, parseElf } from '@hotsplice/elf';
import type { Exports } from '@hotsplice/objdiff';

/**
 * The symbol namespaces the update module must import: those of every symbol its new code imports (undefined,
 * GLOBAL: klp symbols are WEAK by then, toLinkable) that Module.symvers lists with a namespace (its fifth column,
 * e.g. `CXL` for vmlinux's cxl core exports). modpost refuses a module that uses a namespaced symbol without
 * MODULE_IMPORT_NS (scripts/mod/modpost.c check_exports: "uses symbol … from namespace …, but does not import it").
 */
export function importedNamespaces(linkable: Buffer[], exports: Exports, definedInUpdate: ReadonlySet<string> = new Set()): string[] {
  const wanted = new Set<string>();
  for (const bytes of linkable) {
    for (const s of parseElf(bytes).symbols) {
      if (s.rawShndx !== SHN_UNDEF || s.bind !== STB_GLOBAL || !s.name || definedInUpdate.has(s.name)) continue;
      const namespace = exports.namespaces.get(s.name);
      if (namespace) wanted.add(namespace);
    }
  }
  return [...wanted].sort();
}
