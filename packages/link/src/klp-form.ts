// The two halves of carrying livepatch relocations through a linker that does not understand them.
//
// `ld -r` (what kbuild links a module with) turns SHN_LIVEPATCH symbols into SHN_ABS and SHF_RELA_LIVEPATCH
// sections into an unknown type (measured: LOOS+4, no longer RELA), so the new code cannot enter kbuild in its
// final form. toLinkable() rewrites it into something ld links like any other object; finalizeKlp() turns the
// finished .ko back into the form the kernel reads (Documentation/livepatch/module-elf-format.rst).
import {
  type BuildRelaSection,
  type BuildRelocation,
  type BuildSection,
  type BuildSymbol,
  ObjectBuilder,
  SHF_ALLOC,
  SHF_INFO_LINK,
  SHF_RELA_LIVEPATCH,
  SHN_LIVEPATCH,
  SHN_UNDEF,
  STB_GLOBAL,
  STB_WEAK,
  parseElf,
} from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';

const KLP_SYM = '.klp.sym.';
const KLP_RELA = '.klp.rela.';
/** Flags of a livepatch relocation section (module-elf-format.rst §3). */
export const KLP_RELA_FLAGS = SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH;

/**
 * `.klp.sym.<objname>.<name>,<sympos>` — the exact pattern kernel/livepatch/core.c klp_resolve_symbols() scans with
 * sscanf(".klp.sym.%55[^.].%511[^,],%lu"): the objname stops at the first '.', the name at the ','.
 */
const KLP_SYM_NAME = /^\.klp\.sym\.([^.]{1,55})\.([^,]{1,511}),(\d+)$/;

export interface KlpSymbolName {
  objname: string;
  name: string;
  sympos: number;
}

export function parseKlpSymbol(symbol: string): KlpSymbolName | undefined {
  const m = KLP_SYM_NAME.exec(symbol);
  return m ? { objname: m[1], name: m[2], sympos: Number(m[3]) } : undefined;
}

/**
 * Between toLinkable and finalizeKlp a klp symbol whose relocations belong to another klp object's section (a
 * module object's use of another module's export: `.klp.sym.bluetooth.bt_info,0` in `.klp.rela.hci_intel.…`) is
 * written `<klp symbol>@<that object>`: `ld -r` merges the sections, and the name is all that survives.
 */
const RELA_TAG = '@';

function splitTag(name: string): { symbol: string; relaObject?: string } {
  const at = name.lastIndexOf(RELA_TAG);
  return at > 0 ? { symbol: name.slice(0, at), relaObject: name.slice(at + 1) } : { symbol: name };
}

/**
 * The new-code object in a form that survives `ld -r`: every `.klp.sym.*` symbol becomes a WEAK undefined symbol of
 * the same name, and every `.klp.rela.<obj>.<sec>` section's entries join the ordinary relocation section of the
 * same target, so the linker moves their offsets when it merges sections.
 *
 * WEAK, not GLOBAL: modpost reports an undefined GLOBAL that no module exports as an error, but skips WEAK ones
 * (scripts/mod/modpost.c check_exports: `if (!s->weak) … undefined!`), and none of these is exported.
 */
export function toLinkable(newCode: Buffer, definedInUpdate: ReadonlySet<string> = new Set()): Buffer {
  const b = ObjectBuilder.fromElf(parseElf(newCode));
  for (const s of b.symbols) {
    if (s.section !== SHN_LIVEPATCH && !s.name.startsWith(KLP_SYM)) continue;
    const parsed = parseKlpSymbol(s.name);
    if (!parsed) throw new UserError(`new code: livepatch symbol "${s.name}" is not .klp.sym.<obj>.<name>,<sympos>`);
    s.section = SHN_UNDEF;
    s.value = 0n;
    s.size = 0n;
    // A global another object of this update defines (a helper a fix adds in one file and calls from another):
    // the running kernel has none, so it binds inside the module, as an ordinary undefined GLOBAL ld resolves.
    if (parsed.sympos === 0 && definedInUpdate.has(parsed.name)) {
      s.name = parsed.name;
      s.bind = STB_GLOBAL;
      continue;
    }
    s.bind = STB_WEAK;
  }
  const tagged = new Map<string, BuildSymbol>();
  for (const klp of b.relaSections.filter((r) => r.name.startsWith(KLP_RELA) || (r.flags & SHF_RELA_LIVEPATCH) !== 0n)) {
    const relaObject = /^\.klp\.rela\.([^.]+)\./.exec(klp.name)?.[1];
    for (const r of klp.relocations) {
      const parsed = r.symbol && r.symbol.bind === STB_WEAK ? parseKlpSymbol(r.symbol.name) : undefined;
      if (!parsed || !relaObject || parsed.objname === relaObject) continue;
      const name = `${r.symbol!.name}${RELA_TAG}${relaObject}`;
      if (!tagged.has(name)) tagged.set(name, b.addSymbol({ name, section: SHN_UNDEF, bind: STB_WEAK, type: r.symbol!.type }));
      r.symbol = tagged.get(name)!;
    }
    const plain = b.relaSectionsFor(klp.target).find((r) => r !== klp && !isKlpRela(r)) ?? b.addRelaSection({ target: klp.target });
    plain.relocations = byOffset([...plain.relocations, ...klp.relocations]);
    b.relaSections.splice(b.relaSections.indexOf(klp), 1);
  }
  return b.toBuffer();
}

