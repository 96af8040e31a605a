// trixie's 6.12 through the build stages, on the real kernel: gcc-14 in the trixie build root (the machine has
// gcc-12), objtool at link time (X86_KERNEL_IBT), CALL_PADDING's 16-byte function padding, 14-byte alt_instr. The
// example patch is diffed, its old code matched against the 6.12 -dbg vmlinux, linked into a livepatch module, and
// its old code given the kernel's link-time objtool pass. Each assertion is a 6.12 fact the pipeline depends on.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { compilerVersionLine, objtoolArgs, parseConfig, uncompressedModule } from '@hotsplice/kernel';
import { VmlinuxSource, matchObject } from '@hotsplice/runpre';
import { type LinkModuleResult, linkModule, linkOldCode, oldCodeAsLinked } from '../../src';
import { diffObjects, parseSymvers, readParent } from '@hotsplice/objdiff';
import { buildPrePost, lineMapFromPatch } from '@hotsplice/tree';
import { type BuiltExample, EXAMPLE_ID, EXAMPLE_OBJECT, diffExample } from '../helpers/example';
import { sections, symbols } from '../helpers/toolchain';

const kernel = inject('trixie');

let dir: string;
let example: BuiltExample;
let linked: LinkModuleResult;
let oldCode: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hs-trixie-'));
  example = await diffExample(kernel, join(dir, 'objects'));
  linked = await linkModule({ id: EXAMPLE_ID, kernel, newCodeObjects: [{ path: example.newCode, report: example.report }], workDir: join(dir, 'link') });
  oldCode = join(dir, 'old-code.o');
  await linkOldCode([{ path: example.oldCode, object: EXAMPLE_OBJECT }], oldCode, kernel);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('trixie 6.12: the kernel and its toolchain', () => {
  it('is built by gcc-14 in the trixie build root, not by the machine’s compiler', async () => {
    expect(kernel.suite).toBe('trixie');
    expect(kernel.compiler).toBe('x86_64-linux-gnu-gcc-14');
    expect(kernel.buildRoot).toMatch(/\/buildroot\/trixie-[0-9a-f]{12}$/);
    expect(await compilerVersionLine(kernel)).toBe(kernel.compilerVersion);
    expect(kernel.compilerVersion).toMatch(/^x86_64-linux-gnu-gcc-14 \(Debian 14\.2\.0-\d+\) 14\.2\.0$/);
  });

  it('runs objtool at link time with the arguments its config gives (scripts/Makefile.lib)', () => {
    const config = parseConfig(readFileSync(kernel.config, 'utf8'));
    expect(objtoolArgs(config, false)).toEqual([
      '--hacks=jump_label',
      '--hacks=noinstr',
      '--hacks=skylake',
      '--ibt',
      '--orc',
      '--retpoline',
      '--rethunk',
      '--sls',
      '--static-call',
      '--uaccess',
      '--prefix=16',
      '--link',
    ]);
  });
});

