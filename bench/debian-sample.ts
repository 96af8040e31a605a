// Benchmark and survey: a per-file sample of one Debian stable update, each file's change built for the ABI of the
// version before it with `hotsplice create`, every package that builds applied and undone in one guest boot of
// that ABI. Prints a table (file, outcome, reason, create s, apply ms) and the refusal reasons with their counts,
// and keeps it in dist/debian-sample.txt. Derived from Debian's packages at run time; nothing is committed.
// Run: npm run bench:debian-sample   (env: HOTSPLICE_SAMPLE_ABI, HOTSPLICE_SAMPLE_UPDATE, HOTSPLICE_SAMPLE_FILES)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGuest } from '@hotsplice/guest';
import { cacheRoot, deltaPatch, fetchDebianUpdate, prepareKernel } from '@hotsplice/kernel';
import { ensureKbuildPlan, readKbuildRecord } from '@hotsplice/tree';
import { builtSources } from '../packages/nx-plugin/src/affected';
import { REPO, scratchWorkspace } from '../packages/nx-plugin/test/kernel/workspace';
import { parseSteps } from '../test/e2e/suite/guest-steps';
import { columns } from './columns';

const ABI = process.env.HOTSPLICE_SAMPLE_ABI ?? '6.1.0-53-amd64'; // Debian 6.1.187-1
const UPDATE = process.env.HOTSPLICE_SAMPLE_UPDATE ?? '6.1.190-1';
const COUNT = Number(process.env.HOTSPLICE_SAMPLE_FILES ?? 40);

interface Row {
  file: string;
  id: string;
  outcome: string;
  reason: string;
  createSeconds: number;
  applyMs?: number;
  package?: string;
}

/** The first line that explains a failed create: a refusal, a compile error, a link error, or the last line. */
function reasonOf(output: string): string {
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => /^hotsplice: (refused|not carried|.* does not compile|.*is not built)/.test(l));
  const telling = at >= 0 ? lines[at]! : lines.find((l) => /error|ERROR|undefined!/.test(l));
  // A compile failure's first gcc line says why: the next one.
  const detail = telling?.endsWith('does not compile:') ? ` ${lines[at + 1] ?? ''}` : '';
  return `${(telling ?? lines.filter(Boolean).pop() ?? '').replace(/^hotsplice: /, '')}${detail}`.slice(0, 240);
}

