import { describe, expect, it } from 'vitest';
import { UserError } from '@hotsplice/kernel';
import { type FunctionMatch, assertMatched, isLegalForm, matchObject } from '../src';
import { BASE, OTHER_COUNTER, OTHER_HELPERS, STRONG_W, fixtureKernel } from './helpers/fixture-kernel';
import { EXTERNALS, F, sampleObject } from './helpers/sample-object';

function fn(report: { functions: FunctionMatch[] }, name: string): FunctionMatch {
  const f = report.functions.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} in report`);
  return f;
}

/** Match f after `change` rewrote the kernel's copy; returns f's result. */
async function matchF(change: (k: ReturnType<typeof fixtureKernel>, f: bigint) => void, kind: 'fixture' | 'live' | 'file' = 'live') {
  const k = fixtureKernel();
  const f = k.addressOf('f');
  change(k, f);
  return fn(await matchObject(sampleObject(), k.source(kind), { functions: ['f'] }), 'f');
}

describe('matchObject on an unpatched kernel', () => {
  it('matches every function at its address, with sympos among same-named symbols', async () => {
    const k = fixtureKernel();
    const report = await matchObject(sampleObject(), k.source(), { object: 'sample.o', allowOverriddenWeak: true });
    const f = fn(report, 'f');
    expect(f).toMatchObject({ status: 'matched', address: k.addressOf('f'), sympos: 0, unchecked: [], patchedSites: [] });
    const ours = k.addressOf('helper');
    expect(ours > OTHER_HELPERS[0] && ours < OTHER_HELPERS[1]).toBe(true);
    expect(fn(report, 'helper')).toMatchObject({ status: 'matched', address: ours, sympos: 2, candidates: 3, resolvedBy: 'bytes' });
    expect(report.ok).toBe(true);
    expect(report.matched).toBe(3);
  });

  it('resolves the object\'s local data through the field that points to one of its candidates', async () => {
    const k = fixtureKernel();
    const report = await matchObject(sampleObject(), k.source());
    const counter = k.addressOf('counter');
    expect(counter < OTHER_COUNTER).toBe(true);
    expect(report.resolved).toContainEqual({ name: 'counter', address: counter, sympos: 1 });
    expect(report.resolved).toContainEqual({ name: 'helper', address: k.addressOf('helper'), sympos: 2 });
  });

  it('reports an overridden weak definition, and fails on it unless allowed', async () => {
    const report = await matchObject(sampleObject(), fixtureKernel().source(), { object: 'sample.o' });
    const w = fn(report, 'w');
    expect(w).toMatchObject({ status: 'overridden', address: STRONG_W, difference: { offset: 0, expected: '31 c0 c3', actual: 'b8 01 00' } });
    expect(report.ok).toBe(false);
    expect(() => assertMatched(report)).toThrow(/^run-pre: w \(sample.o\) is a weak definition the kernel does not run: fixture holds a strong w at 0xffffffff81300000/);
    expect(() => assertMatched(report, { allowOverriddenWeak: true })).not.toThrow();
  });

  it('settles byte-identical copies by the reference that pins one of them', async () => {
    const k = fixtureKernel({ identicalHelpers: true });
    const report = await matchObject(sampleObject(), k.source());
    expect(fn(report, 'helper')).toMatchObject({ status: 'matched', address: k.addressOf('helper'), sympos: 2, candidates: 3, resolvedBy: 'reference' });
  });

  it('reports byte-identical copies nothing tells apart as ambiguous', async () => {
    const k = fixtureKernel({ identicalHelpers: true });
    // f's call to helper is the only reference; matching helper alone leaves three copies. Locality: ours lies
    // between no other functions of the object here (f and helper are adjacent), so it stays ambiguous.
    const report = await matchObject(sampleObject(), k.source(), { functions: ['helper'] });
    const helper = fn(report, 'helper');
    expect(helper.status).toBe('ambiguous');
    expect(helper.status === 'ambiguous' && helper.matches.map((m) => m.sympos)).toEqual([1, 2, 3]);
    expect(() => assertMatched(report)).toThrow(/^run-pre: helper \(object\) matches 3 places in fixture/);
  });

  it('names a function the kernel lacks', async () => {
    const report = await matchObject(sampleObject(), fixtureKernel().source(), { functions: ['f', 'nope'] });
    expect(fn(report, 'nope')).toMatchObject({ status: 'missing' });
  });
});

describe('differences', () => {
  it('a changed opcode: the first differing offset and both byte strings', async () => {
    const f = await matchF((k, at) => k.poke(at + 5n, [0x48, 0xc7, 0xc6])); // %rdi → %rsi
    const address = fixtureKernel().addressOf('f');
    expect(address).toBe(BASE + 0x140n); // four sections before .text.f, each 16-aligned with a 64-byte gap
    expect(f).toMatchObject({ status: 'mismatch', address, sympos: 0, difference: { offset: 7, expected: 'c7', actual: 'c6', reason: 'code differs' } });
  });

  it('a call to another function: the relocation field is checked', async () => {
    const f = await matchF((k, at) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(EXTERNALS.printk + 0x40n - (at + 17n)));
      k.poke(at + BigInt(F.printkField), [...b]);
    });
    expect(f).toMatchObject({ status: 'mismatch', difference: { offset: F.printkField } });
    expect(f.status === 'mismatch' && f.difference.reason).toMatch(/R_X86_64_PLT32 printk-4: the field should point to 0xffffffff81a000fc but points to 0xffffffff81a0013c/);
  });

  it('a string literal is compared by content at the address the field gives', async () => {
    const f = await matchF((k) => k.poke(k.sectionAddress.get(sampleObject().sectionByName('.rodata.str1.1')!.index)!, [0x48, 0x45]));
    expect(f).toMatchObject({ status: 'mismatch', difference: { offset: F.stringField, expected: '68 65 6c 6c 6f 0a 00', actual: '48 45 6c 6c 6f 0a 00' } });
    expect(f.status === 'mismatch' && f.difference.reason).toMatch(/does not hold the string "hello\\n"/);
  });

  it('a reference to a same-named local that is none of its candidates fails', async () => {
    const f = await matchF((k, at) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(OTHER_COUNTER + 0x10n - (at + 24n)));
      k.poke(at + BigInt(F.counterField), [...b]);
    });
    expect(f).toMatchObject({ status: 'mismatch', difference: { offset: F.counterField } });
    expect(f.status === 'mismatch' && f.difference.reason).toMatch(/counter has 2 candidates, and the field points to 0xffffffff82b00010, none of them/);
  });

  it('assertMatched names the function and offset in one line', async () => {
    const k = fixtureKernel();
    k.poke(k.addressOf('f') + 5n, [0x90]);
    const report = await matchObject(sampleObject(), k.source(), { object: 'sample.o', functions: ['f'] });
    let error: unknown;
    try {
      assertMatched(report);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe('run-pre: f (sample.o) differs from fixture at f+0x5: code differs; expected 48 c7 c7, found 90 c7 c7');
  });
});

describe('patch sites: legal patched forms are wildcards, anything else is a difference', () => {
  const poke = (offset: number, bytes: number[]) => (k: ReturnType<typeof fixtureKernel>, f: bigint) => k.poke(f + BigInt(offset), bytes);
  const cases: Array<{ kind: string; offset: number; legal: number[][]; illegal: number[] }> = [
    { kind: 'fentry', offset: F.fentry, legal: [[0x0f, 0x1f, 0x44, 0x00, 0x00], [0xe8, 0x11, 0x22, 0x33, 0x44]], illegal: [0x90, 0x90, 0x90, 0x90, 0x90] },
    { kind: 'lock-prefix', offset: F.lock, legal: [[0x3e]], illegal: [0x90] },
    { kind: 'alternative', offset: F.alternative, legal: [[0x0f, 0x01, 0xcb, 0x66, 0x90], [0x0f, 0x01, 0xcb, 0x90, 0x90], [0x66, 0x90, 0x0f, 0x1f, 0x00]], illegal: [0x0f, 0x01, 0xca, 0x66, 0x90] },
    { kind: 'alternative', offset: F.alternativeMov, legal: [[0x48, 0x89, 0xc6, 0x66, 0x90], [0x48, 0x89, 0xc7, 0x66, 0x90]], illegal: [0x48, 0x89, 0xc5, 0x66, 0x90] },
    { kind: 'alternative', offset: F.alternativeJmp, legal: [[0xeb, 0x08, 0x0f, 0x1f, 0x00], [0xe9, 0x08, 0x00, 0x00, 0x00]], illegal: [0xeb, 0x08, 0x0f, 0x1f, 0x01] },
    { kind: 'static-call', offset: F.staticCall, legal: [[0xe8, 1, 2, 3, 4], [0x0f, 0x1f, 0x44, 0x00, 0x00], [0xc3, 0xcc, 0xcc, 0xcc, 0xcc]], illegal: [0xff, 0xd0, 0x90, 0x90, 0x90] },
    { kind: 'retpoline', offset: F.retpoline, legal: [[0xff, 0xd0, 0x90, 0x90, 0x90], [0x0f, 0xae, 0xe8, 0xff, 0xd0], [0x41, 0xff, 0xd3, 0x90, 0x90]], illegal: [0xff, 0x10, 0x90, 0x90, 0x90] },
    { kind: 'jump-label', offset: F.jumpLabel, legal: [[0xeb, 0x09]], illegal: [0xe9, 0x09] },
    { kind: 'return-thunk', offset: F.returnThunk, legal: [[0xc3, 0xcc, 0xcc, 0xcc, 0xcc], [0xe9, 9, 9, 9, 9]], illegal: [0xc3, 0x00, 0xcc, 0xcc, 0xcc] },
    { kind: 'paravirt', offset: F.paravirt, legal: [[0xfa, 0x0f, 0x1f, 0x44, 0x00, 0x00], [0x9c, 0x58, 0x0f, 0x1f, 0x40, 0x00], [0xe8, 1, 2, 3, 4, 0x90]], illegal: [0xfa, 0xfb, 0x0f, 0x1f, 0x40, 0x00] },
  ];
  for (const c of cases) {
    for (const bytes of c.legal) {
      it(`${c.kind} at +${c.offset}: ${Buffer.from(bytes).toString('hex')} matches`, async () => {
        const f = await matchF(poke(c.offset, bytes));
        expect(f).toMatchObject({ status: 'matched', patchedSites: [{ offset: c.offset, kind: c.kind }] });
      });
    }
    if (c.illegal.length) {
      it(`${c.kind} at +${c.offset}: ${Buffer.from(c.illegal).toString('hex')} is a difference at the site`, async () => {
        const f = await matchF(poke(c.offset, c.illegal));
        expect(f.status).toBe('mismatch');
        if (f.status !== 'mismatch') return;
        expect(f.difference.offset).toBeGreaterThanOrEqual(c.offset);
        expect(f.difference.reason).toContain(`${c.kind} site at +0x${c.offset.toString(16)} holds neither the original nor a legal patched form`);
      });
    }
  }

  it('an endbr site may hold ENDBR64 or the seal apply_seal_endbr() writes (gen_endbr_poison: osp nopl (%rax))', () => {
    const site = { kind: 'endbr' as const, section: 1, offset: 0, length: 4, replacements: [] };
    const original = [0xf3, 0x0f, 0x1e, 0xfa];
    for (const live of [original, [0x66, 0x0f, 0x1f, 0x00], [0x0f, 0x1f, 0x40, 0xd6]]) expect(isLegalForm(site, Uint8Array.from(live), [], original), Buffer.from(live).toString('hex')).toBe(true);
    expect(isLegalForm(site, Uint8Array.from([0x0f, 0x1f, 0x44, 0x00]), [], original)).toBe(false);
  });

  it('a static call trampoline (__SCT__*) may jump elsewhere or return, in a live kernel only', async () => {
    for (const [bytes, kind, status] of [
      [[0xc3, 0xcc, 0xcc, 0xcc, 0xcc], 'live', 'matched'],
      [[0xe9, 1, 2, 3, 4], 'live', 'matched'],
      [[0xc3, 0xcc, 0xcc, 0xcc, 0xcc], 'file', 'mismatch'],
      [[0xc2, 0xcc, 0xcc, 0xcc, 0xcc], 'live', 'mismatch'],
    ] as const) {
      const k = fixtureKernel();
      k.poke(k.addressOf('__SCT__tp_bar'), [...bytes]);
      const report = await matchObject(sampleObject(), k.source(kind), { functions: ['__SCT__tp_bar'] });
      expect(report.functions[0]).toMatchObject({ status, ...(status === 'matched' ? { patchedSites: [{ offset: 0, kind: 'static-call' }] } : { difference: { offset: 0 } }) });
    }
  });

  it('a vmlinux file may differ from the object only at fentry sites', async () => {
    expect(await matchF(poke(F.fentry, [0x0f, 0x1f, 0x44, 0x00, 0x00]), 'file')).toMatchObject({ status: 'matched', patchedSites: [{ kind: 'fentry' }] });
    const ret = await matchF(poke(F.returnThunk, [0xc3, 0xcc, 0xcc, 0xcc, 0xcc]), 'file');
    expect(ret).toMatchObject({ status: 'mismatch', difference: { offset: F.returnThunk, expected: 'e9', actual: 'c3' } });
    const pv = await matchF(poke(F.paravirt, [0xfa, 0x0f, 0x1f, 0x44, 0x00, 0x00]), 'file');
    expect(pv).toMatchObject({ status: 'mismatch', difference: { offset: F.paravirt } });
  });
});
