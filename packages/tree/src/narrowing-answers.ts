import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileNarrowing } from './header-narrowing';
import type { PatchInput } from './journal';
import { PLAN_FORMAT, treeCacheDir, treeIdentity } from './kbuild-plan';
import { changesByFile } from './patch';

/** Bumped when the rule or what a decision records changes: older decisions and answers are not reused. */
export const RULE_VERSION = 3;

/** A change's narrowing, as graph time reads it: per changed file, its candidates and what to compile. */
export interface NarrowingAnswer {
  format: 1;
  files: FileNarrowing[];
}

/** Where the narrowing keeps what it learns about a tree: `answers/` per change, `decisions/` per object. */
export const narrowingDir = (tree: string, part: 'answers' | 'decisions' | 'shadows') => join(treeCacheDir(tree, 'header-narrowing'), part);

/**
 * The key of a change's narrowing: the tree, the rule, the plan's format (its candidates are the plan's objects),
 * and each changed file's part of the patches (normalized by splitPatch, so the same change in any patch file has
 * one key). The objects compiled for their own source are not candidates, so they are part of the key too.
 */
export async function narrowingKey(tree: string, patches: PatchInput[], files: string[], direct: string[]): Promise<string> {
  const changes = changesByFile(patches);
  const parts = [...files].sort().map((f) => [f, changes.get(f) ?? '']);
  return sha256(JSON.stringify({ rule: RULE_VERSION, plan: PLAN_FORMAT, tree: await treeIdentity(tree), files: parts, direct: [...direct].sort() }));
}

export async function readNarrowing(tree: string, key: string): Promise<NarrowingAnswer | undefined> {
  const answer = await readJson<NarrowingAnswer>(join(narrowingDir(tree, 'answers'), `${key}.json`));
  return answer?.format === 1 ? answer : undefined;
}

export async function writeNarrowing(tree: string, key: string, answer: NarrowingAnswer): Promise<void> {
  await writeJson(join(narrowingDir(tree, 'answers'), `${key}.json`), answer);
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const readJson = <T>(path: string): Promise<T | undefined> => readFile(path, 'utf8').then((t) => JSON.parse(t) as T, () => undefined);

/** Whole or not at all: another narrowing may read it at any moment. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(`${path}.${process.pid}.tmp`, JSON.stringify(value));
  await rename(`${path}.${process.pid}.tmp`, path);
}
