// The apply-time run-pre check on fixture kernels (packages/runpre's sample object): what apply and verify decide
// from the matcher's per-function results.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeElf } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';
import { fixtureKernel } from '../../runpre/test/helpers/fixture-kernel';
import { sampleObject } from '../../runpre/test/helpers/sample-object';
import { checkOldCode, runPreCheck } from '../src/target/run-pre';
import type { OpenedUpdate } from '../src/target/update-package';

type Objects = Manifest['objects'];
const fn = (name: string, sympos = 0) => ({ name, sympos, object: 'sample.o', newSymbol: `__hotsplice_vmlinux__${name}__${sympos}` });
const VMLINUX: Objects = [{ objname: 'vmlinux', functions: [fn('f'), fn('helper', 2)] }];

function update(objects: Objects): OpenedUpdate {
  const dir = mkdtempSync(join(tmpdir(), 'hs-runpre-cli-'));
  writeFileSync(join(dir, 'old-code.o'), writeElf(sampleObject()));
  const manifest = { id: 'fix_1', module: 'fix_1', objects } as Manifest;
  return { manifest, dir, ko: join(dir, 'fix_1.ko'), oldCode: join(dir, 'old-code.o'), close: async () => {} };
}

describe('checkOldCode', () => {
  it('matches only the functions the manifest lists, at the sympos it names', async () => {
    const k = fixtureKernel();
    const r = await checkOldCode({ objects: VMLINUX }, sampleObject(), () => k.source('live'));
    expect(r).toMatchObject({ status: 'matched', functions: 2, notChecked: 0 });
    expect(r.summary).toMatch(/^2 function\(s\) matched in \d+ ms$/);
    expect(r.results).toEqual([
      { objname: 'vmlinux', object: 'sample.o', name: 'f', sympos: 0, status: 'matched', address: `0x${k.addressOf('f').toString(16)}` },
      { objname: 'vmlinux', object: 'sample.o', name: 'helper', sympos: 2, status: 'matched', address: `0x${k.addressOf('helper').toString(16)}` },
    ]);
  });

  it('names the first differing function and offset', async () => {
    const k = fixtureKernel();
    k.poke(k.addressOf('f') + 5n, [0x90]);
    const r = await checkOldCode({ objects: VMLINUX }, sampleObject(), () => k.source('live'));
    expect(r.status).toBe('mismatch');
    expect(r.cause).toMatch(/^run-pre: f \(sample\.o\) differs from fixture at f\+0x5: code differs; expected \S+.*, found 90/);
  });

  it('refuses a sympos that is not the copy that matched', async () => {
    const k = fixtureKernel();
    const r = await checkOldCode({ objects: [{ objname: 'vmlinux', functions: [fn('helper', 1)] }] }, sampleObject(), () => k.source('live'));
    expect(r.status).toBe('mismatch');
    expect(r.cause).toBe(`run-pre: helper (sample.o) matches fixture at 0x${k.addressOf('helper').toString(16)}, which is sympos 2, but the update patches sympos 1`);
  });

  it('says which functions it could not check (a module that is not loaded) and matches the rest', async () => {
    const k = fixtureKernel();
    const objects: Objects = [...VMLINUX, { objname: 'dummy', functions: [fn('w')] }];
    const r = await checkOldCode({ objects }, sampleObject(), (o) => (o === 'vmlinux' ? k.source('live') : `module ${o} is not loaded`));
    expect(r).toMatchObject({ status: 'matched', functions: 2, notChecked: 1 });
    expect(r.summary).toMatch(/^2 function\(s\) matched in \d+ ms; not checked: module dummy is not loaded$/);
  });
});

describe('runPreCheck (the apply hook)', () => {
  it('throws the abort cause as a UserError, unless skipped', async () => {
    const k = fixtureKernel();
    k.poke(k.addressOf('helper'), [0xcc]);
    const u = update(VMLINUX);
    const error = await runPreCheck(u, { skip: false, sourceFor: () => k.source('live') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^update fix_1 refused: the running kernel's code is not the code the update was built against: run-pre: helper \(sample\.o\) differs from fixture at helper\+0x0 \(best of 3 candidates: sympos \d\): .* \(hotsplice apply --skip-run-pre loads it anyway\)$/);
    expect(await runPreCheck(u, { skip: true })).toEqual({ status: 'skipped', summary: 'skipped (--skip-run-pre)' });
  });

  it('returns the matched summary', async () => {
    const k = fixtureKernel();
    expect(await runPreCheck(update(VMLINUX), { skip: false, sourceFor: () => k.source('live') })).toMatchObject({ status: 'matched', functions: 2 });
  });
});
