// KPATCH_FORCE_UNSAFE at apply time: which updates ask for forcing, and which blockers allow it.
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@hotsplice/link';
import { type Blocker, describeBlockers } from '../src/target/blockers';
import { ForceUnsafe } from '../src/target/force-unsafe';

const manifest = (forceUnsafe?: true) =>
  ({ objects: [{ objname: 'vmlinux', functions: [{ name: 'do_nanosleep', sympos: 0, object: 'kernel/time/hrtimer.o', newSymbol: 'n', ...(forceUnsafe ? { forceUnsafe } : {}) }] }] }) as unknown as Manifest;
const control = { graceMs: 1000, timeoutMs: 60_000 };
const sleeper: Blocker = { pid: 88, comm: 'sleep', state: 'S', why: 'sleeping on do_nanosleep', function: 'do_nanosleep' };

describe('force-unsafe functions at apply', () => {
  it('is only armed for an update that marks a function force-unsafe', () => {
    expect(ForceUnsafe.of(manifest(), control)).toBeUndefined();
    expect(ForceUnsafe.of(manifest(true), control)).toBeInstanceOf(ForceUnsafe);
  });

  it('leaves a transition alone while a blocker is not in a force-unsafe function, or livepatch has not said where', async () => {
    const force = ForceUnsafe.of(manifest(true), control)!;
    const running: Blocker = { pid: 9, comm: 'node', state: 'R', why: 'running' };
    await force.consider('m', [sleeper, running], 5000);
    await force.consider('m', [{ ...sleeper, why: undefined, function: undefined }], 5000);
    await force.consider('m', [], 5000);
    expect(force.forced).toBeUndefined();
    expect(force.describe('fix')).toBeUndefined();
  });

  it('forces only a second after transition control had its grace: a signal may free the sleepers first', async () => {
    // Outside the guest the force write itself fails, which shows when it is attempted.
    const attempt = (graceMs: number, elapsedMs: number) => ForceUnsafe.of(manifest(true), { ...control, graceMs })!.consider('no_such_patch', [sleeper], elapsedMs);
    await expect(attempt(1000, 1999)).resolves.toBeUndefined();
    await expect(attempt(1000, 2000)).rejects.toThrow(/cannot write 1 to \/sys\/kernel\/livepatch\/no_such_patch\/force/);
    // Without transition control (--grace 0), after livepatch's first second as before.
    await expect(attempt(0, 999)).resolves.toBeUndefined();
    await expect(attempt(0, 1000)).rejects.toThrow(/no_such_patch\/force/);
  });

  it('says who held the transition', () => {
    const more = Array.from({ length: 5 }, (_, i) => ({ ...sleeper, pid: 100 + i }));
    expect(describeBlockers([sleeper])).toBe('sleep[88] S sleeping on do_nanosleep');
    expect(describeBlockers(more)).toBe('sleep[100] S sleeping on do_nanosleep; sleep[101] S sleeping on do_nanosleep; sleep[102] S sleeping on do_nanosleep; sleep[103] S sleeping on do_nanosleep; and 1 more');
  });
});
