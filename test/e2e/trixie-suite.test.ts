// The patch suite on trixie's newest 6.12, sized for CI: one case of each kind the issue names (a module, `.sched.text`,
// a shadow variable, callbacks, a header change, a refusal) and two that only 6.12's objects made fail (same-named
// statics of two inode.c objects; a notrace body whose padding entry looked like a use), built for that ABI in its
// gcc-14 build root with each case's 6.12 patch where 6.1's does not apply, then applied, checked and undone alone
// and stacked in ONE boot of the trixie kernel. The whole suite runs on trixie with HOTSPLICE_ABI=<its ABI> and patch-suite.test.ts.
import { expect, inject, it } from 'vitest';
import { loadCases } from './suite/cases';
import { describeSuite } from './suite/suite';

const trixie = inject('trixie');
/** What each case stands for; the names are the corpus folders. */
const CHOSEN: Record<string, string> = {
  '06-sched-text-nanosleep': '.sched.text',
  '08-shadow-task': 'shadow variable',
  '09-callbacks': 'callbacks',
  '11-module-before-dummy': 'module',
  '12-header-inline-inotify': 'header change',
  '13-warn-once-proc-options': 'same-named statics of two inode.c objects',
  '14-refuse-global-initializer': 'refusal',
  '17-notrace-syscall-body-sysinfo': 'notrace body carried by its callers (CALL_PADDING)',
};
const cases = loadCases(trixie.series).filter((c) => c.name in CHOSEN);

it('runs one case of each kind, with 6.12 patches where the 6.1 ones do not apply', () => {
  expect(trixie.series).toBe('6.12');
  expect(cases.map((c) => c.name)).toEqual(Object.keys(CHOSEN));
  expect(cases.find((c) => c.name === '08-shadow-task')!.patch).toMatch(/\/fix-6\.12\.patch$/);
  expect(cases.filter((c) => c.skip)).toEqual([]);
});

describeSuite(`the patch suite on trixie's ${trixie.abi} in one guest boot`, { kernel: trixie, cases, replaceAndStall: false });
