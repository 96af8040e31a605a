import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { type CompilerUse, type KernelPaths, UserError, checkChosenCompiler, environmentError, keepConfigMakeflag, preparedKernel } from '@hotsplice/kernel';
import { readHotpatchConfig } from '../config';
import { layout } from '../layout';
import { readPatches } from '../patches';

export interface ObjectOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  object: string;
  abi: string;
  /** Folder of hotpatch.json, relative to the workspace. */
  root?: string;
}

export type TaskResults = Record<string, { success: boolean; terminalOutput: string; startTime?: number; endTime?: number }>;

export async function kernelFor(abi: string): Promise<KernelPaths> {
  const kernel = await preparedKernel(abi);
  if (!kernel) throw new UserError('the kernel is not prepared; run `npx nx run kernel:prepare` first');
  return kernel;
}

export function patchesOf(context: ExecutorContext, root = '.') {
  const dir = join(context.root, root);
  return (kernel: KernelPaths) => readPatches(readHotpatchConfig(join(dir, 'hotpatch.json')), dir, kernel);
}

export async function writeOutput(context: ExecutorContext, path: string, data: string | Uint8Array): Promise<void> {
  const full = join(context.root, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, data);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Note that a task really executed (not restored from the cache) in the file HOTSPLICE_RUN_LOG names, if any:
 * how tests tell what Nx ran, whatever its output style.
 */
export function recordRun(taskId: string): void {
  if (process.env.HOTSPLICE_RUN_LOG) appendFileSync(process.env.HOTSPLICE_RUN_LOG, `${taskId}\n`);
}

export function taskId(context: ExecutorContext): string {
  return `${context.projectName}:${context.targetName}`;
}

/**
 * The frame of a single-task executor: note the run, then `work`; an error becomes one line on stderr (after
 * `prefix`) and a failed task. `work` returns false for a failure it has already explained.
 */
export async function runTask(context: ExecutorContext, work: () => Promise<boolean | void>, prefix = 'hotsplice'): Promise<{ success: boolean }> {
  recordRun(taskId(context));
  try {
    return { success: (await work()) !== false };
  } catch (err) {
    process.stderr.write(`${prefix}: ${oneLine(err)}\n`);
    return { success: false };
  }
}

/**
 * A pipeline step that really runs (a cache miss) first removes the package of the places it works for: should it
 * fail, no package of an earlier run is left looking like this run's. (The manifest cleared the whole place at
 * every run while it was uncached; it now runs only when the update's inputs change.)
 */
export async function dropPackages(context: ExecutorContext, places: string[]): Promise<void> {
  await Promise.all([...new Set(places)].map((place) => rm(join(context.root, layout.packageDir(place)), { recursive: true, force: true })));
}

/** One line for the user, no stack trace (UserError and friends; a full disk or missing directory names the file). */
export function oneLine(err: unknown): string {
  const known = err instanceof UserError ? err : (environmentError(err) ?? err);
  return known instanceof Error ? known.message : String(known);
}

/**
 * Run a batch executor's work once per group of its tasks (`groupOf`: by default one group) and report every task
 * of a group with that group's outcome (they share one compile step, so they succeed or fail together). Nx batches
 * the ready tasks of one executor across projects: a fleet's kernels each form their own group, so one kernel whose
 * build fails leaves the others' tasks to succeed. Groups of different kernels (`kernelOf`) run side by side, one
 * kernel's make beside another's diff: a batch ends when its last group does, so in turn the kernels' steps would
 * add up. Nx passes the tasks' options keyed by task id.
 */
export async function runAll<T>(
  taskGraph: TaskGraph,
  inputs: Record<string, T>,
  work: (options: T[]) => Promise<string>,
  groupOf: (options: T) => string = () => '',
  kernelOf: (options: T) => string = groupOf,
): Promise<TaskResults> {
  const groups = new Map<string, string[]>();
  for (const id of Object.keys(inputs).filter((id) => taskGraph.tasks[id])) groups.set(groupOf(inputs[id]!), [...(groups.get(groupOf(inputs[id]!)) ?? []), id]);
  const results: TaskResults = {};
  await sideBySide([...groups.values()], (ids) => kernelOf(inputs[ids[0]!]!), async (ids) => {
    const start = Date.now();
    let output: string;
    let success = true;
    try {
      output = await work(ids.map((id) => inputs[id]!));
    } catch (err) {
      success = false;
      output = `hotsplice: ${oneLine(err)}`;
      process.stderr.write(`${output}\n`);
    }
    const end = Date.now();
    ids.forEach(recordRun);
    if (success) console.log(output);
    for (const id of ids) results[id] = { success, terminalOutput: output, startTime: start, endTime: end };
  });
  return results;
}

/** `work` for every item: the items of one lane one after another, the lanes side by side. */
export async function sideBySide<I>(items: I[], laneOf: (item: I) => string, work: (item: I) => Promise<void>): Promise<void> {
  const lanes = new Map<string, I[]>();
  for (const item of items) lanes.set(laneOf(item), [...(lanes.get(laneOf(item)) ?? []), item]);
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const item of lane) await work(item);
    }),
  );
}

