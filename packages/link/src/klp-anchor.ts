// vmlinux's klp relocations, expressed from an early symbol. Linux 6.1 resolves every entry of a `.klp.rela.*`
// section on its own (kernel/livepatch/core.c klp_resolve_symbols → klp_find_object_symbol →
// kallsyms_on_each_symbol), and with sympos 0 the walk runs over all of kallsyms to prove the name unique: Debian's
// 6.1 has ~127,000 symbols, and under TCG one walk took 100-215 ms. The hot-path update's 97 relocations made its
// insmod take 19.5 s for a transition of 18 ms (docs/decisions.md, issue 16).
//
// The package only ever loads into the very vmlinux it was linked against (apply compares the build id), whose
// image KASLR moves as one piece (arch/x86/boot/compressed/misc.c handle_relocations: one delta for every
// address in it). So a symbol's distance from `_text` is known here, and a relocation against `name,0` becomes
// one against `_text,1` with that distance added to its addend: livepatch's walk stops at the first `_text`, a few
// hundred symbols in (kallsyms is sorted by address; only the per-CPU symbols come before it). A per-CPU symbol
// (an offset KASLR does not move) keeps its name with sympos 1: its walk then stops at it, among those first few
// hundred. (Not an anchor of their own: the range's first symbols are at offset 0, and klp_find_object_symbol
// takes address 0 for "not found".) What the walk no longer checks at load, this step checks against the build's
// own System.map: the name is there exactly once. Anything else (sympos > 0, whose walk already stops at the
// match; a module's symbols) stays as it was.
import { type BuildRelocation, type BuildSymbol, ObjectBuilder, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH, STB_GLOBAL, parseElf } from '@hotsplice/elf';
import { parseKlpSymbol } from './klp-form';

/** What an image symbol's relocation is rebased onto: the image's first symbol, first of its name in kallsyms. */
export const ANCHOR = '_text';

/** A vmlinux System.map ("<address> <type> <name>" lines, nm's format): name → every address it has. */
export function systemMapAddresses(text: string): Map<string, bigint[]> {
  const map = new Map<string, bigint[]>();
  for (const line of text.split('\n')) {
    const [address, type, name] = line.split(' ');
    if (!name || !/^[0-9a-f]{16}$/.test(address) || type === 'A' || type === 'a') continue;
    const list = map.get(name);
    if (list) list.push(BigInt(`0x${address}`));
    else map.set(name, [BigInt(`0x${address}`)]);
  }
  return map;
}

export interface Rebased {
  ko: Buffer;
  /** Relocations now against the anchor, and the ones left to livepatch's own lookup. */
  rebased: number;
  kept: number;
}

/** The finished .ko (finalizeKlp's form) with its vmlinux klp relocations rebased where that is sound (onto ANCHOR, or to sympos 1). */
export function rebaseKlpRelocations(ko: Buffer, systemMap: Map<string, bigint[]>): Rebased {
  const once = (name: string) => (systemMap.get(name)?.length === 1 ? systemMap.get(name)![0] : undefined);
  const [text, end, perCpuStart, perCpuEnd] = [ANCHOR, '_end', '__per_cpu_start', '__per_cpu_end'].map(once);
  const within = (a: bigint, start?: bigint, stop?: bigint) => start !== undefined && stop !== undefined && a >= start && a < stop;
  const b = ObjectBuilder.fromElf(parseElf(ko));
  const anchors = new Map<string, BuildSymbol>();
  const anchorSymbol = (name: string) =>
    anchors.get(name) ?? anchors.set(name, b.symbols.find((s) => s.name === name) ?? b.addSymbol({ name, section: SHN_LIVEPATCH, bind: STB_GLOBAL })).get(name)!;
  let rebased = 0;
  let kept = 0;
  const rebase = (symbol: BuildSymbol | null): { anchor: string; offset: bigint } | undefined => {
    const klp = symbol && symbol.section === SHN_LIVEPATCH ? parseKlpSymbol(symbol.name) : undefined;
    if (!klp || klp.objname !== 'vmlinux' || klp.sympos !== 0) return undefined;
    const address = once(klp.name);
    if (address === undefined) return undefined;
    if (within(address, text, end)) return { anchor: `.klp.sym.vmlinux.${ANCHOR},1`, offset: address - text! };
    if (address > 0n && within(address, perCpuStart, perCpuEnd)) return { anchor: `.klp.sym.vmlinux.${klp.name},1`, offset: 0n };
    return undefined;
  };
  for (const rela of b.relaSections) {
    if ((rela.flags & SHF_RELA_LIVEPATCH) === 0n || !rela.name.startsWith('.klp.rela.vmlinux.')) continue;
    rela.relocations = rela.relocations.map((r): BuildRelocation => {
      const to = rebase(r.symbol);
      if (!to) {
        kept++;
        return r;
      }
      rebased++;
      return { ...r, symbol: anchorSymbol(to.anchor), addend: r.addend + to.offset };
    });
  }
  return rebased ? { ko: b.toBuffer(), rebased, kept } : { ko, rebased, kept };
}
