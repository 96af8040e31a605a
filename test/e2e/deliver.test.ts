// Delivery to a fleet, in a real Debian userland: two patch levels built with `hotsplice create --replace --level`,
// served as a signed apt repository (`hotsplice repo`), installed with apt in a bookworm rootfs image (mmdebstrap,
// systemd) booted under QEMU with Debian's kernel and its own initramfs. Boot 1: apt install level 1, live; reboot.
// Boot 2 (the same disk): live again before an ordinary service started, apt upgrade to level 2 (atomic replace
// takes level 1 over, its module goes), apt remove, nothing live. No oops or WARN in either boot.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type RootfsBoot, bootRootfs, ensureRootfsImage, makeRunDisk } from '@hotsplice/guest';
import { create, scratchWorkspace } from '../../packages/nx-plugin/test/kernel/workspace';

const kernel = inject('kernel');
const ABI = kernel.abi;
const PACKAGE = `hotsplice-patch-${ABI}`;
const L1 = 'hs_fleet_l1';
const L2 = 'hs_fleet_l2';
const FIX_A = 'hotsplice: fleet fix A';
const FIX_B = 'hotsplice: fleet fix B';

/** Shell prelude of both runs: `step NAME CMD…` prints "@@R NAME rc=N <output on one line>". */
const PRELUDE = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
step() { n=$1; shift; out=$("$@" 2>&1); rc=$?; echo "@@R $n rc=$rc $(echo "$out" | tr '\\n' ' ')"; }
`;

/** An ordinary service (default dependencies): what it sees at its start shows what was live before services ran. */
const PROBE_UNIT = `[Unit]
Description=fleet probe: what is live when ordinary services start
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'ls /sys/kernel/livepatch > /var/lib/fleet-probe.txt; cat /proc/loadavg >> /var/lib/fleet-probe.txt'
[Install]
WantedBy=multi-user.target
`;

const BOOT1 = `
mkdir -p /etc/apt/keyrings
cp hotsplice-archive-keyring.gpg /etc/apt/keyrings/
echo "deb [signed-by=/etc/apt/keyrings/hotsplice-archive-keyring.gpg] file:/run/hsrun/repo ./" > /etc/apt/sources.list.d/hotsplice.list
step update apt-get update
step install apt-get install -y --no-install-recommends ${PACKAGE}=1
step status hotsplice status --json
step list hotsplice list --json
step loadavg cat /proc/loadavg
step enabled systemctl is-enabled hotsplice.service
cp fleet-probe.service /etc/systemd/system/
step probe-enable systemctl enable fleet-probe.service
touch /var/lib/hotsplice-e2e-boot1
echo reboot > /run/hotsplice-next
`;

const BOOT2 = `
step probe cat /var/lib/fleet-probe.txt
step applied-at systemctl show --value -p ExecMainExitTimestampMonotonic hotsplice.service
step probe-at systemctl show --value -p ExecMainStartTimestampMonotonic fleet-probe.service
step network-at systemctl show --value -p ActiveEnterTimestampMonotonic network-pre.target
step unit-result systemctl show --value -p Result hotsplice.service
step journal journalctl -b -o cat -u hotsplice.service
step boot-status hotsplice status --json
step upgrade apt-get install -y --no-install-recommends ${PACKAGE}
step upgraded-status hotsplice status --json
step upgraded-list hotsplice list --json
step l1-module test -d /sys/module/${L1}
step upgraded-loadavg cat /proc/loadavg
step remove apt-get remove -y ${PACKAGE}
step removed-status hotsplice status --json
step removed-livepatch ls /sys/kernel/livepatch
step removed-loadavg cat /proc/loadavg
step removed-store ls -R /var/lib/hotsplice/updates
echo poweroff > /run/hotsplice-next
`;

/**
 * One run disk for both boots (the repository stays where boot 1's apt lists point): the first boot leaves a mark
 * on the root disk. Every step line also goes to a log on the root disk, which the host reads after the boots.
 */
const RUN = `${PRELUDE}
boot1() {${BOOT1}}
boot2() {${BOOT2}}
if [ -f /var/lib/hotsplice-e2e-boot1 ]; then boot2; else boot1; fi 2>&1 | tee -a /var/log/hotsplice-e2e.log
`;

interface Step {
  rc: number;
  out: string;
}

function parseSteps(text: string): Map<string, Step> {
  const steps = new Map<string, Step>();
  for (const m of text.replace(/\r/g, '').matchAll(/^@@R (\S+) rc=(\d+) ?(.*)$/gm)) steps.set(m[1], { rc: Number(m[2]), out: m[3].trim() });
  return steps;
}

describe('delivery: apt repository, install, re-apply at boot, patch levels, remove', () => {
  const created = new Map<string, ReturnType<typeof create>>();
  let repo: ReturnType<typeof spawnSync>;
  let boots: RootfsBoot[] = [];
  let steps = new Map<string, Step>();
  const step = (name: string) => steps.get(name) ?? { rc: -1, out: `(step ${name} did not run)` };
  const json = (name: string) => JSON.parse(step(name).out) as Record<string, unknown>;

  beforeAll(async () => {
    const started = performance.now();
    const phase: string[] = [];
    const mark = (what: string, since: number) => phase.push(`${what} ${((performance.now() - since) / 1000).toFixed(1)} s`);
    const ws = scratchWorkspace();
    const patches = join(__dirname, 'deliver');
    let t = performance.now();
    created.set(L1, create(ws, '--patch', join(patches, 'level1.patch'), '--id', L1, '--abi', ABI, '--replace', '--level', '1'));
    created.set(L2, create(ws, '--patch', join(patches, 'level2.patch'), '--id', L2, '--abi', ABI, '--replace', '--level', '2'));
    mark('create x2', t);
    if ([...created.values()].some((c) => c.code !== 0)) return;

    // A signing key of the test's own, in a private GNUPGHOME.
    const scratch = mkdtempSync(join(tmpdir(), 'hs-deliver-'));
    const gnupg = join(scratch, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: gnupg, NX_DAEMON: 'false' };
    spawnSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'hotsplice e2e <e2e@example.org>', 'ed25519', 'sign', 'never'], { env });
    const run = join(scratch, 'run1');
    repo = spawnSync(process.execPath, [join(ws, 'packages', 'cli', 'bin', 'hotsplice.js'), 'repo', '--out', join(run, 'repo'), '--sign', 'e2e@example.org', '--json'], { cwd: ws, env, encoding: 'utf8' });
    if (repo.status !== 0) return;

    t = performance.now();
    const image = await ensureRootfsImage(kernel, (line) => console.log(line));
    mark(`rootfs image (${image.madeSeconds ? `made in ${image.madeSeconds.toFixed(0)} s` : 'cached'})`, t);
    const disk = join(scratch, 'disk.img');
    spawnSync('cp', ['--sparse=always', image.image, disk]);
    copyFileSync(join(run, 'repo', 'hotsplice-archive-keyring.gpg'), join(run, 'hotsplice-archive-keyring.gpg'));
    writeFileSync(join(run, 'fleet-probe.service'), PROBE_UNIT);
    writeFileSync(join(run, 'run.sh'), RUN);
    // apt reads the file: repository as its _apt user.
    for (const dir of [scratch, run, join(run, 'repo')]) chmodSync(dir, 0o755);
    const runDisk = await makeRunDisk(run, join(scratch, 'run.img'));
    for (const n of [1, 2]) {
      t = performance.now();
      const booted = await bootRootfs({ image, disk, runDisk, timeoutMs: 420_000 });
      writeFileSync(join(scratch, `console-${n}.txt`), booted.console);
      boots.push(booted);
      mark(`boot ${n}`, t);
    }
    console.log(`delivery e2e: consoles in ${scratch}`);
    // The steps as the guest logged them on its disk (debugfs reads ext4 without mounting it).
    const log = spawnSync('debugfs', ['-R', 'cat /var/log/hotsplice-e2e.log', disk], { encoding: 'utf8' }).stdout;
    steps = parseSteps(log);
    mark('total', started);
    console.log(`delivery e2e: ${phase.join(', ')}`);
  }, 3_600_000);

  it('builds a .deb per level for the ABI and a signed flat apt repository of them', () => {
    for (const [id, made] of created) expect(made.code, `${id}: ${made.stderr}`).toBe(0);
    expect(repo.status, String(repo.stderr)).toBe(0);
    const result = JSON.parse(String(repo.stdout)) as { packages: Array<{ name: string; version: string }>; signed: boolean; out: string };
    expect(result.signed).toBe(true);
    expect(result.packages.map((p) => `${p.name} ${p.version}`)).toEqual(['hotsplice-patch-' + ABI + ' 1', 'hotsplice-patch-' + ABI + ' 2', 'hotsplice-tools 0.1.0']);
    const packagesIndex = readFileSync(join(result.out, 'Packages'), 'utf8');
    expect(packagesIndex).toContain(`Depends: hotsplice-tools (>= 0.1.0), linux-image-${ABI} (= ${kernel.version})`);
    expect(readFileSync(join(result.out, 'InRelease'), 'utf8')).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----/);
  });

  it('boot 1: apt installs level 1 from the repository, it is live, and hotsplice.service is enabled', () => {
    expect(boots.length).toBe(2);
    expect(step('update').rc, step('update').out).toBe(0);
    expect(step('install').rc, step('install').out).toBe(0);
    expect(step('install').out).toContain(`installed ${L1} (level 1) for ${ABI}: applied`);
    const status = json('status');
    expect(status).toMatchObject({ level: 1, cves: ['CVE-2026-90001'], effectiveVersion: kernel.version, kernel: { release: ABI, version: kernel.version } });
    expect(step('loadavg').out).toContain(FIX_A);
    expect(step('enabled').out).toBe('enabled');
  });

  it('boot 2: hotsplice.service applied level 1 before the network and before an ordinary service started', () => {
    expect(step('probe').out).toMatch(new RegExp(`^${L1} .*${FIX_A}`));
    // Microseconds since boot, as systemd recorded them.
    const appliedAt = Number(step('applied-at').out);
    expect(appliedAt).toBeGreaterThan(0);
    expect(Number(step('probe-at').out)).toBeGreaterThan(appliedAt);
    expect(Number(step('network-at').out)).toBeGreaterThanOrEqual(appliedAt);
    expect(step('unit-result').out).toBe('success');
    expect(step('journal').out).toContain(`hotsplice: ${L1}: applied ${L1} (level 1)`);
    expect(json('boot-status')).toMatchObject({ level: 1, cves: ['CVE-2026-90001'] });
  });

  it('apt upgrades to level 2: atomic replace takes level 1 over in one transition and its module goes', () => {
    expect(step('upgrade').rc, step('upgrade').out).toBe(0);
    expect(step('upgrade').out).toContain(`level 1 (${L1}) taken over and removed`);
    expect(json('upgraded-status')).toMatchObject({ level: 2, cves: ['CVE-2026-90001', 'CVE-2026-90002'], effectiveVersion: kernel.version });
    const updates = (json('upgraded-status').updates as Array<{ id: string; state: string }>).map((u) => `${u.id} ${u.state}`);
    expect(updates).toEqual([`${L2} applied`]);
    expect((json('upgraded-list').installed as Array<{ id: string }>).map((u) => u.id)).toEqual([L2]);
    expect(step('l1-module').rc).toBe(1);
    expect(step('upgraded-loadavg').out).toContain(`${FIX_A} ${FIX_B}`);
  });

  it('apt remove takes the update out of the kernel and the store', () => {
    expect(step('remove').rc, step('remove').out).toBe(0);
    expect(step('remove').out).toContain(`uninstalled ${L2}: undone`);
    expect(json('removed-status')).toMatchObject({ level: null, cves: [], updates: [], installed: [] });
    expect(step('removed-livepatch').out).toBe('');
    expect(step('removed-loadavg').out).not.toContain('fleet fix');
  });

  it('no oops, BUG or WARNING in either boot, and each ran to its end', () => {
    for (const b of boots) {
      expect(b.timedOut).toBe(false);
      expect(b.scripts.map((s) => s.exitCode)).toEqual([0]);
      expect(b.problems).toEqual([]);
    }
  });
});
