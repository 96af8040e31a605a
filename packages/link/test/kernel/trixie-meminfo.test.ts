// e2e case 02 (a /proc/meminfo field) on trixie's 6.12: fs/proc/meminfo.o's meminfo_proc_show has alternatives whose
// replacements jump back into it (.altinstr_replacement, .altinstr_aux: relocations against the function's section).
// The differ copies those sections whole; the 6.12 guest found them written without their relocations (`jmp +5`),
// so objtool's link-time pass of the old code stopped at a fatal warning, exited 0 and wrote no tables, and run-pre
// refused the live kernel's `ret` where the old code had a return thunk jump.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ElfObject, ObjectBuilder, SHN_UNDEF, parseElf } from '@hotsplice/elf';
import { type DiffReport, diffObjects, parseSymvers, readParent } from '@hotsplice/objdiff';
import { buildPrePost, lineMapFromPatch } from '@hotsplice/tree';
import { linkModule, linkOldCode } from '../../src';
import { sections } from '../helpers/toolchain';

const kernel = inject('trixie');
const OBJECT = 'fs/proc/meminfo.o';
const PATCH = join(__dirname, '..', '..', '..', '..', 'test', 'e2e', 'patches', '02-meminfo-field', 'fix.patch');
const COPIED = ['.altinstr_replacement', '.altinstr_aux'];

let dir: string;
let pre: ElfObject;
let post: ElfObject;
let newCode: Buffer;
let oldCode: Buffer;
let report: DiffReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hs-trixie-meminfo-'));
  const text = readFileSync(PATCH, 'utf8');
  await buildPrePost(kernel, [{ name: 'fix.patch', text }], [OBJECT], dir);
  pre = parseElf(readFileSync(join(dir, 'pre', OBJECT)));
  post = parseElf(readFileSync(join(dir, 'post', OBJECT)));
  const diffed = diffObjects(pre, post, {
    object: OBJECT,
    parent: readParent(kernel.vmlinux),
    exported: parseSymvers(readFileSync(kernel.symvers, 'utf8')),
    lineMap: lineMapFromPatch(text, 'fs/proc/meminfo.c'),
  });
  expect(diffed.report.changed).toEqual(['meminfo_proc_show']);
  newCode = Buffer.from(diffed.newCode!);
  oldCode = Buffer.from(diffed.oldCode!);
  report = diffed.report;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Each relocation of a section as (offset, type, where it points): a defined target as its section's name and the
 * offset in it (symbol value + addend: the differ renames and moves symbols but keeps the function's section), an
 * undefined one by name.
 */
function relocationsOf(elf: ElfObject, name: string): string[] {
  const section = elf.sectionByName(name)!;
  return elf.relocationsFor(section.index).map((r) => {
    const symbol = elf.symbols[r.symbol]!;
    const target = symbol.shndx === SHN_UNDEF ? `${symbol.name}${r.addend >= 0n ? '+' : ''}${r.addend}` : `${elf.sections[symbol.shndx]!.name}+${symbol.value + r.addend}`;
    return `${r.offset} ${r.type} ${target}`;
  });
}

describe('trixie 6.12: copied .altinstr_replacement / .altinstr_aux of meminfo_proc_show', () => {
  it('keep every relocation in the new code (count and targets as in the post object)', () => {
    const written = parseElf(newCode);
    for (const name of COPIED) {
      expect(relocationsOf(post, name).length, name).toBeGreaterThan(0);
      expect(relocationsOf(written, name), name).toEqual(relocationsOf(post, name));
    }
    // The replacement's jmp back into meminfo_proc_show, and the aux's test of boot_cpu_data.
    expect(relocationsOf(written, '.altinstr_replacement')).toEqual([expect.stringMatching(/^1 2 \.text\.meminfo_proc_show\+\d+$/)]);
    expect(relocationsOf(written, '.altinstr_aux')).toContainEqual(expect.stringMatching(/^2 2 boot_cpu_data\+\d+$/));
  });

  it('keep every relocation in the old code (count and targets as in the pre object)', () => {
    const written = parseElf(oldCode);
    for (const name of COPIED) expect(relocationsOf(written, name), name).toEqual(relocationsOf(pre, name));
  });

  it('give the old code the kernel link\'s objtool tables (the pass does not stop)', async () => {
    const out = join(dir, 'old-code.o');
    await linkOldCode([{ path: await written('old.o', oldCode), object: OBJECT }], out, kernel);
    const names = sections(out).map((s) => s.name);
    for (const table of ['.orc_unwind_ip', '.return_sites', '.call_sites']) expect(names).toContain(table);
  });
});

describe('trixie 6.12: objtool stopping at a fatal warning (exit 0, no tables)', () => {
  const STOP = ".altinstr_replacement+0x0: can't find jump dest instruction at .altinstr_replacement+0x5";

  /** The code as the differ wrote it before its fix: the copied sections without their relocations. */
  function withoutCopiedRelocations(code: Buffer): Buffer {
    const b = ObjectBuilder.fromElf(parseElf(code));
    for (const rela of b.relaSections.filter((r) => COPIED.includes(r.target.name))) rela.relocations.length = 0;
    return b.toBuffer();
  }

  it('refuses the old code in one line naming the object and objtool\'s message', async () => {
    const broken = await written('old-no-relocs.o', withoutCopiedRelocations(oldCode));
    const error = await linkOldCode([{ path: broken, object: OBJECT }], join(dir, 'refused.o'), kernel).then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('UserError');
    expect(error?.message).toBe(`objtool (as at the kernel's link) wrote no .orc_unwind_ip, .return_sites for the old code of ${OBJECT}: ${STOP}`);
  });

  it('refuses the update module whose link-time pass (kbuild, --link --module) stopped, with objtool\'s message', async () => {
    // The loader's indirect calls owe retpoline sites too.
    const broken = await written('new-no-relocs.o', withoutCopiedRelocations(newCode));
    const link = linkModule({ id: 'meminfo_stopped', kernel, newCodeObjects: [{ path: broken, report }], workDir: join(dir, 'link-stopped') });
    const error = await link.then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('UserError');
    expect(error?.message).toBe(`objtool (as at the kernel's link) wrote no .orc_unwind_ip, .return_sites, .retpoline_sites for the update module meminfo_stopped.ko: ${STOP}`);
  });
});

async function written(name: string, bytes: Buffer): Promise<string> {
  await writeFile(join(dir, name), bytes);
  return join(dir, name);
}
