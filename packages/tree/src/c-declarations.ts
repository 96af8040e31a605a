import { isMarkerAt } from './preprocessed';

/**
 * Cutting a preprocessed unit into its file-scope declarations. A declaration ends at a `;` outside any bracket, or
 * at the `}` closing a function body: a `{` at file scope opens a body when it follows a parameter list's `)` (one
 * not belonging to `__attribute__((…))`; GNU C takes no attributes between a definition's parameters and its body),
 * and an aggregate or an initializer otherwise. A directive line between declarations (`#pragma`) is one of its
 * own; linemarkers are skipped. Only brackets and string and character literals are read: enough to cut, not to
 * understand (declarationFacts reads the few declarations that change).
 */
export interface Span {
  from: number;
  to: number;
}

/** Where the scanner is: all it needs to go on from a line start. */
export interface ScanState {
  open: boolean;
  from: number;
  brace: number;
  paren: number;
  /** The current declaration's file-scope `{` opened a function body. */
  body: boolean;
  /** The last significant byte at file scope in the current declaration. */
  last: number;
  /** The file-scope parenthesis group being read, or the last one closed, is `__attribute__((…))`. */
  attribute: boolean;
}

export const startState = (): ScanState => ({ open: false, from: 0, brace: 0, paren: 0, body: false, last: 0, attribute: false });

const NEWLINE = 10;
const SPACE = 32;
const TAB = 9;
const CR = 13;
const HASH = 35;
const QUOTE = 34;
const APOSTROPHE = 39;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const SEMICOLON = 59;

/**
 * Scan bytes [from, to) (`from` a line start) in `state`, calling `found` with each declaration that ends there.
 * `found` returns true to stop. Returns the offset reached (a line start, or `to`).
 */
export function scanDeclarations(bytes: Buffer, state: ScanState, from: number, to: number, found: (span: Span) => boolean | void): number {
  const s = state;
  let at = from;
  while (at < to) {
    let eol = bytes.indexOf(NEWLINE, at);
    if (eol < 0 || eol > bytes.length) eol = bytes.length;
    if (bytes[at] === HASH) {
      if (!isMarkerAt(bytes, at) && !s.open && s.brace === 0 && s.paren === 0) {
        let end = eol;
        while (end > at && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB || bytes[end - 1] === CR)) end--;
        if (found({ from: at, to: end })) return eol + 1;
      }
      at = eol + 1;
      continue;
    }
    for (let i = at; i < eol; i++) {
      const c = bytes[i]!;
      if (c === SPACE || c === TAB || c === CR) continue;
      if (!s.open) {
        s.open = true;
        s.from = i;
        s.body = false;
        s.last = 0;
        s.attribute = false;
      }
      const top = s.brace === 0 && s.paren === 0;
      let end = -1;
      if (c === QUOTE || c === APOSTROPHE) {
        for (i++; i < eol && bytes[i] !== c; i++) if (bytes[i] === BACKSLASH) i++;
        if (top) s.last = c;
      } else if (c === OPEN_BRACE) {
        if (top) s.body = s.last === CLOSE_PAREN && !s.attribute;
        s.brace++;
      } else if (c === CLOSE_BRACE) {
        if (s.brace > 0) s.brace--;
        if (s.brace === 0 && s.paren === 0) {
          s.last = c;
          if (s.body) end = i + 1;
        }
      } else if (c === OPEN_PAREN) {
        if (top) s.attribute = followsAttributeKeyword(bytes, at, i);
        s.paren++;
      } else if (c === CLOSE_PAREN) {
        if (s.paren > 0) s.paren--;
        if (s.brace === 0 && s.paren === 0) s.last = c;
      } else if (c === SEMICOLON && top) {
        end = i + 1;
      } else if (top) {
        s.last = c;
      }
      if (end >= 0) {
        s.open = false;
        if (found({ from: s.from, to: end })) return i + 1 >= eol ? eol + 1 : lineEnd(bytes, i) + 1;
      }
    }
    at = eol + 1;
  }
  return Math.min(at, to);
}

function lineEnd(bytes: Buffer, at: number): number {
  const eol = bytes.indexOf(NEWLINE, at);
  return eol < 0 ? bytes.length : eol;
}

/** Is the `(` at `at` the start of `__attribute__((…))` (the keyword just before it, on the same line)? */
function followsAttributeKeyword(bytes: Buffer, lineStart: number, at: number): boolean {
  let end = at;
  while (end > lineStart && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end--;
  return /(?:^|[^\w$])(__attribute__|__attribute)$/.test(bytes.toString('latin1', Math.max(lineStart, end - 16), end));
}

/** Every declaration of a unit, and whether the text ends inside one. */
export function allDeclarations(bytes: Buffer): { spans: Span[]; unterminated: boolean } {
  const spans: Span[] = [];
  const state = startState();
  scanDeclarations(bytes, state, 0, bytes.length, (span) => void spans.push(span));
  return { spans, unterminated: state.open };
}
