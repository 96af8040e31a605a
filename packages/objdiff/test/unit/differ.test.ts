import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHF_RELA_LIVEPATCH, SHN_LIVEPATCH, parseElf } from '@hotsplice/elf';
import { diffObjects } from '../../src';

// Kernel-like code generation without the kernel tree: per-function/data sections, fentry, kernel code model.
const FLAGS = ['-O2', '-mcmodel=kernel', '-fno-pic', '-mno-red-zone', '-ffunction-sections', '-fdata-sections', '-pg', '-mfentry', '-mrecord-mcount', '-fno-asynchronous-unwind-tables', '-c'];
const dir = mkdtempSync(join(tmpdir(), 'hs-objdiff-unit-'));
let n = 0;

function compile(source: string) {
  const base = join(dir, `t${n++}`);
  writeFileSync(`${base}.c`, source);
  execFileSync('gcc-12', [...FLAGS, '-o', `${base}.o`, `${base}.c`]);
  return parseElf(readFileSync(`${base}.o`));
}

function diff(pre: string, post: string, options = {}) {
  return diffObjects(compile(pre), compile(post), options);
}

const BASE = `
extern int printk(const char *fmt, ...);
extern void __might_sleep(const char *file, int line);
int exported_counter;
static int helper(int x) { return x * 3 + 1; }
int __attribute__((noinline)) target(int x) { return helper(x) + 2; }
int __attribute__((noinline)) other(int x) { __might_sleep("f.c", 10); return x - 1; }
int caller(int x) { return target(x) + other(x); }
int counter(void) { static int calls; return ++calls; }
int (*pointer(void))(int) { return other; }
`;

describe('objdiff on gcc-12 objects', () => {
  it('finds exactly the changed function, with the first differing offset', () => {
    const r = diff(BASE, BASE.replace('return helper(x) + 2;', 'return helper(x) + 5;'));
    expect(r.report.changed).toEqual(['target']);
    expect(r.report.new).toEqual([]);
    const detail = r.report.symbols.find((s) => s.name === 'target')!;
    expect(detail.status).toBe('changed');
    expect(detail.firstDifference?.offset).toBeGreaterThan(4); // after the 5-byte fentry call
  });

  it('reports no change when only __LINE__ of a might_sleep moved', () => {
    const r = diff(BASE, BASE.replace('__might_sleep("f.c", 10)', '__might_sleep("f.c", 11)'));
    expect(r.report.changed).toEqual([]);
    expect(r.newCode).toBeUndefined();
  });

  it('reports a new static helper called from a changed function', () => {
    const post = BASE.replace('int caller(int x) { return target(x) + other(x); }', 'static int __attribute__((noinline)) extra(int x) { return x ^ 7; }\nint caller(int x) { return target(x) + other(x) + extra(x); }');
    const r = diff(BASE, post);
    expect(r.report.changed).toEqual(['caller']);
    expect(r.report.new).toEqual(['extra']);
    const out = parseElf(r.newCode!);
    expect(out.symbols.filter((s) => s.type === 2).map((s) => s.name).sort()).toEqual(['__hotsplice_vmlinux__caller__0', 'caller', 'extra']);
  });

  it('pairs a static local through its function and refuses a changed global initializer', () => {
    const renumbered = diff(BASE, `static int unused_first;\nint *keep(void) { return &unused_first; }\n${BASE}`);
    expect(renumbered.report.changed).toEqual([]);
    const refused = diff(BASE.replace('int exported_counter;', 'int exported_counter = 5;'), BASE.replace('int exported_counter;', 'int exported_counter = 6;'));
    expect(refused.report.refused).toEqual([
      { symbol: 'exported_counter', reason: 'changed existing data: initializer (+0); livepatch cannot change data in place' },
    ]);
    expect(refused.newCode).toBeUndefined();
  });

  it('turns references to locals into klp relocations and records the patched function for the loader', () => {
    const r = diff(BASE, BASE.replace('int counter(void) { static int calls; return ++calls; }', 'int counter(void) { static int calls; calls += 2; return calls; }'), {
      exported: new Set(['printk', '__fentry__']),
    });
    expect(r.report.changed).toEqual(['counter']);
    const out = parseElf(r.newCode!);
    const klpSection = out.sections.find((s) => s.name.startsWith('.klp.rela.vmlinux.'))!;
    expect(klpSection.name).toBe('.klp.rela.vmlinux..text.counter');
    expect(klpSection.flags & SHF_RELA_LIVEPATCH).toBe(SHF_RELA_LIVEPATCH);
    const klpSyms = out.symbols.filter((s) => s.shndx === SHN_LIVEPATCH).map((s) => s.name);
    expect(klpSyms).toEqual([expect.stringMatching(/^\.klp\.sym\.vmlinux\.calls\.\d+,0$/)]);
    expect(r.report.patched).toEqual([{ name: 'counter', oldName: 'counter', sympos: 0, newSymbol: '__hotsplice_vmlinux__counter__0' }]);
    const alias = out.symbols.find((s) => s.name === '__hotsplice_vmlinux__counter__0')!;
    expect(alias.bind).toBe(1); // global, for the loader's klp_func table
    expect(out.symbols.find((s) => s.name === 'counter')!.bind).toBe(0); // the copy itself stays local
    expect(alias.shndx).toBe(out.symbols.find((s) => s.name === 'counter')!.shndx);
  });

  it('keeps function pointers to existing functions on the original', () => {
    const r = diff(BASE, BASE.replace('int (*pointer(void))(int) { return other; }', 'int (*pointer(void))(int) { printk("p"); return other; }'));
    expect(r.report.changed).toEqual(['pointer']);
    const out = parseElf(r.newCode!);
    expect(out.symbols.some((s) => s.name === 'other' && s.shndx === 0)).toBe(true); // undefined: the original
    expect(out.symbols.some((s) => s.name === 'other' && s.shndx !== 0)).toBe(false);
  });

  it('refuses a notrace function', () => {
    const pre = 'int __attribute__((no_instrument_function)) quiet(int x) { return x + 1; }\n';
    const r = diff(pre, pre.replace('x + 1', 'x + 2'));
    expect(r.report.refused).toEqual([
      {
        symbol: 'quiet',
        reason:
          'changed function has no fentry call (notrace), so ftrace cannot redirect it, and it is global: its callers in other objects cannot be found',
      },
    ]);
  });

  it('compares functions inside a shared section by target, not by rel32', () => {
    const shared = (extra: string) => `
__attribute__((section(".sched.text"), noinline)) static int inner(int x) { return x * 5; }
__attribute__((section(".sched.text"), noinline)) int first(int x) { ${extra} return inner(x) + 1; }
__attribute__((section(".sched.text"), noinline)) int second(int x) { return inner(x) + 2; }
`;
    const r = diff(shared(''), shared('if (x == 42) x = inner(x);'));
    expect(r.report.changed).toEqual(['first']);
    const out = parseElf(r.newCode!);
    expect(out.sections.map((s) => s.name)).toContain('.sched.text.first');
  });
});