/** Adapt a batch implementation to Nx's single-task executor signature. */
export function single<T extends object>(
  batch: (g: TaskGraph, i: Record<string, T>, o: T, c: ExecutorContext) => Promise<TaskResults>,
) {
  return async (options: T, context: ExecutorContext): Promise<{ success: boolean }> => {
    const id = taskId(context);
    const graph = { tasks: { [id]: {} }, roots: [id], dependencies: {} } as unknown as TaskGraph;
    const results = await batch(graph, { [id]: options }, options, context);
    return { success: results[id].success };
  };
}

/**
 * A batch implementation from a single-task executor: each task with its own project in the context and its own
 * share of the output; the tasks of one kernel one after another, those of different kernels (a fleet) side by
 * side. Used when Nx batches (`--batch`): collect, link, verify-pre and package do not prefer batches (executors.json),
 * since Nx starts nothing else while a batch runs and these are one task per update and kernel.
 */
export function eachTask<T extends { abi?: string; place?: string }>(executor: (options: T, context: ExecutorContext) => Promise<{ success: boolean }>) {
  return async (taskGraph: TaskGraph, inputs: Record<string, T>, _o: T, context: ExecutorContext): Promise<TaskResults> => {
    const results: TaskResults = {};
    const ids = Object.keys(inputs).filter((id) => taskGraph.tasks[id]);
    await sideBySide(ids, (id) => inputs[id]!.abi ?? inputs[id]!.place ?? '', async (id) => {
      const { project, target, configuration } = taskGraph.tasks[id]!.target;
      const startTime = Date.now();
      const { value, output } = await capturingOutput(() =>
        executor(inputs[id]!, { ...context, projectName: project, targetName: target, configurationName: configuration }),
      );
      results[id] = { success: value.success, terminalOutput: output, startTime, endTime: Date.now() };
    });
    return results;
  };
}

/** Where what this process writes goes besides the terminal: the chunks of the task whose work wrote it. */
const taskOutput = new AsyncLocalStorage<string[]>();
let outputHooked = false;

/** Run `work` and also keep what it (and only it, whatever runs beside it) writes to stdout and stderr. */
async function capturingOutput<V>(work: () => Promise<V>): Promise<{ value: V; output: string }> {
  if (!outputHooked) {
    outputHooked = true;
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write;
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        taskOutput.getStore()?.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
        return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
    }
  }
  const chunks: string[] = [];
  const value = await taskOutput.run(chunks, work);
  return { value, output: chunks.join('') };
}

/**
 * A compiler wrapper for distributed or cached compiles (`distcc`, `icecc`, `ccache`): HOTSPLICE_CC_WRAPPER, else
 * `ccWrapper` in hotpatch.json (the task's `root`, else the workspace's). Undefined: compile locally.
 */
export function compilerWrapper(context: ExecutorContext, root = '.'): string | undefined {
  const fromEnv = process.env.HOTSPLICE_CC_WRAPPER?.trim();
  if (fromEnv) return fromEnv;
  return configOf(context, root)?.ccWrapper;
}

function configOf(context: ExecutorContext, root: string) {
  try {
    return readHotpatchConfig(join(context.root, root, 'hotpatch.json'));
  } catch {
    return undefined;
  }
}

