import { UserError } from '@hotsplice/kernel';
import { moduleName } from '@hotsplice/link';
import { KernelLogTail, kernelLogSince } from '../target/kmsg';
import { forceTransition, moduleLoaded, readPatch, setEnabled } from '../target/livepatch';
import { rmmod, withKernelLines } from '../target/module-load';
import { readRecords, removeRecord } from '../target/records';
import { type Blocker, describeBlockers } from '../target/blockers';
import { type ControlReport, type ControlSettings, graceMs, readControl, setControl } from '../target/control';
import { Phases } from '../target/phases';
import { awaitTransition } from '../target/transition';
import { waitUntil } from '../target/wait';
import { parseVerb, usageError } from '../verb';
import { undo as UNDO } from '../verbs';
import { type TransitionReport, describeHeld, seconds, transitionTimes } from './apply';

/**
 * ksplice-undo: disable the update's livepatch, wait for the unpatch transition, unload the module.
 * A transition that does not finish in time leaves the update undoing (the kernel keeps trying) and exits 124;
 * `--force` ends it with livepatch's force (at once when the update is already undoing, else after the timeout),
 * after which the kernel keeps the module loaded for good.
 * Exit 0: undone; 1: not applied or failed; 2: usage; 124: timed out.
 */
export async function undoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(UNDO, args);
  if (positionals.length !== 1) throw usageError(UNDO);
  const id = positionals[0];
  const u = await undoUpdate(id, undoOptions(values));
  for (const w of u.warnings) process.stderr.write(`hotsplice: warning: ${w}\n`);
  const { module, undoMs, warnings, blockers, control, phases } = u;
  if (values.json) process.stdout.write(`${JSON.stringify({ id, module, state: 'undone', undoMs, ...transitionTimes(u), warnings, blockers, ...(control ? { control } : {}), phases }, null, 2)}\n`);
  else process.stdout.write(`undone ${id} in ${undoMs} ms${u.unloaded ? '; module unloaded' : ''}${describeHeld(u) ? `\n${describeHeld(u)}` : ''}\n`);
  return 0;
}

/** undo's and uninstall's options: --timeout, --grace, --force. */
export function undoOptions(values: { timeout?: string; grace?: string; force?: boolean }): UndoOptions {
  return { timeoutMs: seconds(values.timeout) * 1000, graceMs: graceMs(values.grace), force: Boolean(values.force) };
}

export interface UndoOptions extends ControlSettings {
  force: boolean;
}

/** TransitionReport: the unpatch transition by the kernel's clock, the tasks that held it, what transition control did. */
export interface Undone extends TransitionReport {
  module: string;
  undoMs: number;
  /** ms per step (Phases): kmsg (the log read once), open, watch, start (the enabled write), wait, looks, lines, control, rmmod, record. */
  phases: Record<string, number>;
  /** Lines for stderr: a forced transition, a module that stays, a record that could not go. */
  warnings: string[];
  unloaded: boolean;
}

/** Take update `id` out of the kernel; a failure throws (a UserError with the exit code: 1, or 124 on a timeout). */
export async function undoUpdate(id: string, values: UndoOptions): Promise<Undone> {
  const module = await moduleOf(id);
  const started = performance.now();
  const phases = new Phases();
  // Read once here; the wait reads on from its end (the ring may hold a thousand lines of the last transition).
  const log = KernelLogTail.open();
  phases.lap('kmsg');
  try {
    return await undoWith(id, module, values, { log, phases, started });
  } finally {
    log.close();
  }
}

async function undoWith(id: string, module: string, values: UndoOptions, run: { log: KernelLogTail; phases: Phases; started: number }): Promise<Undone> {
  const { timeoutMs } = values;
  const { log, phases, started } = run;
  const { mark } = log;
  const warnings: string[] = [];
  let blockers: Blocker[] = [];
  let transitionMs: number | undefined;
  let switchedMs: number | undefined;
  let control: ControlReport | undefined;
  const patch = await readPatch(module);
  if (!patch && !moduleLoaded(module)) {
    await removeRecord(module); // a leftover; failing to remove it changes nothing
    throw new UserError(`update ${id} is not applied (no livepatch or module named ${module})`);
  }
  if (patch) {
    // The module's transition control arms itself when the unpatch transition starts (its pre-unpatch callback).
    const controlled = patch.enabled && (await setControl(module, values));
    const disable = async () => {
      if (patch.enabled) await setEnabled(module, false);
    };
    const progress = process.stderr;
    const gone = () => readPatch(module).then((p) => !p);
    // Already undoing (an earlier undo timed out): --force ends it now, the waiting has been done. Waiting again
    // would race livepatch's own fake signals, which finish such a transition ~15 s after it began
    // (kernel/livepatch/transition.c SIGNALS_TIMEOUT).
    const forceNow = values.force && !patch.enabled && patch.transition;
    phases.lap('open');
    const wait = forceNow
      ? { ms: undefined, blockers: [], holding: [] }
      : await awaitTransition(gone, { module, target: 0, what: `the unpatch transition of ${id}`, timeoutMs, progress, start: disable, phases, log });
    blockers = wait.blockers;
    transitionMs = wait.kernelMs;
    switchedMs = wait.switchedMs;
    // Its counters stay readable until rmmod.
    if (controlled) control = await readControl(module);
    phases.lap('control');
    let done = wait.ms;
    if (done === undefined && !values.force) {
      const held = wait.holding.length ? ` (held by ${describeBlockers(wait.holding)})` : '';
      const line = `undo of ${id} did not finish within ${timeoutMs / 1000} s: a task still runs patched code${held}; the kernel keeps trying (hotsplice undo --force ${id} ends it, unsafely)`;
      throw new UserError(withKernelLines(line, kernelLogSince(mark)), 124);
    }
    if (done === undefined) {
      const forced = await forceTransition(module).then(
        () => true,
        async (err: unknown) => {
          if (await gone()) return false; // it finished on its own just before
          throw err;
        },
      );
      if (forced) {
        warnings.push(`forced the unpatch transition of ${id}: tasks may still run its code, so the kernel keeps its module loaded and the kernel is tainted`);
      }
      done = await waitUntil(gone, { what: `the forced unpatch of ${id}`, timeoutMs, progress });
      if (done === undefined) throw new UserError(`undo of ${id}: even the forced transition did not finish within ${timeoutMs / 1000} s`, 124);
    }
  }
  const rmmodError = await rmmod(module);
  phases.lap('rmmod');
  if (rmmodError && !warnings.length) throw new UserError(withKernelLines(`undo of ${id}: rmmod ${module} failed: ${rmmodError}`, kernelLogSince(mark)));
  if (rmmodError) warnings.push(`module ${module} stays loaded: ${rmmodError}`);
  const stale = await removeRecord(module);
  if (stale) warnings.push(stale);
  phases.lap('record');
  return { module, undoMs: Math.round(performance.now() - started), phases: phases.toJSON(), warnings, unloaded: !rmmodError, transitionMs, switchedMs, blockers, control };
}

/** The module of an update id: the one its apply recorded, else the name the link stage derives from the id. */
export async function moduleOf(id: string): Promise<string> {
  for (const record of (await readRecords()).values()) if (record.id === id) return record.module;
  try {
    return moduleName(id);
  } catch (err) {
    throw new UserError(`"${id}" is not an update id: ${err instanceof Error ? err.message : String(err)}`, 2);
  }
}
