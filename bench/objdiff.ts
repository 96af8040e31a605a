// Benchmark: the differ on real kernel objects, warm in one process and including Node start.
// Run: npm run bench:objdiff   (needs `hotsplice kernel prepare`; builds kernel/sched/core.o pre and post)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '@hotsplice/elf';
import { prepareKernel } from '@hotsplice/kernel';
import { diffObjects } from '@hotsplice/objdiff';
import { buildPrePost, lineMapFromPatch } from '@hotsplice/tree';

const ROOT = join(__dirname, '..');
const GOAL_PAIR_MS = 50;
const GOAL_50_PAIRS_S = 3;

function time(fn: () => void, runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

async function main() {
  const kernel = await prepareKernel({ quiet: true });
  const work = mkdtempSync(join(tmpdir(), 'hs-bench-objdiff-'));
  const pairs: Array<{ name: string; pre: Buffer; post: Buffer; lineMap: (line: number) => number | undefined }> = [];
  for (const patch of readdirSync(join(ROOT, 'bench', 'patches'))) {
    const text = readFileSync(join(ROOT, 'bench', 'patches', patch), 'utf8');
    const object = /^\+\+\+ b\/(\S+)\.c$/m.exec(text)![1] + '.o';
    const out = join(work, patch);
    await buildPrePost(kernel, [{ name: patch, text }], [object], out);
    const lineMap = lineMapFromPatch(text, object.replace(/\.o$/, '.c'));
    pairs.push({ name: object, pre: readFileSync(join(out, 'pre', object)), post: readFileSync(join(out, 'post', object)), lineMap });
  }
  console.log('object                     size     first run   warm median   warm p90   ratio to goal (50 ms)   changed');
  for (const p of pairs) {
    const run = () => diffObjects(parseElf(p.pre), parseElf(p.post), { object: p.name, lineMap: p.lineMap });
    const first = time(run, 1)[0];
    const warm = time(run, 15);
    const median = warm[7];
    const { report } = run();
    console.log(
      `${p.name.padEnd(26)} ${(p.post.length / 1024).toFixed(0).padStart(5)} KiB ${first.toFixed(1).padStart(8)} ms ${median.toFixed(1).padStart(10)} ms ${warm[13].toFixed(1).padStart(8)} ms   ${(median / GOAL_PAIR_MS).toFixed(2).padStart(5)}x   ${report.changed.join(',') || '(none)'}`,
    );
  }
  // 50 pairs in one process: the batch shape the Nx diff executor uses.
  const batch = Array.from({ length: 50 }, (_, i) => pairs[i % pairs.length]);
  const t = performance.now();
  for (const p of batch) diffObjects(parseElf(p.pre), parseElf(p.post), { object: p.name, lineMap: p.lineMap });
  const total = (performance.now() - t) / 1000;
  console.log(`50 pairs in one process: ${total.toFixed(2)} s (goal ${GOAL_50_PAIRS_S} s: ${(total / GOAL_50_PAIRS_S).toFixed(2)}x)`);
  // Including Node start: the CLI, as a script would call it.
  const cli = join(ROOT, 'packages', 'cli', 'bin', 'hotsplice.js');
  const last = readdirSync(join(ROOT, 'bench', 'patches')).pop()!;
  const obj = (side: string) => join(work, last, side, pairs[pairs.length - 1].name);
  const cold = time(() => {
    try {
      execFileSync(process.execPath, [cli, 'diff', obj('pre'), obj('post'), '--parent', obj('pre'), '--out', join(work, 'new.o')], { stdio: 'ignore' });
    } catch {
      // exit 3 (no change) is a result, not a failure
    }
  }, 3);
  console.log(`hotsplice diff incl. Node start (${pairs[pairs.length - 1].name}): median ${cold[1].toFixed(0)} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
