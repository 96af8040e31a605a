// Benchmark: the Nx pipeline end to end, ratios measured side by side in one run.
//   P1 cold: empty kernel cache, fresh workspace copy, empty Nx cache, one-file patch (fetch + prepare included)
//   P2 a second patch touching one other object, vs the raw floor: make compiling that object twice + one module link
//   P3 a re-run with nothing changed (every task, the manifest too, restored from the cache), split into Nx's start,
//      plugin start-up, graph and hashing by Nx's own marks (a mark Nx had no time to print before it exited reads
//      n/a); beside it the same with Nx's isolated plugin worker (.env turns it off)
// Run: npm run bench:pipeline   (P1 downloads ~1 GB and unpacks ~2 GB into a temporary cache; HOTSPLICE_BENCH_SKIP_COLD=1 skips it)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExternalModule, kbuildVariables, prepareKernel } from '@hotsplice/kernel';
import { REPO, scratchWorkspace, writeConfig } from '../packages/nx-plugin/test/kernel/workspace';

const GOALS = { P1: 60, P2: 1.3, P3: 1.0 };

function timed(label: string, ws: string, env: NodeJS.ProcessEnv = {}): number {
  return run(label, ws, env).seconds;
}

function run(label: string, ws: string, env: NodeJS.ProcessEnv = {}): { seconds: number; output: string } {
  const start = performance.now();
  const r = spawnSync(process.execPath, [join(ws, 'node_modules/nx/dist/bin/nx.js'), 'run', 'kernel:hotpatch', '--output-style=static'], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', ...env },
    maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${label} failed:\n${r.stdout}\n${r.stderr}`);
  return { seconds, output: `${r.stdout}${r.stderr}` };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/**
 * Where a warm no-op's time goes, from Nx's own performance marks (NX_PERF_LOGGING) and its task timings: the
 * medians over `runs` runs of each part, the rest being Node's start, Nx's CLI set-up, cache restores and output.
 */
function noOpParts(ws: string, runs: number, env: NodeJS.ProcessEnv = {}) {
  const parts = { wall: [] as number[], code: [] as number[], plugin: [] as number[], graph: [] as number[], createNodes: [] as number[], hashing: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const { seconds, output } = run('P3', ws, { NX_PERF_LOGGING: 'true', ...env });
    const mark = (name: string) => Number(new RegExp(`Time taken for '${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' ([\\d.]+)ms`).exec(output)?.[1] ?? NaN) / 1000;
    parts.wall.push(seconds);
    parts.code.push(mark('code-loading'));
    parts.plugin.push(mark('Load Nx Plugin: @hotsplice/nx-plugin'));
    parts.graph.push(mark('createProjectGraphAsync'));
    parts.createNodes.push(mark('@hotsplice/nx-plugin:createNodes'));
    parts.hashing.push(mark('hashMultipleTasks'));
  }
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, median(v)])) as Record<keyof typeof parts, number>;
}

async function main() {
  const rows: string[] = [];
  if (!process.env.HOTSPLICE_BENCH_SKIP_COLD) {
    const cache = mkdtempSync(join(tmpdir(), 'hs-bench-cache-'));
    const ws = scratchWorkspace();
    writeConfig(ws, 'bench_cold', [join(REPO, 'bench/patches/proc-version-marker.patch')]);
    const p1 = timed('P1', ws, { HOTSPLICE_CACHE: cache });
    rows.push(`P1 cold, empty caches, one-file patch incl. fetch + prepare: ${p1.toFixed(1)} s (goal ${GOALS.P1} s: ${(p1 / GOALS.P1).toFixed(2)}x)`);
    rmSync(cache, { recursive: true, force: true });
  }

  const kernel = await prepareKernel({ quiet: true });
  const ws = scratchWorkspace();
  writeConfig(ws, 'bench_warm', [join(REPO, 'bench/patches/proc-version-marker.patch')]);
  timed('warm-up', ws);
  // P2: the same update, now also touching one more object.
  const both = join(ws, 'both.patch');
  writeFileSync(both, execFileSync('cat', [join(REPO, 'bench/patches/proc-version-marker.patch'), join(REPO, 'bench/patches/proc-meminfo-field.patch')]));
  writeConfig(ws, 'bench_warm', [both]);
  const p2 = timed('P2', ws);
  // The raw floor, measured now: make compiles fs/proc/meminfo.o twice (pre, post) and kbuild links one module.
  const floorStart = performance.now();
  for (let i = 0; i < 2; i++) {
    execFileSync('touch', [join(kernel.sourceTree, 'fs/proc/meminfo.c')]);
    execFileSync('make', ['-C', kernel.sourceTree, '-s', ...kbuildVariables(kernel), 'fs/proc/meminfo.o']);
  }
  await buildExternalModule({ sourceDir: join(REPO, 'kernel-module/smoke'), buildDir: mkdtempSync(join(tmpdir(), 'hs-floor-')), kernel });
  const floor = (performance.now() - floorStart) / 1000;
  rows.push(`P2 second patch touching one other object: ${p2.toFixed(1)} s vs raw floor ${floor.toFixed(1)} s = ${(p2 / floor).toFixed(2)}x (goal ${GOALS.P2}x)`);
  const p3 = noOpParts(ws, 5);
  const isolated = noOpParts(ws, 3, { NX_ISOLATE_PLUGINS: 'true' });
  const s = (n: number) => (Number.isNaN(n) ? 'n/a' : `${n.toFixed(2)} s`);
  // The graph's time holds the plugin's start-up and its createNodes (nx/src/project-graph/project-graph.js).
  const rest = p3.wall - p3.code - p3.graph - p3.hashing;
  rows.push(
    `P3 re-run, nothing changed: ${s(p3.wall)} (goal ${GOALS.P3} s: ${(p3.wall / GOALS.P3).toFixed(2)}x); with Nx's isolated plugin worker: ${s(isolated.wall)}`,
    `   Nx code loading ${s(p3.code)}, graph ${s(p3.graph)} (plugin start-up ${s(p3.plugin)}, isolated ${s(isolated.plugin)}; ` +
      `createNodes ${s(p3.createNodes)}), task hashing ${s(p3.hashing)}, ` +
      `the rest (Node's start, Nx's set-up, cache restores) ${s(rest)}`,
  );
  console.log(rows.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
