// The differ against the fixture corpus: for every case, diff the pre and post kernel objects and compare the
// report with the case's expect.json (exact sets). Skipped, with a message, while the differ is not exported.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SHT_RELA, parseElf, type ElfObject } from '@hotsplice/elf';
import type { DiffOptions, DiffResult } from '../../src';
import * as objdiff from '../../src';
import { type FixtureCase, compileAll, loadCases } from '../helpers/fixtures';
import { useKernel } from '../helpers/kernel-cc';

type DiffObjects = (pre: ElfObject, post: ElfObject, options: DiffOptions) => DiffResult;
const diffObjects = (objdiff as unknown as { diffObjects?: DiffObjects }).diffObjects;
const suite = typeof diffObjects === 'function' ? describe : describe.skip;
if (typeof diffObjects !== 'function') console.warn('objdiff fixtures: skipped, packages/objdiff/src does not export diffObjects yet');

const kernel = inject('kernel');
const cases = loadCases();
const sorted = (names: readonly string[] | undefined) => [...(names ?? [])].sort();

suite('objdiff on the fixture corpus (Debian kernel objects)', () => {
  const objects = new Map<string, { pre: ElfObject; post: ElfObject }>();

  beforeAll(async () => {
    useKernel(kernel);
    const started = Date.now();
    const compiled = await compileAll(cases);
    console.log(`objdiff fixtures: ${cases.length * 2} objects ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const c of cases) {
      const o = compiled.get(c.name)!;
      const [pre, post] = await Promise.all([readFile(o.pre), readFile(o.post)]);
      objects.set(c.name, { pre: parseElf(pre), post: parseElf(post) });
    }
  });

  it.each(cases.map((c) => [c.name, c] as [string, FixtureCase]))('%s', (name, c) => {
    const { pre, post } = objects.get(name)!;
    const e = c.expect;
    const objname = e.objname ?? 'vmlinux';
    const { report, newCode } = diffObjects!(pre, post, { object: `${name}.o`, objname });
    const summary = JSON.stringify({ changed: report.changed, new: report.new, newData: report.newData, refused: report.refused, promoted: report.promoted });
    expect(report.object, summary).toBe(`${name}.o`);
    expect(report.objname, summary).toBe(objname);
    expect(sorted(report.changed), summary).toEqual(sorted(e.changed));
    expect(sorted(report.new), summary).toEqual(sorted(e.new));
    expect(sorted(report.newData), summary).toEqual(sorted(e.newData));
    expect(sorted(report.refused.map((r) => r.symbol)), summary).toEqual(sorted(e.refused));
    expect(sorted(report.promoted?.map((p) => p.function)), summary).toEqual(sorted(e.promoted));
    // Every reference of the new code resolves: no local label (.LCn) left undefined for modpost to trip over.
    if (newCode) expect(parseElf(newCode).symbols.filter((sym) => sym.rawShndx === 0 && sym.name.startsWith('.L')).map((sym) => sym.name)).toEqual([]);
    // No two relocations write one place: the module loader refuses a field that is not zero when it relocates it
    // (arch/x86/kernel/module.c: "invalid relocation target, existing value is nonzero").
    if (newCode) {
      const elf = parseElf(newCode);
      const places = elf.sections.filter((x) => x.type === SHT_RELA).flatMap((x) => (elf.relocations.get(x.index) ?? []).map((r) => `${x.info}:${r.offset}`));
      expect(places.filter((p, i) => places.indexOf(p) !== i)).toEqual([]);
    }
    if (e.refusedReason) {
      for (const r of report.refused) expect(r.reason.toLowerCase(), `reason for ${r.symbol}`).toContain(e.refusedReason.toLowerCase());
    }
  });
});
