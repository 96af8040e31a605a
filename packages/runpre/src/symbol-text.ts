import type { KernelSymbol } from './source';

export interface ListedSymbol extends KernelSymbol {
  /** The module a kallsyms line names in brackets; undefined for vmlinux. */
  module?: string;
}

/**
 * Parse System.map or /proc/kallsyms text: `ffffffff81000000 T _text` (kallsyms adds `\t[module]` for module
 * symbols). Lines that do not have this shape are skipped.
 */
export function parseSymbolText(text: string): ListedSymbol[] {
  const out: ListedSymbol[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    if (a !== 16 || b !== a + 2) continue;
    const tab = line.indexOf('\t', b + 1);
    const name = tab < 0 ? line.slice(b + 1).trimEnd() : line.slice(b + 1, tab);
    if (!name) continue;
    const symbol: ListedSymbol = { name, address: BigInt(`0x${line.slice(0, 16)}`), type: line[a + 1] };
    if (tab >= 0) {
      const m = /^\[(\S+)\]/.exec(line.slice(tab + 1));
      if (m) symbol.module = m[1];
    }
    out.push(symbol);
  }
  return out;
}
