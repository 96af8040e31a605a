import { type ElfObject, STT_SECTION } from '@hotsplice/elf';
import { KallsymsLookup } from './kallsyms-lookup';
import type { KernelSymbol } from './source';
import { parseSymbolText } from './symbol-text';

/**
 * The vmlinux addresses (System.map) of the names an update's old code refers to, as the package carries them
 * (run-pre-symbols.json). With them the live check needs only the KASLR slide — one anchor symbol from the first
 * page of /proc/kallsyms — instead of reading all 3.9 MB of it (0.5–0.8 s of node in the TCG guest, measured).
 */
export interface LinkMap {
  /** A symbol every kernel lists early in kallsyms, with its link-time address: `_text`. */
  anchor: { name: string; address: string };
  /** name → every System.map address of that name (hex, ascending); [] for a name vmlinux does not have. */
  symbols: Record<string, string[]>;
}

/** x86-64 KASLR moves the whole kernel image by one offset; per-CPU symbols (small offsets) do not move. */
const KERNEL_IMAGE = 0xffffffff80000000n;

/** Every name an object's symbols carry (section symbols aside): the names matching it looks up in the kernel. */
export function symbolNames(object: ElfObject): string[] {
  return object.symbols.filter((s) => s.name && s.type !== STT_SECTION).map((s) => s.name);
}

/** Build a link map from System.map text for the given names (the build side). */
export function linkMapOf(systemMap: string, names: Iterable<string>): LinkMap {
  const wanted = new Set(names);
  // Every name asked for gets an entry, [] when absent: a name the map does not know sends the target to all of kallsyms.
  const symbols: Record<string, string[]> = Object.fromEntries([...wanted].map((n) => [n, []]));
  let anchor: string | undefined;
  for (const s of parseSymbolText(systemMap)) {
    if (s.name === '_text') anchor = s.address.toString(16);
    if (wanted.has(s.name)) symbols[s.name].push(s.address.toString(16));
  }
  if (!anchor) throw new Error('System.map lists no _text');
  for (const list of Object.values(symbols)) list.sort((a, b) => (BigInt(`0x${a}`) < BigInt(`0x${b}`) ? -1 : 1));
  return { anchor: { name: '_text', address: anchor }, symbols: Object.fromEntries(Object.entries(symbols).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/** The live addresses of a link map's names: link address + the slide kallsyms shows for the anchor. */
export class SlidLinkMap {
  private fallback: KallsymsLookup | undefined;

  private constructor(
    private readonly map: LinkMap,
    readonly slide: bigint,
    private readonly kallsymsPath: string,
  ) {}

  /** undefined when the anchor is not in the first page of kallsyms, or its address is hidden (zero). */
  static open(map: LinkMap, kallsymsPath: string): SlidLinkMap | undefined {
    const head = KallsymsLookup.readText(kallsymsPath, 1 << 16);
    const line = new RegExp(`^([0-9a-f]{16}) \\S ${map.anchor.name}$`, 'm').exec(head);
    if (!line || /^0+$/.test(line[1])) return undefined;
    return new SlidLinkMap(map, BigInt(`0x${line[1]}`) - BigInt(`0x${map.anchor.address}`), kallsymsPath);
  }

  symbols(name: string): readonly KernelSymbol[] {
    const listed = this.map.symbols[name];
    if (!listed) return this.kallsyms().symbols(name);
    return listed.map((hex) => {
      const address = BigInt(`0x${hex}`);
      return { name, address: address >= KERNEL_IMAGE ? address + this.slide : address };
    });
  }

  prefetch(names: Iterable<string>): void {
    const missing = [...names].filter((n) => !this.map.symbols[n]);
    if (missing.length) this.kallsyms().prefetch(missing);
  }

  /** A name the package did not list (should not happen): look it up in all of kallsyms, once read. */
  private kallsyms(): KallsymsLookup {
    this.fallback ??= new KallsymsLookup(KallsymsLookup.readText(this.kallsymsPath));
    return this.fallback;
  }
}
