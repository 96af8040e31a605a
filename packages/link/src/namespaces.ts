import { STB_GLOBAL, SHN_UNDEF, parseElf } from '@hotsplice/elf';

/**
 * The symbol namespaces the update module must import: those of every symbol its new code imports (undefined,
 * GLOBAL: klp symbols are WEAK by then, toLinkable) that Module.symvers lists with a namespace (its fifth column,
 * e.g. `CXL` for vmlinux's cxl core exports). modpost refuses a module that uses a namespaced symbol without
 * MODULE_IMPORT_NS (scripts/mod/modpost.c check_exports: "uses symbol … from namespace …, but does not import it").
 */
export function importedNamespaces(linkable: Buffer[], symvers: string, definedInUpdate: ReadonlySet<string> = new Set()): string[] {
  const namespaceOf = new Map<string, string>();
  for (const line of symvers.split('\n')) {
    const [, symbol, , , namespace] = line.split('\t');
    if (symbol && namespace?.trim()) namespaceOf.set(symbol, namespace.trim());
  }
  const wanted = new Set<string>();
  for (const bytes of linkable) {
    for (const s of parseElf(bytes).symbols) {
      if (s.rawShndx !== SHN_UNDEF || s.bind !== STB_GLOBAL || !s.name || definedInUpdate.has(s.name)) continue;
      const namespace = namespaceOf.get(s.name);
      if (namespace) wanted.add(namespace);
    }
  }
  return [...wanted].sort();
}
