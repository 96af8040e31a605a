// Benchmark: fleets and build roots, measured side by side in one run.
//   F1 one fix for one ABI: a fresh workspace copy, empty Nx cache, `nx run kernel:hotpatch` (kernel prepared)
//   FN the same fix for N ABIs of one series (a fleet update), same conditions; the ratio FN / F1 (goal <= 1.6x
//      for three ABIs). The kernels are prepared before timing: downloads and unpacking are excluded.
//   Where the time goes: each step's seconds per ABI, from Nx's task profile (NX_PROFILE), and what is left of the
//   run outside the tasks (Nx's start, the graph, the fleet's own work).
//   B  creating the series' build root with mmdebstrap, into a temporary directory (what a fresh machine pays once)
// Run: npm run bench:fleet   (HOTSPLICE_BENCH_FLEET="abi abi abi" picks the ABIs, default: trixie's three newest
// amd64 ABIs, which prepare fetches and unpacks first, ~1.3 GB and ~3 min each when cold; HOTSPLICE_BENCH_SKIP_ROOT=1
// skips B)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptConfigFor, cacheRoot, ensureBuildRoot, offeredKernels, prepareKernel, readCompiler, releaseBySuite } from '@hotsplice/kernel';
import { nestedProfile } from '../packages/nx-plugin/src/executors/fleet';
import { REPO, scratchWorkspace } from '../packages/nx-plugin/test/kernel/workspace';

const GOAL = 1.6;
const PATCH = join(REPO, 'bench/patches/proc-version-marker.patch');
const STEPS = ['prepare', 'manifest', 'snap', 'diff', 'collect', 'link', 'verify-pre', 'package', 'hotpatch'];

interface Run {
  seconds: number;
  /** Per task: project, target, start and end (ms). */
  tasks: Array<{ project: string; target: string; start: number; end: number }>;
  /** The fleet step's own timings (`hotsplice fleet: … in N s`). */
  fleetTimes: string[];
}

function hotpatch(label: string, kernels: string[]): Run {
  const ws = scratchWorkspace();
  const config = kernels.length === 1 ? { kernel: { abi: kernels[0] } } : { kernels };
  writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ id: 'bench_fleet', patches: [PATCH], ...config }));
  // Nx writes NX_PROFILE relative to its working directory (join(cwd, file): an absolute path would be nested).
  const profile = 'nx-profile.json';
  const start = performance.now();
  const r = spawnSync(process.execPath, [join(ws, 'node_modules/nx/dist/bin/nx.js'), 'run', 'kernel:hotpatch', '--output-style=static'], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_PROFILE: profile },
    maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${label} failed:\n${r.stdout}\n${r.stderr}`);
  const tasks = [profile, nestedProfile(profile)].map((file) => join(ws, file)).filter(existsSync).flatMap(readProfile);
  rmSync(ws, { recursive: true, force: true });
  const fleetTimes = r.stdout.split('\n').filter((line) => /^hotsplice fleet: .* in [\d.]+ s\)?$/.test(line.trim()));
  return { seconds, tasks, fleetTimes };
}

function readProfile(file: string): Run['tasks'] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as Array<{ ph: string; ts: number; dur: number; args?: { target?: { project: string; target: string } } }>;
  return events.filter((e) => e.ph === 'X' && e.args?.target).map((e) => ({ ...e.args!.target!, start: e.ts / 1000, end: (e.ts + e.dur) / 1000 }));
}

/** Seconds per step and ABI (an object task counts for its kernel), and the span of each ABI's tasks. */
function phaseTable(run: Run, abis: string[], fleet: boolean): string[] {
  const kernelOf = (project: string) => {
    if (!fleet) return abis[0]!;
    return abis.filter((abi) => project.startsWith(`kernel-${abi.replace(/[^A-Za-z0-9_.-]/g, '_')}`)).sort((a, b) => b.length - a.length)[0];
  };
  const rows = [['step', ...abis]];
  for (const step of STEPS) {
    const cells = abis.map((abi) => run.tasks.filter((t) => t.target === step && kernelOf(t.project) === abi).reduce((s, t) => s + (t.end - t.start) / 1000, 0));
    if (cells.some((c) => c > 0)) rows.push([step, ...cells.map((c) => c.toFixed(1))]);
  }
  const own = run.tasks.filter((t) => kernelOf(t.project) && !(fleet && t.target === 'hotpatch'));
  const span = (list: typeof own) => (list.length ? (Math.max(...list.map((t) => t.end)) - Math.min(...list.map((t) => t.start))) / 1000 : 0);
  rows.push(['first task to last', ...abis.map((abi) => span(own.filter((t) => kernelOf(t.project) === abi)).toFixed(1))]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `    ${r.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`);
  lines.push(`    all kernels' tasks ${span(own).toFixed(1)} s of ${run.seconds.toFixed(1)} s; the rest is Nx's start and graph${fleet ? ', the fleet step (prepare checks, the nested run-many)' : ''}`);
  return lines;
}

async function main() {
  const cache = cacheRoot();
  const abis = process.env.HOTSPLICE_BENCH_FLEET?.split(/\s+/).filter(Boolean) ??
    (await offeredKernels(cache)).filter((k) => k.suite === 'trixie' && k.flavour === 'amd64' && k.buildable).slice(0, 3).map((k) => k.abi);
  const prepareStart = performance.now();
  const kernels = [];
  for (const abi of abis) kernels.push(await prepareKernel({ abi, quiet: true }));
  const rows = [`kernels: ${kernels.map((k) => `${k.abi} (${k.version})`).join(', ')} (prepared in ${((performance.now() - prepareStart) / 1000).toFixed(0)} s, not counted)`];

  const one = hotpatch('F1', [abis[0]!]);
  const all = hotpatch('FN', abis);
  rows.push(`F1 one fix, one ABI: ${one.seconds.toFixed(1)} s`, ...phaseTable(one, [abis[0]!], false));
  rows.push(`F${abis.length} one fix, ${abis.length} ABIs of one series: ${all.seconds.toFixed(1)} s = ${(all.seconds / one.seconds).toFixed(2)}x one ABI (goal <= ${GOAL}x)`);
  rows.push(...phaseTable(all, abis, true), ...all.fleetTimes.map((line) => `    ${line.trim()}`));

  if (!process.env.HOTSPLICE_BENCH_SKIP_ROOT) {
    const scratch = mkdtempSync(join(tmpdir(), 'hs-bench-root-'));
    const release = releaseBySuite(kernels[0]!.suite);
    const start = performance.now();
    const root = await ensureBuildRoot(scratch, release, await readCompiler(kernels[0]!.config), aptConfigFor(release, cache), () => undefined);
    rows.push(`B build root ${release.suite} (${Object.keys(root.packages).length} packages named): ${root.createdSeconds.toFixed(1)} s with mmdebstrap, ${((performance.now() - start) / 1000).toFixed(1)} s in all`);
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(rows.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
