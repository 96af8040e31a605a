import { UserError } from '@hotsplice/kernel';
import type { KernelSymbol } from './source';

/**
 * Symbols grouped by name, each group in ascending address order: the order livepatch's sympos counts in
 * (kernel/livepatch/core.c klp_find_object_symbol walks kallsyms, which lists same-named symbols by address,
 * design.md §8b).
 */
export class SymbolIndex {
  private readonly byName = new Map<string, KernelSymbol[]>();

  constructor(symbols: Iterable<KernelSymbol>) {
    for (const s of symbols) {
      const group = this.byName.get(s.name);
      if (group) group.push(s);
      else this.byName.set(s.name, [s]);
    }
    for (const group of this.byName.values()) if (group.length > 1) group.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  symbols(name: string): readonly KernelSymbol[] {
    return this.byName.get(name) ?? [];
  }

  addressOf(name: string, sympos = 0, where = 'the kernel'): bigint {
    const group = this.symbols(name);
    if (group.length === 0) throw new UserError(`${name}: no such symbol in ${where}`);
    if (sympos === 0) {
      if (group.length > 1) throw new UserError(`${name}: ${group.length} symbols of this name in ${where}; give its sympos (1..${group.length})`);
      return group[0].address;
    }
    const s = group[sympos - 1];
    if (!s) throw new UserError(`${name}: sympos ${sympos} asked, but ${where} has ${group.length} symbol(s) of this name`);
    return s.address;
  }
}

/** sympos of a candidate among its same-named symbols: 0 when the name is unique, else its 1-based position. */
export function symposOf(group: readonly KernelSymbol[], address: bigint): number {
  if (group.length <= 1) return 0;
  return group.findIndex((s) => s.address === address) + 1;
}