describe('trixie 6.12: the example patch', () => {
  it('changes exactly version_proc_show; the pre object has no objtool tables (objtool runs at vmlinux link)', () => {
    expect(example.report.changed).toEqual(['version_proc_show']);
    const pre = parseElf(readFileSync(join(dir, 'objects', 'pre', EXAMPLE_OBJECT)));
    const names = pre.sections.map((s) => s.name);
    for (const table of ['.return_sites', '.call_sites', '.orc_unwind_ip', '.ibt_endbr_seal', '.parainstructions']) expect(names).not.toContain(table);
    expect(names).toContain('__patchable_function_entries');
  });

  it('copies the function with its 16 bytes of padding (NOPs), and no __patchable_function_entries', () => {
    const code = parseElf(readFileSync(example.newCode));
    const fn = code.symbols.find((s) => s.name === 'version_proc_show')!;
    expect(fn.value).toBe(16n);
    const text = code.sections[fn.shndx]!;
    expect([...code.sectionData(text.index).subarray(0, 16)]).toEqual(new Array(16).fill(0x90));
    expect([...code.sectionData(text.index).subarray(16, 20)]).toEqual([0xf3, 0x0f, 0x1e, 0xfa]); // endbr64 (IBT)
    expect(code.sections.map((s) => s.name)).not.toContain('__patchable_function_entries');
  });

  it('old code matches the 6.12 -dbg vmlinux', async () => {
    const source = new VmlinuxSource(kernel.vmlinux, kernel.systemMap);
    const report = await matchObject(parseElf(readFileSync(example.oldCode)), source, { object: EXAMPLE_OBJECT });
    expect(report.functions.map((f) => [f.name, f.status])).toEqual([['version_proc_show', 'matched']]);
  });

  it('links a module objtool processed whole: the new function has its __pfx_ symbol and ORC', () => {
    const names = sections(linked.ko).map((s) => s.name);
    for (const table of ['.orc_unwind_ip', '.return_sites', '.call_sites', '.klp.rela.vmlinux..text.version_proc_show']) expect(names).toContain(table);
    const syms = symbols(linked.ko).map((s) => s.name);
    expect(syms).toContain('__pfx_version_proc_show');
    expect(syms).toContain('.klp.sym.vmlinux.linux_proc_banner,0');
  });

  it('matches vmlinux with a jump label only as the kernel’s link left it (objtool --hacks=jump_label: jmp -> nop)', async () => {
    // e2e case 07 changes prctl_set_mm, which holds a static branch whose object code is `jmp` and vmlinux's a nop.
    const text = readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'e2e', 'patches', '07-syscall-prctl-set-mm', 'fix.patch'), 'utf8');
    const out = join(dir, 'sys');
    await buildPrePost(kernel, [{ name: 'prctl.patch', text }], ['kernel/sys.o'], out);
    const pre = readFileSync(join(out, 'pre', 'kernel', 'sys.o'));
    const { oldCode: raw } = diffObjects(parseElf(pre), parseElf(readFileSync(join(out, 'post', 'kernel', 'sys.o'))), {
      object: 'kernel/sys.o',
      parent: readParent(kernel.vmlinux),
      lineMap: lineMapFromPatch(text, 'kernel/sys.c'),
    });
    const source = new VmlinuxSource(kernel.vmlinux, kernel.systemMap);
    const before = await matchObject(parseElf(raw!), source, { object: 'kernel/sys.o', functions: ['prctl_set_mm'] });
    expect(before.functions[0]).toMatchObject({ name: 'prctl_set_mm', status: 'mismatch' });
    const failure = before.functions[0]!;
    expect(failure.status === 'mismatch' && failure.difference.reason).toMatch(/^jump-label site at \+0x[0-9a-f]+ holds neither the original nor a legal patched form/);
    const linked = await oldCodeAsLinked(kernel, Buffer.from(raw!), false, 'kernel/sys.o');
    const after = await matchObject(parseElf(linked), source, { object: 'kernel/sys.o', functions: ['prctl_set_mm'] });
    expect(after.functions.map((f) => [f.name, f.status])).toEqual([['prctl_set_mm', 'matched']]);
  });

  it('gives the old code the sites the kernel rewrites at boot: return thunk, call sites, sealed endbr', () => {
    const names = sections(oldCode).map((s) => s.name);
    for (const table of ['.return_sites', '.call_sites', '.ibt_endbr_seal', '.orc_unwind_ip']) expect(names).toContain(table);
  });
});

