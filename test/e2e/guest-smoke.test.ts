import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type GuestResult, REPO_ROOT, runGuest } from '@hotsplice/guest';
import { buildExternalModule } from '@hotsplice/kernel';

const kernel = inject('kernel');
const MARKER = 'hotsplice-smoke: /proc/cmdline is livepatched';
const PATCH = '/sys/kernel/livepatch/hotsplice_smoke';

// One boot runs every check: the harness's scripts share it. Values are printed as key=value lines.
const SMOKE_SCRIPT = `
set -e
wait_transition() {
  for i in $(seq 1 100); do [ "$(cat ${PATCH}/transition)" = 0 ] && return 0; sleep 0.1; done
  echo "transition never finished"; return 1
}
echo "before=$(cat /proc/cmdline)"
insmod /hotsplice/files/hotsplice_smoke.ko
wait_transition
echo "after=$(cat /proc/cmdline)"
echo "enabled=$(cat ${PATCH}/enabled)"
echo "vmlinux_patched=$(cat ${PATCH}/vmlinux/patched)"
echo 0 > ${PATCH}/enabled
# When the unpatch transition ends, livepatch frees the patch and its sysfs directory goes away.
for i in $(seq 1 100); do [ -e ${PATCH} ] || break; sleep 0.1; done
echo "disabled_gone=$([ -e ${PATCH} ] && echo no || echo yes)"
rmmod hotsplice_smoke
echo "undone=$(cat /proc/cmdline)"
echo "still_listed=$(ls /sys/kernel/livepatch | wc -l)"
`;

function values(output: string): Record<string, string> {
  return Object.fromEntries(output.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('Debian kernel in the QEMU guest', () => {
  let smokeKo: string;
  let guest: GuestResult;

  beforeAll(async () => {
    [smokeKo] = await buildExternalModule({
      sourceDir: join(REPO_ROOT, 'kernel-module', 'smoke'),
      buildDir: join(await mkdtemp(join(tmpdir(), 'hs-smoke-')), 'build'),
      kernel,
    });
    guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files: [{ source: smokeKo }],
      scripts: [
        { name: 'uname', content: 'uname -r\n' },
        { name: 'node-release', content: `node -e 'console.log(require("os").release())'\n` },
        { name: 'cli', content: 'hotsplice --help\n' },
        { name: 'smoke', content: SMOKE_SCRIPT },
      ],
      timeoutMs: 240_000,
    });
    console.log(`guest: boot ${guest.bootSeconds?.toFixed(1)} s (guest uptime ${guest.guestBootSeconds} s), total ${guest.totalSeconds.toFixed(1)} s, initramfs ${(guest.initramfsBytes / 1048576).toFixed(0)} MiB`);
  });

  it('boots the prepared kernel: uname -r equals the ABI', () => {
    expect(guest.scripts[0]).toEqual({ name: '01-uname', exitCode: 0, output: `${kernel.abi}\n` });
  });

  it('runs node inside the guest, which reads the same release', () => {
    expect(guest.scripts[1]).toEqual({ name: '02-node-release', exitCode: 0, output: `${kernel.abi}\n` });
  });

  it('runs the bundled CLI (no node_modules) inside the guest', () => {
    expect(guest.scripts[2].exitCode).toBe(0);
    expect(guest.scripts[2].output).toMatch(/^usage: hotsplice <command>/);
  });

  it('builds the smoke livepatch for Debian’s ABI', () => {
    const info = execFileSync('modinfo', ['-F', 'vermagic', smokeKo], { encoding: 'utf8' }).trim();
    expect(info.split(' ')[0]).toBe(kernel.abi);
    expect(execFileSync('modinfo', ['-F', 'livepatch', smokeKo], { encoding: 'utf8' }).trim()).toBe('Y');
  });

  it('patches /proc/cmdline, then disabling and unloading restores it', () => {
    const smoke = guest.scripts[3];
    expect(smoke.exitCode, smoke.output).toBe(0);
    const v = values(smoke.output);
    expect(v.before).toMatch(/^console=ttyS0 /);
    expect(v.after).toBe(MARKER);
    expect(v.enabled).toBe('1');
    expect(v.vmlinux_patched).toBe('1');
    expect(v.disabled_gone).toBe('yes');
    expect(v.undone).toBe(v.before);
    expect(v.still_listed).toBe('0');
    expect(guest.dmesg).toContain("livepatch: 'hotsplice_smoke': patching complete");
    expect(guest.dmesg).toContain("livepatch: 'hotsplice_smoke': unpatching complete");
  });

  it('leaves a clean console: no oops, BUG, WARNING or panic, and the guest powered off by itself', () => {
    expect(guest.problems).toEqual([]);
    expect(guest.completed).toBe(true);
    expect(guest.timedOut).toBe(false);
    expect(guest.ok).toBe(true);
  });
});
