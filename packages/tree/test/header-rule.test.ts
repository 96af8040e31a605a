import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerVerdict } from '../src/header-verdict';
import { mergedFile, splitUnit } from '../src/merged-change';
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
  /** Why the two versions of the header cannot be merged into one run (mergedFile); absent: they can. */
  mergeRefused?: string;
}

function miniTree(dir: string, side: 'pre' | 'post' | 'merged'): string {
  const tree = mkdtempSync(join(tmpdir(), `hs-rule-${side}-`));
  mkdirSync(join(tree, 'include/hs'), { recursive: true });
  if (existsSync(join(dir, 'include'))) cpSync(join(dir, 'include'), join(tree, 'include'), { recursive: true });
  const merged = () => mergedFile(readFileSync(join(dir, 'pre.h'), 'latin1'), readFileSync(join(dir, 'post.h'), 'latin1'));
  writeFileSync(join(tree, HEADER), side === 'merged' ? (merged() as { text: string }).text : readFileSync(join(dir, `${side}.h`)));
  mkdirSync(join(tree, 'dir'));
  for (const unit of readdirSync(dir).filter((f) => f.endsWith('.c'))) cpSync(join(dir, unit), join(tree, 'dir', unit));
  return tree;
}

/** The unit's compile as kbuild records one (with bookworm 6.1's compiler): dependency file, flags, `-c -o OBJ SRC`. */
const commandFor = (unit: string) =>
  `gcc-12 -Wp,-MMD,dir/.${unit}.o.d -nostdinc -I./include -O2 -g0 -fno-asynchronous-unwind-tables -DKBUILD_BASENAME='"x"' -c -o dir/${unit.replace(/\.c$/, '.o')} dir/${unit}`;

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

    it(`${name}: one run of the merged header gives the same verdicts${fixture.mergeRefused ? ' (or is refused)' : ''}`, async () => {
      const merged = mergedFile(readFileSync(join(dir, 'pre.h'), 'latin1'), readFileSync(join(dir, 'post.h'), 'latin1'));
      if (fixture.mergeRefused) return void expect('refused' in merged && merged.refused).toMatch(fixture.mergeRefused);
      expect(merged).toHaveProperty('text');
      const [pre, post, both] = (['pre', 'post', 'merged'] as const).map((side) => miniTree(dir, side));
      for (const unit of Object.keys(fixture.expect)) {
        const run = async (tree: string) => {
          const r = await preprocessObject(pool, tree, commandFor(unit));
          if ('error' in r) throw new Error(r.error);
          return r.bytes;
        };
        const views = splitUnit(await run(both!));
        if (!('pre' in views)) throw new Error(`${unit}: ${views.refused}`);
        expect(headerVerdict(views.pre, views.post, new Set([HEADER])), unit).toEqual(headerVerdict(await run(pre!), await run(post!), new Set([HEADER])));
      }
    });
  }

  it('a merged header refuses a unit where a probe lands inside a macro invocation or a hunk uses __COUNTER__', () => {
    expect(splitUnit(Buffer.from('int a;\nFOO(__hotsplice_probe_0_0 7 x)\n'))).toEqual({ refused: 'a changed line sits inside a macro invocation' });
    expect(splitUnit(Buffer.from('__hotsplice_probe_0_0 7\nint a;\n__hotsplice_probe_0_1 9\nint b;\n__hotsplice_probe_0_2 10\n'))).toEqual({
      refused: 'a changed line uses __COUNTER__',
    });
    const ok = splitUnit(Buffer.from('int x;\n__hotsplice_probe_0_0 7\nint a;\n__hotsplice_probe_0_1 8\nint b;\n__hotsplice_probe_0_2 9\nint y;\n')) as { pre: Buffer; post: Buffer };
    expect([ok.pre.toString(), ok.post.toString()]).toEqual(['int x;\nint a;\nint y;\n', 'int x;\nint b;\nint y;\n']);
  });
});
