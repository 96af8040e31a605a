import { posix } from 'node:path';

/**
 * Reading `gcc -E` output. gcc keeps each source line's tokens on one output line (a macro invocation's expansion
 * on the invocation's line) and says where lines come from with linemarkers (`# 12 "./include/linux/kthread.h" 2`;
 * cpp's "Preprocessor Output" documentation); blank lines only keep line numbers in step. A unit is kept as its
 * bytes (5 MB for a typical kernel object): lines are offsets into them, and only the part that matters is cut.
 */

/** Lines of code of one part of a unit: offsets into its bytes and the file each comes from. */
export interface UnitLines {
  start: number[];
  end: number[];
  file: string[];
  /** A directive gcc passes through (`#pragma …`), not C. */
  directive: boolean[];
}

const NEWLINE = 10;
const HASH = 35;
const MARKER = /^# \d+ "((?:[^"\\]|\\.)*)"/;

const isBlank = (c: number) => c === 32 || c === 9 || c === 13;

/** Is the line starting at byte `at` a linemarker? */
export function isMarkerAt(bytes: Buffer, at: number): boolean {
  return bytes[at] === HASH && /^# \d+ "/.test(bytes.toString('latin1', at, Math.min(bytes.length, at + 24)));
}

/** The file a linemarker line names, as a tree path (gcc writes `./include/…`, `././include/…`, `kernel/x.c`). */
function markerFile(bytes: Buffer, at: number): string | undefined {
  const eol = bytes.indexOf(NEWLINE, at);
  const m = MARKER.exec(bytes.toString('latin1', at, eol < 0 ? bytes.length : Math.min(eol, at + 4096)));
  if (!m) return undefined;
  const name = m[1]!.replace(/\\(.)/g, '$1');
  return name.startsWith('<') ? name : posix.normalize(name);
}

/** The file the line starting at `at` comes from: the last linemarker before it. */
export function fileAt(bytes: Buffer, at: number): string {
  for (let line = at; line > 0; ) {
    line = bytes.lastIndexOf(NEWLINE, line - 2) + 1;
    if (bytes[line] === HASH) {
      const file = markerFile(bytes, line);
      if (file !== undefined) return file;
    }
  }
  return markerFile(bytes, 0) ?? '';
}

/** The start of the line holding byte `at`. */
export function lineStartOf(bytes: Buffer, at: number): number {
  return at <= 0 ? 0 : bytes.lastIndexOf(NEWLINE, at - 1) + 1;
}

/** The lines of code starting in [from, to) (`from` a line start), with their files. */
export function linesBetween(bytes: Buffer, from: number, to: number): UnitLines {
  const out: UnitLines = { start: [], end: [], file: [], directive: [] };
  let file = fileAt(bytes, from);
  for (let at = from; at < to; ) {
    let eol = bytes.indexOf(NEWLINE, at);
    if (eol < 0) eol = bytes.length;
    let first = at;
    while (first < eol && isBlank(bytes[first]!)) first++;
    if (first < eol) {
      const marker = first === at && bytes[at] === HASH ? markerFile(bytes, at) : undefined;
      if (marker !== undefined) {
        file = marker;
      } else {
        let last = eol;
        while (last > first && isBlank(bytes[last - 1]!)) last--;
        out.start.push(first);
        out.end.push(last);
        out.file.push(file);
        out.directive.push(first === at && bytes[at] === HASH);
      }
    }
    at = eol + 1;
  }
  return out;
}

/** The files the lines of [from, to) come from. */
export function filesBetween(bytes: Buffer, from: number, to: number): string[] {
  const lines = linesBetween(bytes, lineStartOf(bytes, from), to);
  return [...new Set(lines.file)];
}
