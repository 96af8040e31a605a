import { cTokens } from './c-tokens';
import { type ScanState, type Span, allDeclarations, scanDeclarations, startState } from './c-declarations';
import { declarationFacts } from './declaration-facts';
import { changedElements } from './line-diff';
import { type UnitLines, isMarkerAt, lineStartOf, linesBetween } from './preprocessed';

/** Whether a header change can change one object's code, told from its unit preprocessed before and after. */
export interface HeaderVerdict {
  compile: boolean;
  /** One line: what differs, or why nothing the object compiles to can. */
  reason: string;
  /** The change reaches the unit, as declarations nothing emitted uses (not compiled, but it could be: a witness). */
  unused?: true;
}

/** More differing lines than this and the units are not compared further (the object is compiled). */
export const DIFF_LIMIT = 4000;

/**
 * The rule (issue 13 item 5), on an object's unit preprocessed before (`pre`) and after (`post`) the patch.
 * The lines of code of both are compared in order, each with the file it comes from; linemarkers and blank lines
 * are not code (they move when a header gains a line; only the debug line table sees that). Equal: the object
 * cannot change. Otherwise every file-scope declaration holding a differing line, on either side, must
 * - come from the changed files alone (a changed macro shows up in the lines that use it, wherever they are),
 * - emit nothing by itself (declarationFacts: a type, a prototype, an extern, a static inline function),
 * and no name those declarations declare may appear anywhere else in the unit. Then nothing the object compiles to
 * can change; anything else compiles it.
 */
export function headerVerdict(pre: Buffer, post: Buffer, changedFiles: ReadonlySet<string>): HeaderVerdict {
  const head = lineStartOf(pre, commonPrefix(pre, post));
  const tail = commonSuffix(pre, post, head);
  const sides = [pre, post].map((bytes) => ({ bytes, lines: linesBetween(bytes, head, firstMarkerFrom(bytes, bytes.length - tail)) }));
  const ids = new Map<string, number>();
  const diff = changedElements(lineIds(sides[0]!.lines, pre, ids), lineIds(sides[1]!.lines, post, ids), DIFF_LIMIT);
  if (!diff) return { compile: true, reason: `more than ${DIFF_LIMIT} lines differ` };
  if (!diff.a.includes(1) && !diff.b.includes(1)) return { compile: false, reason: 'same code (only line positions move)' };
  // Declarations are cut from the start of the unit; the common head is cut once for both sides.
  const state = startState();
  scanDeclarations(pre, state, 0, head, () => undefined);
  const names = new Set<string>();
  const changedSpans: Span[][] = [];
  for (const [side, { bytes, lines }] of sides.entries()) {
    const mask = side === 0 ? diff.a : diff.b;
    const changed = lines.start.flatMap((start, i) => (mask[i] ? [{ from: start, to: lines.end[i]! }] : []));
    const touched = declarationsTouching(bytes, { ...state }, head, changed);
    if (!touched) return { compile: true, reason: 'a declaration runs to the end of the unit' };
    changedSpans.push(touched);
    for (const span of touched) {
      const text = linesBetween(bytes, lineStartOf(bytes, span.from), span.to);
      const outside = text.file.find((file) => !changedFiles.has(file));
      if (outside) return { compile: true, reason: `code from ${outside} differs` };
      const facts = declarationFacts(cTokens(spanText(bytes, span, text)));
      if (facts.emits) return { compile: true, reason: `changed ${facts.emits}` };
      for (const name of facts.names) names.add(name);
    }
  }
  const use = liveUse(post, names, changedSpans[1]!);
  if (use) return { compile: true, reason: `uses ${use}` };
  return { compile: false, unused: true, reason: names.size ? `changed declarations unused: ${[...names].sort().join(', ')}` : 'changed declarations declare nothing' };
}

