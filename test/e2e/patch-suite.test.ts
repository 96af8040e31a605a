// The patch suite: every case of test/e2e/patches built with `hotsplice create` (positive ones to a package,
// refusals to their one-line error), then applied, checked and undone in one boot of Debian's kernel by the
// self-contained target CLI: alone, stacked, and as one atomic-replace update; then an undo that stalls.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type GuestFile, type GuestResult, runGuest } from '@hotsplice/guest';
import { scratchWorkspace } from '../../packages/nx-plugin/test/kernel/workspace';
import { type PatchCase, loadCases } from './suite/cases';
import { type StepResult, caseDir, packagePath, parseSteps, replacePhase, singlePhase, stackedPhase, stallPhase } from './suite/driver';
import { appendPatch } from './suite/force-unsafe';

const kernel = inject('kernel');
const cases = loadCases();
const positive = cases.filter((c) => c.kind === 'positive');
const refusals = cases.filter((c) => c.kind === 'refuse');
const REPLACE_ID = 'e2e_all';
const SLEEPER = positive.find((c) => c.name.includes('nanosleep'))!;
/** The sleeper's patch again, with do_nanosleep marked KPATCH_FORCE_UNSAFE. */
const FORCE_ID = 'e2e_force';

interface Created {
  code: number;
  stderr: string;
  seconds: number;
  package: string;
}

