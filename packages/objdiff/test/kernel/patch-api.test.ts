// What a patch tells the differ through <linux/hotsplice.h> and kpatch-macros.h: callbacks (with or without the klp
// object), changes to leave out, functions marked force-unsafe.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { diffObjects } from '../../src';
import { compileCase, loadCases } from '../helpers/fixtures';
import { useKernel } from '../helpers/kernel-cc';

const kernel = inject('kernel');
const cases = new Map(loadCases().map((c) => [c.name, c]));

describe('the patch API in the post object', () => {
  beforeAll(() => useKernel(kernel));

  it('kpatch-macros.h: an ignored side effect stays out, a force-unsafe function is named, the callback takes the object', async () => {
    const objects = await compileCase(cases.get('kpatch-markers')!);
    const [pre, post] = await Promise.all([readFile(objects.pre), readFile(objects.post)]);
    const { report, newCode } = diffObjects(parseElf(pre), parseElf(post), { object: 'kpatch-markers.o' });
    expect(report.refused).toEqual([]);
    expect(report.ignored).toEqual(['hs_mark_noise']);
    expect(report.symbols.find((s) => s.name === 'hs_mark_noise')).toMatchObject({ status: 'unchanged', reason: 'changed, ignored by the patch (hotsplice_ignore_function)' });
    expect(report.forced).toEqual(['hs_mark_poll']);
    expect(report.callbacks).toEqual([{ kind: 'pre_patch', function: 'hs_mark_ready', newSymbol: '__hotsplice_vmlinux__pre_patch__hs_mark_ready', takesObject: true }]);
    // The registrations themselves (.hotsplice.* data) are not part of the new code; the callback is, under its alias.
    const symbols = parseElf(newCode!).symbols.map((s) => s.name);
    expect(symbols).toContain('__hotsplice_vmlinux__pre_patch__hs_mark_ready');
    expect(symbols.filter((n) => /__hotsplice_(ignore|force)|__hotsplice_pre_patch_hs_mark_ready/.test(n))).toEqual([]);
    expect(symbols).not.toContain('hs_mark_noise');
  });
});
