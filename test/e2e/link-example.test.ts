// The whole chain on the real kernel: the example patch → pre/post objects → differ → link stage → a .ko that
// Debian's kernel loads under QEMU, patches /proc/version with, and unloads cleanly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type GuestResult, runGuest } from '@hotsplice/guest';
import { linkModule } from '@hotsplice/link';
import { EXAMPLE_ID, EXAMPLE_MARKER, diffExample } from '../../packages/link/test/helpers/example';

const kernel = inject('kernel');
const PATCH = `/sys/kernel/livepatch/${EXAMPLE_ID}`;

// One boot; values come back as key=value lines.
const SCRIPT = `
set -e
echo "before_lines=$(wc -l < /proc/version)"
echo "before_marker=$(grep -c 'hotsplice:' /proc/version || true)"
insmod /hotsplice/files/${EXAMPLE_ID}.ko
for i in $(seq 1 100); do [ "$(cat ${PATCH}/transition)" = 0 ] && break; sleep 0.1; done
echo "transition=$(cat ${PATCH}/transition)"
echo "enabled=$(cat ${PATCH}/enabled)"
echo "vmlinux_patched=$(cat ${PATCH}/vmlinux/patched)"
echo "after_lines=$(wc -l < /proc/version)"
echo "after_line2=$(sed -n 2p /proc/version)"
cp /proc/version /tmp/patched
echo 0 > ${PATCH}/enabled
# The unpatch transition ends by freeing the patch, which removes its sysfs directory.
for i in $(seq 1 100); do [ -e ${PATCH} ] || break; sleep 0.1; done
echo "disabled_gone=$([ -e ${PATCH} ] && echo no || echo yes)"
rmmod ${EXAMPLE_ID}
echo "unloaded=$(grep -c '^${EXAMPLE_ID} ' /proc/modules || true)"
echo "undone_lines=$(wc -l < /proc/version)"
echo "undone_marker=$(grep -c 'hotsplice:' /proc/version || true)"
echo "patched_line1=$(sed -n 1p /tmp/patched)"
echo "undone_line1=$(sed -n 1p /proc/version)"
`;

function values(output: string): Record<string, string> {
  return Object.fromEntries(output.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('the example update in the guest', () => {
  let dir: string;
  let guest: GuestResult;
  let v: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hs-link-e2e-'));
    const example = await diffExample(kernel, join(dir, 'objects'));
    const { ko } = await linkModule({ id: EXAMPLE_ID, kernel, newCodeObjects: [{ path: example.newCode, report: example.report }], workDir: join(dir, 'link') });
    guest = await runGuest({ kernel: kernel.vmlinuz, files: [{ source: ko }], scripts: [{ name: 'update', content: SCRIPT }], timeoutMs: 240_000 });
    v = values(guest.scripts[0]?.output ?? '');
    const klp = guest.dmesg.split('\n').filter((l) => l.includes(EXAMPLE_ID));
    console.log(`guest: boot ${guest.bootSeconds?.toFixed(1)} s, total ${guest.totalSeconds.toFixed(1)} s; ${JSON.stringify(v)}\n${klp.join('\n')}`);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads, finishes the transition and shows the marker line in /proc/version', () => {
    expect(guest.scripts[0]?.exitCode, guest.scripts[0]?.output).toBe(0);
    expect(v.before_lines).toBe('1');
    expect(v.before_marker).toBe('0');
    expect(v.transition).toBe('0');
    expect(v.enabled).toBe('1');
    expect(v.vmlinux_patched).toBe('1');
    expect(v.after_lines).toBe('2');
    expect(v.after_line2).toBe(EXAMPLE_MARKER);
    // The banner itself still comes from vmlinux's linux_proc_banner (a klp relocation resolved at load).
    expect(v.patched_line1).toBe(v.undone_line1);
    expect(v.patched_line1).toMatch(new RegExp(`^Linux version ${kernel.abi.replace(/\./g, '\\.')} `));
  });

  it('disables, unloads, and /proc/version is as before', () => {
    expect(v.disabled_gone).toBe('yes');
    expect(v.unloaded).toBe('0');
    expect(v.undone_lines).toBe('1');
    expect(v.undone_marker).toBe('0');
    expect(guest.dmesg).toContain(`livepatch: '${EXAMPLE_ID}': patching complete`);
    expect(guest.dmesg).toContain(`livepatch: '${EXAMPLE_ID}': unpatching complete`);
  });

  it('leaves a clean kernel log: no oops, BUG, WARNING, or klp/module load error', () => {
    expect(guest.problems).toEqual([]);
    expect(guest.dmesg).not.toMatch(/Unknown symbol|invalid relocation target|not marked as a livepatch symbol|incorrectly formatted/);
    expect(guest.completed).toBe(true);
    expect(guest.timedOut).toBe(false);
    expect(guest.ok).toBe(true);
  });
});
