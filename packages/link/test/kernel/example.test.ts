// The example patch through the link stage against the prepared Debian kernel: a livepatch .ko built by kbuild
// (modpost CRCs from Debian's Module.symvers), finalized into klp form, reproducible, and packaged.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LinkModuleResult, type PackageResult, finalizeKlp, linkModule, linkOldCode, writePackage } from '../../src';
import { type BuiltExample, EXAMPLE_ID, EXAMPLE_OBJECT, diffExample } from '../helpers/example';
import { relocations, run, sectionBytes, sections, symbols } from '../helpers/toolchain';

const kernel = inject('kernel');
const KLP_SECTION = '.klp.rela.vmlinux..text.version_proc_show';
const KLP_SYMBOL = '.klp.sym.vmlinux.linux_proc_banner,0';
/** What vmlinux's klp relocations are rebased onto (klp-anchor.ts): one short kallsyms walk each at load. */
const ANCHOR_SYMBOL = '.klp.sym.vmlinux._text,1';
/** kbuild's module in klp form, before the rebase onto _text (what linkModule does between the two). */
function finalizedOnly(): string {
  const path = join(dir, 'finalized-only.ko');
  writeFileSync(path, finalizeKlp(readFileSync(first.linked)));
  return path;
}
/** A symbol's distance from _text in the kernel's System.map (the oracle for a rebased addend). */
function fromText(name: string): bigint {
  const address = (n: string) => {
    const lines = readFileSync(kernel.systemMap, 'latin1').split('\n').filter((l) => l.endsWith(` ${n}`));
    expect(lines, n).toHaveLength(1);
    return BigInt(`0x${lines[0].split(' ')[0]}`);
  };
  return address(name) - address('_text');
}

