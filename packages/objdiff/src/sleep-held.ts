// Functions no per-task transition can switch: the scheduler's entries. Every task that is not running stopped in
// the context switch (arch/x86/entry/entry_64.S __switch_to_asm, called by switch_to() in context_switch(), inlined
// into kernel/sched/core.c __schedule), so its stack holds the function that called the switcher: `schedule` for
// every sleeper, preempt_schedule_* for a preempted task, schedule_idle for an idle CPU. Livepatch switches a task
// only when no replaced function is on its stack; a kernel thread never returns to user space (where a task
// switches itself), so it sleeps in the old `schedule` for ever, and a task in uninterruptible sleep holds it until
// it wakes. Such a change is refused unless the patch accepts forcing the transition (hotsplice_force_unsafe) and
// the code a sleeping task returns into is the same in the old and the new copy: after every call the function
// makes, the instructions that can run are equal one for one (tailsUnchanged). A task still inside the old copy
// then runs exactly what the new copy would run from that point.
import { compareUnits, relocTarget } from './compare';
import { isBranch } from './branch';
import { targetUnit } from './correlate';
import { type ObjectModel, type Unit, type UnitReloc, relocWidth } from './model';
import { coldParent } from './names';
import { decode } from './x86-decode';

/** Where a task that stops running stops (arch/x86/entry/entry_64.S). */
export const CONTEXT_SWITCH = '__switch_to_asm';

/** Each function of the object that calls a function calling the context switch, with that switcher's name. */
export function sleepEntries(model: ObjectModel): Map<Unit, string> {
  const callsTo = (u: Unit, pick: (r: UnitReloc) => boolean) => u.kind === 'function' && u.relocs.some((r) => isBranch(u.bytes, r) && pick(r));
  const switchers = new Set(model.units.filter((u) => callsTo(u, (r) => r.symbol.name === CONTEXT_SWITCH)));
  const entries = new Map<Unit, string>();
  for (const u of model.units) {
    const call = u.relocs.find((r) => isBranch(u.bytes, r) && [...switchers].some((s) => model.unitOfSymbol(r.symbol) === s));
    if (call) entries.set(u, call.symbol.name);
  }
  return entries;
}

/** Why livepatch could never switch the tasks in `name`, the function `switcher` the context switch is in. */
export function sleepHeldReason(name: string, switcher: string): string {
  return (
    `every task the context switch (${switcher}) puts to sleep through it stays inside it: kernel threads never leave it ` +
    `(they never return to user space, where a task switches) and uninterruptible sleepers hold it until they wake, so ` +
    `livepatch's per-task transition would never finish; hotsplice_force_unsafe(${name}) accepts it if the code after each of its calls is unchanged`
  );
}

export interface TailDifference {
  /** The call after which old and new code differ (its target), and its offset in the old copy. */
  call: string;
  offset: number;
}

interface CallSite {
  offset: number;
  next: number;
  target: string;
  symbol?: string;
}

/**
 * Whether a task asleep anywhere below the old copy `a` (pre) would run the same instructions as in the new copy
 * `b` (post) once it returns: for every call in `a`, some call in `b` to the same target after which every
 * instruction that can run (following branches, until a return or a jump out) equals its counterpart, relocations
 * by meaning. Undefined when that holds; else the first call where it does not.
 */
export function tailsUnchanged(pre: ObjectModel, a: Unit, post: ObjectModel, b: Unit, nameOf: (u: Unit) => string): TailDifference | undefined {
  const preCalls = callSites(pre, a, nameOf);
  const postCalls = callSites(post, b, nameOf);
  if (!preCalls || !postCalls) return { call: '(code this decoder does not know)', offset: 0 };
  const sides = { pre, a, post, b, nameOf };
  for (const c of preCalls) {
    if (c.symbol === '__fentry__') continue; // ftrace's entry call: nothing sleeps in it
    if (!postCalls.some((d) => d.target === c.target && sameTail(sides, c.next, d.next))) return { call: c.symbol ?? c.target, offset: c.offset };
  }
  return undefined;
}

function callSites(model: ObjectModel, u: Unit, nameOf: (u: Unit) => string): CallSite[] | undefined {
  const sites: CallSite[] = [];
  for (let at = 0; at < u.size; ) {
    const insn = decode(u.bytes, at);
    if (!insn) return undefined;
    if (insn.flow === 'call') {
      const reloc = u.relocs.find((r) => r.offset >= at && r.offset < at + insn.length);
      const target = reloc ? relocTarget(model, reloc, u.bytes, nameOf) : `indirect:${Buffer.from(u.bytes.subarray(at, at + insn.length)).toString('hex')}`;
      sites.push({ offset: at, next: at + insn.length, target, symbol: reloc?.symbol.name });
    }
    at += insn.length;
  }
  return sites;
}

interface Sides {
  pre: ObjectModel;
  a: Unit;
  post: ObjectModel;
  b: Unit;
  nameOf: (u: Unit) => string;
}

