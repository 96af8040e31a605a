// Benchmark: fleets and build roots, measured side by side in one run.
//   F1 one fix for one ABI: a fresh workspace copy, empty Nx cache, `nx run kernel:hotpatch` (kernel prepared)
//   FN the same fix for N ABIs of one series (a fleet update), same conditions; the ratio FN / F1 (goal <= 1.6x
//      for three ABIs). The kernels are prepared before timing: downloads and unpacking are excluded.
//   B  creating the series' build root with mmdebstrap, into a temporary directory (what a fresh machine pays once)
// Run: npm run bench:fleet   (HOTSPLICE_BENCH_FLEET="abi abi abi" picks the ABIs, default: trixie's three newest
// amd64 ABIs, which prepare fetches and unpacks first, ~1.3 GB and ~3 min each when cold; HOTSPLICE_BENCH_SKIP_ROOT=1
// skips B)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptConfigFor, cacheRoot, ensureBuildRoot, offeredKernels, prepareKernel, readCompiler, releaseBySuite } from '@hotsplice/kernel';
import { REPO, scratchWorkspace } from '../packages/nx-plugin/test/kernel/workspace';

const GOAL = 1.6;
const PATCH = join(REPO, 'bench/patches/proc-version-marker.patch');

function hotpatch(label: string, kernels: string[]): number {
  const ws = scratchWorkspace();
  const config = kernels.length === 1 ? { kernel: { abi: kernels[0] } } : { kernels };
  writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ id: 'bench_fleet', patches: [PATCH], ...config }));
  const start = performance.now();
  const r = spawnSync(process.execPath, [join(ws, 'node_modules/nx/dist/bin/nx.js'), 'run', 'kernel:hotpatch', '--output-style=static'], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
    maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${label} failed:\n${r.stdout}\n${r.stderr}`);
  rmSync(ws, { recursive: true, force: true });
  return seconds;
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
  rows.push(`F1 one fix, one ABI: ${one.toFixed(1)} s`);
  rows.push(`F${abis.length} one fix, ${abis.length} ABIs of one series: ${all.toFixed(1)} s = ${(all / one).toFixed(2)}x one ABI (goal <= ${GOAL}x)`);

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
