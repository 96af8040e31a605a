import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { diffObjects } from '@hotsplice/objdiff';
import { buildPrePost, cmdFileOf, lineMapFromPatch, parseKbuildCmd } from '@hotsplice/tree';
import { type FunctionMatch, VmlinuxSource, assertMatched, matchObject } from '../../src';
import { buildPristineObjects } from '../helpers/real-objects';

// Run-pre at build time: objects rebuilt from the pristine Debian tree must equal the shipped -dbg vmlinux,
// function by function (design.md §4, §6); a differently compiled object must not.
const kernel = inject('kernel');
const OBJECTS = ['kernel/sched/core.o', 'kernel/exit.o', 'kernel/fork.o', 'kernel/time/timer.o', 'mm/filemap.o', 'fs/proc/meminfo.o', 'fs/proc/version.o'];
const PATCHES = join(__dirname, '..', '..', '..', '..', 'bench', 'patches');
const work = mkdtempSync(join(tmpdir(), 'hs-runpre-kernel-'));
let source: VmlinuxSource;

beforeAll(async () => {
  source = new VmlinuxSource(kernel.vmlinux, kernel.systemMap);
  await buildPristineObjects(kernel, OBJECTS, join(work, 'pre'));
});
afterAll(() => source?.close());

const notMatched = (fs: FunctionMatch[]) => fs.filter((f) => f.status !== 'matched');

describe('pre objects of the pristine tree match the -dbg vmlinux', () => {
  it.each(OBJECTS)('%s: every function matches (weak definitions overridden elsewhere aside)', async (object) => {
    const report = await matchObject(parseElf(readFileSync(join(work, 'pre', object))), source, { object, allowOverriddenWeak: true });
    const failed = notMatched(report.functions).filter((f) => f.status !== 'overridden');
    expect(failed.map((f) => f.name)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.matched).toBeGreaterThan(0);
    for (const f of report.functions) {
      if (f.status !== 'matched') continue;
      expect(f.address).toBe(source.addressOf(f.name, f.sympos)); // sympos names the matched copy
      expect(f.patchedSites).toEqual([]); // the file holds fentry calls and original alternatives: nothing patched
    }
    console.log(`${object}: ${report.matched}/${report.functions.length} matched, ${report.functions.length - report.matched} overridden weak, ${report.resolved.length} locals resolved, ${report.functions.reduce((n, f) => n + (f.status === 'matched' ? f.unchecked.length : 0), 0)} unchecked fields`);
  });

  it('kernel/sched/core.o: 409 functions, do_sched_yield at its System.map address, identical inline copies settled', async () => {
    const report = await matchObject(parseElf(readFileSync(join(work, 'pre', 'kernel/sched/core.o'))), source, { object: 'core.o' });
    expect(report.functions.length).toBe(409);
    expect(report.matched).toBe(409);
    expect(report.functions.find((f) => f.name === 'do_sched_yield')).toMatchObject({ status: 'matched', address: source.addressOf('do_sched_yield'), sympos: 0 });
    // cpumask_weight: an out-of-line copy of a static inline in many objects, byte-identical; ours is the one
    // core.o's own calls reach (or, failing that, the one lying in core.o's text).
    const copy = report.functions.find((f) => f.name === 'cpumask_weight');
    expect(copy).toMatchObject({ status: 'matched', candidates: 16 });
    expect(copy?.status === 'matched' && copy.resolvedBy).not.toBe('bytes');
    expect(copy?.status === 'matched' && copy.sympos).toBeGreaterThan(0);
  });

  it('fs/proc/meminfo.o: the weak arch_report_meminfo is overridden by arch/x86 and reported so', async () => {
    const report = await matchObject(parseElf(readFileSync(join(work, 'pre', 'fs/proc/meminfo.o'))), source, { object: 'fs/proc/meminfo.o' });
    expect(report.functions.find((f) => f.name === 'arch_report_meminfo')).toMatchObject({ status: 'overridden', address: source.addressOf('arch_report_meminfo') });
    expect(report.ok).toBe(false);
    expect(() => assertMatched(report)).toThrow(/^run-pre: arch_report_meminfo \(fs\/proc\/meminfo.o\) is a weak definition the kernel does not run/);
  });
});

describe('the old-code object of a real patch', () => {
  it('sched-yield.patch: yield\'s pre code matches vmlinux', async () => {
    const text = readFileSync(join(PATCHES, 'sched-yield.patch'), 'utf8');
    const object = 'kernel/sched/core.o';
    await buildPrePost(kernel, [{ name: 'sched-yield.patch', text }], [object], join(work, 'yield'));
    const read = (side: string) => parseElf(readFileSync(join(work, 'yield', side, object)));
    const { oldCode } = diffObjects(read('pre'), read('post'), { object, lineMap: lineMapFromPatch(text, 'kernel/sched/core.c') });
    const report = await matchObject(parseElf(oldCode!), source, { object: `old code of ${object}` });
    expect(report.functions.map((f) => f.name)).toContain('yield');
    expect(notMatched(report.functions)).toEqual([]);
    expect(report.functions.find((f) => f.name === 'yield')).toMatchObject({ status: 'matched', address: source.addressOf('yield') });
  });
});

describe('a wrongly built object fails, naming the first differing function and offset', () => {
  it('kernel/exit.o compiled with -O1 instead of -O2', async () => {
    const object = 'kernel/exit.o';
    const cmd = parseKbuildCmd(readFileSync(join(work, 'pre', cmdFileOf(object)), 'utf8'));
    expect(cmd.cflags).toContain('-O2');
    const out = join(work, 'exit-O1.o');
    const defines = ['-DKBUILD_MODFILE="kernel/exit"', '-DKBUILD_BASENAME="exit"', '-DKBUILD_MODNAME="exit"', '-D__KBUILD_MODNAME=kmod_exit'];
    execFileSync(cmd.cc, [...cmd.cflags.map((f) => (f === '-O2' ? '-O1' : f)), ...defines, '-c', '-o', out, 'kernel/exit.c'], { cwd: kernel.sourceTree, stdio: 'pipe' });
    if (cmd.objtool) execFileSync(join(kernel.sourceTree, cmd.objtool), [...cmd.objtoolArgs, out], { cwd: kernel.sourceTree, stdio: 'pipe' });

    const report = await matchObject(parseElf(readFileSync(out)), source, { object: 'kernel/exit.o (-O1)' });
    expect(report.ok).toBe(false);
    const first = report.functions.find((f) => f.status === 'mismatch');
    expect(first).toBeDefined();
    if (first?.status !== 'mismatch') return;
    expect(first.difference.expected).not.toBe(first.difference.actual);
    let message = '';
    try {
      assertMatched(report);
    } catch (e) {
      message = (e as Error).message;
    }
    const failed = report.functions.find((f) => f.status !== 'matched')!;
    expect(message).toMatch(new RegExp(`^run-pre: ${failed.name.replace(/\./g, '\\.')} \\(kernel/exit\\.o \\(-O1\\)\\) `));
    expect(message.split('\n')).toHaveLength(1);
    console.log(`-O1 exit.o: ${report.matched}/${report.functions.length} still match; first failure: ${message}`);
  });
});
