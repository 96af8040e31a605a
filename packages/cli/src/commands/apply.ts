import { UserError, environmentError } from '@hotsplice/kernel';
import { type ControlReport, type ControlSettings, controlParameters, describeControl, graceMs, readControl } from '../target/control';
import { ForceUnsafe } from '../target/force-unsafe';
import { KernelLogTail, kernelLogSince } from '../target/kmsg';
import { type PatchState, listPatches, moduleLoaded, readPatch, setEnabled } from '../target/livepatch';
import { insmod, rmmod, withKernelLines } from '../target/module-load';
import { type UpdateRecord, fixesOf, removeRecord, writeRecord } from '../target/records';
import type { Manifest } from '@hotsplice/link';
import { applyInstalled } from './installed';
import { runPreCheck } from '../target/run-pre';
import { checkKernel, runningKernel } from '../target/running-kernel';
import { type OpenedUpdate, openUpdate } from '../target/update-package';
import { type Blocker, describeBlockers } from '../target/blockers';
import { Phases } from '../target/phases';
import { type TransitionWait, awaitTransition } from '../target/transition';
import { waitUntil } from '../target/wait';
import { parseVerb, usageError } from '../verb';
import { apply as APPLY } from '../verbs';

/**
 * ksplice-apply on livepatch: verify the package, check it was built for exactly this kernel, run-pre match, load
 * the module and wait for the patch transition; any failure leaves the system as it was.
 * Exit 0: applied; 1: refused or failed; 2: usage; 124: the transition did not finish in time (reverted).
 */
export async function applyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(APPLY, args);
  const options = applyOptions(values);
  if (values.installed) {
    if (positionals.length) throw usageError(APPLY);
    return applyInstalled(options, Boolean(values.json));
  }
  if (positionals.length !== 1) throw usageError(APPLY);
  const applied = await applyPackage(positionals[0], options);
  print(Boolean(values.json), applied);
  return 0;
}

/** The transition's timeout and transition control's grace (--timeout, --grace), and --skip-run-pre. */
export interface ApplyOptions extends ControlSettings {
  skipRunPre: boolean;
}

/** apply's and install's options: --timeout, --grace, --skip-run-pre. */
export function applyOptions(values: { timeout?: string; grace?: string; 'skip-run-pre'?: boolean }): ApplyOptions {
  return { timeoutMs: seconds(values.timeout) * 1000, graceMs: graceMs(values.grace), skipRunPre: Boolean(values['skip-run-pre']) };
}

/** What one apply did: the manifest, livepatch's state after the transition, and how it went. */
export interface Applied extends Timing {
  manifest: Manifest;
  state: PatchState;
}

/** Apply one package file; a failure throws (a UserError with the exit code) with the kernel as it was. */
export async function applyPackage(path: string, options: ApplyOptions, record: Partial<UpdateRecord> = {}): Promise<Applied> {
  const started = performance.now();
  const phases = new Phases();
  const update = await openUpdate(path);
  try {
    const { manifest } = update;
    checkKernel(manifest, await runningKernel());
    if ((await readPatch(manifest.module)) || moduleLoaded(manifest.module)) {
      throw new UserError(`update ${manifest.id} is already applied (module ${manifest.module} is loaded); undo it first`);
    }
    phases.lap('open');
    const runPre = await runPreCheck(update, { skip: options.skipRunPre });
    phases.lap('runPre');
    const before = await listPatches();
    // The record first: a state directory that cannot take it fails here, with nothing loaded.
    await writeRecord({
      id: manifest.id,
      module: manifest.module,
      since: new Date().toISOString(),
      package: path,
      replace: manifest.replace,
      kernel: manifest.kernel,
      objects: manifest.objects,
      ...fixesOf(manifest),
      ...record,
    });
    phases.lap('record');
    const loadStart = performance.now();
    const log = KernelLogTail.open();
    phases.lap('kmsg');
    const load = () =>
      insmod(update.ko, `update ${manifest.id}`, controlParameters(options), log.mark).catch(async (err: unknown) => {
        await removeRecord(manifest.module);
        throw err;
      });
    const force = ForceUnsafe.of(manifest, options);
    const { state, transition } = await waitForTransition(update, load, options.timeoutMs, log, phases, force).finally(() => log.close());
    phases.lap('report');
    const applyMs = performance.now() - loadStart;
    const replaced = manifest.replace ? before.filter((p) => p.module !== manifest.module).map((p) => p.module) : [];
    const warning = force?.describe(manifest.id);
    if (warning) process.stderr.write(`${warning}\n`);
    return { manifest, state, applyMs, totalMs: performance.now() - started, phases: phases.toJSON(), runPre, replaced, forced: force?.forced, ...transition };
  } finally {
    await update.close();
  }
}

/**
 * Load the module and wait for the patch transition. Whatever fails after insmod (the transition's timeout, sysfs
 * reads) backs the update out again, so apply never ends with the update live and an error.
 */
