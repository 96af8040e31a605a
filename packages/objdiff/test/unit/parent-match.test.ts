// Which of a module's same-named locals a pre object's local is (Debian's .ko files carry no STT_FILE symbols).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { ObjectModel } from '../../src/model';
import { chooseByContent } from '../../src/parent-match';
import { gccObject } from '../helpers/gcc-objects';

// Two files of one module, each with an empty lock-class key and a function that takes its address: what
// mutex_init leaves in every file of a module built without LOCKDEP (struct lock_class_key is empty).
// The static helper that takes the address has one name in both files, so neither its content nor its users tell
// the two keys apart.
const FILE = (fn: string) => `struct hs_lock_class_key { };
static struct hs_lock_class_key hs_key;
static __attribute__((noinline)) void *hs_get(void) { return &hs_key; }
void *${fn}(void) { return hs_get(); }
`;

describe('chooseByContent', () => {
  it('takes any of several empty candidates (nothing is read through them), and still refuses real ambiguity', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-parent-match-'));
    const a = gccObject(join(dir, 'a'), 'a', FILE('hs_a'));
    const b = gccObject(join(dir, 'b'), 'b', FILE('hs_b'));
    execFileSync('ld', ['-r', '-o', join(dir, 'module.o'), a, b]);
    const parent = new ObjectModel(parseElf(readFileSync(join(dir, 'module.o'))));
    const pre = new ObjectModel(parseElf(readFileSync(a)));
    const keys = parent.units.filter((u) => u.name === 'hs_key');
    expect(keys.map((u) => u.size)).toEqual([0, 0]);
    const mine = pre.units.find((u) => u.name === 'hs_key')!;
    expect(chooseByContent(keys.map((unit) => ({ model: parent, unit })), { model: pre, unit: mine })).toEqual({ index: 0 });

    // The same with a key of one byte: which one is a's can no longer be left to chance.
    const c = gccObject(join(dir, 'c'), 'c', FILE('hs_c').replace('{ }', '{ char used; }'));
    const d = gccObject(join(dir, 'd'), 'd', FILE('hs_d').replace('{ }', '{ char used; }'));
    execFileSync('ld', ['-r', '-o', join(dir, 'module2.o'), c, d]);
    const parent2 = new ObjectModel(parseElf(readFileSync(join(dir, 'module2.o'))));
    const pre2 = new ObjectModel(parseElf(readFileSync(c)));
    const result = chooseByContent(
      parent2.units.filter((u) => u.name === 'hs_key').map((unit) => ({ model: parent2, unit })),
      { model: pre2, unit: pre2.units.find((u) => u.name === 'hs_key')! },
    );
    expect('error' in result ? result.error : `chose ${result.index}`).toMatch(/^2 match its content and 2 its referencing functions \(hs_get\); which one is this object's cannot be told$/);
  });
});
