// The scheduler's entries on real objects of Debian's tree: `schedule`, which every sleeping task is inside, is
// refused unless the patch opts in (hotsplice_force_unsafe) and the code after each of its calls is unchanged;
// the x86 decoder that proof walks with agrees with objdump on every instruction of the objects it reads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SHF_EXECINSTR, parseElf } from '@hotsplice/elf';
import { buildPrePost } from '@hotsplice/tree';
import { diffObjects, readParent } from '../../src';
import { decode } from '../../src/x86-decode';
import { type NopSite, nopPatch } from '../../../../test/e2e/busy/nop-patch';
import { appendPatch } from '../../../../test/e2e/suite/force-unsafe';

const kernel = inject('kernel');
const CORE = 'kernel/sched/core.o';
const CORE_C = 'kernel/sched/core.c';
const OPT_IN = ['#include <linux/hotsplice.h>', 'hotsplice_force_unsafe(schedule);'];

/** Name → the sites of core.c that get a nop, and whether the patch opts schedule in. */
const VARIANTS: Record<string, { sites: NopSite[]; optIn: boolean }> = {
  plain: { sites: [{ fn: 'schedule' }], optIn: false },
  'opted-in': { sites: [{ fn: 'schedule' }], optIn: true },
  'after-the-sleep': { sites: [{ fn: 'schedule', at: 'end' }], optIn: true },
  'with-another': { sites: [{ fn: 'schedule' }, { fn: 'try_to_wake_up' }], optIn: true },
};

describe('the scheduler’s entries (sleep-held functions) on kernel/sched/core.o', () => {
  const work = mkdtempSync(join(tmpdir(), 'hs-sleep-held-'));
  let parent: ReturnType<typeof readParent>;
  const reports = new Map<string, ReturnType<typeof diffObjects>>();

  beforeAll(async () => {
    parent = readParent(kernel.vmlinux);
    for (const [name, v] of Object.entries(VARIANTS)) {
      const nop = nopPatch(kernel.sourceTree, CORE_C, v.sites);
      const patches = [{ name: `${name}.patch`, text: nop }];
      if (v.optIn) patches.push({ name: `${name}-opt-in.patch`, text: appendPatch(kernel.sourceTree, CORE_C, nop, OPT_IN) });
      await buildPrePost(kernel, patches, [CORE], join(work, name));
      const read = (side: string) => parseElf(readFileSync(join(work, name, side, CORE)));
      reports.set(name, diffObjects(read('pre'), read('post'), { object: CORE, parent }));
    }
  });

  it('refuses a change to schedule with the reason: every sleeping task stays inside it', () => {
    const { report, newCode } = reports.get('plain')!;
    expect(report.refused).toEqual([
      {
        symbol: 'schedule',
        reason: expect.stringMatching(/^every task the context switch \(__schedule\) puts to sleep through it stays inside it: kernel threads never leave it .* hotsplice_force_unsafe\(schedule\) accepts it/),
      },
    ]);
    expect(newCode).toBeUndefined();
  });

  it('accepts it when the patch opts in and the code after every call is the same: forced, sleep-held', () => {
    const { report, newCode } = reports.get('opted-in')!;
    expect(report.refused).toEqual([]);
    expect(report.changed).toEqual(['schedule']);
    expect(report.forced).toEqual(['schedule']);
    expect(report.sleepHeld).toEqual(['schedule']);
    expect(newCode).toBeDefined();
  });

  it('refuses it even opted in when the code after a call changed: a sleeper would return into different code', () => {
    const { report } = reports.get('after-the-sleep')!;
    expect(report.refused).toEqual([
      { symbol: 'schedule', reason: expect.stringMatching(/^hotsplice_force_unsafe cannot make this change safe: the code after its call to \S+ \(\+\d+\) changed/) },
    ]);
  });

  it('refuses anything else in an update that forces schedule: force switches every task of the whole patch', () => {
    const { report } = reports.get('with-another')!;
    expect(report.refused).toEqual([{ symbol: 'try_to_wake_up', reason: expect.stringMatching(/^an update that forces schedule .* may replace nothing else/) }]);
  });

  it('decodes every instruction of the objects as objdump does (length by length)', () => {
    for (const side of ['pre', 'post']) {
      const file = join(work, 'opted-in', side, CORE);
      const elf = parseElf(readFileSync(file));
      const starts = new Map<string, number[]>();
      let section = '';
      for (const line of execFileSync('objdump', ['-d', '-w', '--no-show-raw-insn', file], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n')) {
        const s = /^Disassembly of section (\S+):/.exec(line);
        if (s) starts.set((section = s[1]), []);
        const a = /^\s+([0-9a-f]+):\s/.exec(line);
        if (a && section) starts.get(section)!.push(parseInt(a[1], 16));
      }
      let checked = 0;
      for (const sec of elf.sections.filter((x) => (x.flags & SHF_EXECINSTR) !== 0n && starts.has(x.name))) {
        const data = elf.sectionData(sec.index);
        const at = starts.get(sec.name)!;
        const lengths = at.map((o, k) => (k + 1 < at.length ? at[k + 1] : data.length) - o);
        expect(at.map((o) => decode(data, o)?.length), `${side} ${sec.name}`).toEqual(lengths);
        checked += at.length;
      }
      expect(checked).toBeGreaterThan(10_000);
    }
  });
});
