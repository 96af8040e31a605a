// Debian's own security fixes, live: each built with `hotsplice create --debian-update` for the ABI of the version
// before it, then applied in a guest booted with that ABI's own kernel, its module loaded; status shows the
// patched functions; undo takes the update out. Everything is derived at test time from Debian's packages.
import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GuestResult, runGuest } from '@hotsplice/guest';
import { type KernelPaths, moduleLoadOrder, prepareKernel } from '@hotsplice/kernel';
import { create, scratchWorkspace } from '../../packages/nx-plugin/test/kernel/workspace';
import { type Step, parseSteps } from './suite/guest-steps';

interface DebianFix {
  /** The update's id. */
  id: string;
  /** The ABI the fleet runs, and the Debian version whose fix it needs. */
  abi: string;
  update: string;
  module: string;
  cve?: string;
  /** Functions the fix must replace (at least these). */
  functions: string[];
}

const FIXES: DebianFix[] = [
  // 6.1.192-3's whole delta: one nfsd fix (fs/nfsd/nfs4state.c; nfsd is a module).
  { id: 'debian_nfsd_99362', abi: '6.1.0-56-amd64', update: '6.1.192-3', module: 'nfsd', cve: 'CVE-2026-99362', functions: ['nfsd4_sequence'] },
];

const SCRIPT = (fix: DebianFix, modules: string[]) => `
step() { n=$1; shift; "$@" >/tmp/out 2>/tmp/err; rc=$?; echo "@@S $n rc=$rc"; echo "@@O $n $(tr '\\n' ' ' </tmp/out)"; echo "@@E $n $(tr '\\n' '|' </tmp/err)"; }
export HOTSPLICE_STATE_DIR=/tmp/state
${modules.map((m) => `insmod ${m} || echo "@@INSMOD-FAILED ${m}"`).join('\n')}
step loaded grep -c '^${fix.module} ' /proc/modules
step apply hotsplice apply --json update.tar.gz
step status hotsplice status --json ${fix.id}
step undo hotsplice undo --json ${fix.id}
step gone ls /sys/kernel/livepatch
`;

describe.each(FIXES)('Debian $update for $abi ($module)', (fix) => {
  let kernel: KernelPaths;
  let made: ReturnType<typeof create>;
  let guest: GuestResult;
  let steps: Map<string, Step>;
  const step = (name: string) => steps.get(name) ?? { rc: -1, out: '', err: `no step ${name}` };

  beforeAll(async () => {
    kernel = await prepareKernel({ abi: fix.abi });
    const ws = scratchWorkspace();
    made = create(ws, '--debian-update', fix.update, '--abi', fix.abi, '--id', fix.id, '--json');
    if (made.code !== 0) return;
    const modules = await moduleLoadOrder(kernel.modulesDir, fix.module);
    guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files: [...modules.map((m) => ({ source: m, dest: basename(m) })), { source: JSON.parse(made.stdout).package, dest: 'update.tar.gz' }],
      scripts: [{ name: 'fix', content: SCRIPT(fix, modules.map((m) => basename(m))) }],
      timeoutMs: 300_000,
    });
    steps = parseSteps(guest.console);
  }, 3_600_000);

  it('builds with create --debian-update, carrying the fix and naming its CVE', () => {
    expect(made.code, made.stderr).toBe(0);
    const summary = JSON.parse(made.stdout);
    expect(summary.notCarried).toEqual([]);
    const functions = summary.markers.flatMap((m: { report?: { changed: string[] } }) => m.report?.changed ?? []);
    for (const f of fix.functions) expect(functions).toContain(f);
    if (fix.cve) expect(made.stdout + made.stderr).toContain(`${fix.cve}: carried`);
  });

  it('applies in a guest running that ABI with the module loaded, shows the functions, and undoes', () => {
    expect(guest.console).not.toContain('@@INSMOD-FAILED');
    expect(step('loaded').out).toBe('1');
    expect(step('apply').rc, JSON.stringify(step('apply'))).toBe(0);
    const status = JSON.parse(step('status').out);
    expect(status).toMatchObject({ id: fix.id, state: 'applied' });
    const patched = JSON.stringify(status);
    for (const f of fix.functions) expect(patched).toContain(f);
    expect(step('undo').rc, JSON.stringify(step('undo'))).toBe(0);
    expect(step('gone').out).toBe('');
    expect(guest.problems).toEqual([]);
  });
});
