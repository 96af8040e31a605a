// Benchmark: header changes at real scale (issue 13 item 5, issue 17 item 5), measured side by side in one run.
//   proc_fs.h-class cold: a new static inline nobody calls, added to include/linux/proc_fs.h (~1,000 candidates)
//   kthread.h-class cold and warm: the same kind of line in include/linux/kthread.h (~7,500 candidates); warm is
//     the same change again in a fresh workspace (the narrowing's decisions kept, Nx's cache empty)
//   overhead beyond the compiles, for a header patch that compiles >= 200 objects (three inlines of
//     include/linux/usb.h most USB drivers call, rewritten to an equivalent form): `create` against the compiles
//     alone (each object compiled before and after the patch with kbuild's command, two at a time), the narrowing
//     already made
// Every change is cut from the prepared tree's own headers at run time (nothing of the kernel is committed). "Cold"
// gives the new inline a name no run used before, so no decision of an earlier run applies; kbuild's plan of the
// tree (its time is printed) and the tree's hard-linked copies (seconds) are made once per tree, not per change.
// Run: npm run bench:headers   (HOTSPLICE_BENCH_SKIP_COLD=1: the kthread.h change with a fixed name, so only its
// first run is cold; HOTSPLICE_BENCH_ONLY=procfs|kthread|overhead runs one part)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareKernel } from '@hotsplice/kernel';
import { buildPrePost, ensureKbuildPlan, shadowTrees } from '@hotsplice/tree';
import { makePlan } from '../packages/nx-plugin/src/affected';
import { scratchWorkspace } from '../packages/nx-plugin/test/kernel/workspace';
import { unifiedDiff } from '../packages/objdiff/test/helpers/debian-source';

const GOALS = { procfsCold: 180, kthreadCold: 900, kthreadWarm: 60, overhead: 10 };

interface Run {
  seconds: number;
  /** CPU time of the create and everything it ran (user + system, bash's `time`): what other load does not change. */
  cpu: number;
  code: number | null;
  /** The plan step's account: candidates, preprocessed now, decided earlier, compiled. */
  narrowing: string;
}

