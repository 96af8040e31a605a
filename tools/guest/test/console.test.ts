import { describe, expect, it } from 'vitest';
import { parseConsole } from '../src/console';

const CLEAN = `[    4.366040] Run /init as init process
@@HOTSPLICE:BOOTED 4.51@@
@@HOTSPLICE:BEGIN:01-uname@@
6.1.0-56-amd64
@@HOTSPLICE:END:01-uname:0@@
@@HOTSPLICE:BEGIN:02-check@@
WARNING: this line is the script's own output, not the kernel's
expected failure
@@HOTSPLICE:END:02-check:3@@
@@HOTSPLICE:DMESG@@
[    0.000000] Linux version 6.1.0-56-amd64
[    5.100000] livepatch: enabling patch 'hotsplice_smoke'
@@HOTSPLICE:DMESG-END@@
@@HOTSPLICE:DONE@@
[    7.723863] reboot: Power down
`;

describe('console marker parsing', () => {
  it('splits scripts, exit codes, boot time and the kernel log', () => {
    const r = parseConsole(CLEAN);
    expect(r.guestBootSeconds).toBe(4.51);
    expect(r.scripts).toEqual([
      { name: '01-uname', exitCode: 0, output: '6.1.0-56-amd64\n' },
      {
        name: '02-check',
        exitCode: 3,
        output: "WARNING: this line is the script's own output, not the kernel's\nexpected failure\n",
      },
    ]);
    expect(r.dmesg.split('\n')).toHaveLength(2);
    expect(r.completed).toBe(true);
    expect(r.problems).toEqual([]);
  });

  it('finds a WARNING in the kernel log dump', () => {
    const text = CLEAN.replace(
      '[    5.100000] livepatch',
      '[    5.000000] ------------[ cut here ]------------\n[    5.000001] WARNING: CPU: 0 PID: 1 at kernel/foo.c:12 foo+0x1/0x2\n[    5.100000] livepatch',
    );
    expect(parseConsole(text).problems).toEqual([
      '[    5.000000] ------------[ cut here ]------------',
      '[    5.000001] WARNING: CPU: 0 PID: 1 at kernel/foo.c:12 foo+0x1/0x2',
    ]);
  });

  it('finds an oops and panic printed on the console in the middle of a script that never ended', () => {
    const text = `@@HOTSPLICE:BOOTED 4.4@@
@@HOTSPLICE:BEGIN:01-crash@@
before
[    6.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000
[    6.000100] Oops: 0002 [#1] PREEMPT SMP NOPTI
[    6.100000] Kernel panic - not syncing: Fatal exception
`;
    const r = parseConsole(text);
    expect(r.scripts).toEqual([{ name: '01-crash', exitCode: null, output: expect.stringContaining('before\n') }]);
    expect(r.completed).toBe(false);
    expect(r.problems).toHaveLength(3);
    expect(r.problems[1]).toContain('Oops: 0002');
  });
});
