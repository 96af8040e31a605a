// Benchmark: the command line's start-up, side by side with Node's own start and with the differ in one process.
//   C1 `hotsplice --help` and `hotsplice create --help` (bundle) vs `node -e 0` and the TypeScript path (goal 150 ms)
//   C2 `hotsplice diff` per call on the main job's object pair, vs the same work in one process and vs kpatch's
//      create-diff-object when it is on this machine (goal: 5x kpatch; without kpatch the in-process time stands in)
// Run: npm run bench:cli   (runs the main job once, warm, for its fs/proc/version.o pair and the -dbg vmlinux)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareKernel } from '@hotsplice/kernel';
import { diffFiles, parseSymvers, readParent } from '@hotsplice/objdiff';
import { linkExecutable } from '../packages/objdiff/test/helpers/gcc-objects';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'hotsplice.js');
const GOALS = { helpMs: 150, diffVsKpatch: 5 };

interface Run {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Median wall time (ms) of each command over `rounds` rounds, the commands taking turns within a round so that a
 * change in the machine's load falls on all of them alike; the first round (caches, a stale bundle) is not counted.
 */
function mediansMs(runs: Run[], rounds: number): number[] {
  const times = runs.map(() => [] as number[]);
  for (let round = 0; round <= rounds; round++) {
    runs.forEach(({ command, args, env }, i) => {
      const start = performance.now();
      const r = spawnSync(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
      if (r.status === null || r.status > 3) throw new Error(`${command} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
      if (round) times[i].push(performance.now() - start);
    });
  }
  return times.map(median);
}

async function medianInProcess(work: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    await work();
    if (i) times.push(performance.now() - start);
  }
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const ms = (n: number) => `${n.toFixed(0).padStart(5)} ms`;

/** kpatch's create-diff-object, when this machine has it ($KPATCH_CREATE_DIFF_OBJECT or on PATH). */
function kpatchTool(): string | undefined {
  const named = process.env.KPATCH_CREATE_DIFF_OBJECT;
  if (named) return existsSync(named) ? named : undefined;
  const r = spawnSync('sh', ['-c', 'command -v create-diff-object'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function main() {
  const rows: string[] = [];
  const nodeRun: Run = { command: process.execPath, args: ['-e', '0'] };
  const [node, help, verbHelp] = mediansMs([nodeRun, { command: process.execPath, args: [BIN, '--help'] }, { command: process.execPath, args: [BIN, 'create', '--help'] }], 15);
  const [fromSource] = mediansMs([{ command: process.execPath, args: [BIN, '--help'], env: { HOTSPLICE_FROM_SOURCE: '1' } }], 5);
  rows.push(
    `C1 hotsplice --help          ${ms(help)}  (goal ${GOALS.helpMs} ms: ${(help / GOALS.helpMs).toFixed(2)}x; ${ms(help - node)} over Node's own start)`,
    `   hotsplice create --help   ${ms(verbHelp)}  (${ms(verbHelp - node)} over Node's own start)`,
    `   node -e 0 (the floor)     ${ms(node)}`,
    `   from the TypeScript path  ${ms(fromSource)}  (HOTSPLICE_FROM_SOURCE=1: the start-up before the bundle)`,
  );

  // The main job's own object pair and parent, as its diff task uses them.
  const kernel = await prepareKernel({ quiet: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/nx/dist/bin/nx.js'), 'run', 'kernel:hotpatch'], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } });
  const id = JSON.parse(readFileSync(join(ROOT, 'hotpatch.json'), 'utf8')).id as string;
  const pre = join(ROOT, 'dist', '.hotsplice', id, 'pre', 'fs', 'proc', 'version.o');
  const post = join(ROOT, 'dist', '.hotsplice', id, 'post', 'fs', 'proc', 'version.o');
  const work = mkdtempSync(join(tmpdir(), 'hs-bench-cli-'));
  const pairs = [
    { name: 'vmlinux parent', parent: kernel.vmlinux, symvers: kernel.symvers },
    // The same pair with a small parent: an executable linked from the pre object (start-up is then nearly all).
    { name: 'small parent', parent: linkExecutable(pre, join(work, 'parent')), symvers: undefined },
  ];
  const kpatch = kpatchTool();
  for (const p of pairs) {
    const args = ['diff', pre, post, '--parent', p.parent, ...(p.symvers ? ['--symvers', p.symvers] : []), '--out', join(work, 'new.o'), '--old-out', join(work, 'old.o')];
    const [perCall, nodeNow] = mediansMs([{ command: process.execPath, args: [BIN, ...args] }, nodeRun], 9);
    const inProcess = await medianInProcess(async () => {
      const exported = p.symvers ? parseSymvers(readFileSync(p.symvers, 'utf8'), p.symvers) : undefined;
      await diffFiles([{ pre, post, out: join(work, 'new-in.o'), oldOut: join(work, 'old-in.o'), objname: 'vmlinux' }], { parent: readParent(p.parent, 'vmlinux'), exported });
    }, 9);
    let reference = `in one process ${ms(inProcess)} (kpatch's create-diff-object is not on this machine: it stands in)`;
    let base = inProcess;
    if (kpatch) {
      // kpatch-build hands the tool the parent's symbol table as readelf prints it, made once.
      const symtab = join(work, 'symtab');
      writeFileSync(symtab, execFileSync('readelf', ['-s', '--wide', p.parent], { maxBuffer: 1 << 30 }));
      const symvers = p.symvers ?? join(work, 'empty.symvers');
      if (!p.symvers) writeFileSync(symvers, '');
      [base] = mediansMs([{ command: kpatch, args: [pre, post, 'vmlinux', symtab, symvers, 'bench_patch', join(work, 'kpatch.o')] }], 9);
      reference = `kpatch create-diff-object ${ms(base)}, in one process ${ms(inProcess)}`;
    }
    rows.push(
      `C2 hotsplice diff, ${p.name.padEnd(14)} ${ms(perCall)} per call (${ms(perCall - nodeNow)} over Node's own start) vs ${reference}: ` +
        `${(perCall / base).toFixed(1)}x (goal ${GOALS.diffVsKpatch}x)`,
    );
  }
  console.log(rows.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
