// Debian's own security fixes, live: each built with `hotsplice create --debian-update` for the ABI of the version
// before it, then applied in a guest booted with that ABI's own kernel, its module loaded; status shows the
// patched functions; undo takes the update out. Everything is derived at test time from Debian's packages.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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
  /** More modules to load first (what the workload needs). */
  alsoLoad?: string[];
  cve?: string;
  /** Functions the fix must replace (at least these). */
  functions: string[];
  /** Shell lines that hit the bug: run with the update applied (clean), and in a boot without it (the oops). */
  workload?: { script: string; files: () => Array<{ source: string; dest: string }>; oops: RegExp };
}

/** A small ext4 image made on the host (e2fsprogs), fresh: its buddy cache is cold on the first allocation. */
function ext4Image(): string {
  const image = join(mkdtempSync(join(tmpdir(), 'hs-ext4-')), 'ext4.img');
  execFileSync('mkfs.ext4', ['-q', '-F', image, '16M']);
  return image;
}

const FIXES: DebianFix[] = [
  // 6.1.192-3's whole delta: one nfsd fix (fs/nfsd/nfs4state.c; nfsd is a module).
  { id: 'debian_nfsd_99362', abi: '6.1.0-56-amd64', update: '6.1.192-3', module: 'nfsd', cve: 'CVE-2026-99362', functions: ['nfsd4_sequence'] },
  // 6.1.192-2's whole delta: ext4 mballoc's NULL folio dereference. 6.1's __filemap_get_folio returns NULL, not an
  // ERR_PTR, for a page not in the page cache; ext4_mb_load_buddy_gfp then tests the NULL folio. A fresh mount
  // creates the buddy pages when it first allocates, so the workload drops the page cache and allocates again
  // (measured here: without drop_caches no oops; with it, RIP ext4_mb_load_buddy_gfp+0xbc).
  {
    id: 'debian_ext4_mballoc',
    abi: '6.1.0-55-amd64',
    update: '6.1.192-2',
    module: 'ext4',
    alsoLoad: ['loop', 'crc32c_generic'],
    functions: ['ext4_mb_load_buddy_gfp'],
    workload: {
      files: () => [{ source: ext4Image(), dest: 'ext4.img' }],
      script:
        'mkdir -p /mnt && mount -t ext4 -o loop ext4.img /mnt && dd if=/dev/zero of=/mnt/a bs=4k count=64 && sync && ' +
        'echo 3 > /proc/sys/vm/drop_caches && dd if=/dev/zero of=/mnt/b bs=4k count=64 && sync && umount /mnt',
      oops: /BUG: kernel NULL pointer dereference/,
    },
  },
];

const STEP = `step() { n=$1; shift; "$@" >/tmp/out 2>/tmp/err; rc=$?; echo "@@S $n rc=$rc"; echo "@@O $n $(tr '\\n' ' ' </tmp/out)"; echo "@@E $n $(tr '\\n' '|' </tmp/err)"; }
export HOTSPLICE_STATE_DIR=/tmp/state`;
const load = (modules: string[]) => modules.map((m) => `insmod ${m} || echo "@@INSMOD-FAILED ${m}"`).join('\n');

const SCRIPT = (fix: DebianFix, modules: string[]) => `${STEP}
${load(modules)}
step loaded grep -c '^${fix.module} ' /proc/modules
step apply hotsplice apply --json update.tar.gz
step status hotsplice status --json ${fix.id}
${fix.workload ? `step workload sh -c '${fix.workload.script}'` : ''}
step undo hotsplice undo --json ${fix.id}
step gone ls /sys/kernel/livepatch
`;

/** The same kernel without the update, running the workload: the bug the update fixes. */
const CONTROL = (fix: DebianFix, modules: string[]) => `${STEP}
${load(modules)}
step workload sh -c '${fix.workload!.script}'
`;

describe.each(FIXES)('Debian $update for $abi ($module)', (fix) => {
  let kernel: KernelPaths;
  let made: ReturnType<typeof create>;
  let guest: GuestResult;
  let control: GuestResult | undefined;
  let steps: Map<string, Step>;
  const step = (name: string) => steps.get(name) ?? { rc: -1, out: '', err: `no step ${name}` };

  beforeAll(async () => {
    kernel = await prepareKernel({ abi: fix.abi });
    const ws = scratchWorkspace();
    made = create(ws, '--debian-update', fix.update, '--abi', fix.abi, '--id', fix.id, '--json');
    if (made.code !== 0) return;
    const modules: string[] = [];
    for (const name of [...(fix.alsoLoad ?? []), fix.module]) for (const m of await moduleLoadOrder(kernel.modulesDir, name)) if (!modules.includes(m)) modules.push(m);
    const names = modules.map((m) => basename(m));
    const files = [...modules.map((m) => ({ source: m, dest: basename(m) })), ...(fix.workload?.files() ?? [])];
    guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files: [...files, { source: JSON.parse(made.stdout).package, dest: 'update.tar.gz' }],
      scripts: [{ name: 'fix', content: SCRIPT(fix, names) }],
      timeoutMs: 300_000,
    });
    steps = parseSteps(guest.console);
    if (fix.workload) control = await runGuest({ kernel: kernel.vmlinuz, files, scripts: [{ name: 'control', content: CONTROL(fix, names) }], timeoutMs: 300_000 });
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
    if (fix.workload) expect(step('workload').rc, JSON.stringify(step('workload'))).toBe(0);
    expect(step('undo').rc, JSON.stringify(step('undo'))).toBe(0);
    expect(step('gone').out).toBe('');
    expect(guest.problems).toEqual([]);
  });

  it.runIf(fix.workload)('hits the bug in the same kernel without the update (the fix is what made the difference)', () => {
    expect(control!.problems.some((line) => fix.workload!.oops.test(line)), control!.problems.join('\n')).toBe(true);
  });
});