async function main() {
  const kernel = await prepareKernel({ abi: ABI, quiet: true });
  const delta = await fetchDebianUpdate(cacheRoot(), kernel, UPDATE, true);
  await ensureKbuildPlan(kernel);
  const compiled = (await builtSources(kernel))!;
  const built = delta.files.filter((f) => f.kind === 'source' && f.path.endsWith('.c') && !f.created && compiled.objectsOf(f.path).length);
  // An even spread over the update's built .c files, the same every run.
  const step = Math.max(1, built.length / COUNT);
  const sample = Array.from({ length: Math.min(COUNT, built.length) }, (_, i) => built[Math.floor(i * step)]!);
  console.log(`Debian ${delta.from} -> ${delta.to}: ${delta.files.length} files changed, ${built.length} .c built in ${ABI}'s config; sample ${sample.length}`);
  const headers = new Set(delta.files.filter((f) => f.kind === 'source' && f.path.endsWith('.h')).map((f) => f.path));
  const ws = scratchWorkspace();
  mkdirSync(join(ws, 'sample'), { recursive: true });
  const rows: Row[] = [];
  for (const [i, file] of sample.entries()) {
    const id = `sample_${String(i).padStart(2, '0')}`;
    const patch = join(ws, 'sample', `${id}.patch`);
    writeFileSync(patch, deltaPatch(cacheRoot(), delta, file));
    const start = performance.now();
    const r = spawnSync(process.execPath, [join(ws, 'packages/cli/bin/hotsplice.js'), 'create', '--patch', patch, '--id', id, '--abi', ABI, '--json'], {
      cwd: ws,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
      maxBuffer: 256 << 20,
    });
    const createSeconds = (performance.now() - start) / 1000;
    const json = (() => {
      try {
        return JSON.parse(r.stdout) as { package: string | null; markers: Array<{ report?: { changed: string[] } }> };
      } catch {
        return undefined;
      }
    })();
    let outcome = r.status === 0 ? 'built' : r.status === 3 ? 'no functional change' : 'failed';
    let reason = r.status === 0 ? '' : reasonOf(r.stderr);
    // A stable update changes headers with the files that use them: a file that does not compile without them is
    // not a change that can be shipped alone.
    if (/does not compile/.test(reason)) {
      const needs = ((await readKbuildRecord(kernel.sourceTree, file.path.replace(/\.c$/, '.o')))?.deps ?? []).filter((d) => headers.has(d));
      if (needs.length) [outcome, reason] = ['not self-contained', `needs ${needs.join(', ')} of the same update`];
    }
    const functions = json?.markers.flatMap((m) => m.report?.changed ?? []) ?? [];
    rows.push({ file: file.path, id, outcome, reason: r.status === 0 ? functions.join(', ') : reason, createSeconds, package: json?.package ?? undefined });
    console.log(`${file.path}: ${outcome} in ${createSeconds.toFixed(1)} s ${rows.at(-1)!.reason}`);
  }

  const packaged = rows.filter((r) => r.package);
  const script = [
    `step() { n=$1; shift; "$@" >/tmp/out 2>/tmp/err; rc=$?; echo "@@S $n rc=$rc"; echo "@@O $n $(tr '\\n' ' ' </tmp/out)"; echo "@@E $n $(tr '\\n' '|' </tmp/err)"; }`,
    'export HOTSPLICE_STATE_DIR=/tmp/state',
    ...packaged.flatMap((r) => [`step apply-${r.id} hotsplice apply --json ${r.id}.tar.gz`, `step undo-${r.id} hotsplice undo --json ${r.id}`]),
  ].join('\n');
  const guest = await runGuest({
    kernel: kernel.vmlinuz,
    cli: true,
    files: packaged.map((r) => ({ source: r.package!, dest: `${r.id}.tar.gz` })),
    scripts: [{ name: 'sample', content: script }],
    timeoutMs: 1_200_000,
  });
  const steps = parseSteps(guest.console);
  for (const r of packaged) {
    const apply = steps.get(`apply-${r.id}`);
    const undo = steps.get(`undo-${r.id}`);
    if (apply?.rc === 0 && undo?.rc === 0) {
      r.outcome = 'applied + undone';
      r.applyMs = Number(/"applyMs":\s*([\d.]+)/.exec(apply.out)?.[1] ?? NaN);
    } else {
      r.outcome = apply?.rc === 0 ? 'undo failed' : 'apply failed';
      r.reason = (apply?.rc === 0 ? undo : apply)?.err.split('|')[0] ?? 'no result';
    }
  }

  const table = [
    ['file', 'outcome', 'create s', 'apply ms', 'reason / functions'],
    ...rows.map((r) => [r.file, r.outcome, r.createSeconds.toFixed(1), r.applyMs === undefined ? '-' : r.applyMs.toFixed(0), r.reason]),
  ];
  const text = columns(table);
  const reasons = new Map<string, number>();
  for (const r of rows.filter((r) => !['applied + undone', 'no functional change', 'not self-contained'].includes(r.outcome))) {
    const key = r.reason.replace(/\b[\w.]+\.(c|o|h)\b/g, 'FILE').replace(/\b__\w+|\b\w+\.\d+\b/g, 'SYMBOL').slice(0, 120);
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  const tally = new Map<string, number>();
  for (const r of rows) tally.set(r.outcome, (tally.get(r.outcome) ?? 0) + 1);
  const counts = [...tally].map(([k, n]) => `${k}: ${n}`).join(', ');
  // The measure: of the changes that stand alone and change code, how many built and applied.
  const selfContained = rows.filter((r) => !['not self-contained', 'no functional change'].includes(r.outcome));
  const live = selfContained.filter((r) => r.outcome === 'applied + undone').length;
  const report = [
    `Debian ${delta.from} -> ${delta.to} for ${ABI}: ${sample.length} of ${built.length} built .c files; ${counts}; guest problems: ${guest.problems.length}`,
    `self-contained changes built, applied and undone: ${live} of ${selfContained.length} (${((100 * live) / Math.max(1, selfContained.length)).toFixed(0)} %)`,
    text,
    '',
    'reasons:',
    ...[...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `  ${n}  ${reason}`),
  ].join('\n');
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  writeFileSync(join(REPO, 'dist', 'debian-sample.txt'), `${report}\n`);
  console.log(report);
  if (guest.problems.length) console.log(`guest problems:\n${guest.problems.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