/** `hotsplice create` in the scratch workspace, as a user runs it. */
function create(ws: string, id: string, patches: string[], extra: string[] = []): Created {
  const start = performance.now();
  // For the kernel the guest boots (HOTSPLICE_ABI picks another one, e.g. trixie's 6.12.118+deb13-amd64).
  const args = [join(ws, 'packages', 'cli', 'bin', 'hotsplice.js'), 'create', ...patches.flatMap((p) => ['--patch', p]), '--id', id, '--abi', kernel.abi, ...extra];
  const r = spawnSync(process.execPath, args, { cwd: ws, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' }, maxBuffer: 64 << 20 });
  const stderr = r.stderr.replace(/\x1b\[[0-9;]*m/g, '');
  return { code: r.status ?? 1, stderr, seconds: (performance.now() - start) / 1000, package: join(ws, 'dist', 'hotpatch', id, `hotsplice-${id}.tar.gz`) };
}

describe('the e2e patch suite in the guest', () => {
  let ws: string;
  let scratch: string;
  const created = new Map<string, Created>();
  let guest: GuestResult;
  let steps: Map<string, Map<string, StepResult>>;
  const step = (c: string, s: string) => steps.get(c)?.get(s) ?? { rc: -1, out: '(step did not run)' };
  const json = (c: string, s: string) => JSON.parse(step(c, s).out) as Record<string, unknown>;

  beforeAll(async () => {
    ws = scratchWorkspace();
    scratch = mkdtempSync(join(tmpdir(), 'hs-suite-'));
    for (const c of cases) created.set(c.id, create(ws, c.id, [join(c.dir, 'fix.patch')]));
    created.set(REPLACE_ID, create(ws, REPLACE_ID, positive.map((c) => join(c.dir, 'fix.patch')), ['--replace']));
    const sleeperPatch = join(SLEEPER.dir, 'fix.patch');
    const forcePatch = join(scratch, 'force-unsafe.patch');
    const hrtimer = 'kernel/time/hrtimer.c';
    writeFileSync(forcePatch, appendPatch(kernel.sourceTree, hrtimer, readFileSync(sleeperPatch, 'utf8'), ['#include "kpatch-macros.h"', 'KPATCH_FORCE_UNSAFE(do_nanosleep);']));
    created.set(FORCE_ID, create(ws, FORCE_ID, [sleeperPatch, forcePatch]));

    const failed = [...positive.map((c) => c.id), REPLACE_ID, FORCE_ID].filter((id) => created.get(id)!.code !== 0);
    if (failed.length) {
      throw new Error(`create failed for ${failed.map((id) => `${id}:\n${created.get(id)!.stderr.trim().split('\n').slice(-8).join('\n')}`).join('\n')}`);
    }
    const files: GuestFile[] = [];
    for (const c of positive) {
      files.push({ source: created.get(c.id)!.package, dest: packagePath(c.id) });
      files.push({ source: join(c.dir, 'check.sh'), dest: `${caseDir(c)}/check.sh` });
      if (c.checkSource) {
        const bin = join(scratch, `${c.id}-check`);
        const cc = spawnSync('gcc', ['-static', '-O2', '-o', bin, c.checkSource], { encoding: 'utf8' });
        if (cc.status !== 0) throw new Error(`${c.checkSource}: ${cc.stderr}`);
        files.push({ source: bin, dest: `${caseDir(c)}/check-bin`, mode: 0o755 });
      }
      if (c.module) files.push({ source: join(kernel.modulesDir, 'kernel', c.module.path), dest: `${caseDir(c)}/${c.module.path.split('/').pop()}` });
    }
    files.push({ source: created.get(REPLACE_ID)!.package, dest: packagePath(REPLACE_ID) });
    files.push({ source: created.get(FORCE_ID)!.package, dest: packagePath(FORCE_ID) });
    guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files,
      scripts: [
        { name: 'single', content: singlePhase(positive) },
        { name: 'stacked', content: stackedPhase(positive) },
        { name: 'replace', content: replacePhase(positive, REPLACE_ID) },
        { name: 'stall', content: stallPhase(SLEEPER, FORCE_ID) },
      ],
      timeoutMs: 1_200_000,
    });
    steps = parseSteps(guest.console);
    printTable();
  });

  afterAll(() => {
    if (ws) rmSync(ws, { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function printTable(): void {
    const ms = (c: PatchCase, s: string) => {
      const r = step(c.name, s);
      const key = s === 'apply' ? 'applyMs' : 'undoMs';
      return r.rc === 0 ? String(JSON.parse(r.out)[key]) : '-';
    };
    const rows = [['patch', 'create s', 'apply ms', 'undo ms', 'result']];
    for (const c of cases) {
      const made = created.get(c.id)!;
      const result =
        c.kind === 'refuse'
          ? made.code === 1 && c.refuse!.test(made.stderr) ? 'refused as expected' : `NOT refused (exit ${made.code})`
          : [step(c.name, 'before').rc !== 0, step(c.name, 'after').rc === 0, step(c.name, 'undone').rc !== 0].every(Boolean) ? 'ok' : 'FAILED';
      rows.push([c.name, made.seconds.toFixed(1), c.kind === 'refuse' ? '-' : ms(c, 'apply'), c.kind === 'refuse' ? '-' : ms(c, 'undo'), result]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const table = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
    console.log(`patch suite: guest boot ${guest.bootSeconds?.toFixed(1)} s, total ${guest.totalSeconds.toFixed(1)} s; replace update create ${created.get(REPLACE_ID)!.seconds.toFixed(1)} s\n${table}`);
  }

  it('has at least 12 positive cases and 3 refusals', () => {
    expect(positive.length).toBeGreaterThanOrEqual(12);
    expect(refusals.length).toBeGreaterThanOrEqual(3);
  });

  it.each(refusals.map((c) => [c.name, c] as const))('%s: create refuses with its message', (_name, c) => {
    const made = created.get(c.id)!;
    expect(made.code, made.stderr).toBe(1);
    expect(made.stderr).toMatch(c.refuse!);
  });

  it.each(positive.map((c) => [c.name, c] as const))('%s: check fails before, passes applied, fails undone', (_name, c) => {
    expect(created.get(c.id)!.code, created.get(c.id)!.stderr).toBe(0);
    expect(step(c.name, 'before').rc, step(c.name, 'before').out).not.toBe(0);
    expect(step(c.name, 'apply').rc, step(c.name, 'apply').out).toBe(0);
    expect(json(c.name, 'apply')).toMatchObject({ id: c.id, state: 'applied' });
    expect(step(c.name, 'after').rc, step(c.name, 'after').out).toBe(0);
    expect(step(c.name, 'undo').rc, step(c.name, 'undo').out).toBe(0);
    expect(step(c.name, 'undone').rc, step(c.name, 'undone').out).not.toBe(0);
  });

  it('stacks every positive update, then undoes them newest first', () => {
    for (const c of positive) expect(step(c.name, 'stack-apply').rc, `${c.name}: ${step(c.name, 'stack-apply').out}`).toBe(0);
    const view = step('all', 'stack-view').out;
    for (const c of positive) expect(view).toMatch(new RegExp(`${c.id} +- +\\d+ +\\S+ +applied`));
    for (const c of positive) expect(step(c.name, 'stacked').rc, `${c.name}: ${step(c.name, 'stacked').out}`).toBe(0);
    for (const c of positive) expect(step(c.name, 'stack-undo').rc, `${c.name}: ${step(c.name, 'stack-undo').out}`).toBe(0);
    for (const c of positive) expect(step(c.name, 'unstacked').rc, `${c.name}: ${step(c.name, 'unstacked').out}`).not.toBe(0);
  });

  it('applies all patches as one atomic-replace update that takes over an earlier one', () => {
    expect(created.get(REPLACE_ID)!.code, created.get(REPLACE_ID)!.stderr).toBe(0);
    expect(step('all', 'replace-apply').rc, step('all', 'replace-apply').out).toBe(0);
    expect(json('all', 'replace-apply').replaced).toEqual([positive[0].id]);
    const view = JSON.parse(step('all', 'replace-view').out) as Array<{ id: string; state: string }>;
    expect(view.map((u) => [u.id, u.state])).toEqual([[positive[0].id, 'replaced'], [REPLACE_ID, 'applied']]);
    for (const c of positive) expect(step(c.name, 'replaced').rc, `${c.name}: ${step(c.name, 'replaced').out}`).toBe(0);
    expect(step('all', 'replace-undo').rc, step('all', 'replace-undo').out).toBe(0);
    expect(step(positive[0].name, 'replaced-undo').rc, step(positive[0].name, 'replaced-undo').out).toBe(0);
    for (const c of positive) expect(step(c.name, 'replace-undone').rc, `${c.name}: ${step(c.name, 'replace-undone').out}`).not.toBe(0);
    expect(JSON.parse(step('all', 'final-view').out)).toEqual([]);
  });

  it('times out an apply a sleeping task holds open, and backs the update out: nothing loaded, no record', () => {
    expect(step('stall', 'apply-held').rc, step('stall', 'apply-held').out).toBe(124);
    expect(step('stall', 'apply-held').out).toMatch(new RegExp(`update ${SLEEPER.id}: the patch transition did not finish within 2 s .*; reverted and unloaded`));
    expect(JSON.parse(step('stall', 'apply-held-view').out)).toEqual([]);
    expect(step('stall', 'apply-held-modules').rc).toBe(1);
    expect(step('stall', 'apply-held-record').rc).not.toBe(0);
  });

  it('times out an undo a sleeping task holds open, shows it undoing, and forces it with a warning', () => {
    expect(step('stall', 'apply').rc, step('stall', 'apply').out).toBe(0);
    expect(step('stall', 'undo').rc).toBe(124);
    expect(step('stall', 'undo').out).toMatch(new RegExp(`undo of ${SLEEPER.id} did not finish within 2 s.*hotsplice undo --force ${SLEEPER.id}`));
    expect(json('stall', 'status')).toMatchObject({ id: SLEEPER.id, state: 'undoing' });
    expect(step('stall', 'force').rc, step('stall', 'force').out).toBe(0);
    expect(step('stall', 'force').out).toMatch(/warning: forced the unpatch transition/);
    expect(JSON.parse(step('stall', 'view').out)).toEqual([]);
    // Livepatch never lets a forced patch's module go (kernel/livepatch/core.c klp_free_patch_finish).
    expect(step('stall', 'modules').rc).toBe(0);
  });

  it('forces an apply only tasks inside a KPATCH_FORCE_UNSAFE function hold, and says the module stays', () => {
    expect(created.get(FORCE_ID)!.code, created.get(FORCE_ID)!.stderr).toBe(0);
    const out = step('stall', 'force-unsafe-apply').out;
    expect(step('stall', 'force-unsafe-apply').rc, out).toBe(0);
    expect(out).toMatch(new RegExp(`warning: forced the transition of ${FORCE_ID}: only tasks in force-unsafe functions held it \\(sleep\\[\\d+\\] in do_nanosleep\\)`));
    expect(out).toMatch(new RegExp(`applied ${FORCE_ID} in \\d+ ms: 1 function\\(s\\) patched`));
    expect(step('stall', 'force-unsafe-check').rc, step('stall', 'force-unsafe-check').out).toBe(0);
  });

  it('leaves no oops, BUG or WARNING on the console', () => {
    expect(guest.problems).toEqual([]);
    expect(guest.timedOut).toBe(false);
  });
});
