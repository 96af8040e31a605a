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
 * A fleet update's `hotpatch`: prepare and plan every kernel, then build each one's package with Nx (a nested run per
 * kernel, so one kernel whose version the patch does not fit, or whose change is refused, leaves the others to
 * build), and write the fleet summary (`dist/hotpatch/<id>/fleet.json`, `fleet.txt`): each kernel's package, or
 * the reason it has none. Succeeds only when every kernel has its package.
 */
export default async function fleet(options: FleetOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  recordRun(taskId(context));
  const setup = spawnSync('bash', [join(context.root, 'tools', 'setup', 'ensure-system.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) return { success: false };
  const config = readHotpatchConfig(join(context.root, options.root, 'hotpatch.json'));
  await rm(join(context.root, layout.fleetSummary(options.id)), { force: true });
  const entries: FleetEntry[] = [];
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
  for (const entry of entries.filter((e) => e.abi && !e.reason)) {
    const project = fleetProjectName(options.root, options.id, entry.abi!);
    console.log(`hotsplice fleet: ${entry.abi} (${entry.request})`);
    const { code, output } = await nestedNx(context.root, `${project}:package`);
    const tarball = join(layout.packageDir(fleetPlace(options.id, entry.abi!)), `hotsplice-${options.id}.tar.gz`);
    if (code === 0 && existsSync(join(context.root, tarball))) entry.package = tarball;
    else entry.reason = failureLine(output) ?? `nx run ${project}:package failed (exit ${code})`;
  }
  const text = summaryText(options.id, entries);
  await writeOutput(context, layout.fleetSummary(options.id), `${JSON.stringify({ id: options.id, kernels: entries }, null, 2)}\n`);
  await writeOutput(context, join(layout.packageDir(options.id), 'fleet.txt'), text);
  process.stdout.write(text);
  return { success: entries.every((e) => e.package) };
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

/** `nx run TARGET` as a child (its output shown and kept), outside this task's Nx environment. */
async function nestedNx(root: string, target: string): Promise<{ code: number; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_TASK') && k !== 'NX_CLI_SET'));
  const nx = join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
  const chunks: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [nx, 'run', target, '--output-style=static'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