/** How an update's compiles run: through a wrapper (distcc…), with a compiler the user chose (hotpatch.json "compiler"). */
export interface CompileSetup {
  wrapper?: string;
  use?: CompilerUse;
}

/** The update's compile setup; a chosen compiler whose version is not the kernel's is refused here unless forced. */
export async function compileSetup(context: ExecutorContext, root: string | undefined, kernel: KernelPaths): Promise<CompileSetup> {
  const config = configOf(context, root ?? '.');
  const use = config?.compiler ? await checkChosenCompiler(kernel, { path: config.compiler, force: config.forceCompiler }) : undefined;
  return { wrapper: compilerWrapper(context, root), use };
}

/** withCompilerWrapper for a CompileSetup. */
export function withCompileSetup<T>(setup: CompileSetup, kernel: KernelPaths, work: () => Promise<T>): Promise<T> {
  return withCompilerWrapper(setup.wrapper, kernel, work, setup.use);
}

/**
 * Run `work` (the kbuild calls) with the wrapper in front of the kernel's compiler (gcc-12) the way distcc's
 * masquerade directory does it: a `gcc-12` first on PATH that runs `<wrapper> gcc-12 …` with the original PATH.
 * kbuild's CC stays `gcc-12`, so its command lines (`.o.cmd`), Kconfig's CC check and every hotsplice cache key are
 * those of a local build; only where the compiler runs changes. (CC="distcc gcc-12" would make Kconfig re-sync and
 * kbuild rebuild everything.) A kernel built in a build root has no wrapper there: refused.
 *
 * A chosen compiler (`use`) takes the kernel compiler's place the same way: the masquerade runs `[wrapper] <its
 * path>`. When its version line differs (forced), make is also told the kernel's CC_VERSION_TEXT so that kbuild
 * keeps the prepared tree's config (chosen-compiler.ts keepConfigMakeflag).
 */
export async function withCompilerWrapper<T>(
  wrapper: string | undefined,
  kernel: Pick<KernelPaths, 'compiler' | 'buildRoot' | 'abi'>,
  work: () => Promise<T>,
  use?: CompilerUse,
): Promise<T> {
  if (!wrapper && !use) return work();
  // PATH and MAKEFLAGS are this process's: kernels side by side in one batch take turns here.
  return inTurn(() => withMasquerade(wrapper, kernel, work, use));
}

let turn: Promise<unknown> = Promise.resolve();

/** `work` after every earlier caller's has finished. */
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const result = turn.then(work);
  turn = result.catch(() => undefined);
  return result;
}

async function withMasquerade<T>(
  wrapper: string | undefined,
  kernel: Pick<KernelPaths, 'compiler' | 'buildRoot' | 'abi'>,
  work: () => Promise<T>,
  use?: CompilerUse,
): Promise<T> {
  if (wrapper && kernel.buildRoot) throw new UserError(`compiler wrapper "${wrapper}": ${kernel.abi}'s compiler ${kernel.compiler} runs in a build root, which has no ${wrapper.split(/\s+/)[0]}`);
  const cc = kernel.compiler;
  const dir = await mkdtemp(join(tmpdir(), 'hotsplice-cc-'));
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const original = process.env.PATH ?? '/usr/bin:/bin';
  const savedMakeflags = process.env.MAKEFLAGS;
  const words = [...(wrapper ? wrapper.split(/\s+/) : []), use?.path ?? cc].map(quote).join(' ');
  await writeFile(join(dir, cc), `#!/bin/sh\nPATH=${quote(original)}; export PATH\nexec ${words} "$@"\n`);
  await chmod(join(dir, cc), 0o755);
  process.env.PATH = `${dir}:${original}`;
  if (use?.mismatch) process.env.MAKEFLAGS = [savedMakeflags, keepConfigMakeflag(use.kernelVersionText)].filter(Boolean).join(' ');
  try {
    return await work();
  } finally {
    process.env.PATH = original;
    if (savedMakeflags === undefined) delete process.env.MAKEFLAGS;
    else process.env.MAKEFLAGS = savedMakeflags;
    await rm(dir, { recursive: true, force: true });
  }
}
