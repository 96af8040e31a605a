// Transition control, the update module's side of a transition (kernel-module/loader/hotsplice-control.c): after a
// grace it signals the tasks that still hold the transition, as livepatch's own fake signal does only after 15 s.
// Its switches and counters are the module's parameters (/sys/module/<module>/parameters/*): apply sets them at
// insmod, undo writes them before it disables the patch.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '@hotsplice/kernel';

export interface ControlSettings {
  /** ms before the first signals; 0 leaves the transition to livepatch alone. */
  graceMs: number;
  /** ms after which the module stops signalling (the wait's own timeout). */
  timeoutMs: number;
}

/** What the module did during the transition. */
export interface ControlReport extends ControlSettings {
  /** Rounds of signals sent. */
  rounds: number;
  /** Signals (user tasks) and wake-ups (kernel threads) sent, over all rounds. */
  signalled: number;
}

const parameters = (module: string) => join('/sys/module', module, 'parameters');

/** `--grace S` (seconds, 0 switches the control off) → ms. */
export function graceMs(text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UserError(`--grace must be a number of seconds (0: no signals), not "${text}"`, 2);
  return Math.round(n * 1000);
}

/** insmod's parameters for the module (the loader's defaults are 1 s and 60 s). */
export function controlParameters(settings: ControlSettings): string[] {
  return [`signal_grace_ms=${settings.graceMs}`, `signal_timeout_ms=${Math.round(settings.timeoutMs)}`];
}

/**
 * Before undo disables the patch: the module arms itself when the unpatch transition starts (its pre-unpatch
 * callback) with these settings. False when the module has no transition control (built before it existed).
 */
export async function setControl(module: string, settings: ControlSettings): Promise<boolean> {
  const dir = parameters(module);
  const [grace, timeout] = controlParameters(settings).map((p) => p.split('='));
  try {
    await writeFile(join(dir, timeout[0]), timeout[1]);
    await writeFile(join(dir, grace[0]), grace[1]);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UserError(`cannot set ${dir}/${grace[0]}: ${(err as Error).message}`);
  }
}

/** The module's account of the last transition, or undefined without transition control. */
export async function readControl(module: string): Promise<ControlReport | undefined> {
  const dir = parameters(module);
  const read = (name: string) => readFile(join(dir, name), 'utf8').then(Number, () => undefined);
  const [graceMs, timeoutMs, rounds, signalled] = await Promise.all(['signal_grace_ms', 'signal_timeout_ms', 'signal_rounds', 'signalled_tasks'].map(read));
  if (graceMs === undefined || timeoutMs === undefined || rounds === undefined || signalled === undefined) return undefined;
  return { graceMs, timeoutMs, rounds, signalled };
}

/** "signalled 200 task(s) in 1 round(s) after a 1 s grace" (undefined when it had nothing to do). */
export function describeControl(report: ControlReport | undefined): string | undefined {
  if (!report?.rounds) return undefined;
  return `transition control signalled ${report.signalled} task(s) in ${report.rounds} round(s) after a ${report.graceMs / 1000} s grace`;
}