/** Each line as a number standing for (file, text): equal numbers, equal lines. */
function lineIds(lines: UnitLines, bytes: Buffer, ids: Map<string, number>): Int32Array {
  const out = new Int32Array(lines.start.length);
  for (let i = 0; i < out.length; i++) {
    const key = `${lines.file[i]}\n${bytes.toString('latin1', lines.start[i], lines.end[i])}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    out[i] = id;
  }
  return out;
}

/** The declarations overlapping any of `ranges` (ascending), or undefined when one runs to the end of the unit. */
function declarationsTouching(bytes: Buffer, state: ScanState, from: number, ranges: Span[]): Span[] | undefined {
  const out: Span[] = [];
  if (!ranges.length) return out;
  const lastEnd = ranges[ranges.length - 1]!.to;
  let r = 0;
  scanDeclarations(bytes, state, from, bytes.length, (span) => {
    while (r < ranges.length && ranges[r]!.to <= span.from) r++;
    if (r < ranges.length && ranges[r]!.from < span.to) out.push(span);
    return span.to >= lastEnd;
  });
  const covered = out.length > 0 && out[out.length - 1]!.to >= lastEnd;
  return covered ? out : undefined;
}

/** A declaration's text, one line of code per line (linemarkers left out). */
function spanText(bytes: Buffer, span: Span, lines: UnitLines): string {
  return lines.start
    .map((start, i) => bytes.toString('latin1', Math.max(start, span.from), Math.min(lines.end[i]!, span.to)))
    .join('\n');
}

/** The start of the first linemarker line that starts at or after byte `from` (the end when there is none). */
function firstMarkerFrom(bytes: Buffer, from: number): number {
  let at = lineStartOf(bytes, from);
  if (at < from) {
    const eol = bytes.indexOf(10, from);
    if (eol < 0) return bytes.length;
    at = eol + 1;
  }
  while (at < bytes.length) {
    if (isMarkerAt(bytes, at)) return at;
    const eol = bytes.indexOf(10, at);
    if (eol < 0) break;
    at = eol + 1;
  }
  return bytes.length;
}

function commonPrefix(a: Buffer, b: Buffer): number {
  const max = Math.min(a.length, b.length);
  let at = 0;
  for (const block = 1 << 16; at + block <= max && a.compare(b, at, at + block, at, at + block) === 0; ) at += block;
  while (at < max && a[at] === b[at]) at++;
  return at;
}

/** The common suffix, not reaching into the first `keep` bytes of either. */
function commonSuffix(a: Buffer, b: Buffer, keep: number): number {
  const max = Math.min(a.length, b.length) - keep;
  let n = 0;
  for (const block = 1 << 16; n + block <= max && a.compare(b, b.length - n - block, b.length - n, a.length - n - block, a.length - n) === 0; ) n += block;
  while (n < max && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

const isWordByte = (c: number | undefined) => c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36);

/**
 * Whether code the object emits can reach one of `names`: the declarations outside `changed` that mention a name
 * are read; one that emits code or data by itself (declarationFacts) uses it; one that does not (a prototype, a
 * typedef, a structure that embeds a changed one, an unused static inline) passes the names it declares on, and
 * those are followed the same way. A mention inside a string counts too (never too few).
 */
function liveUse(bytes: Buffer, names: Set<string>, changed: Span[]): string | undefined {
  let decls: Span[] | undefined;
  const read = new Set<number>();
  const queue = [...names].sort().map((name) => ({ name, via: name }));
  const queued = new Set(names);
  while (queue.length) {
    const { name, via } = queue.shift()!;
    for (let at = bytes.indexOf(name); at >= 0; at = bytes.indexOf(name, at + 1)) {
      if (isWordByte(bytes[at - 1]) || isWordByte(bytes[at + name.length])) continue;
      if (changed.some((s) => at >= s.from && at < s.to)) continue;
      if (isMarkerAt(bytes, lineStartOf(bytes, at))) continue;
      decls ??= allDeclarations(bytes).spans;
      const d = spanAt(decls, at);
      if (d < 0) return `${via} (outside any declaration)`;
      if (read.has(d)) continue;
      read.add(d);
      const span = decls[d]!;
      const facts = declarationFacts(cTokens(spanText(bytes, span, linesBetween(bytes, lineStartOf(bytes, span.from), span.to))));
      if (facts.emits) return via === name ? name : `${via} (through ${name})`;
      for (const next of facts.names) if (!queued.has(next)) queued.add(next), queue.push({ name: next, via });
    }
  }
  return undefined;
}

/** The index of the span holding offset `at` (spans ascending and disjoint), or -1. */
function spanAt(spans: Span[], at: number): number {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.to <= at) lo = mid + 1;
    else if (spans[mid]!.from > at) hi = mid - 1;
    else return mid;
  }
  return -1;
}
