// Waiting for a livepatch transition (apply: patching, undo: unpatching), with its blockers in view: the tasks not
// yet switched and what livepatch says of each (blockers.ts), looked at as soon as the transition outlasts its first
// attempt and then once a second.
import { type Blocker, TransitionWatch, describeBlockers } from './blockers';
import type { KernelLogTail } from './kmsg';
import type { Phases } from './phases';
import { type WaitStream, waitUntil } from './wait';

export interface TransitionWait {
  /** Elapsed ms, or undefined when the timeout passed first. */
  ms: number | undefined;
  /** From livepatch's "starting … transition" to its "… complete" line, by the kernel's clock. */
  kernelMs?: number;
  /** From that start to livepatch's "completing" line: every task had switched (TransitionWatch.switchedMs). */
  switchedMs?: number;
  /** Every task seen holding the transition, as last seen (empty when it finished at its first attempt). */
  blockers: Blocker[];
  /** The tasks that held it at the last look (on a timeout: the ones that kept it open). */
  holding: Blocker[];
}

export interface TransitionOptions {
  /** The livepatch (module) whose transition it is. */
  module: string;
  target: 0 | 1;
  what: string;
  timeoutMs: number;
  progress?: WaitStream;
  /**
   * What starts the transition (insmod, writing `enabled`). It runs once livepatch's reasons are switched on, so
   * its first attempt's reasons (made inside klp_enable_patch / the enabled write) are read too.
   */
  start?: () => Promise<void>;
  /** Each look's blockers, with the ms since the wait began. */
  onBlockers?: (blockers: Blocker[], elapsedMs: number) => Promise<void>;
  /**
   * Where the time goes: `watch` (livepatch's reasons switched on), `start`, `wait` (polling `done`), `looks` (the
   * walks over /proc for the blockers), `lines` (livepatch's lines read after the end).
   */
  phases?: Phases;
  /** The kernel's log as opened before the caller acted (the watch reads on from there); else the watch opens it. */
  log?: KernelLogTail;
}

const LOOK_EVERY_MS = 1000;

export async function awaitTransition(done: () => Promise<boolean>, options: TransitionOptions): Promise<TransitionWait> {
  const { phases } = options;
  const watch = await TransitionWatch.start(options.module, options.log);
  phases?.lap('watch');
  const seen = new Map<number, Blocker>();
  let holding: Blocker[] = [];
  let looked: number | undefined;
  try {
    await options.start?.();
    phases?.lap('start');
    const start = performance.now();
    const settled = async () => {
      if (await done()) return true;
      const elapsed = performance.now() - start;
      if (looked === undefined || elapsed - looked >= LOOK_EVERY_MS) {
        looked = elapsed;
        phases?.lap('wait');
        const now = await watch.blockers(options.target, done);
        phases?.lap('looks');
        if (!now) return true; // it ended during the look
        holding = now;
        for (const b of holding) seen.set(b.pid, { ...seen.get(b.pid), ...b });
        await options.onBlockers?.(holding, elapsed);
        phases?.lap('looks');
      }
      return false;
    };
    const ms = await waitUntil(settled, {
      what: options.what,
      timeoutMs: options.timeoutMs,
      progress: options.progress,
      detail: () => (holding.length ? `held by ${describeBlockers(holding)}` : undefined),
    });
    phases?.lap('wait');
    // livepatch names every task it could not switch, the ones a look over /proc came too late for too.
    for (const b of watch.named()) seen.set(b.pid, { ...b, ...seen.get(b.pid) });
    const [kernelMs, switchedMs] = ms === undefined ? [] : [watch.kernelMs(), watch.switchedMs()];
    phases?.lap('lines');
    return { ms, kernelMs, switchedMs, blockers: [...seen.values()], holding };
  } finally {
    await watch.stop();
  }
}
