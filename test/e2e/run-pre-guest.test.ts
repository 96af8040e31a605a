// Run-pre at apply time (issue 6 items 3-5, the guest parts): `hotsplice apply` matches the update's old code
// against the running kernel (/proc/kcore + /proc/kallsyms, KASLR on) before loading; a package whose old code was
// built wrongly (-O1) is refused with the abort cause and loads nothing; `hotsplice verify` runs the check alone.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type GuestResult, runGuest } from '@hotsplice/guest';
import { type Manifest, type UpdateReport, linkOldCode, tarGz } from '@hotsplice/link';
import { untarGz } from '../../packages/cli/src/target/untar';
import { scratchWorkspace } from '../../packages/nx-plugin/test/kernel/workspace';
import { type Step, parseSteps } from './suite/guest-steps';
import { VERSION_PATCH, wrongBuild } from '../../packages/nx-plugin/test/kernel/wrong-build';
import { loadCases } from './suite/cases';

const kernel = inject('kernel');
const GOOD = 'rp_good';
const BIG = 'rp_big';
const positive = loadCases().filter((c) => c.kind === 'positive');
const DUMMY = positive.find((c) => c.module?.name === 'dummy')!;

function create(ws: string, id: string, patches: string[]): string {
  const args = [join(ws, 'packages', 'cli', 'bin', 'hotsplice.js'), 'create', ...patches.flatMap((p) => ['--patch', p]), '--id', id];
  const r = spawnSync(process.execPath, args, { cwd: ws, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`create ${id} failed (${r.status}):\n${`${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').slice(-60).join('\n')}`);
  return join(ws, 'dist', 'hotpatch', id, `hotsplice-${id}.tar.gz`);
}

/** The same package with another old-code.o, its sha256 updated in the manifest (the package stays well-formed). */
async function repack(original: string, oldCode: Buffer, out: string): Promise<void> {
  const files = await untarGz(readFileSync(original), 'original');
  const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest;
  files.set('old-code.o', oldCode);
  manifest.members['old-code.o'] = createHash('sha256').update(oldCode).digest('hex');
  if (manifest.sizes) manifest.sizes['old-code.o'] = oldCode.length;
  files.set('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  writeFileSync(out, tarGz([...files].map(([name, data]) => ({ name, data })), { first: ['manifest.json'] }));
}

const SCRIPT = `
export HOTSPLICE_STATE_DIR=/tmp/hotsplice-state
# step NAME CMD…: run it, print its exit code, stdout and stderr each squeezed onto one line.
step() { n=$1; shift; "$@" >/tmp/out 2>/tmp/err; rc=$?; echo "@@S $n rc=$rc"; echo "@@O $n $(tr '\\n' ' ' </tmp/out)"; echo "@@E $n $(tr '\\n' ' ' </tmp/err)"; }
step verify-good hotsplice verify --json good.tar.gz
step apply-good hotsplice apply --json good.tar.gz
step undo-good hotsplice undo --json ${GOOD}
step verify-bad hotsplice verify bad.tar.gz
step apply-bad hotsplice apply --json bad.tar.gz
step after-bad sh -c 'grep -c "^${GOOD} " /proc/modules; ls /sys/kernel/livepatch | wc -l'
step apply-big hotsplice apply --json big.tar.gz
step undo-big hotsplice undo --json ${BIG}
insmod dummy.ko
step verify-big-dummy hotsplice verify --json big.tar.gz
step apply-big-dummy hotsplice apply --json big.tar.gz
step undo-big-dummy hotsplice undo --json ${BIG}
`;

describe('run-pre at apply time in the guest', () => {
  let ws: string;
  let scratch: string;
  let guest: GuestResult;
  let steps: Map<string, Step>;
  const step = (name: string) => steps.get(name) ?? { rc: -1, out: '(did not run)', err: '' };
  const json = (name: string) => JSON.parse(step(name).out) as Record<string, any>;

  beforeAll(async () => {
    ws = scratchWorkspace();
    scratch = mkdtempSync(join(tmpdir(), 'hs-runpre-guest-'));
    writeFileSync(join(scratch, 'version.patch'), VERSION_PATCH);
    const good = create(ws, GOOD, [join(scratch, 'version.patch')]);
    // The largest update: every positive case of the patch suite in one package (vmlinux and two module objects).
    const big = create(ws, BIG, positive.map((c) => c.patch));
    const wrong = await wrongBuild(kernel.sourceTree, scratch);
    writeFileSync(join(scratch, 'wrong-old.o'), wrong.oldCode);
    await linkOldCode([{ path: join(scratch, 'wrong-old.o'), object: wrong.object }], join(scratch, 'old-code-O1.o'));
    await repack(good, readFileSync(join(scratch, 'old-code-O1.o')), join(scratch, 'bad.tar.gz'));
    guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files: [
        { source: good, dest: 'good.tar.gz' },
        { source: join(scratch, 'bad.tar.gz'), dest: 'bad.tar.gz' },
        { source: big, dest: 'big.tar.gz' },
        { source: join(kernel.modulesDir, 'kernel', DUMMY.module!.path), dest: 'dummy.ko' },
      ],
      scripts: [{ name: 'runpre', content: SCRIPT }],
      timeoutMs: 600_000,
    });
    steps = parseSteps(guest.console);
  });

  afterAll(() => {
    if (ws) rmSync(ws, { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('hotsplice verify matches a real package against the live kernel', () => {
    expect(step('verify-good').rc, JSON.stringify(step('verify-good'))).toBe(0);
    const runPre = json('verify-good').runPre;
    expect(runPre).toMatchObject({ status: 'matched', functions: 1, notChecked: 0 });
    expect(runPre.results).toMatchObject([{ objname: 'vmlinux', name: 'version_proc_show', sympos: 0, status: 'matched' }]);
    expect(runPre.results[0].address).toMatch(/^0xffffffff[0-9a-f]{8}$/);
  });

  it('apply runs run-pre before loading and reports it matched', () => {
    expect(step('apply-good').rc, JSON.stringify(step('apply-good'))).toBe(0);
    const applied = json('apply-good');
    expect(applied).toMatchObject({ id: GOOD, state: 'applied', runPre: { status: 'matched', functions: 1 } });
    expect(applied.runPre.summary).toMatch(/^1 function\(s\) matched in \d+ ms$/);
    expect(step('undo-good').rc, JSON.stringify(step('undo-good'))).toBe(0);
    console.log(`guest run-pre, ${GOOD} (1 function): ${applied.runPre.ms} ms`);
  });

  it('refuses a package whose old code was built with -O1, with the abort cause, and loads nothing', () => {
    const cause = /run-pre: version_proc_show \(fs\/proc\/version\.o\) differs from live kernel \(\/proc\/kcore\) at version_proc_show\+0x[0-9a-f]+: [^;]+; expected [0-9a-f ]+, found [0-9a-f ]+/;
    expect(step('verify-bad').rc, JSON.stringify(step('verify-bad'))).toBe(1);
    expect(step('verify-bad').out).toMatch(/run-pre MISMATCH/);
    expect(step('verify-bad').out).toMatch(cause);
    expect(step('apply-bad').rc, JSON.stringify(step('apply-bad'))).toBe(1);
    expect(step('apply-bad').err).toMatch(new RegExp(`^hotsplice: update ${GOOD} refused: the running kernel's code is not the code the update was built against: ${cause.source}`));
    expect(step('apply-bad').out).toBe('');
    // No module of that name loaded, no livepatch at all.
    expect(step('after-bad').out.split(/\s+/)).toEqual(['0', '0']);
    console.log(`apply of the -O1 package: ${step('apply-bad').err}`);
  });

  it('checks the largest update; module objects are checked once their module is loaded', () => {
    const report = JSON.parse(readFileSync(join(ws, 'dist', 'hotpatch', BIG, 'report.json'), 'utf8')) as UpdateReport;
    const total = report.objects;
    const all = total.reduce((n, r) => n + r.patched.length, 0);
    const inModules = total.filter((r) => r.objname !== 'vmlinux').reduce((n, r) => n + r.patched.length, 0);
    expect(step('apply-big').rc, JSON.stringify(step('apply-big'))).toBe(0);
    const without = json('apply-big').runPre;
    expect(without).toMatchObject({ status: 'matched', functions: all - inModules, notChecked: inModules });
    expect(without.summary).toMatch(/not checked: module \S+ is not loaded/);
    expect(step('undo-big').rc, JSON.stringify(step('undo-big'))).toBe(0);

    expect(step('verify-big-dummy').rc, JSON.stringify(step('verify-big-dummy'))).toBe(0);
    const dummy = json('verify-big-dummy').runPre.results.filter((r: { objname: string }) => r.objname === 'dummy');
    expect(dummy.length).toBeGreaterThan(0);
    for (const r of dummy) expect(r).toMatchObject({ status: 'matched' });
    expect(step('apply-big-dummy').rc, JSON.stringify(step('apply-big-dummy'))).toBe(0);
    const withDummy = json('apply-big-dummy').runPre;
    expect(withDummy.status).toBe('matched');
    expect(step('undo-big-dummy').rc, JSON.stringify(step('undo-big-dummy'))).toBe(0);
    console.log(`guest run-pre, ${BIG} (${all} functions, ${inModules} in modules): ${without.ms} ms without the modules loaded (${without.functions} matched), ${withDummy.ms} ms with dummy loaded (${withDummy.functions} matched)`);
  });

  it('leaves no oops, BUG or WARNING on the console', () => {
    expect(guest.problems).toEqual([]);
    expect(guest.timedOut).toBe(false);
  });
});
