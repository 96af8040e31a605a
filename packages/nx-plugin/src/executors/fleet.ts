import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { cacheRoot, fetchDebianUpdate, prepareKernel } from '@hotsplice/kernel';
import { readHotpatchConfig } from '../config';
import { fleetProjectName } from '../graph';
import { fleetPlace, layout } from '../layout';
import { oneLine, patchesOf, recordRun, taskId, writeOutput } from './common';
import { planKernel } from './plan';

interface FleetOptions {
  id: string;
  /** The folder of hotpatch.json, relative to the workspace. */
  root: string;
  kernels: string[];
}

/** One kernel of the fleet and what became of it. */
export interface FleetEntry {
  /** What hotpatch.json asked for (an ABI, newest-trixie, …) and the ABI it is. */
  request: string;
  abi?: string;
  suite?: string;
  version?: string;
  /** The package, relative to the workspace; absent when the kernel has none. */
  package?: string;
  /** Why there is no package: the step that failed and its one line. */
  reason?: string;
}

/**
 * A fleet update's `hotpatch`: prepare and plan every kernel, then build every kernel's package in one nested Nx run
 * (`run-many`: one start and one graph for all, the kernels' tasks side by side; Nx stops only the dependants of a
 * failed task, and the batch executors give each kernel its own outcome, so one kernel whose version the patch
 * does not fit, or whose change is refused, leaves the others to build), and write the fleet summary
 * (`dist/hotpatch/<id>/fleet.json`, `fleet.txt`): each kernel's package, or
 * the reason it has none. Succeeds only when every kernel has its package.
 */
export default async function fleet(options: FleetOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  recordRun(taskId(context));
  const setup = spawnSync('bash', [join(context.root, 'tools', 'setup', 'ensure-system.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) return { success: false };
  const config = readHotpatchConfig(join(context.root, options.root, 'hotpatch.json'));
  await rm(join(context.root, layout.fleetSummary(options.id)), { force: true });
  const entries: FleetEntry[] = [];
  const started = Date.now();
  for (const request of options.kernels) {
    const entry: FleetEntry = { request };
    entries.push(entry);
    try {
      const kernel = await prepareKernel({ abi: request, quiet: true });
      Object.assign(entry, { abi: kernel.abi, suite: kernel.suite, version: kernel.version });
      if (config.debianUpdate) await fetchDebianUpdate(cacheRoot(), kernel, config.debianUpdate, true);
      try {
        // The graph of this kernel's pipeline needs kbuild's plan and a header change's narrowing (plan.ts).
        await planKernel(kernel, patchesOf(context, options.root)(kernel), config.debianUpdate ? 'report' : 'refuse');
      } catch (err) {
        entry.reason = `plan: ${oneLine(err)}`;
      }
    } catch (err) {
      entry.reason = `prepare: ${oneLine(err)}`;
    }
  }
  const ready = entries.filter((e) => e.abi && !e.reason);
  if (ready.length) {
    const projects = ready.map((e) => fleetProjectName(options.root, options.id, e.abi!));
    // What is there after the run is this run's (built, or restored from Nx's cache).
    for (const e of ready) await rm(join(context.root, layout.packageDir(fleetPlace(options.id, e.abi!))), { recursive: true, force: true });
    console.log(`hotsplice fleet: ${ready.map((e) => `${e.abi} (${e.request})`).join(', ')} (prepared and planned in ${seconds(started)} s)`);
    const building = Date.now();
    const { code, output } = await nestedNx(context.root, ['run-many', '-t', 'package', '-p', projects.join(',')]);
    console.log(`hotsplice fleet: the kernels' pipelines ran in ${seconds(building)} s`);
    const blocks = taskOutputs(output);
    for (const [i, entry] of ready.entries()) {
      const tarball = join(layout.packageDir(fleetPlace(options.id, entry.abi!)), `hotsplice-${options.id}.tar.gz`);
      if (existsSync(join(context.root, tarball))) entry.package = tarball;
      else entry.reason = failureLine(kernelOutput(blocks, projects[i]!, projects)) ?? `nx run ${projects[i]}:package failed (exit ${code})`;
    }
  }
  const text = summaryText(options.id, entries);
  await writeOutput(context, layout.fleetSummary(options.id), `${JSON.stringify({ id: options.id, kernels: entries }, null, 2)}\n`);
  await writeOutput(context, join(layout.packageDir(options.id), 'fleet.txt'), text);
  process.stdout.write(text);
  return { success: entries.every((e) => e.package) };
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

/** The table fleet.txt holds and `hotpatch` prints. */
export function summaryText(id: string, entries: FleetEntry[]): string {
  const built = entries.filter((e) => e.package).length;
  const lines = [`hotsplice fleet update ${id}: ${built} of ${entries.length} kernel(s) have a package`];
  for (const e of entries) {
    const kernel = e.abi ? `${e.abi} (${e.suite} ${e.version})` : e.request;
    lines.push(`  ${kernel}: ${e.package ?? `no package: ${e.reason}`}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The last line a failing executor wrote about why (`hotsplice: …`), colours removed. */
export function failureLine(output: string): string | undefined {
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim());
  const own = lines.filter((l) => /^hotsplice[ :]/.test(l) && !/^hotsplice (setup|kernel|fleet)|^hotsplice: (kernel .* ready|\d+ affected|ran )/.test(l));
  return own.at(-1)?.replace(/^hotsplice:\s*/, '');
}

/** Each task's output in Nx's static output style: the lines under its `> nx run <project>:<target>` header. */
export function taskOutputs(output: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let task: string | undefined;
  for (const line of output.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    const header = /^> nx run (\S+)/.exec(line.trim());
    if (header) task = header[1]!;
    else if (task) blocks.set(task, `${blocks.get(task) ?? ''}${line}\n`);
  }
  return blocks;
}

/**
 * The output of one kernel's tasks: its own project's and its object projects' (`<project>-<object>`), never those
 * of another kernel whose project name starts with this one's.
 */
export function kernelOutput(blocks: Map<string, string>, project: string, projects: string[]): string {
  const owner = (task: string) => {
    const name = task.slice(0, task.lastIndexOf(':'));
    return projects.filter((p) => name === p || name.startsWith(`${p}-`)).sort((a, b) => b.length - a.length)[0];
  };
  return [...blocks].filter(([task]) => owner(task) === project).map(([, text]) => text).join('');
}

/** Where the nested run writes its Nx task profile when the outer one writes FILE. */
export function nestedProfile(file: string): string {
  return file.replace(/(\.json)?$/, '-kernels.json');
}

/** `nx ARGS…` as a child (its output shown and kept), outside this task's Nx environment. */
async function nestedNx(root: string, args: string[]): Promise<{ code: number; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_TASK') && k !== 'NX_CLI_SET'));
  // Nx's task profile (NX_PROFILE=FILE, bench:fleet reads it): the nested run's goes beside the outer run's.
  if (env.NX_PROFILE) env.NX_PROFILE = nestedProfile(env.NX_PROFILE);
  const nx = join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
  const chunks: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [nx, ...args, '--output-style=static'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk.toString());
        process.stdout.write(chunk);
      });
    }
    child.on('close', (c) => resolve(c ?? 1));
  });
  return { code, output: chunks.join('') };
}

/** The fleet summary a run left, for tests and the CLI. */
export async function readFleetSummary(root: string, id: string): Promise<{ id: string; kernels: FleetEntry[] }> {
  return JSON.parse(await readFile(join(root, layout.fleetSummary(id)), 'utf8'));
}
