import { type ElfObject, type ElfSymbol, STB_LOCAL, STB_WEAK, STT_SECTION, definedInSection } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';
import { type FieldKind, addr, fieldTarget, fieldValue, hex, readField, typeName } from './fields';
import { type Pattern, isLegalForm } from './forms';
import { type ObjectFunction, ObjectIndex, type ObjectReloc } from './object-model';
import { type Candidate, type Difference, type FunctionMatch, type MatchReport, type PatchedSite, type ResolvedSymbol, type UncheckedField, describeFailure } from './report';
import { type PatchSite, type SiteKind, patchSites } from './sites';
import type { KernelSymbol, MemorySource } from './source';
import { symbolNames } from './link-map';
import { symposOf } from './symbol-index';

export interface MatchOptions {
  /** The object's name in reports (e.g. kernel/sched/core.o). */
  object?: string;
  /** Match only these functions (default: every function of the object). */
  functions?: readonly string[];
  /** Count weak definitions overridden by a strong one elsewhere as fine (a whole pre object has some; an
   * old-code object of changed functions must not: the patch would target code that does not run). */
  allowOverriddenWeak?: boolean;
}

/** Consecutive functions of one object lie closer than this in the kernel's text (one object's .text is contiguous). */
const LOCALITY_SPAN = 256n * 1024n;

/** What one try of a function at one candidate address learned; kept only if the candidate matches. */
class Attempt {
  readonly resolutions = new Map<ElfSymbol, bigint>();
  readonly bases = new Map<number, bigint>();
  readonly unchecked: UncheckedField[] = [];
  readonly patched: PatchedSite[] = [];
}

type Resolution = { kind: 'address'; address: bigint } | { kind: 'checked' } | { kind: 'fail'; reason: string; expected?: string; actual?: string } | { kind: 'unchecked'; reason: string };

/** The file holds the code as linked; only fentry sites may differ there (calls or nops, per build). */
const FILE_FORMS = new Set<SiteKind>(['fentry']);

/**
 * Ksplice's run-pre check (kmodsrc/ksplice.c run_pre_cmp) for one relocatable pre/old-code object: every function
 * is compared byte for byte with the code `source` holds under its name, relocation fields are checked against
 * the values the relocations give with the kernel's symbol addresses, and patch sites listed in the object's own
 * tables may hold any of their legal patched forms. Same-named candidates are told apart by which one matches.
 */
export async function matchObject(object: ElfObject, source: MemorySource, options: MatchOptions = {}): Promise<MatchReport> {
  source.prefetch?.(symbolNames(object));
  const matcher = new Matcher(new ObjectIndex(object), source);
  const only = options.functions ? new Set(options.functions) : undefined;
  const functions: FunctionMatch[] = [];
  const symbols: ElfSymbol[] = [];
  for (const fn of matcher.index.functions()) {
    if (only && !only.has(fn.name)) continue;
    functions.push(await matcher.matchFunction(fn));
    symbols.push(fn.symbol);
  }
  matcher.resolveAmbiguous(functions, symbols);
  if (only) {
    for (const name of only) if (!functions.some((f) => f.name === name)) functions.push({ name, status: 'missing', reason: `the object defines no function ${name}` });
  }
  const matched = functions.filter((f) => f.status === 'matched').length;
  const fine = functions.filter((f) => f.status === 'matched' || f.status === 'skipped' || (f.status === 'overridden' && options.allowOverriddenWeak)).length;
  return { object: options.object ?? 'object', source: source.description, functions, matched, resolved: matcher.resolvedSymbols(), ok: fine === functions.length };
}

/** Throws a UserError naming the first function that did not match (its offset and both byte strings). */
export function assertMatched(report: MatchReport, options: Pick<MatchOptions, 'allowOverriddenWeak'> = {}): void {
  const failed = report.functions.find((f) => f.status !== 'matched' && f.status !== 'skipped' && !(f.status === 'overridden' && options.allowOverriddenWeak));
  if (failed) throw new UserError(describeFailure(report.object, report.source, failed));
}

class Matcher {
  private readonly sites: Map<number, PatchSite[]>;
  private readonly resolved = new Map<ElfSymbol, bigint>();
  private readonly bases = new Map<number, bigint>();
  /** Byte-identical copies of one function (out-of-line static inlines), settled by resolveByLocality. */
  private readonly ambiguous = new Map<ElfSymbol, { all: readonly KernelSymbol[]; successes: Array<{ candidate: KernelSymbol; attempt: Attempt }> }>();

  constructor(
    readonly index: ObjectIndex,
    private readonly source: MemorySource,
  ) {
    this.sites = patchSites(index);
  }

