import { closeSync, openSync, readSync } from 'node:fs';
import type { KernelSymbol } from './source';

/**
 * /proc/kallsyms looked up on demand. Parsing all of it (~94,000 lines) into a table took 2.2 s of node in the TCG
 * guest; finding only the names a match needs, with one regular-expression pass per batch of names, takes tens of
 * milliseconds (measured: 100 names in 84 ms). Lines: `ffffffff81000000 T _text`, `…\t[module]` for modules.
 */
export class KallsymsLookup {
  private readonly found = new Map<string, KernelSymbol[]>();

  constructor(
    private readonly text: string,
    /** Whose symbols: a module's name, or undefined for vmlinux. */
    private readonly module?: string,
  ) {}

  /**
   * procfs reports size 0 and hands out about a page per read() (962 reads for 3.9 MB, measured): read into one
   * reused buffer and keep copies (a fresh large buffer per read, or readFileSync's growing steps, took 1-2 s).
   * `limit` stops early (the first page is enough to find the KASLR anchor).
   */
  static readText(path: string, limit = Number.POSITIVE_INFINITY): string {
    const fd = openSync(path, 'r');
    try {
      const chunks: Buffer[] = [];
      const buffer = Buffer.allocUnsafe(1 << 16);
      for (let total = 0; total < limit; ) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, limit - total), null);
        if (n <= 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, n)));
        total += n;
      }
      return Buffer.concat(chunks).toString('latin1');
    } finally {
      closeSync(fd);
    }
  }

  /** No line at all, or only zero addresses (not root, or kptr_restrict=2): judged from the first lines. */
  get empty(): boolean {
    return !/^[0-9a-f]{16} \S \S/.test(this.text);
  }

  get addressesHidden(): boolean {
    const head = this.text.slice(0, 4096).split('\n').filter((l) => /^[0-9a-f]{16} /.test(l));
    return head.length > 0 && head.every((l) => /^0{16} /.test(l));
  }

  hasModule(module: string): boolean {
    return this.text.includes(`\t[${module}]`);
  }

  /** Look up many names in one pass (the matcher knows every name its object refers to up front). */
  prefetch(names: Iterable<string>): void {
    const wanted = [...new Set(names)].filter((n) => n && !this.found.has(n));
    for (let i = 0; i < wanted.length; i += 200) this.scan(wanted.slice(i, i + 200));
  }

  symbols(name: string): readonly KernelSymbol[] {
    if (!this.found.has(name)) this.scan([name]);
    return this.found.get(name)!;
  }

  private scan(names: string[]): void {
    const groups = new Map<string, KernelSymbol[]>(names.map((n) => [n, []]));
    const pattern = new RegExp(` (${names.map(escape).join('|')})(?=[\\n\\t])`, 'g');
    for (let m = pattern.exec(this.text); m; m = pattern.exec(this.text)) {
      const lineStart = this.text.lastIndexOf('\n', m.index) + 1;
      // The name must be the line's third field: "<16 hex> <type> <name>".
      if (m.index !== lineStart + 18) continue;
      const end = m.index + m[0].length;
      const module = this.text[end] === '\t' ? /^\t\[([^\]\s]+)\]/.exec(this.text.slice(end, end + 80))?.[1] : undefined;
      if (module !== this.module) continue;
      groups.get(m[1])!.push({ name: m[1], address: BigInt(`0x${this.text.slice(lineStart, lineStart + 16)}`), type: this.text[lineStart + 17] });
    }
    for (const [name, group] of groups) {
      group.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
      this.found.set(name, group);
    }
  }
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