/** Walk both copies in lock step from offsets p (old) and q (new); every pair reached must be the same instruction. */
function sameTail(s: Sides, p0: number, q0: number): boolean {
  const paired = new Map<number, number>();
  const work: Array<[number, number]> = [[p0, q0]];
  while (work.length) {
    const [p, q] = work.pop()!;
    if (paired.has(p)) {
      if (paired.get(p) !== q) return false;
      continue;
    }
    paired.set(p, q);
    if (p === s.a.size && q === s.b.size) continue; // past a call that does not return, at the very end
    const x = decode(s.a.bytes, p);
    const y = decode(s.b.bytes, q);
    if (!x || !y || x.length !== y.length || x.flow !== y.flow || !!x.rel !== !!y.rel) return false;
    const ra = s.a.relocs.filter((r) => r.offset >= p && r.offset < p + x.length);
    const rb = s.b.relocs.filter((r) => r.offset >= q && r.offset < q + y.length);
    if (ra.length !== rb.length) return false;
    const masked = new Uint8Array(x.length);
    for (const [i, r] of ra.entries()) {
      const o = rb[i];
      if (r.offset - p !== o.offset - q || r.type !== o.type) return false;
      if (relocTarget(s.pre, r, s.a.bytes, s.nameOf) !== relocTarget(s.post, o, s.b.bytes, s.nameOf)) return false;
      if (!sameColdPart(s, r, o)) return false;
      masked.fill(1, r.offset - p, r.offset - p + relocWidth(r.type));
    }
    // A branch inside the function: its targets are paired, not its displacement.
    const inside = x.rel && !masked[x.rel.at];
    if (x.rel && inside) masked.fill(1, x.rel.at, x.rel.at + x.rel.size);
    for (let i = 0; i < x.length; i++) if (!masked[i] && s.a.bytes[p + i] !== s.b.bytes[q + i]) return false;
    if (x.flow === 'next' || x.flow === 'call' || x.flow === 'branch') work.push([p + x.length, q + y.length]);
    if (inside && x.flow !== 'next') {
      const tp = p + x.length + displacement(s.a.bytes, p + x.rel!.at, x.rel!.size);
      const tq = q + y.length + displacement(s.b.bytes, q + y.rel!.at, y.rel!.size);
      if (tp < 0 || tp > s.a.size || tq < 0 || tq > s.b.size) return false;
      work.push([tp, tq]);
    }
  }
  return true;
}

/** A jump into the function's `.cold` part continues there: the two cold parts must be the same code. */
function sameColdPart(s: Sides, r: UnitReloc, o: UnitReloc): boolean {
  const ca = targetUnit(s.pre, r, s.a.bytes);
  const cb = targetUnit(s.post, o, s.b.bytes);
  if (!ca || !cb || coldParent(ca.name) !== s.a.name) return true;
  return coldParent(cb.name) === s.b.name && compareUnits(s.pre, ca, s.post, cb, s.nameOf) === undefined;
}

function displacement(code: Uint8Array, at: number, size: 1 | 4): number {
  const view = Buffer.from(code.buffer, code.byteOffset, code.length);
  return size === 1 ? view.readInt8(at) : view.readInt32LE(at);
}

export interface SleepHeldInput {
  pre: ObjectModel;
  post: ObjectModel;
  preTwin: Map<Unit, Unit>;
  nameOf: (u: Unit) => string;
  /** The functions the update replaces (post units). */
  changed: Unit[];
  /** Changed notrace functions their callers carry (post units): old copies of them are on sleeping stacks too. */
  carried: Unit[];
  /** hotsplice_force_unsafe. */
  forced: Set<Unit>;
  refuse: (symbol: string, reason: string) => void;
}

/**
 * The rule for the scheduler's entries: refused with the reason, or accepted when the patch opts in and every old
 * copy a sleeping task can be inside (the entry, and carried notrace functions such as __schedule itself) has the
 * same code after each call. Livepatch can only end such a transition with `force`, which switches every task of
 * the whole patch, so the update may replace nothing else. Returns the accepted ones.
 */
export function checkSleepHeld(input: SleepHeldInput): string[] {
  const entries = sleepEntries(input.pre);
  const held = input.changed.filter((u) => entries.has(input.preTwin.get(u)!));
  for (const u of held) if (!input.forced.has(u)) input.refuse(u.name, sleepHeldReason(u.name, entries.get(input.preTwin.get(u)!)!));
  const optedIn = held.filter((u) => input.forced.has(u));
  if (!optedIn.length) return [];
  let proven = true;
  for (const u of [...optedIn, ...input.carried]) {
    const d = tailsUnchanged(input.pre, input.preTwin.get(u)!, input.post, u, input.nameOf);
    if (!d) continue;
    proven = false;
    input.refuse(
      u.name,
      `hotsplice_force_unsafe cannot make this change safe: the code after its call to ${d.call} (+${d.offset}) changed, and a task asleep below that call returns into the old copy`,
    );
  }
  const accepted = optedIn.map((u) => u.name);
  for (const u of input.changed.filter((c) => !held.includes(c))) {
    input.refuse(u.name, `an update that forces ${accepted.join(', ')} (every sleeping task holds it) may replace nothing else: livepatch's force switches every task of the whole patch; ship ${u.name} in another update`);
  }
  return proven ? accepted : [];
}