describe('trixie 6.12: a changed SYSCALL_DEFINE body (e2e case 17, kernel/sys.c sysinfo)', () => {
  it('is carried by its wrappers: its own __patchable_function_entries entry takes no address of it', async () => {
    const PATCH = join(__dirname, '..', '..', '..', '..', 'test', 'e2e', 'patches', '17-notrace-syscall-body-sysinfo', 'fix.patch');
    const text = readFileSync(PATCH, 'utf8');
    const out = join(dir, 'sysinfo');
    await buildPrePost(kernel, [{ name: 'fix.patch', text }], ['kernel/sys.o'], out);
    const pre = parseElf(readFileSync(join(out, 'pre', 'kernel', 'sys.o')));
    // CALL_PADDING: every function has an entry, __do_sys_sysinfo (notrace: no fentry call) too.
    expect(pre.sections.map((s) => s.name)).toContain('__patchable_function_entries');
    const { report } = diffObjects(pre, parseElf(readFileSync(join(out, 'post', 'kernel', 'sys.o'))), {
      object: 'kernel/sys.o',
      parent: readParent(kernel.vmlinux),
      lineMap: lineMapFromPatch(text, 'kernel/sys.c'),
    });
    expect(report.refused).toEqual([]);
    expect(report.promoted?.map((p) => [p.function, p.calledBy])).toEqual([['__do_sys_sysinfo', ['__ia32_sys_sysinfo', '__x64_sys_sysinfo']]]);
    expect(report.patched.map((p) => p.oldName).sort()).toEqual(['__ia32_sys_sysinfo', '__x64_sys_sysinfo']);
  });
});

describe('trixie 6.12: new code of a single-object module (drivers/net/dummy.o, e2e case 11)', () => {
  const OBJECT = 'drivers/net/dummy.o';
  const PATCH = join(__dirname, '..', '..', '..', '..', 'test', 'e2e', 'patches', '11-module-before-dummy', 'fix.patch');
  let ko: Buffer;
  let newCode: Buffer;

  beforeAll(async () => {
    const text = readFileSync(PATCH, 'utf8');
    const out = join(dir, 'dummy');
    await buildPrePost(kernel, [{ name: 'fix.patch', text }], [OBJECT], out);
    const parent = readParent(await uncompressedModule(join(kernel.modulesDir, 'kernel', 'drivers', 'net', 'dummy.ko')), 'dummy');
    const diffed = diffObjects(parseElf(readFileSync(join(out, 'pre', OBJECT))), parseElf(readFileSync(join(out, 'post', OBJECT))), {
      object: OBJECT,
      objname: 'dummy',
      parent,
      exported: parseSymvers(readFileSync(kernel.symvers, 'utf8')),
      lineMap: lineMapFromPatch(text, 'drivers/net/dummy.c'),
    });
    newCode = diffed.newCode!;
    writeFileSync(join(out, 'new.o'), newCode);
    const result = await linkModule({ id: 'dummy_stats', kernel, newCodeObjects: [{ path: join(out, 'new.o'), report: diffed.report }], workDir: join(out, 'link') });
    ko = readFileSync(result.ko);
  });

  it('comes with the tables kbuild\'s per-object objtool gave dummy.o', () => {
    const names = parseElf(newCode).sections.map((s) => s.name);
    for (const table of ['.return_sites', '.orc_unwind']) expect(names).toContain(table);
  });

  it('links a module whose every return thunk jump is a return site, the loader\'s too (objtool skips a table the object has)', () => {
    const elf = parseElf(ko);
    const sites = elf.sections.find((s) => s.name === '.return_sites')!;
    const thunk = elf.symbols.findIndex((s) => s.name === '__x86_return_thunk');
    const thunkJumps = elf.sections
      .filter((s) => s.name.startsWith('.rela.') && !s.name.endsWith('_sites'))
      .flatMap((s) => elf.relocations.get(s.index) ?? [])
      .filter((r) => r.symbol === thunk);
    expect(thunkJumps.length).toBeGreaterThan(1);
    expect(Number(sites.size) / 4).toBe(thunkJumps.length);
    // And ORC for every function of the module (the loader's included), not only dummy_get_stats64's.
    const orcIp = elf.sections.find((s) => s.name === '.orc_unwind_ip')!;
    expect(Number(orcIp.size) / 4).toBeGreaterThan(10);
  });
});