  async matchFunction(fn: ObjectFunction): Promise<FunctionMatch> {
    if (this.source.kind === 'live' && this.index.elf.section(fn.section).name.startsWith('.init.text')) {
      return { name: fn.name, status: 'skipped', reason: `${fn.name} is __init code, freed after boot: nothing to compare (and nothing to patch)` };
    }
    const all = this.source.symbols(fn.name);
    if (all.length === 0) return { name: fn.name, status: 'missing', reason: `no symbol ${fn.name} in ${this.source.description}` };
    const code = all.filter((c) => !c.type || /[tTwW]/.test(c.type));
    const candidates = code.length ? code : all;
    const successes: Array<{ candidate: KernelSymbol; attempt: Attempt }> = [];
    let best: { candidate: KernelSymbol; difference: Difference } | undefined;
    for (const candidate of candidates) {
      const attempt = new Attempt();
      const difference = await this.compareFunction(fn, candidate.address, attempt);
      if (!difference) successes.push({ candidate, attempt });
      else if (!best || difference.offset > best.difference.offset) best = { candidate, difference };
    }
    const known = this.resolved.get(fn.symbol);
    const chosen = successes.length === 1 ? successes[0] : successes.find((s) => s.candidate.address === known);
    if (chosen) {
      this.commit(chosen.attempt);
      const { address } = chosen.candidate;
      const resolvedBy = successes.length === 1 ? 'bytes' : 'reference';
      return { name: fn.name, status: 'matched', address, sympos: symposOf(all, address), candidates: candidates.length, resolvedBy, unchecked: chosen.attempt.unchecked, patchedSites: chosen.attempt.patched };
    }
    if (successes.length > 1) {
      this.ambiguous.set(fn.symbol, { all, successes });
      return { name: fn.name, status: 'ambiguous', matches: successes.map((s): Candidate => ({ address: s.candidate.address, sympos: symposOf(all, s.candidate.address) })) };
    }
    const { candidate, difference } = best!;
    if (fn.symbol.bind === STB_WEAK) return { name: fn.name, status: 'overridden', address: candidate.address, difference };
    return { name: fn.name, status: 'mismatch', address: candidate.address, sympos: symposOf(all, candidate.address), candidates: candidates.length, difference };
  }

  /**
   * Settle byte-identical copies (out-of-line static inlines): by a relocation of another function of the object
   * that pinned one copy, else by where they lie: the copy built from this object sits between two of the object's
   * other functions (the linker keeps an object's .text together). Exactly one copy must qualify.
   */
  resolveAmbiguous(functions: FunctionMatch[], symbols: ElfSymbol[]): void {
    const own = functions.flatMap((f) => (f.status === 'matched' ? [f.address] : [])).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const bracketed = (address: bigint) => {
      const next = own.findIndex((a) => a > address);
      return next > 0 && own[next] - own[next - 1] <= LOCALITY_SPAN;
    };
    for (const [i, f] of functions.entries()) {
      const pending = f.status === 'ambiguous' ? this.ambiguous.get(symbols[i]) : undefined;
      if (!pending) continue;
      const referenced = this.resolved.get(symbols[i]);
      const byReference = pending.successes.filter((s) => s.candidate.address === referenced);
      const near = byReference.length ? byReference : pending.successes.filter((s) => bracketed(s.candidate.address));
      if (near.length !== 1) continue;
      const { candidate, attempt } = near[0];
      this.commit(attempt);
      const resolvedBy = byReference.length ? 'reference' : 'locality';
      functions[i] = { name: f.name, status: 'matched', address: candidate.address, sympos: symposOf(pending.all, candidate.address), candidates: pending.successes.length, resolvedBy, unchecked: attempt.unchecked, patchedSites: attempt.patched };
    }
  }

