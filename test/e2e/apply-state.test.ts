// The apply side's state records under a real kernel (issue 12 item 7): a read-only state directory refuses the
// update before its module loads, and a corrupt record of a loaded update stops neither view, status nor undo.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type GuestResult, REPO_ROOT, runGuest } from '@hotsplice/guest';
import { buildExternalModule } from '@hotsplice/kernel';
import { writePackage } from '@hotsplice/link';
import { type Step, parseSteps } from './suite/guest-steps';

const kernel = inject('kernel');
const ID = 'hotsplice_smoke'; // the smoke livepatch (kernel-module/smoke): /proc/cmdline shows a marker
const MARKER = 'hotsplice-smoke: /proc/cmdline is livepatched';

const SCRIPT = `
# step NAME CMD…: run it, print its exit code, stdout and stderr each squeezed onto one line.
step() { n=$1; shift; "$@" >/tmp/out 2>/tmp/err; rc=$?; echo "@@S $n rc=$rc"; echo "@@O $n $(tr '\\n' ' ' </tmp/out)"; echo "@@E $n $(tr '\\n' '|' </tmp/err)"; }
loaded() { echo "patches=$(ls /sys/kernel/livepatch | wc -l) modules=$(grep -c '^${ID} ' /proc/modules) cmdline=$(cat /proc/cmdline)"; }
mkdir -p /tmp/ro-state && mount -t tmpfs -o ro tmpfs /tmp/ro-state
HOTSPLICE_STATE_DIR=/tmp/ro-state step ro-apply hotsplice apply --skip-run-pre smoke.tar.gz
step ro-after loaded
export HOTSPLICE_STATE_DIR=/tmp/state
step apply hotsplice apply --skip-run-pre smoke.tar.gz
echo '{"id": "${ID}", "modu' > /tmp/state/applied/${ID}.json
step view hotsplice view
step status hotsplice status ${ID}
step undo hotsplice undo ${ID}
step undone loaded
step records ls /tmp/state/applied
`;

describe('apply state records in the guest', () => {
  let guest: GuestResult;
  let steps: Map<string, Step>;
  let cmdline: string;
  const step = (name: string) => steps.get(name) ?? { rc: -1, out: `no step ${name}`, err: '' };

  beforeAll(async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'hs-apply-state-'));
    const [ko] = await buildExternalModule({ sourceDir: join(REPO_ROOT, 'kernel-module', 'smoke'), buildDir: join(scratch, 'build'), kernel });
    const { tarball } = await writePackage({ id: ID, outDir: join(scratch, 'pkg'), kernel, ko, oldCode: ko, reports: [], patches: [] });
    guest = await runGuest({ kernel: kernel.vmlinuz, cli: true, files: [{ source: tarball, dest: 'smoke.tar.gz' }], scripts: [{ name: 'state', content: SCRIPT }], timeoutMs: 300_000 });
    steps = parseSteps(guest.console);
    cmdline = /cmdline=(.*)$/.exec(step('ro-after').out)?.[1] ?? '';
  });

  it('a read-only state directory: one line naming the record, exit 1, nothing loaded', () => {
    expect(step('ro-apply')).toEqual({
      rc: 1,
      out: '',
      err: `hotsplice: cannot write the state record /tmp/ro-state/applied/${ID}.json (HOTSPLICE_STATE_DIR): /tmp/ro-state/applied: read-only file system|`,
    });
    expect(step('ro-after').out).toMatch(/^patches=0 modules=0 cmdline=console=ttyS0 /);
    expect(cmdline).not.toContain(MARKER);
  });

  it('a corrupt record of a loaded update: view, status and undo warn in one line and go by sysfs', () => {
    expect(step('apply').rc, JSON.stringify(step('apply'))).toBe(0);
    const warning = `hotsplice: warning: /tmp/state/applied/${ID}.json: not JSON; ignored (livepatch's sysfs still shows what is loaded)|`;
    expect(step('view')).toMatchObject({ rc: 0, err: warning });
    expect(step('view').out).toMatch(new RegExp(`^kernel \\S+ \\(Debian \\S+\\); no patch level; effective Debian version \\S+; CVEs fixed live: none ID +LEVEL +FUNCTIONS +OBJECTS +STATE +CVES +SINCE ${ID} +- +1 +vmlinux +applied +- +-$`));
    expect(step('status')).toMatchObject({ rc: 0, err: warning });
    expect(step('status').out).toBe(`${ID}: applied   module ${ID}   vmlinux: patched: cmdline_proc_show`);
    expect(step('undo')).toMatchObject({ rc: 0, err: warning });
    expect(step('undo').out).toMatch(new RegExp(`^undone ${ID} in \\d+ ms; module unloaded$`));
    expect(step('undone').out).toBe(`patches=0 modules=0 cmdline=${cmdline}`);
    expect(step('records')).toEqual({ rc: 0, out: '', err: '' }); // undo removed the corrupt record too
  });

  it('leaves a clean console', () => {
    expect(guest.problems).toEqual([]);
    expect(guest.timedOut).toBe(false);
  });
});