let dir: string;
let example: BuiltExample;
let first: LinkModuleResult;
let second: LinkModuleResult;
let oldCode: string;
const packages: PackageResult[] = [];
const seconds: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    seconds[name] = (Date.now() - start) / 1000;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hs-link-kernel-'));
  example = await timed('pre/post + diff', () => diffExample(kernel, join(dir, 'objects')));
  const link = (workDir: string) => linkModule({ id: EXAMPLE_ID, kernel, newCodeObjects: [{ path: example.newCode, report: example.report }], workDir });
  first = await timed('linkModule', () => link(join(dir, 'one')));
  // A second build somewhere else: the .ko must not depend on where it was built.
  second = await link(join(dir, 'elsewhere', 'two'));
  oldCode = join(dir, 'old-code.o');
  await timed('linkOldCode', () => linkOldCode([{ path: example.oldCode, object: EXAMPLE_OBJECT }], oldCode));
  for (const out of ['pkg-1', 'pkg-2']) {
    packages.push(
      await timed('writePackage', () =>
        writePackage({ id: EXAMPLE_ID, outDir: join(dir, out), kernel, ko: out === 'pkg-1' ? first.ko : second.ko, oldCode, reports: [example.report], patches: [example.patch] }),
      ),
    );
  }
  const size = (path: string) => readFileSync(path).length;
  console.log(
    `link stage: ${Object.entries(seconds).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}; ` +
      `new code ${size(example.newCode)} B, .ko ${size(first.ko)} B, old code ${size(oldCode)} B, package ${size(packages[0].tarball)} B`,
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the example patch, linked', () => {
  it('changes exactly version_proc_show, which the loader table names', () => {
    expect(example.report.changed).toEqual(['version_proc_show']);
    expect(example.report.patched).toEqual([
      { name: 'version_proc_show', oldName: 'version_proc_show', sympos: 0, newSymbol: '__hotsplice_vmlinux__version_proc_show__0' },
    ]);
    expect(first.buildLog).toContain(`obj-m := ${EXAMPLE_ID}.o`);
  });

  it('is a livepatch module for Debian’s ABI', () => {
    const modinfo = (field: string) => run('modinfo', ['-F', field, first.ko]).trim();
    expect(modinfo('livepatch')).toBe('Y');
    expect(modinfo('vermagic').split(' ')[0]).toBe(kernel.abi);
    expect(modinfo('name')).toBe(EXAMPLE_ID);
    expect(modinfo('license')).toBe('GPL');
  });

  it('has the klp relocation to linux_proc_banner in klp form, rebased onto _text', () => {
    const klp = sections(first.ko).find((s) => s.name === KLP_SECTION)!;
    expect(klp).toBeDefined();
    expect(klp.type).toBe('RELA');
    for (const flag of ['A', 'I', 'o']) expect(klp.flags).toContain(flag);
    expect(sections(first.ko)[klp.info - 1].name).toBe('.text.version_proc_show');
    const entries = relocations(first.ko).get(KLP_SECTION)!;
    // Against linux_proc_banner,0 before the rebase (kbuild's output, finalized); from _text after it.
    expect(relocations(finalizedOnly()).get(KLP_SECTION)!.map((r) => [r.type, r.symbol, r.addend])).toEqual([['R_X86_64_32S', KLP_SYMBOL, 0n]]);
    expect(entries.map((r) => [r.type, r.symbol, r.addend])).toEqual([['R_X86_64_32S', ANCHOR_SYMBOL, fromText('linux_proc_banner')]]);
    expect(first.buildLog).toMatch(/\d+ vmlinux klp relocation\(s\) rebased onto _text or to sympos 1, 0 left to livepatch's lookup by name/);
    for (const name of [KLP_SYMBOL, ANCHOR_SYMBOL]) {
      const symbol = symbols(first.ko).find((s) => s.name === name)!;
      expect([symbol.bind, symbol.ndx], name).toEqual(['GLOBAL', 'OS [0xff20]']); // SHN_LIVEPATCH
    }
    // Nothing of the intermediate form is left.
    expect(symbols(first.ko).filter((s) => s.bind === 'WEAK')).toEqual([]);
    expect([...relocations(first.ko)].filter(([name]) => !name.startsWith('.klp.')).flatMap(([, r]) => r).filter((r) => r.symbol.startsWith('.klp.'))).toEqual([]);
  });

  it("reaches vmlinux's unexported wake_up_state and livepatch's transition state through the loader's own klp relocations", () => {
    // hotsplice-control.c names them with HOTSPLICE_VMLINUX_SYMBOL: the same path as the new code's klp symbols.
    const loader = [...relocations(first.ko)].filter(([name]) => name.startsWith('.klp.rela.vmlinux.') && name !== KLP_SECTION);
    expect(loader.map(([name]) => name)).toEqual(['.klp.rela.vmlinux..text']);
    const klp = sections(first.ko).find((s) => s.name === '.klp.rela.vmlinux..text')!;
    for (const flag of ['A', 'I', 'o']) expect(klp.flags).toContain(flag);
    expect(sections(first.ko)[klp.info - 1].name).toBe('.text');
    const used = relocations(finalizedOnly()).get('.klp.rela.vmlinux..text')!.map((x) => `${x.type} ${x.symbol}`);
    expect([...new Set(used)].sort()).toEqual([
      'R_X86_64_32S .klp.sym.vmlinux.klp_transition_work,0',
      'R_X86_64_PC32 .klp.sym.vmlinux.klp_transition_patch,0',
      'R_X86_64_PLT32 .klp.sym.vmlinux.wake_up_state,0',
    ]);
    // Rebased: each entry from _text, its addend moved by the symbol's distance from it (PC32/PLT32: -4 as before).
    const before = relocations(finalizedOnly()).get('.klp.rela.vmlinux..text')!;
    const after = loader[0][1];
    expect(after.map((r) => [r.offset, r.type, r.symbol])).toEqual(before.map((r) => [r.offset, r.type, ANCHOR_SYMBOL]));
    expect(after.map((r) => r.addend)).toEqual(before.map((r) => r.addend + fromText(/^\.klp\.sym\.vmlinux\.(\w+),0$/.exec(r.symbol)![1])));
    for (const name of ['wake_up_state', 'klp_transition_patch', 'klp_transition_work']) {
      const symbol = symbols(first.ko).find((s) => s.name === `.klp.sym.vmlinux.${name},0`)!;
      expect([symbol.bind, symbol.ndx], name).toEqual(['GLOBAL', 'OS [0xff20]']);
    }
    // Its switches are module parameters: /sys/module/<update>/parameters/<name>.
    expect(run('modinfo', ['-F', 'parm', first.ko]).trim().split('\n').map((l) => l.split(':')[0]).sort()).toEqual(['signal_grace_ms', 'signal_rounds', 'signal_timeout_ms', 'signalled_tasks']);
  });

  it('imports only exported symbols, each with Debian’s CRC in __versions', () => {
    const symvers = new Map(readFileSync(kernel.symvers, 'utf8').split('\n').map((l) => l.split('\t')).map(([crc, name]) => [name, crc]));
    const versions = new Map(run('modprobe', ['--dump-modversions', first.ko]).trim().split('\n').map((l) => l.split('\t')).map(([crc, name]) => [name, crc]));
    const undefined_ = symbols(first.ko).filter((s) => s.ndx === 'UND' && s.name).map((s) => s.name);
    // The loader's hooks are indirect calls: with retpolines they go through __x86_indirect_thunk_rax. The rest
    // past the example's own (seq_*) is transition control's: a delayed work, the task list under RCU, its parameters.
    expect(undefined_.sort()).toEqual(
      [
        '__dynamic_pr_debug', '__fentry__', '__x86_indirect_thunk_rax', '__x86_return_thunk', 'current_task', 'klp_enable_patch', 'seq_printf', 'seq_puts',
        '__msecs_to_jiffies', '__rcu_read_lock', '__rcu_read_unlock', 'cancel_delayed_work_sync', 'delayed_work_timer_fn', 'init_task', 'init_timer_key',
        'jiffies', 'kick_process', 'mod_delayed_work_on', 'param_ops_uint', 'queue_delayed_work_on', 'system_wq',
      ].sort(),
    );
    for (const name of [...undefined_, 'module_layout']) {
      expect(versions.get(name), name).toBeDefined();
      expect(Number(versions.get(name)), name).toBe(Number(symvers.get(name)));
    }
  });

  it('keeps what kbuild linked: .modinfo, __versions, this_module and its relocations, the symbol table', () => {
    for (const name of ['.modinfo', '__versions', '.gnu.linkonce.this_module', '.text', '.text.version_proc_show', '.data']) {
      expect(sectionBytes(first.ko, name).equals(sectionBytes(first.linked, name)), name).toBe(true);
    }
    const key = (r: { offset: bigint; type: string; symbol: string; addend: bigint }) => `${r.offset}:${r.type}:${r.symbol}:${r.addend}`;
    const thisModule = (file: string) => relocations(file).get('.rela.gnu.linkonce.this_module')!.map(key);
    expect(thisModule(first.ko)).toEqual(thisModule(first.linked));
    expect(thisModule(first.ko).map((r) => r.split(':')[2]).sort()).toEqual(['cleanup_module', 'init_module']);
    const names = (file: string) => symbols(file).map((s) => s.name).sort();
    expect(names(finalizedOnly())).toEqual(names(first.linked));
    const all = (file: string) => [...relocations(file).values()].flat().map(key).sort();
    expect(all(finalizedOnly())).toEqual(all(first.linked));
    // The rebase adds its one symbol and changes only klp relocations' symbol and addend.
    expect(names(first.ko)).toEqual([...names(first.linked), ANCHOR_SYMBOL].sort());
    const plain = (file: string) => [...relocations(file)].filter(([name]) => !name.startsWith('.klp.')).flatMap(([, r]) => r).map(key).sort();
    expect(plain(first.ko)).toEqual(plain(finalizedOnly()));
  });

  it('links the old code behind the STT_FILE vmlinux has for it', () => {
    const old = symbols(oldCode).filter((s) => s.type === 'FILE' || s.type === 'FUNC').map((s) => `${s.type}:${s.name}`);
    expect(old).toEqual(['FILE:version.c', 'FUNC:version_proc_show']);
  });

  it('is reproducible: two builds in different folders give the same .ko and the same package bytes', () => {
    expect(readFileSync(second.ko).equals(readFileSync(first.ko))).toBe(true);
    const text = readFileSync(first.ko).toString('latin1');
    for (const path of [dir, kernel.headersTree, tmpdir()]) expect(text.includes(path), path).toBe(false);
    const [a, b] = packages;
    expect(readFileSync(b.tarball).equals(readFileSync(a.tarball))).toBe(true);
    expect(readFileSync(b.summary, 'utf8')).toBe(readFileSync(a.summary, 'utf8'));
    expect(run('tar', ['-tzf', a.tarball]).trim().split('\n')).toEqual(['manifest.json', 'old-code.o', `${EXAMPLE_ID}.ko`, 'report.json']); // sorted
    expect(a.manifest.kernel.vmlinuxBuildId).toBe(/Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', kernel.vmlinux]))![1]);
    expect(a.manifest.objects).toEqual([
      { objname: 'vmlinux', functions: [{ name: 'version_proc_show', sympos: 0, object: 'fs/proc/version.o', newSymbol: '__hotsplice_vmlinux__version_proc_show__0' }] },
    ]);
  });
});
