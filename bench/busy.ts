// Benchmark: busy machines (issue 16), in one boot of Debian's kernel under TCG. Per run, each update is applied and
// undone while its load runs, with transition control (--grace 1) and without (--grace 0, livepatch alone):
//   sleeping-stack: do_sys_poll, do_select, do_epoll_wait (ep_poll inlined), pipe_read, futex_wait, do_nanosleep,
//                   200 tasks asleep in each
//   hot paths:      hrtimer_start_range_ns, tcp_v4_rcv, try_to_wake_up (and kernel_clone) under a loopback TCP flood
// Printed: the transitions' time by the kernel's clock (livepatch's start and complete lines), the tasks that held
// them and the signals sent, and the timer probe's (SCHED_FIFO, 1 ms period) p99/max lateness while apply runs vs
// the same time right after with the same load and no apply; then each figure's spread over the runs.
// Run: npm run bench:busy   (HOTSPLICE_BENCH_BUSY_RUNS=N runs, default 5)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGuest } from '@hotsplice/guest';
import { prepareKernel } from '@hotsplice/kernel';
import { scratchWorkspace } from '../packages/nx-plugin/test/kernel/workspace';
import { type Lateness, PRELUDE, parseLateness, stdoutOf } from '../test/e2e/busy/script';
import { busyFiles, createBusyUpdates, hotRound, sleepersRound } from '../test/e2e/busy/updates';
import { type StepResult, parseSteps } from '../test/e2e/suite/driver';

const RUNS = Number(process.env.HOTSPLICE_BENCH_BUSY_RUNS ?? 5);
const CASES = [
  { name: 'sleeping-stack', tag: 's', round: sleepersRound },
  { name: 'hot paths', tag: 'h', round: hotRound },
];
const GRACES = [1, 0];
/** The issue's goals: a sleeping-stack transition in 2 s, lateness during apply within 1 ms of the same load. */
const GOAL_TRANSITION_MS = 2000;
const GOAL_LATENESS_US = 1000;

interface RunResult {
  apply?: number;
  undo?: number;
  blockers: number;
  functions: string[];
  signalled?: number;
  lateApply?: Lateness;
  lateBase?: Lateness;
  error?: string;
}

function read(steps: Map<string, StepResult>): RunResult {
  const transition = (s: string) => {
    const r = steps.get(s);
    if (!r || r.rc !== 0) throw new Error(`${s}: rc ${r?.rc ?? '(did not run)'} ${r?.out.slice(0, 300) ?? ''}`);
    return JSON.parse(stdoutOf(r.out)) as { transitionMs?: number; blockers: { count: number; functions: Record<string, string[]> }; control?: { signalled: number } };
  };
  try {
    const a = transition('apply');
    const u = transition('undo');
    return {
      apply: a.transitionMs,
      undo: u.transitionMs,
      blockers: a.blockers.count,
      functions: [...new Set(Object.values(a.blockers.functions).flat())].sort(),
      signalled: a.control?.signalled,
      lateApply: parseLateness(steps.get('late-apply')?.out ?? ''),
      lateBase: parseLateness(steps.get('late-base')?.out ?? ''),
    };
  } catch (err) {
    return { blockers: 0, functions: [], error: err instanceof Error ? err.message : String(err) };
  }
}

const spread = (xs: Array<number | undefined>, unit: string) => {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return v.length ? `${v[0]}-${v[v.length - 1]} ${unit} (median ${v[Math.floor(v.length / 2)]}, n=${v.length})` : 'none';
};

async function main() {
  const kernel = await prepareKernel({ quiet: true });
  const ws = scratchWorkspace();
  const scratch = mkdtempSync(join(tmpdir(), 'hs-bench-busy-'));
  try {
    const created = createBusyUpdates(ws, kernel.abi, kernel.sourceTree, scratch);
    console.log(`creates: ${created.map((c) => `${c.id} ${c.seconds.toFixed(0)} s`).join(', ')}`);
    const rounds: string[] = [];
    for (let run = 1; run <= RUNS; run++) for (const c of CASES) for (const g of GRACES) rounds.push(c.round(`${c.tag}${run}g${g}`, g));
    const guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files: busyFiles(created, scratch),
      scripts: [{ name: 'bench', content: `${PRELUDE}\n${rounds.join('\n')}` }],
      memoryMiB: 2048,
      timeoutMs: 4 * 3600_000,
    });
    console.log(`guest: boot ${guest.bootSeconds?.toFixed(1)} s, total ${guest.totalSeconds.toFixed(1)} s${guest.timedOut ? ' (TIMED OUT)' : ''}; console problems: ${guest.problems.length ? guest.problems.join(' | ') : 'none'}`);
    const steps = parseSteps(guest.console);
    for (const c of CASES) {
      for (const g of GRACES) {
        const results = Array.from({ length: RUNS }, (_, i) => read(steps.get(`${c.tag}${i + 1}g${g}`) ?? new Map()));
        console.log(`\n${c.name}, ${g ? `transition control (--grace ${g})` : 'livepatch alone (--grace 0)'}:`);
        results.forEach((r, i) => {
          if (r.error) return console.log(`  run ${i + 1}: failed: ${r.error}`);
          const late = (l?: Lateness) => (l ? `p99 ${l.p99Us} / max ${l.maxUs} us (${l.count})` : '?');
          console.log(
            `  run ${i + 1}: apply ${r.apply} ms, undo ${r.undo} ms; held by ${r.blockers} task(s) in ${r.functions.join(', ') || '-'}${r.signalled !== undefined ? `, ${r.signalled} signalled` : ''}; ` +
              `lateness during apply ${late(r.lateApply)}, same load ${late(r.lateBase)}`,
          );
        });
        const ok = results.filter((r) => !r.error);
        console.log(`  apply ${spread(ok.map((r) => r.apply), 'ms')}; undo ${spread(ok.map((r) => r.undo), 'ms')}${c.tag === 's' && g ? ` (goal <= ${GOAL_TRANSITION_MS} ms)` : ''}`);
        console.log(`  max lateness during apply minus same load: ${spread(ok.map((r) => (r.lateApply && r.lateBase ? Math.round(r.lateApply.maxUs - r.lateBase.maxUs) : undefined)), 'us')} (goal <= ${GOAL_LATENESS_US} us)`);
      }
    }
  } finally {
    rmSync(ws, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
