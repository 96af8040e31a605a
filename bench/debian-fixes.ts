// Benchmark: `hotsplice create --debian-update` of Debian's two single-fix updates, each for the ABI before it.
//   first:  a fresh workspace (empty Nx cache); the kernel may still need preparing and the update its sources
//   warm:   another fresh workspace: the kernel prepared and the update's sources fetched, every object compiled
//           again (the goal: <= 30 s on this machine)
//   cached: the warm workspace again (Nx restores every task)
// Run: npm run bench:debian-fixes   (the ABIs' kernels are prepared on first use: ~1 GB each)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { create, scratchWorkspace } from '../packages/nx-plugin/test/kernel/workspace';
import { columns } from './columns';

const GOAL_WARM_S = 30;
const FIXES = [
  { id: 'bench_nfsd', abi: '6.1.0-56-amd64', update: '6.1.192-3' },
  { id: 'bench_ext4', abi: '6.1.0-55-amd64', update: '6.1.192-2' },
];

function timedCreate(ws: string, fix: (typeof FIXES)[number]): number {
  const start = performance.now();
  const r = create(ws, '--debian-update', fix.update, '--abi', fix.abi, '--id', fix.id, '--json');
  if (r.code !== 0) throw new Error(`create ${fix.update} for ${fix.abi} exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  return (performance.now() - start) / 1000;
}

const rows: string[][] = [['update', 'abi', 'first s', 'warm s', 'cached s', `warm goal <= ${GOAL_WARM_S} s`]];
for (const fix of FIXES) {
  const first = timedCreate(scratchWorkspace(), fix);
  const ws = scratchWorkspace();
  const warm = timedCreate(ws, fix);
  const cached = timedCreate(ws, fix);
  rows.push([fix.update, fix.abi, first.toFixed(1), warm.toFixed(1), cached.toFixed(1), warm <= GOAL_WARM_S ? 'met' : 'NOT met']);
  console.log(rows.at(-1)!.join('  '));
}
console.log(`\n${columns(rows)}`);
console.log(`(load average ${loadavg()[0]!.toFixed(1)} at the end: other work on the machine inflates every figure)`);
