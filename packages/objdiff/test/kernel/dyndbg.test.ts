// pr_debug descriptors (struct _ddebug in __dyndbg) in changed functions: the new code carries its own copy, with
// the new line, its static key and its jump entry pointing at that copy; the originals are never klp-referenced.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { diffObjects } from '../../src';
import { loadCases } from '../helpers/fixtures';
import { compileCached, useKernel } from '../helpers/kernel-cc';
import { ReadelfObject } from '../helpers/readelf';

const kernel = inject('kernel');
const cases = new Map(loadCases().map((c) => [c.name, c]));

async function diffSources(name: string, pre: string, post: string, module?: string) {
  const [a, b] = await Promise.all([compileCached(pre, name, { module }), compileCached(post, name, { module })]);
  const [preElf, postElf] = await Promise.all([readFile(a), readFile(b)].map(async (p) => parseElf(await p)));
  const result = diffObjects(preElf, postElf, { object: `${name}.o`, objname: module ?? 'vmlinux' });
  expect(result.report.refused).toEqual([]);
  const file = join(await mkdtemp(join(tmpdir(), 'hs-dyndbg-')), 'new.o');
  await writeFile(file, result.newCode!);
  return { report: result.report, elf: await ReadelfObject.read(file) };
}

/** The descriptor's line number (bits 0..17 of the word at +32, include/linux/dynamic_debug.h). */
const lineOf = (elf: ReadelfObject, at: number) => elf.sectionBytes('__dyndbg').readUInt32LE(at + 32) & 0x3ffff;

describe('pr_debug descriptors of changed functions', () => {
  beforeAll(() => useKernel(kernel));

  for (const [name, objname] of [['dyndbg-in-changed', 'vmlinux'], ['dyndbg-module-changed', 'hs_dbgmod']] as const) {
    it(`${name}: the new code carries the descriptor, its line and its jump entry (${objname})`, async () => {
      const c = cases.get(name)!;
      const { report, elf } = await diffSources(name, c.pre, c.post, c.module);
      expect(report.changed).toEqual(['hs_dbg_scale']);
      const descriptors = elf.symbols.filter((s) => s.name.startsWith('__UNIQUE_ID_ddebug'));
      expect(descriptors.map((s) => [s.section, s.size])).toEqual([['__dyndbg', 56]]);
      expect(elf.section('__dyndbg')!.size).toBe(56);
      // post.c line 11: `pr_debug("hs_dbg: scale %d\n", v);` after the added `v += 1;`.
      expect(lineOf(elf, descriptors[0]!.value)).toBe(c.post.split('\n').findIndex((l) => l.includes('scale %d')) + 1);
      expect(elf.symbols.filter((s) => s.name.startsWith('.klp.sym.')).map((s) => s.name)).toEqual([]);
      // The jump entry's key field (+8) points into the copy: its key is the update module's own.
      const keys = (elf.relocations.get('__jump_table') ?? []).filter((r) => r.offset % 16 === 8);
      expect(keys.map((r) => r.symbol)).toEqual([descriptors[0]!.name]);
      // &descriptor.key (+40) + 2: arch/x86/include/asm/jump_label.h writes `key + (2 | branch)`, branch 0 (unlikely).
      expect(keys[0]!.addend).toBe(42);
    });
  }

  it('a pr_debug whose format changed changes its function (the descriptor is no changed data)', async () => {
    const c = cases.get('dyndbg-line-shift')!;
    const post = c.pre.replace('"hs_dbg: shift %d\\n"', '"hs_dbg: shift by %d\\n"');
    const { report, elf } = await diffSources('dyndbg-format', c.pre, post);
    expect(report.changed).toEqual(['hs_dbg_shift']);
    const strings = elf.sections.filter((s) => /\.str1\.\d+$/.test(s.name)).map((s) => elf.sectionBytes(s.name).toString('latin1'));
    expect(strings.join('')).toContain('hs_dbg: shift by %d');
    // The copy's `function` field (+8) names a copied "hs_dbg_shift", not the original through a klp relocation.
    expect(elf.symbols.filter((s) => s.name.startsWith('.klp.sym.')).map((s) => s.name)).toEqual([]);
    const fn = elf.relocations.get('__dyndbg')!.find((r) => r.offset === 8)!;
    expect(fn.symbol).toMatch(/^__func__\.\d+$/);
  });
});