async function waitForTransition(
  update: OpenedUpdate,
  load: () => Promise<void>,
  timeoutMs: number,
  log: KernelLogTail,
  phases: Phases,
  force?: ForceUnsafe,
): Promise<{ state: PatchState; transition: TransitionReport }> {
  const { module, id } = update.manifest;
  let state: PatchState | undefined;
  let held = '';
  let loaded = false;
  try {
    const wait = await awaitTransition(async () => (state = await readPatch(module))?.transition === false, {
      module,
      target: 1,
      what: `the patch transition of ${id}`,
      timeoutMs,
      progress: process.stderr,
      start: async () => {
        await load();
        loaded = true;
      },
      onBlockers: async (blockers, elapsedMs) => force?.consider(module, blockers, elapsedMs),
      phases,
      log,
    });
    if (wait.ms !== undefined && state) return { state, transition: await transitionReport(module, wait) };
    held = wait.holding.length ? `; held by ${describeBlockers(wait.holding)}` : '';
  } catch (err) {
    if (!loaded) throw err; // insmod refused it: nothing to back out
    const known = err instanceof UserError ? err : environmentError(err);
    const line = `update ${id}: ${known ? known.message : `internal error: ${err instanceof Error ? err.message : String(err)}`}`;
    return backOut(update, timeoutMs, log.mark, line, known ? 1 : 70);
  }
  const line = `update ${id}: the patch transition did not finish within ${timeoutMs / 1000} s (a task kept running old code${held})`;
  return backOut(update, timeoutMs, log.mark, line, 124);
}

/** Reverse the transition (disabling mid-transition undoes it, kernel/livepatch/transition.c), unload, say why. */
async function backOut(update: OpenedUpdate, timeoutMs: number, mark: number, line: string, exitCode: number): Promise<never> {
  const { module, id } = update.manifest;
  const rmmodError = await (async () => {
    if (await readPatch(module)) {
      await setEnabled(module, false);
      const gone = await waitUntil(async () => !(await readPatch(module)), { what: `the reversal of ${id}`, timeoutMs });
      if (gone === undefined) return 'the reversal did not finish either';
    }
    return rmmod(module);
  })().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
  if (!rmmodError) await removeRecord(module); // the module stays: so does its record
  const after = rmmodError ? `; could not unload it: ${rmmodError}` : '; reverted and unloaded';
  throw new UserError(withKernelLines(line + after, kernelLogSince(mark)), exitCode);
}

/** How long the transition took by the kernel's clock, what held it, what transition control did (--json). */
export interface TransitionReport {
  transitionMs?: number;
  /** Of transitionMs, until every task had switched; the rest is the kernel completing the transition. */
  switchedMs?: number;
  blockers: Blocker[];
  control?: ControlReport;
}

/** transitionMs and switchedMs for --json, in whole ms, each when known. */
export function transitionTimes(t: Pick<TransitionReport, 'transitionMs' | 'switchedMs'>): { transitionMs?: number; switchedMs?: number } {
  return {
    ...(t.transitionMs !== undefined ? { transitionMs: Math.round(t.transitionMs) } : {}),
    ...(t.switchedMs !== undefined ? { switchedMs: Math.round(t.switchedMs) } : {}),
  };
}

async function transitionReport(module: string, wait: TransitionWait): Promise<TransitionReport> {
  return { transitionMs: wait.kernelMs, switchedMs: wait.switchedMs, blockers: wait.blockers, control: await readControl(module) };
}

interface Timing extends TransitionReport {
  applyMs: number;
  totalMs: number;
  /** ms per step (Phases): open, runPre, record, kmsg (the log read once), watch, start (insmod), wait, looks, lines, report. */
  phases: Record<string, number>;
  runPre: Awaited<ReturnType<typeof runPreCheck>>;
  replaced: string[];
  forced?: ForceUnsafe['forced'];
}

function print(json: boolean, t: Applied): void {
  const { manifest, state } = t;
  const functions = state.objects.flatMap((o) => o.functions.map((f) => ({ object: o.name, ...f, patched: o.patched })));
  if (json) {
    const out = {
      id: manifest.id,
      module: manifest.module,
      state: 'applied',
      ...fixesOf(manifest),
      functions,
      replaced: t.replaced,
      ...(t.forced ? { forced: t.forced } : {}),
      ...transitionTimes(t),
      blockers: t.blockers,
      ...(t.control ? { control: t.control } : {}),
      runPre: t.runPre,
      applyMs: Math.round(t.applyMs),
      totalMs: Math.round(t.totalMs),
      phases: t.phases,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${describeApplied(t).join('\n')}\n`);
}

/** The lines of a successful apply: functions per klp object, run-pre, what it took over. */
export function describeApplied(t: Applied): string[] {
  const { manifest, state } = t;
  const count = state.objects.reduce((n, o) => n + o.functions.length, 0);
  const lines = [`applied ${manifest.id}${manifest.level !== undefined ? ` (level ${manifest.level})` : ''} in ${Math.round(t.applyMs)} ms: ${count} function(s) patched`];
  for (const o of state.objects) {
    const waiting = o.patched ? '' : ' (patched when the module loads)';
    lines.push(`  ${o.name}${waiting}: ${o.functions.map((f) => (f.sympos > 1 ? `${f.name},${f.sympos}` : f.name)).join(', ')}`);
  }
  lines.push(`  run-pre: ${t.runPre.summary}`);
  const held = describeHeld(t);
  if (held) lines.push(held);
  if (t.replaced.length) lines.push(`  replaced: ${t.replaced.join(', ')} (atomic replace; their modules stay loaded until undone)`);
  return lines;
}

/** "  held for N ms by: …; <what transition control did>", or '' when no task held the transition. */
export function describeHeld(t: TransitionReport): string {
  if (!t.blockers.length) return '';
  const controlled = describeControl(t.control);
  const took = t.transitionMs === undefined ? '' : ` for ${Math.round(t.transitionMs)} ms`;
  return `  held${took} by: ${describeBlockers(t.blockers)}${controlled ? `; ${controlled}` : ''}`;
}

export function seconds(text: string | undefined): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--timeout must be a positive number of seconds, not "${text}"`, 2);
  return n;
}
