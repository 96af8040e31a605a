import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { KERNEL_CC, inParallel } from '@hotsplice/kernel';
import { journalFor } from './build';
import { headerVerdict } from './header-verdict';
import { applyPatches, type PatchInput, restoreTree } from './journal';
import { plannedCommands, treeCacheDir, treeIdentity } from './kbuild-plan';
import { withTreeLock } from './lock';
import { splitPatch } from './patch';
import { preprocessObject } from './preprocess';

/** Bumped when the rule or what a decision records changes: older decisions are not reused. */
export const RULE_VERSION = 2;

/** One candidate object's answer. */
export interface ObjectDecision {
  object: string;
  compile: boolean;
  reason: string;
  /** Its unit's size before the patch (bytes), when it was preprocessed: the smallest one is the witness. */
  size?: number;
  /** Taken from an earlier run's decision for the same object, command and changes. */
  cached?: boolean;
}

/** What narrowing did for one changed file (a header, or a .c file other objects include). */
export interface FileNarrowing {
  path: string;
  /** Objects this config builds that include it (the include index and kbuild's plan). */
  candidates: number;
  /** Candidates preprocessed before and after the patch in this run. */
  preprocessed: number;
  /** Candidates whose decision came from the cache (preprocessed by an earlier run). */
  cached: number;
  /** The candidates to compile, each with its reason. */
  compile: Array<{ object: string; reason: string }>;
}

export interface NarrowingInput {
  tree: { sourceTree: string; abi: string };
  patches: PatchInput[];
  /** Per changed file, the built objects that include it. */
  candidates: Map<string, string[]>;
  /** Reports progress (one line). */
  log?: (line: string) => void;
}

/** Objects preprocessed per hold of the tree lock: other users of the tree get their turn between batches. */
const BATCH = 16;

/**
 * Narrow a header patch's candidates to the objects whose code can change (headerVerdict): each candidate is
 * preprocessed with its own kbuild command before and after the patch, in batches under the tree lock (the patch
 * is applied and the tree restored within each hold, through the journal). Decisions are kept per object, command
 * and the changes to the files it includes, so a second run of the same change (or of another change to other
 * headers) preprocesses nothing again. Where the changed declarations reach some unit but no object needs
 * compiling, the smallest such unit is compiled anyway (the witness): the patched header must have been compiled
 * before anyone says it changes nothing.
 */
