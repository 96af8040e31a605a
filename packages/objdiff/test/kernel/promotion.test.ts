// Changed notrace functions carried by their traceable callers: what the new code holds (readelf as the oracle).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { diffObjects } from '../../src';
import { compileCase, loadCases } from '../helpers/fixtures';
import { useKernel } from '../helpers/kernel-cc';
import { ReadelfObject } from '../helpers/readelf';

const kernel = inject('kernel');
const cases = new Map(loadCases().map((c) => [c.name, c]));

async function diffCase(name: string) {
  const objects = await compileCase(cases.get(name)!);
  const [pre, post] = await Promise.all([readFile(objects.pre), readFile(objects.post)]);
  const result = diffObjects(parseElf(pre), parseElf(post), { object: `${name}.o` });
  expect(result.report.refused).toEqual([]);
  const dir = await mkdtemp(join(tmpdir(), 'hs-promote-'));
  await Promise.all([writeFile(join(dir, 'new.o'), result.newCode!), writeFile(join(dir, 'old.o'), result.oldCode!)]);
  return { report: result.report, newCode: await ReadelfObject.read(join(dir, 'new.o')), oldCode: await ReadelfObject.read(join(dir, 'old.o')) };
}

describe('notrace functions promoted to their callers', () => {
  beforeAll(() => useKernel(kernel));

  it('a SYSCALL_DEFINE body: the wrappers are patched and jump into the new body, which the update carries', async () => {
    const { report, newCode, oldCode } = await diffCase('syscall-define-body');
    expect(report.patched.map((p) => p.oldName).sort()).toEqual(['__ia32_sys_hs_probe', '__x64_sys_hs_probe']);
    expect(report.promoted).toEqual([{ function: '__do_sys_hs_probe', calledBy: ['__ia32_sys_hs_probe', '__x64_sys_hs_probe'], siblingCalled: true }]);
    // The body is a local function of the new code, not a patched one and not a klp reference to the original.
    const body = newCode.symbols.find((s) => s.name === '__do_sys_hs_probe')!;
    expect([body.type, body.bind, body.section]).toEqual(['FUNC', 'LOCAL', '.text.__do_sys_hs_probe']);
    expect(newCode.symbols.filter((s) => s.name.startsWith('.klp.sym.')).map((s) => s.name)).not.toContain('.klp.sym.vmlinux.__do_sys_hs_probe,0');
    // Each wrapper's sibling call (jmp rel32 at +0x10 / +0xf) lands on the new body.
    for (const wrapper of ['__x64_sys_hs_probe', '__ia32_sys_hs_probe']) {
      const jumps = (newCode.relocations.get(`.text.${wrapper}`) ?? []).filter((r) => r.type === 'R_X86_64_PC32' || r.type === 'R_X86_64_PLT32');
      expect(jumps.map((r) => r.symbol).filter((s) => s !== '__fentry__'), wrapper).toEqual([expect.stringMatching(/__do_sys_hs_probe/)]);
    }
    // Run-pre checks the body the kernel runs now: the old code holds the original body beside the wrappers.
    expect(oldCode.symbols.filter((s) => s.type === 'FUNC').map((s) => s.name).sort()).toEqual(['__do_sys_hs_probe', '__ia32_sys_hs_probe', '__x64_sys_hs_probe']);
  });

  it('a static notrace helper: both callers call its new copy', async () => {
    const { report, newCode } = await diffCase('notrace-static-helper');
    expect(report.changed.sort()).toEqual(['hs_ring_free', 'hs_ring_used']);
    expect(report.promoted).toEqual([{ function: 'hs_ring_scale', calledBy: ['hs_ring_free', 'hs_ring_used'], siblingCalled: false }]);
    for (const caller of ['hs_ring_free', 'hs_ring_used']) {
      const calls = (newCode.relocations.get(`.text.${caller}`) ?? []).map((r) => r.symbol).filter((s) => s !== '__fentry__' && s !== '__x86_return_thunk');
      expect(calls, caller).toEqual([expect.stringMatching(/hs_ring_scale/)]);
    }
    expect(newCode.symbols.find((s) => s.name === 'hs_ring_scale')?.bind).toBe('LOCAL');
  });
});
