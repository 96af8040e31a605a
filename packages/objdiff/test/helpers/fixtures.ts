// The fixture corpus: packages/objdiff/test/fixtures/<case>/{pre.c, post.c, expect.json}, compiled as kernel objects.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileCached } from './kernel-cc';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

/** What the differ must report for a case (exact sets; names as in the post object). */
export interface Expectation {
  description: string;
  /** The klp object: "vmlinux" (default) or the module the object belongs to (then compiled with -DMODULE). */
  objname?: string;
  changed: string[];
  new: string[];
  newData?: string[];
  /** Changed notrace functions carried by their callers (report.promoted). */
  promoted?: string[];
  /** Symbols that make the patch impossible. */
  refused?: string[];
  /** A substring (case-insensitive) every refusal reason contains. */
  refusedReason?: string;
  /** pre.c and post.c are the same source: the objects must be byte-identical. */
  sameBytes?: boolean;
}

export interface FixtureCase {
  name: string;
  dir: string;
  pre: string;
  post: string;
  expect: Expectation;
  /** The module to compile as part of, when objname names one. */
  module?: string;
}

export function loadCases(): FixtureCase[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => statSync(join(FIXTURES_DIR, name)).isDirectory())
    .sort()
    .map((name) => {
      const dir = join(FIXTURES_DIR, name);
      const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8')) as Expectation;
      const module = expect.objname && expect.objname !== 'vmlinux' ? expect.objname : undefined;
      return { name, dir, pre: readFileSync(join(dir, 'pre.c'), 'utf8'), post: readFileSync(join(dir, 'post.c'), 'utf8'), expect, module };
    });
}

/** Both objects of a case (compiled once per source and flags; shared by every test file through the cache). */
export async function compileCase(c: FixtureCase): Promise<{ pre: string; post: string }> {
  const [pre, post] = await Promise.all([c.pre, c.post].map((source) => compileCached(source, c.name, { module: c.module })));
  return { pre: pre!, post: post! };
}

/** Compile every case (bounded parallelism inside compileCached); returns the objects by case name. */
export async function compileAll(cases: FixtureCase[]): Promise<Map<string, { pre: string; post: string }>> {
  const done = await Promise.all(cases.map(async (c) => [c.name, await compileCase(c)] as const));
  return new Map(done);
}
