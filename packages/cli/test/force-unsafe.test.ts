// KPATCH_FORCE_UNSAFE at apply time: which updates ask for forcing, and which blockers allow it.
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@hotsplice/link';
import { type Blocker, describeBlockers } from '../src/target/blockers';
import { ForceUnsafe } from '../src/target/force-unsafe';

const manifest = (forceUnsafe?: true) =>
  ({ objects: [{ objname: 'vmlinux', functions: [{ name: 'do_nanosleep', sympos: 0, object: 'kernel/time/hrtimer.o', newSymbol: 'n', ...(forceUnsafe ? { forceUnsafe } : {}) }] }] }) as unknown as Manifest;
const sleeper: Blocker = { pid: 88, comm: 'sleep', state: 'S', why: 'sleeping on do_nanosleep', function: 'do_nanosleep' };

describe('force-unsafe functions at apply', () => {
  it('is only armed for an update that marks a function force-unsafe', () => {
    expect(ForceUnsafe.of(manifest())).toBeUndefined();
    expect(ForceUnsafe.of(manifest(true))).toBeInstanceOf(ForceUnsafe);
  });

  it('leaves a transition alone while a blocker is not in a force-unsafe function, or livepatch has not said where', async () => {
    const force = ForceUnsafe.of(manifest(true))!;
    const running: Blocker = { pid: 9, comm: 'node', state: 'R', why: 'running' };
    await force.consider('m', [sleeper, running]);
    await force.consider('m', [{ ...sleeper, why: undefined, function: undefined }]);
    await force.consider('m', []);
    expect(force.forced).toBeUndefined();
    expect(force.describe('fix')).toBeUndefined();
  });

  it('says who held the transition', () => {
    const more = Array.from({ length: 5 }, (_, i) => ({ ...sleeper, pid: 100 + i }));
    expect(describeBlockers([sleeper])).toBe('sleep[88] S sleeping on do_nanosleep');
    expect(describeBlockers(more)).toBe('sleep[100] S sleeping on do_nanosleep; sleep[101] S sleeping on do_nanosleep; sleep[102] S sleeping on do_nanosleep; sleep[103] S sleeping on do_nanosleep; and 1 more');
  });
});
