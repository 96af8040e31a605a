// Benchmark: run-pre matching of every function of kernel/sched/core.o (pristine, built with the pipeline's flags)
// against Debian's -dbg vmlinux + System.map, in one process.
// Run: npm run bench:runpre   (needs `hotsplice kernel prepare`; builds kernel/sched/core.o under the tree lock)
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '@hotsplice/elf';
import { prepareKernel } from '@hotsplice/kernel';
import { VmlinuxSource, matchObject } from '@hotsplice/runpre';
import { compileObjects, copyObjects, journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';

const OBJECT = 'kernel/sched/core.o';
const GOAL_S = 2;

async function main() {
  const kernel = await prepareKernel({ quiet: true });
  const work = mkdtempSync(join(tmpdir(), 'hs-bench-runpre-'));
  await withTreeLock(kernel.sourceTree, async () => {
    await restoreTree(kernel.sourceTree, journalFor(kernel.sourceTree));
    await compileObjects(kernel, [OBJECT]);
    await copyObjects(kernel.sourceTree, [OBJECT], (o) => join(work, o));
  });
  const bytes = readFileSync(join(work, OBJECT));

  for (let run = 1; run <= 3; run++) {
    const t0 = performance.now();
    const source = new VmlinuxSource(kernel.vmlinux, kernel.systemMap);
    const t1 = performance.now();
    const report = await matchObject(parseElf(bytes), source, { object: OBJECT });
    const t2 = performance.now();
    source.close();
    const total = (t2 - t0) / 1000;
    const n = report.functions.length;
    console.log(
      `run ${run}: ${report.matched}/${n} functions matched; open vmlinux + System.map ${(t1 - t0).toFixed(0)} ms, match ${(t2 - t1).toFixed(0)} ms; ` +
        `total ${total.toFixed(2)} s (goal ${GOAL_S} s: ${(total / GOAL_S).toFixed(2)}x), ${(n / ((t2 - t1) / 1000)).toFixed(0)} functions/s matching, ${(n / total).toFixed(0)} functions/s overall`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