export async function narrowHeaderChange(input: NarrowingInput): Promise<FileNarrowing[]> {
  const { tree, patches } = input;
  const cacheDir = join(treeCacheDir(tree.sourceTree, 'header-narrowing'), 'decisions');
  await mkdir(cacheDir, { recursive: true });
  const changes = new Map<string, string>();
  for (const p of patches) for (const [path, diff] of splitPatch(p.text)) changes.set(path, `${changes.get(path) ?? ''}${diff}`);
  const readsChanged = new Map<string, string[]>();
  for (const [file, objects] of input.candidates) for (const o of objects) readsChanged.set(o, [...(readsChanged.get(o) ?? []), file]);
  const commands = await plannedCommands(tree.sourceTree, tree.abi);
  const base = { rule: RULE_VERSION, tree: await treeIdentity(tree.sourceTree), compiler: await compilerVersion() };
  const keyOf = (object: string) =>
    sha256(JSON.stringify({ ...base, object, command: commands[object], changes: [...new Set(readsChanged.get(object))].sort().map((f) => [f, changes.get(f) ?? '']) }));

  const decisions = new Map<string, ObjectDecision>();
  const todo: string[] = [];
  for (const object of [...readsChanged.keys()].sort()) {
    if (!commands[object]) {
      decisions.set(object, { object, compile: true, reason: 'no kbuild command to preprocess with' });
      continue;
    }
    const cached = await readFile(join(cacheDir, `${keyOf(object)}.json`), 'utf8').then((t) => JSON.parse(t) as ObjectDecision, () => undefined);
    if (cached?.object === object) decisions.set(object, { ...cached, cached: true });
    else todo.push(object);
  }
  const changedFiles = new Set(changes.keys());
  const scratch = await mkdtemp(join(tmpdir(), 'hotsplice-narrow-'));
  try {
    for (let i = 0; i < todo.length; i += BATCH) {
      const batch = todo.slice(i, i + BATCH);
      const units = await preprocessBothSides(tree.sourceTree, patches, batch, commands, scratch);
      for (const object of batch) {
        const { pre, post } = units.get(object)!;
        const decision: ObjectDecision =
          'error' in pre
            ? { object, compile: true, reason: `does not preprocess before the patch: ${pre.error.split('\n')[0]}` }
            : 'error' in post
              ? { object, compile: true, reason: `does not preprocess after the patch: ${post.error.split('\n')[0]}` }
              : { object, ...headerVerdict(pre.bytes, post.bytes, changedFiles), size: pre.bytes.length };
        decisions.set(object, decision);
        await writeAtomically(join(cacheDir, `${keyOf(object)}.json`), JSON.stringify(decision));
      }
      input.log?.(`hotsplice: header change: ${Math.min(i + BATCH, todo.length)}/${todo.length} object(s) preprocessed before and after the patch`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return [...input.candidates].map(([path, objects]) => {
    const mine = objects.map((o) => decisions.get(o)!);
    const compile = mine.filter((d) => d.compile).map((d) => ({ object: d.object, reason: d.reason }));
    // Changed declarations that nothing uses: one unit still compiles them (the smallest).
    const unused = mine.filter((d) => !d.compile && d.reason.startsWith(UNUSED) && d.size !== undefined).sort((a, b) => a.size! - b.size!);
    if (!compile.length && unused.length) compile.push({ object: unused[0]!.object, reason: `witness: compiles the changed declarations (${unused[0]!.reason})` });
    return {
      path,
      candidates: objects.length,
      preprocessed: mine.filter((d) => d.size !== undefined && !d.cached).length,
      cached: mine.filter((d) => d.cached).length,
      compile,
    };
  });
}

const UNUSED = 'changed declarations';

/** A change's narrowing, as graph time reads it: per changed file, its candidates and what to compile. */
export interface NarrowingAnswer {
  format: 1;
  files: FileNarrowing[];
}

const answersDir = (tree: string) => join(treeCacheDir(tree, 'header-narrowing'), 'answers');

/**
 * The key of a change's narrowing: the tree, the rule, and each changed file's part of the patches (normalized by
 * splitPatch, so the same change in any patch file has one key). The objects compiled for their own source are
 * not candidates, so they are part of the key too.
 */
export async function narrowingKey(tree: string, patches: PatchInput[], files: string[], direct: string[]): Promise<string> {
  const changes = new Map<string, string>();
  for (const p of patches) for (const [path, diff] of splitPatch(p.text)) changes.set(path, `${changes.get(path) ?? ''}${diff}`);
  const parts = [...files].sort().map((f) => [f, changes.get(f) ?? '']);
  return sha256(JSON.stringify({ rule: RULE_VERSION, tree: await treeIdentity(tree), files: parts, direct: [...direct].sort() }));
}

export async function readNarrowing(tree: string, key: string): Promise<NarrowingAnswer | undefined> {
  const answer = await readFile(join(answersDir(tree), `${key}.json`), 'utf8').then((t) => JSON.parse(t) as NarrowingAnswer, () => undefined);
  return answer?.format === 1 ? answer : undefined;
}

export async function writeNarrowing(tree: string, key: string, answer: NarrowingAnswer): Promise<void> {
  await mkdir(answersDir(tree), { recursive: true });
  await writeAtomically(join(answersDir(tree), `${key}.json`), JSON.stringify(answer));
}

interface Side {
  pre: { bytes: Buffer } | { error: string };
  post: { bytes: Buffer } | { error: string };
}

/** One hold of the tree lock: the batch preprocessed from the pristine tree, then with the patches applied. */
async function preprocessBothSides(
  sourceTree: string,
  patches: PatchInput[],
  batch: string[],
  commands: Record<string, string>,
  scratch: string,
): Promise<Map<string, Side>> {
  const out = new Map<string, Side>();
  const journal = journalFor(sourceTree);
  const run = async (side: 'pre' | 'post') =>
    inParallel(batch, availableParallelism(), async (object) => {
      const result = await preprocessObject(sourceTree, commands[object]!, join(scratch, `${object.replace(/\//g, '_')}.${side}.i`));
      const entry = out.get(object) ?? ({} as Side);
      entry[side] = 'error' in result ? result : { bytes: result.bytes };
      out.set(object, entry);
    });
  await withTreeLock(sourceTree, async () => {
    await restoreTree(sourceTree, journal);
    await run('pre');
    await applyPatches(sourceTree, journal, patches);
    try {
      await run('post');
    } finally {
      await restoreTree(sourceTree, journal);
    }
  });
  return out;
}

let compiler: Promise<string> | undefined;
function compilerVersion(): Promise<string> {
  compiler ??= execa(KERNEL_CC, ['--version']).then((r) => r.stdout.split('\n')[0]!);
  return compiler;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function writeAtomically(path: string, data: string): Promise<void> {
  await writeFile(`${path}.${process.pid}.tmp`, data);
  await rename(`${path}.${process.pid}.tmp`, path);
}