/** The global symbols an update's new-code objects define (their new functions and data, the copies' aliases). */
export function definedGlobals(newCode: Buffer[]): Set<string> {
  const names = new Set<string>();
  for (const bytes of newCode) {
    for (const s of parseElf(bytes).symbols) if (s.bind === STB_GLOBAL && s.rawShndx !== SHN_UNDEF && s.shndx !== SHN_LIVEPATCH) names.add(s.name);
  }
  return names;
}

/**
 * The post-link step on the final .ko: every relocation whose symbol is `.klp.sym.*` moves to
 * `.klp.rela.<objname>.<target section>` (flags SHF_ALLOC|SHF_INFO_LINK|SHF_RELA_LIVEPATCH, sh_link .symtab,
 * sh_info the target), and those symbols become SHN_LIVEPATCH, GLOBAL. Everything else is kept as it was.
 *
 * kernel/module/main.c simplify_symbols() leaves SHN_LIVEPATCH symbols alone, and apply_relocations() hands
 * SHF_RELA_LIVEPATCH sections to klp_apply_section_relocs(), which resolves the vmlinux ones at load time.
 */
export function finalizeKlp(ko: Buffer): Buffer {
  const b = ObjectBuilder.fromElf(parseElf(ko));
  const klpSymbols = new Map(
    b.symbols
      .filter((s) => s.name.startsWith(KLP_SYM))
      .map((s) => {
        const { symbol, relaObject } = splitTag(s.name);
        const parsed = parseKlpSymbol(symbol);
        s.name = symbol;
        return [s, parsed && { ...parsed, relaObject: relaObject ?? parsed.objname }] as const;
      }),
  );
  for (const [symbol, parsed] of klpSymbols) {
    if (!parsed) throw new UserError(`${symbol.name}: not .klp.sym.<obj>.<name>,<sympos> (kernel/livepatch/core.c cannot resolve it)`);
    if (symbol.section !== SHN_UNDEF && symbol.section !== SHN_LIVEPATCH) {
      throw new UserError(`${symbol.name}: defined in the module; a livepatch symbol must stay unresolved until livepatch resolves it`);
    }
    symbol.section = SHN_LIVEPATCH;
    symbol.bind = STB_GLOBAL;
    symbol.value = 0n;
    symbol.size = 0n;
  }

  const klpRelas = new Map<string, BuildRelaSection>();
  for (const rela of [...b.relaSections]) {
    if (isKlpRela(rela)) continue;
    const moving = rela.relocations.filter((r) => r.symbol !== null && klpSymbols.has(r.symbol));
    if (!moving.length) continue;
    const target = rela.target;
    // A klp relocation into a non-allocated section (debug info) would be written to freed memory when a patched
    // module loads later: kernel/livepatch/core.c klp_write_section_relocs() applies every klp section.
    if ((target.flags & SHF_ALLOC) === 0n) throw new UserError(`${moving[0].symbol!.name}: referenced from ${target.name}, which is not loaded into memory`);
    for (const r of moving) {
      const { relaObject } = klpSymbols.get(r.symbol!)!;
      const key = `${relaObject}\0${target.name}`;
      let klp = klpRelas.get(key);
      if (!klp) {
        klp = b.addRelaSection({ target, name: klpRelaName(relaObject, target), flags: KLP_RELA_FLAGS });
        klpRelas.set(key, klp);
      }
      klp.relocations.push(r);
    }
    rela.relocations = rela.relocations.filter((r) => !moving.includes(r));
    if (!rela.relocations.length) b.relaSections.splice(b.relaSections.indexOf(rela), 1);
  }
  for (const klp of klpRelas.values()) klp.relocations = byOffset(klp.relocations);
  return b.toBuffer();
}

/** `.klp.rela.<objname>.<section>`: klp_apply_section_relocs() reads the objname with sscanf("%55[^.]"). */
function klpRelaName(objname: string, target: BuildSection): string {
  return `${KLP_RELA}${objname}.${target.name}`;
}

function isKlpRela(r: BuildRelaSection): boolean {
  return r.name.startsWith(KLP_RELA) || (r.flags & SHF_RELA_LIVEPATCH) !== 0n;
}

function byOffset(relocations: BuildRelocation[]): BuildRelocation[] {
  return relocations.map((r, i) => ({ r, i })).sort((x, y) => (x.r.offset < y.r.offset ? -1 : x.r.offset > y.r.offset ? 1 : x.i - y.i)).map((x) => x.r);
}
