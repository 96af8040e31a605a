import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type GuestResult, runGuest } from '@hotsplice/guest';
import { buildPristineObjects } from '../helpers/real-objects';

// Run-pre at apply time: the real Debian kernel booted under QEMU (KASLR on), read through /proc/kcore and
// /proc/kallsyms by the matcher, against pre objects of the pristine tree. Also the refusals of design.md §8b.
const kernel = inject('kernel');
const OBJECTS = ['kernel/sched/core.o', 'kernel/exit.o', 'fs/proc/version.o', 'fs/proc/meminfo.o', 'kernel/time/timer.o'];
const work = mkdtempSync(join(tmpdir(), 'hs-runpre-guest-'));
const base = (o: string) => o.replace(/\//g, '_');
const run = (args: string) => `node runpre.cjs ${args}; echo "exit=$?"\n`;

let guest: GuestResult;
// The guest numbers its scripts: `01-match`, `02-not-root`…
const output = (name: string) => guest.scripts.find((s) => s.name.replace(/^\d+-/, '') === name)?.output ?? '';
const reports = (name: string) =>
  output(name)
    .split('\n')
    .filter((l) => l.startsWith('RUNPRE '))
    .map((l) => JSON.parse(l.slice(7)) as { object: string; ok: boolean; total: number; statuses: Record<string, number>; patched: Record<string, number>; failures: string[]; addresses: Record<string, string>; text: string });
const errorLine = (name: string) => output(name).split('\n').find((l) => l.startsWith('RUNPRE-ERROR '))?.slice(13);

beforeAll(async () => {
  await buildPristineObjects(kernel, OBJECTS, join(work, 'pre'));
  await build({ entryPoints: [join(__dirname, 'guest-main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: join(work, 'runpre.cjs'), logLevel: 'silent' });
  guest = await runGuest({
    kernel: kernel.vmlinuz,
    node: true,
    files: [{ source: join(work, 'runpre.cjs') }, ...OBJECTS.map((o) => ({ source: join(work, 'pre', o), dest: base(o) }))],
    scripts: [
      { name: 'match', content: run(OBJECTS.map(base).join(' ')) },
      { name: 'not-root', content: run(`--uid 1000 ${base('fs/proc/version.o')}`) },
      { name: 'kptr-restrict', content: `echo 2 > /proc/sys/kernel/kptr_restrict\n${run(base('fs/proc/version.o'))}echo 0 > /proc/sys/kernel/kptr_restrict\n` },
      // Lockdown only ever rises: this check goes last.
      { name: 'lockdown', content: `mount -t securityfs none /sys/kernel/security 2>/dev/null\necho confidentiality > /sys/kernel/security/lockdown\n${run(base('fs/proc/version.o'))}` },
    ],
    timeoutMs: 300_000,
  });
}, 600_000);

describe('the live kernel in the guest, through /proc/kcore', () => {
  it('boots and runs every script', () => {
    expect(guest.problems).toEqual([]);
    expect(guest.scripts.map((s) => s.exitCode)).toEqual([0, 0, 0, 0]);
  });

  it('every function of the pristine objects matches the running kernel (init code skipped, weak overrides noted)', () => {
    expect(output('match')).toContain('exit=0');
    const all = reports('match');
    expect(all.map((r) => r.object)).toEqual(OBJECTS.map(base));
    for (const r of all) {
      console.log(`live ${r.object}: ${JSON.stringify(r.statuses)} of ${r.total}; patched sites ${JSON.stringify(r.patched)}; _text ${r.text}`);
      expect(r.failures).toEqual([]);
      expect(r.ok).toBe(true);
    }
    const core = all[0];
    expect(core.statuses.matched).toBeGreaterThan(390);
    expect(core.patched.fentry).toBeGreaterThan(200); // ftrace_init() made every fentry call a nop
    expect(core.text).not.toBe('0xffffffff81000000'); // KASLR moved the kernel
  });

  it('not root: one line naming it', () => {
    expect(errorLine('not-root')).toBe('/proc/kallsyms shows only zero addresses: reading the live kernel needs root (running as uid 1000)');
  });

  it('kptr_restrict=2: one line naming it', () => {
    expect(errorLine('kptr-restrict')).toMatch(/^\/proc\/kallsyms shows only zero addresses: kernel\.kptr_restrict=2 hides them even from root/);
  });

  it('lockdown confidentiality: one line naming it', () => {
    expect(errorLine('lockdown')).toBe('/proc/kcore: kernel lockdown is in confidentiality mode, which forbids reading kernel memory (boot with lockdown=integrity or none)');
  });
});
