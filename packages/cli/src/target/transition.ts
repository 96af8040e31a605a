// Waiting for a livepatch transition (apply: patching, undo: unpatching), with its blockers in view: after the first
// second, once a second, the tasks not yet switched and what livepatch says of each (blockers.ts).
import { type Blocker, TransitionWatch, describeBlockers } from './blockers';
import { type WaitStream, waitUntil } from './wait';

export interface TransitionWait {
  /** Elapsed ms, or undefined when the timeout passed first. */
  ms: number | undefined;
  /** The tasks that held it at the last look (empty when it finished within a second). */
  blockers: Blocker[];
}

export async function awaitTransition(
  done: () => Promise<boolean>,
  options: { target: 0 | 1; what: string; timeoutMs: number; progress?: WaitStream; onBlockers?: (blockers: Blocker[]) => Promise<void> },
): Promise<TransitionWait> {
  const start = performance.now();
  let watch: TransitionWatch | undefined;
  let blockers: Blocker[] = [];
  let looked = 0;
  const settled = async () => {
    if (await done()) return true;
    const elapsed = performance.now() - start;
    if (elapsed >= 1000 && elapsed - looked >= 1000) {
      looked = elapsed;
      // Switched on only for a transition that outlasts a second: a quick one touches no kernel setting.
      watch ??= await TransitionWatch.start();
      blockers = await watch.blockers(options.target);
      await options.onBlockers?.(blockers);
    }
    return false;
  };
  try {
    const ms = await waitUntil(settled, {
      what: options.what,
      timeoutMs: options.timeoutMs,
      progress: options.progress,
      detail: () => (blockers.length ? `held by ${describeBlockers(blockers)}` : undefined),
    });
    return { ms, blockers: ms === undefined ? blockers : [] };
  } finally {
    await watch?.stop();
  }
}
