import { describe, expect, inject, it } from 'vitest';
import { compileObjects, dryRunPlan, isUpToDate, restoreTree, journalFor, withTreeLock } from '@hotsplice/tree';
import { recordedCommand } from '../../src/fresh';

// kbuild's plan names every object of the build with its command, also one already built and up to date, whose
// rule prints no compile: on trixie's 6.12 (kbuild's `cmd` macro prints only `:` for an empty command) the plan
// missed kernel/sched/core.o and arch/x86/kernel/process_64.o, which tests had built before the plan was made.
const trixie = inject('trixie');

describe("kbuild's plan of a tree with built objects", () => {
  it('names an up-to-date object of 6.12 with its recorded command', async () => {
    const object = 'fs/proc/version.o';
    const plan = await withTreeLock(trixie.sourceTree, async () => {
      await restoreTree(trixie.sourceTree, journalFor(trixie.sourceTree));
      if (!(await isUpToDate(trixie.sourceTree, object, trixie.compiler))) await compileObjects(trixie, [object]);
      expect(await isUpToDate(trixie.sourceTree, object, trixie.compiler)).toBe(true);
      return dryRunPlan(trixie, 'fs/proc/');
    });
    expect(plan.commands[object]).toBe(await recordedCommand(trixie.sourceTree, object, trixie.compiler));
    expect(plan.commands[object]).toMatch(/^x86_64-linux-gnu-gcc-14 .* -c -o fs\/proc\/version\.o fs\/proc\/version\.c/);
    // The directory's other objects too, built or not: /proc's core is built in, all of it.
    expect(Object.keys(plan.commands).filter((o) => o.startsWith('fs/proc/')).length).toBeGreaterThan(25);
  });
});
