import type { SiteKind } from './sites';

/** A relocation field the matcher could not check against a known address (it was masked). */
export interface UncheckedField {
  /** Offset of the field from the function start. */
  offset: number;
  target: string;
  reason: string;
}

/** A patch site whose live bytes were one of its legal patched forms instead of the original. */
export interface PatchedSite {
  offset: number;
  kind: SiteKind;
  bytes: string;
}

export interface Difference {
  /** Offset of the first differing byte from the function start. */
  offset: number;
  /** Hex of the pre code and of the memory from that offset (the relocation field, or up to 16 bytes). */
  expected: string;
  actual: string;
  reason: string;
}

export interface Candidate {
  address: bigint;
  sympos: number;
}

export type FunctionMatch =
  | {
      name: string;
      status: 'matched';
      address: bigint;
      sympos: number;
      candidates: number;
      /** How the candidate was chosen: its bytes alone; or, among byte-identical copies, the one another function's
       * relocation points to ('reference'), or the one lying between the object's other functions ('locality'). */
      resolvedBy: 'bytes' | 'reference' | 'locality';
      unchecked: UncheckedField[];
      patchedSites: PatchedSite[];
    }
  | { name: string; status: 'mismatch'; address: bigint; sympos: number; candidates: number; difference: Difference }
  | { name: string; status: 'missing'; reason: string }
  /** Not compared: init code of a live kernel is freed after boot (kernel/init/main.c free_initmem). */
  | { name: string; status: 'skipped'; reason: string }
  /** A weak definition no candidate matches: the kernel runs a strong definition from elsewhere (design.md §8). */
  | { name: string; status: 'overridden'; address: bigint; difference: Difference }
  | { name: string; status: 'ambiguous'; matches: Candidate[] };

/** A local symbol of the object resolved to one address of the kernel (from a function match or a reference). */
export interface ResolvedSymbol {
  name: string;
  address: bigint;
  sympos: number;
}

export interface MatchReport {
  object: string;
  source: string;
  functions: FunctionMatch[];
  /** How many functions matched. */
  matched: number;
  /** ok: every function matched or was skipped (or, with allowOverriddenWeak, is an overridden weak definition). */
  /** Symbols of the object resolved by the match (the ambiguous locals ksplice resolves through run-pre). */
  resolved: ResolvedSymbol[];
  ok: boolean;
}

/** One line describing why a function failed, naming it, the offset and both byte strings. */
export function describeFailure(object: string, source: string, f: FunctionMatch): string {
  switch (f.status) {
    case 'matched':
      return `${f.name} matched at 0x${f.address.toString(16)}`;
    case 'overridden':
      return `run-pre: ${f.name} (${object}) is a weak definition the kernel does not run: ${source} holds a strong ${f.name} at 0x${f.address.toString(16)} that differs at +0x${f.difference.offset.toString(16)}`;
    case 'skipped':
    case 'missing':
      return `run-pre: ${f.name} (${object}): ${f.reason}`;
    case 'ambiguous':
      return `run-pre: ${f.name} (${object}) matches ${f.matches.length} places in ${source} (${f.matches.map((m) => `0x${m.address.toString(16)}`).join(', ')}): cannot tell which one runs`;
    case 'mismatch': {
      const d = f.difference;
      const which = f.candidates > 1 ? ` (best of ${f.candidates} candidates: sympos ${f.sympos})` : '';
      return `run-pre: ${f.name} (${object}) differs from ${source} at ${f.name}+0x${d.offset.toString(16)}${which}: ${d.reason}; expected ${d.expected}, found ${d.actual}`;
    }
  }
}