async function main() {
  const kernel = await prepareKernel({ quiet: true });
  const tree = kernel.sourceTree;
  let start = performance.now();
  await ensureKbuildPlan(kernel);
  const planSeconds = (performance.now() - start) / 1000;
  // Headers are read from the pristine copy: another session may hold the shared tree patched.
  const { pristine } = await shadowTrees(tree);

  /** A -p1 patch of `header` with each `find` replaced, cut from the tree. */
  const patchOf = (header: string, edits: Array<[string | RegExp, string]>): string => {
    const before = readFileSync(join(pristine, header), 'utf8');
    let after = before;
    for (const [find, replace] of edits) {
      const next = after.replace(find, replace);
      if (next === after) throw new Error(`${header}: no ${String(find)}`);
      after = next;
    }
    return unifiedDiff(header, before, after);
  };
  const unusedInline = (header: string, name: string) => patchOf(header, [[/(#endif[^\n]*\s*)$/, `static inline int ${name}(void) { return 1; }\n$1`]]);

  /** `hotsplice create` of `patch` in workspace `ws`, timed (wall and CPU). */
  const create = (ws: string, id: string, patch: string): Run => {
    const file = join(ws, `${id}.patch`);
    writeFileSync(file, patch);
    const cli = join(ws, 'packages/cli/bin/hotsplice.js');
    const r = spawnSync('bash', ['-c', 'TIMEFORMAT="hotsplice-bench-time %R %U %S"; time "$@"', 'bash', process.execPath, cli, 'create', '--patch', file, '--id', id], {
      cwd: ws,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
      maxBuffer: 256 << 20,
    });
    const output = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    const [seconds, user, system] = (/hotsplice-bench-time ([\d.]+) ([\d.]+) ([\d.]+)/.exec(output) ?? []).slice(1).map(Number);
    const narrowing = /hotsplice: \S+: (\d+ candidate object\(s\), [^\n]*to compile)/.exec(output)?.[1] ?? 'no narrowing line';
    // The exit code is bash's: the create's. 0: a package; 3: no functional change (what an unused inline is).
    if (r.status !== 0 && r.status !== 3) throw new Error(`create ${id} exited ${r.status}:\n${output.split('\n').slice(-30).join('\n')}`);
    return { seconds: seconds!, cpu: user! + system!, code: r.status, narrowing };
  };

  const rows: string[] = [];
  const row = (label: string, seconds: number, goal: number, extra: string) => {
    rows.push(`${label}: ${seconds.toFixed(1)} s (goal ${goal} s: ${(seconds / goal).toFixed(2)}x); ${extra}`);
    console.log(`  (${rows[rows.length - 1]})`);
  };
  const stamp = Date.now().toString(36);
  const only = process.env.HOTSPLICE_BENCH_ONLY;

  if (!only || only === 'procfs') {
    const procfs = create(scratchWorkspace(), 'bench_procfs', unusedInline('include/linux/proc_fs.h', `proc_fs_bench_${stamp}_unused`));
    row('proc_fs.h-class change, cold', procfs.seconds, GOALS.procfsCold, `CPU ${procfs.cpu.toFixed(0)} s; ${procfs.narrowing}`);
  }

  if (!only || only === 'kthread') {
    const kthreadName = process.env.HOTSPLICE_BENCH_SKIP_COLD ? 'kthread_bench_unused' : `kthread_bench_${stamp}_unused`;
    const kthread = unusedInline('include/linux/kthread.h', kthreadName);
    const cold = create(scratchWorkspace(), 'bench_kthread', kthread);
    row(`kthread.h-class change, cold${process.env.HOTSPLICE_BENCH_SKIP_COLD ? ' (or warm: fixed name)' : ''}`, cold.seconds, GOALS.kthreadCold, `CPU ${cold.cpu.toFixed(0)} s; ${cold.narrowing}`);
    const warmWs = scratchWorkspace();
    const warm = create(warmWs, 'bench_kthread', kthread);
    row('kthread.h-class change, warm (fresh workspace)', warm.seconds, GOALS.kthreadWarm, `CPU ${warm.cpu.toFixed(0)} s; ${warm.narrowing}`);
    const again = create(warmWs, 'bench_kthread', kthread);
    rows.push(`kthread.h-class change, run again (nothing changed): ${again.seconds.toFixed(1)} s`);
  }

  if (!only || only === 'overhead') {
    // Three static inlines of include/linux/usb.h that most USB drivers call, rewritten to an equivalent form: their
    // callers' units differ, so each compiles (before and after), and none changes code.
    const calls = ['dev_get_drvdata(&intf->dev)', 'dev_set_drvdata(&intf->dev, data)', 'to_usb_device(intf->dev.parent)'];
    const wide = patchOf('include/linux/usb.h', calls.map((call) => [call, `(${call})`]));
    start = performance.now();
    const { files } = await makePlan(kernel, [{ name: 'wide.patch', text: wide }], () => undefined);
    const narrowSeconds = (performance.now() - start) / 1000;
    const objects = [...new Set(files.flatMap((f) => f.compile.map((c) => c.object)))].sort();
    const wideRun = create(scratchWorkspace(), 'bench_wide', wide);
    start = performance.now();
    await buildPrePost(kernel, [{ name: 'wide.patch', text: wide }], objects, mkdtempSync(join(tmpdir(), 'hs-bench-floor-')));
    const floor = (performance.now() - start) / 1000;
    row(
      `header patch compiling ${objects.length} objects, overhead beyond the compiles`,
      wideRun.seconds - floor,
      GOALS.overhead,
      `create ${wideRun.seconds.toFixed(1)} s (CPU ${wideRun.cpu.toFixed(0)} s, exit ${wideRun.code}), the compiles alone ${floor.toFixed(1)} s; its narrowing (made before, ${files[0]?.candidates} candidates) took ${narrowSeconds.toFixed(1)} s`,
    );
  }

  console.log(`header changes, ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)} at the end; kbuild's plan of the tree ${planSeconds.toFixed(1)} s (once per tree)`);
  console.log(rows.map((r) => `  ${r}`).join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
