import { changedElements } from './line-diff';

/**
 * Both versions of a changed file in one, so that one preprocessor run of a unit gives the unit before and after
 * the change (half the cost of two runs). Each hunk of changed lines becomes
 *
 *     __hotsplice_probe_<k>_0 __COUNTER__
 *     #line <first old line>
 *     <old lines>
 *     __hotsplice_probe_<k>_1 __COUNTER__
 *     #line <first new line>
 *     <new lines>
 *     __hotsplice_probe_<k>_2 __COUNTER__
 *     #line <the next old line>
 *
 * This is sound only when the preprocessor's state after a hunk does not depend on which version it read: no
 * changed line is a directive or continues one (a `#define` edit goes to two runs), the hunk does not start or end
 * inside a comment differently in the two versions, and `__LINE__` of the lines after the hunk is the same in both
 * (same line count, or nothing but directives, comments and blank lines after the first hunk that changes the
 * count). `__COUNTER__` is checked per unit by the probes (splitUnit). A file that does not qualify is preprocessed
 * twice.
 */
export function mergedFile(before: string, after: string): { text: string; hunks: number } | { refused: string } {
  const pre = before.split('\n');
  const post = after.split('\n');
  const ids = new Map<string, number>();
  const idOf = (line: string) => ids.get(line) ?? (ids.set(line, ids.size), ids.size - 1);
  const diff = changedElements(Int32Array.from(pre, idOf), Int32Array.from(post, idOf), 1000);
  if (!diff) return { refused: 'too many changed lines' };
  const hunks = hunksOf(diff.a, diff.b);
  const states = lexicalStates(pre);
  const out: string[] = [];
  let at = 0;
  let countChanged = false;
  for (const [k, h] of hunks.entries()) {
    const old = pre.slice(h.preStart, h.preEnd);
    const now = post.slice(h.postStart, h.postEnd);
    const bad = [...old, ...now].find((line) => /^\s*#/.test(line) || /\\\s*$/.test(line));
    if (bad !== undefined) return { refused: `a changed line is a directive or continues one: ${bad.trim().slice(0, 60)}` };
    if (h.preStart > 0 && /\\\s*$/.test(pre[h.preStart - 1]!)) return { refused: 'a change inside a continued line' };
    const state = states[h.preStart]!;
    if (lexicalState(old, state) !== states[h.preEnd] || lexicalState(now, state) !== states[h.preEnd]) return { refused: 'a change opens or closes a comment' };
    if (countChanged && hasCode(pre.slice(at, h.preStart), states[at]!)) return { refused: 'code after a change of the line count (__LINE__)' };
    out.push(...pre.slice(at, h.preStart));
    out.push(`__hotsplice_probe_${k}_0 __COUNTER__`, `#line ${h.preStart + 1}`, ...old);
    out.push(`__hotsplice_probe_${k}_1 __COUNTER__`, `#line ${h.postStart + 1}`, ...now);
    out.push(`__hotsplice_probe_${k}_2 __COUNTER__`, `#line ${h.preEnd + 1}`);
    at = h.preEnd;
    countChanged ||= old.length !== now.length;
  }
  if (countChanged && hasCode(pre.slice(at), states[at]!)) return { refused: 'code after a change of the line count (__LINE__)' };
  out.push(...pre.slice(at));
  return { text: out.join('\n'), hunks: hunks.length };
}

/**
 * The unit before and after the change, from a unit preprocessed with merged files: the old lines of each hunk
 * go to `pre`, the new ones to `post`, the probes to neither. Refused (the unit is then preprocessed twice) when a
 * probe is not a line of its own — the hunk sat inside a macro invocation's arguments, where the two versions
 * mix — or when a hunk used `__COUNTER__` (every later value would differ, in the real units, from the merged
 * one's). A hunk the unit does not reach (an inactive `#if`, a comment) leaves no probe and nothing to split.
 */
export function splitUnit(unit: Buffer): { pre: Buffer; post: Buffer } | { refused: string } {
  const pre: Buffer[] = [];
  const post: Buffer[] = [];
  let side: 'both' | 'pre' | 'post' = 'both';
  let expect: { k: string; i: number; value: number } | undefined;
  let from = 0;
  for (let at = unit.indexOf(PROBE); at >= 0; at = unit.indexOf(PROBE, at + PROBE.length)) {
    let eol = unit.indexOf(10, at);
    if (eol < 0) eol = unit.length;
    const probe = /^__hotsplice_probe_(\d+)_([012]) (\d+)$/.exec(unit.toString('latin1', at, eol));
    if (!probe || (at > 0 && unit[at - 1] !== 10)) return { refused: 'a changed line sits inside a macro invocation' };
    const [k, i, value] = [probe[1]!, Number(probe[2]), Number(probe[3])];
    if (i === 0 ? expect !== undefined : expect?.k !== k || expect.i !== i) return { refused: 'the probes of a changed file are out of order' };
    if (i > 0 && value !== expect!.value + 1) return { refused: 'a changed line uses __COUNTER__' };
    // The lines since the last probe belong to the side it opened; the probe line itself to neither.
    const part = unit.subarray(from, at);
    if (side !== 'post') pre.push(part);
    if (side !== 'pre') post.push(part);
    from = Math.min(eol + 1, unit.length);
    side = i === 0 ? 'pre' : i === 1 ? 'post' : 'both';
    expect = i === 2 ? undefined : { k, i: i + 1, value };
  }
  if (expect) return { refused: 'the probes of a changed file are incomplete' };
  pre.push(unit.subarray(from));
  post.push(unit.subarray(from));
  return { pre: Buffer.concat(pre), post: Buffer.concat(post) };
}

const PROBE = '__hotsplice_probe_';

interface Hunk {
  preStart: number;
  preEnd: number;
  postStart: number;
  postEnd: number;
}

/** Runs of changed lines, as ranges of both versions (masks from changedElements). */
function hunksOf(removed: Uint8Array, added: Uint8Array): Hunk[] {
  const hunks: Hunk[] = [];
  let i = 0;
  let j = 0;
  while (i < removed.length || j < added.length) {
    if (i < removed.length && j < added.length && !removed[i] && !added[j]) {
      i++;
      j++;
      continue;
    }
    const h = { preStart: i, preEnd: i, postStart: j, postEnd: j };
    while (i < removed.length && removed[i]) i++;
    while (j < added.length && added[j]) j++;
    h.preEnd = i;
    h.postEnd = j;
    hunks.push(h);
  }
  return hunks;
}

/** 'code' or 'comment' at the start of each line (and after the last), scanning `/* */`, `//`, strings, chars. */
function lexicalStates(lines: string[]): string[] {
  const states = ['code'];
  for (const line of lines) states.push(lexicalState([line], states[states.length - 1]!));
  return states;
}

function lexicalState(lines: string[], start: string): string {
  let state = start;
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (state === 'comment') {
        if (c === '*' && line[i + 1] === '/') (state = 'code'), i++;
      } else if (c === '/' && line[i + 1] === '*') (state = 'comment'), i++;
      else if (c === '/' && line[i + 1] === '/') break;
      else if (c === '"' || c === "'") for (i++; i < line.length && line[i] !== c; i++) if (line[i] === '\\') i++;
    }
  }
  return state;
}

/** Whether lines hold anything but directives (with their continuation lines), comments and blank lines. */
function hasCode(lines: string[], start: string): boolean {
  let state = start;
  let continued = false;
  for (const line of lines) {
    const before = state;
    state = lexicalState([line], before);
    const directive: boolean = continued || (before === 'code' && /^\s*#/.test(line));
    continued = directive && /\\\s*$/.test(line);
    if (directive) continue;
    // What the line holds outside comments.
    let rest = before === 'comment' ? (line.includes('*/') ? line.slice(line.indexOf('*/') + 2) : '') : line;
    rest = rest.replace(/\/\*.*?\*\//g, '').replace(/\/\*.*$/, '').replace(/\/\/.*$/, '');
    if (rest.trim()) return true;
  }
  return false;
}
