import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_CC } from '@hotsplice/kernel';
import { headerVerdict } from '../src/header-verdict';
import { preprocessObject } from '../src/preprocess';
import { ShellPool } from '../src/shell-pool';

// The header rule on fixtures of the kinds of change issue 13 names, with gcc as the judge: every unit is
// preprocessed before and after the header changes (as the narrowing does, through a kbuild-style command line) and
// also compiled both ways (-O2, no debug info). The verdict must be the expected one, and whenever the two objects
// differ the verdict must be "compile" (the rule may compile too much, never too little).
const FIXTURES = join(__dirname, 'fixtures', 'header-rule');
const HEADER = 'include/hs/dev.h';

interface Case {
  description: string;
  expect: Record<string, 'compile' | 'skip'>;
}

function miniTree(dir: string, side: 'pre' | 'post'): string {
  const tree = mkdtempSync(join(tmpdir(), `hs-rule-${side}-`));
  mkdirSync(join(tree, 'include/hs'), { recursive: true });
  if (existsSync(join(dir, 'include'))) cpSync(join(dir, 'include'), join(tree, 'include'), { recursive: true });
  writeFileSync(join(tree, HEADER), readFileSync(join(dir, `${side}.h`)));
  mkdirSync(join(tree, 'dir'));
  for (const unit of readdirSync(dir).filter((f) => f.endsWith('.c'))) cpSync(join(dir, unit), join(tree, 'dir', unit));
  return tree;
}

/** The unit's compile as kbuild records one: dependency file, flags, `-c -o OBJ SRC`. */
const commandFor = (unit: string) =>
  `${KERNEL_CC} -Wp,-MMD,dir/.${unit}.o.d -nostdinc -I./include -O2 -g0 -fno-asynchronous-unwind-tables -DKBUILD_BASENAME='"x"' -c -o dir/${unit.replace(/\.c$/, '.o')} dir/${unit}`;

function compiled(tree: string, unit: string): Buffer {
  const object = join(tree, 'dir', unit.replace(/\.c$/, '.o'));
  execFileSync('sh', ['-c', commandFor(unit)], { cwd: tree });
  return readFileSync(object);
}

describe('the header rule, judged by gcc', () => {
  let pool: ShellPool;
  beforeAll(async () => {
    pool = await ShellPool.start(2);
  });
  afterAll(() => pool.stop());

  for (const name of readdirSync(FIXTURES).sort()) {
    const dir = join(FIXTURES, name);
    const fixture = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as Case;
    it(`${name}: ${fixture.description}`, async () => {
      const pre = miniTree(dir, 'pre');
      const post = miniTree(dir, 'post');
      for (const [unit, expected] of Object.entries(fixture.expect)) {
        const units = await Promise.all(
          [pre, post].map(async (tree) => {
            const r = await preprocessObject(pool, tree, commandFor(unit));
            if ('error' in r) throw new Error(r.error);
            return r.bytes;
          }),
        );
        const verdict = headerVerdict(units[0]!, units[1]!, new Set([HEADER]));
        const objectsDiffer = !compiled(pre, unit).equals(compiled(post, unit));
        expect({ unit, compile: verdict.compile, reason: verdict.reason }).toMatchObject({ unit, compile: expected === 'compile' });
        if (objectsDiffer) expect(verdict.compile, `${unit}: gcc's objects differ, the rule must compile it`).toBe(true);
        // And the fixture is what it claims: a unit expected to be skipped keeps its code.
        if (expected === 'skip') expect(objectsDiffer, `${unit}: expected the same object`).toBe(false);
      }
    });
  }
});
