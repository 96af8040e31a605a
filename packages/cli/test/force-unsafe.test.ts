// KPATCH_FORCE_UNSAFE at apply time: what a blocker's stack says, and which updates ask for forcing at all.
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@hotsplice/link';
import { stackFunctions } from '../src/target/blockers';
import { ForceUnsafe } from '../src/target/force-unsafe';

describe('force-unsafe functions at apply', () => {
  it('reads the function names of /proc/PID/stack', () => {
    // A `sleep` task's stack in the 6.1 guest, as proc_pid_stack prints it (kernel/stacktrace.c format).
    const stack = [
      '[<0>] do_nanosleep+0x6d/0x1a0',
      '[<0>] hrtimer_nanosleep+0xbb/0x180',
      '[<0>] common_nsleep+0x40/0x50',
      '[<0>] __x64_sys_clock_nanosleep+0xbc/0x130',
      '[<0>] do_syscall_64+0x58/0xc0',
      '[<0>] entry_SYSCALL_64_after_hwframe+0x64/0xce',
      '',
    ].join('\n');
    expect(stackFunctions(stack)).toEqual(['do_nanosleep', 'hrtimer_nanosleep', 'common_nsleep', '__x64_sys_clock_nanosleep', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']);
    expect(stackFunctions('')).toEqual([]);
  });

  it('is only armed for an update that marks a function force-unsafe', () => {
    const manifest = (forceUnsafe?: true) =>
      ({ objects: [{ objname: 'vmlinux', functions: [{ name: 'do_nanosleep', sympos: 0, object: 'kernel/time/hrtimer.o', newSymbol: 'n', ...(forceUnsafe ? { forceUnsafe } : {}) }] }] }) as unknown as Manifest;
    expect(ForceUnsafe.of(manifest())).toBeUndefined();
    const armed = ForceUnsafe.of(manifest(true));
    expect(armed).toBeInstanceOf(ForceUnsafe);
    expect(armed!.describe('fix')).toBeUndefined();
  });
});