  resolvedSymbols(): ResolvedSymbol[] {
    const out: ResolvedSymbol[] = [];
    for (const [symbol, address] of this.resolved) {
      if (symbol.bind !== STB_LOCAL || !symbol.name) continue;
      out.push({ name: symbol.name, address, sympos: symposOf(this.source.symbols(symbol.name), address) });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private commit(attempt: Attempt): void {
    for (const [symbol, address] of attempt.resolutions) this.resolved.set(symbol, address);
    for (const [section, base] of attempt.bases) this.bases.set(section, base);
  }

  private async compareFunction(fn: ObjectFunction, address: bigint, attempt: Attempt): Promise<Difference | undefined> {
    let live: Buffer;
    try {
      live = await this.source.read(address, fn.size);
    } catch (error) {
      return { offset: 0, expected: '', actual: '', reason: `cannot read ${fn.size} bytes at ${addr(address)}: ${(error as Error).message}` };
    }
    attempt.resolutions.set(fn.symbol, address);
    attempt.bases.set(fn.section, address - BigInt(fn.start));
    const cmp = new FunctionComparison(this, fn, address, live, attempt);
    let pos = 0;
    for (const site of this.sites.get(fn.section) ?? []) {
      const at = site.offset - fn.start;
      if (at < pos || at + site.length > fn.size) continue; // outside, or inside a site already compared
      const difference = (await cmp.range(pos, at)) ?? (await cmp.site(site, at, this.source.kind === 'file' ? FILE_FORMS : undefined));
      if (difference) return difference;
      pos = at + site.length;
    }
    return cmp.range(pos, fn.size);
  }

  /** The address of S for a relocation, given S as the stored field implies it (`implied`). */
  async resolveTarget(r: ObjectReloc, implied: bigint, attempt: Attempt, kind: FieldKind): Promise<Resolution> {
    const symbol = r.symbol;
    if (symbol.index === 0) return { kind: 'address', address: 0n };
    const section = definedInSection(symbol);
    if (symbol.type !== STT_SECTION || section === undefined) return this.resolveSymbol(symbol, implied, attempt);
    // A section symbol + addend: the byte it names is addend (+4 for a rel32 field at the end of its instruction).
    const size = this.index.elf.section(section).size;
    const named = Math.min(Math.max(0, Number(r.addend) + (kind.pcRelative ? 4 : 0)), Math.max(0, size - 1));
    if (this.index.isMergeSection(section)) return this.compareMerged(section, named, implied);
    const inner = this.index.symbolAt(section, named);
    if (inner) {
      const s = await this.resolveSymbol(inner, implied + inner.value, attempt);
      return s.kind === 'address' ? { kind: 'address', address: s.address - inner.value } : s;
    }
    const base = attempt.bases.get(section) ?? this.bases.get(section);
    if (base !== undefined) return { kind: 'address', address: base };
    attempt.bases.set(section, implied);
    return { kind: 'unchecked', reason: `no symbol in ${this.index.elf.section(section).name} to check against; its base is taken from this field (${addr(implied)})` };
  }

  private async resolveSymbol(symbol: ElfSymbol, implied: bigint, attempt: Attempt): Promise<Resolution> {
    const known = attempt.resolutions.get(symbol) ?? this.resolved.get(symbol);
    if (known !== undefined) return { kind: 'address', address: known };
    const section = definedInSection(symbol);
    const base = section === undefined ? undefined : attempt.bases.get(section) ?? this.bases.get(section);
    if (base !== undefined) return { kind: 'address', address: base + symbol.value };
    const all = this.source.symbols(symbol.name);
    const globals = symbol.bind === STB_LOCAL ? [] : all.filter((c) => !c.type || /[A-Zvw]/.test(c.type));
    const candidates = globals.length === 1 ? globals : all;
    if (candidates.length === 1) {
      if (section !== undefined) attempt.resolutions.set(symbol, candidates[0].address);
      return { kind: 'address', address: candidates[0].address };
    }
    if (candidates.length === 0) {
      if (section !== undefined) attempt.resolutions.set(symbol, implied);
      return { kind: 'unchecked', reason: `no symbol ${symbol.name} in ${this.source.description}; the field points to ${addr(implied)}` };
    }
    const found = candidates.find((c) => c.address === implied);
    if (!found) return { kind: 'fail', reason: `${symbol.name} has ${candidates.length} candidates, and the field points to ${addr(implied)}, none of them` };
    attempt.resolutions.set(symbol, found.address);
    return { kind: 'address', address: found.address };
  }

  /** SHF_MERGE targets (string literals, constants) are deduplicated across objects: compare what is there. */
  private async compareMerged(section: number, at: number, implied: bigint): Promise<Resolution> {
    const s = this.index.elf.section(section);
    const data = this.index.elf.sectionData(section);
    let start = at;
    let end: number;
    if (this.index.isStringSection(section)) {
      end = data.indexOf(0, at);
      end = end < 0 ? data.length : end + 1;
    } else {
      const entry = Math.max(1, s.entsize);
      start = at - (at % entry);
      end = Math.min(data.length, start + entry);
    }
    const expected = data.subarray(start, end);
    let live: Buffer;
    try {
      live = await this.source.read(implied + BigInt(start), expected.length);
    } catch {
      return { kind: 'fail', reason: `${s.name}+0x${start.toString(16)} should be at ${addr(implied + BigInt(start))}, which cannot be read` };
    }
    if (live.equals(expected)) return { kind: 'checked' };
    const what = this.index.isStringSection(section) ? `string ${JSON.stringify(Buffer.from(expected).toString('latin1').replace(/\0$/, ''))}` : `constant in ${s.name}`;
    return { kind: 'fail', reason: `the field points to ${addr(implied + BigInt(start))}, which does not hold the ${what}`, expected: hex(expected.subarray(0, 32)), actual: hex(live.subarray(0, 32)) };
  }

  /** Bytes of a section range with relocation fields masked (the kernel rewrites them when it copies code). */
  pattern(section: number, offset: number, length: number): Pattern {
    const bytes: Pattern = Array.from(this.index.elf.sectionData(section).subarray(offset, offset + length));
    for (const reloc of this.index.sectionRelocs(section)) {
      const at = reloc.offset - offset;
      const width = reloc.kind?.width ?? 4;
      if (at + width <= 0 || at >= length) continue;
      for (let i = Math.max(0, at); i < Math.min(length, at + width); i++) bytes[i] = null;
    }
    return bytes;
  }
}

/** One function compared at one address: plain bytes, relocation fields, patch sites. */
class FunctionComparison {
  private readonly code: Uint8Array;
  private readonly relocs: ObjectReloc[];

  constructor(
    private readonly matcher: Matcher,
    fn: ObjectFunction,
    private readonly address: bigint,
    private readonly live: Buffer,
    private readonly attempt: Attempt,
  ) {
    this.code = matcher.index.elf.sectionData(fn.section).subarray(fn.start, fn.start + fn.size);
    this.relocs = matcher.index
      .sectionRelocs(fn.section)
      .filter((r) => r.offset >= fn.start && r.offset < fn.start + fn.size)
      .map((r) => ({ ...r, offset: r.offset - fn.start }));
  }

  /** Compare [from, to): bytes equal outside relocation fields, each field equal to what its relocation gives. */
  async range(from: number, to: number): Promise<Difference | undefined> {
    let at = from;
    for (const r of this.relocs) {
      if (r.offset < from) continue;
      if (r.offset >= to) break;
      const plain = this.bytes(at, r.offset);
      if (plain) return plain;
      const width = r.kind?.width ?? 4;
      const difference = await this.field(r);
      if (difference) return difference;
      at = r.offset + width;
    }
    return this.bytes(at, to);
  }

  /** A patch site: the original form (as `range` checks it), else a legal patched form of its kind. */
  async site(site: PatchSite, at: number, allowed: ReadonlySet<SiteKind> | undefined): Promise<Difference | undefined> {
    const original = await this.range(at, at + site.length);
    if (!original) return undefined;
    const live = this.live.subarray(at, at + site.length);
    const replacements = site.replacements.map((r) => this.matcher.pattern(r.section, r.offset, r.length));
    if ((!allowed || allowed.has(site.kind)) && isLegalForm(site, live, replacements, this.matcher.pattern(site.section, site.offset, site.length))) {
      this.attempt.patched.push({ offset: at, kind: site.kind, bytes: hex(live) });
      return undefined;
    }
    return { ...original, offset: Math.min(original.offset, at), reason: `${site.kind} site at +0x${at.toString(16)} holds neither the original nor a legal patched form (${original.reason})` };
  }

  private bytes(from: number, to: number): Difference | undefined {
    for (let i = from; i < to; i++) {
      if (this.code[i] !== this.live[i]) {
        const end = Math.min(to, i + 16);
        return { offset: i, expected: hex(this.code.subarray(i, end)), actual: hex(this.live.subarray(i, end)), reason: 'code differs' };
      }
    }
    return undefined;
  }

  private async field(r: ObjectReloc): Promise<Difference | undefined> {
    const name = this.matcher.index.elf.symbolName(r.symbol) || '(none)';
    const target = `${name}${r.addend < 0n ? '' : '+'}${r.addend}`;
    if (!r.kind) {
      this.attempt.unchecked.push({ offset: r.offset, target, reason: `relocation type ${typeName(r.type)} is not computed; the field was masked` });
      return undefined;
    }
    const { width } = r.kind;
    const place = this.address + BigInt(r.offset);
    const stored = readField(this.live, r.offset, width);
    const implied = (fieldTarget(r.kind, stored, place) - r.addend) & ((1n << 64n) - 1n);
    const resolution = await this.matcher.resolveTarget(r, implied, this.attempt, r.kind);
    const liveField = hex(this.live.subarray(r.offset, r.offset + width));
    const label = `${typeName(r.type)} ${target}`;
    switch (resolution.kind) {
      case 'checked':
        return undefined;
      case 'unchecked':
        this.attempt.unchecked.push({ offset: r.offset, target, reason: resolution.reason });
        return undefined;
      case 'fail':
        return { offset: r.offset, expected: resolution.expected ?? hex(this.code.subarray(r.offset, r.offset + width)), actual: resolution.actual ?? liveField, reason: `${label}: ${resolution.reason}` };
      case 'address': {
        const expected = fieldValue(r.kind, resolution.address, r.addend, place);
        if (expected === stored) return undefined;
        const bytes = Buffer.alloc(8);
        bytes.writeBigUInt64LE(expected);
        return { offset: r.offset, expected: hex(bytes.subarray(0, width)), actual: liveField, reason: `${label}: the field should point to ${addr(resolution.address + r.addend)} but points to ${addr(implied + r.addend)}` };
      }
    }
  }
}
