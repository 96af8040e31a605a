import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { KERNEL_CC, inParallel, isDone, once } from '@hotsplice/kernel';
import { journalFor } from './build';
import { headerVerdict } from './header-verdict';
import { applyPatches, type PatchInput, restoreTree } from './journal';
import { plannedCommands, treeCacheDir, treeIdentity } from './kbuild-plan';
import { withTreeLock } from './lock';
import { splitPatch } from './patch';
import { preprocessObject } from './preprocess';
import { ShellPool } from './shell-pool';

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

/**
 * Narrow a header patch's candidates to the objects whose code can change (headerVerdict): each candidate is
 * preprocessed with its own kbuild command before and after the patch, in two hard-linked copies of the tree (one
 * pristine, one patched through its own journal), so the kernel tree's lock stays free for builds. Decisions are
 * kept per object, command and the changes to the files it includes, so a second run of the same change (or of
 * another change to other headers) preprocesses nothing again. Where the changed declarations reach some unit but no object needs
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
  if (todo.length) {
    const shadows = await shadowTrees(tree.sourceTree);
    const journal = journalFor(shadows.patched);
    let done = 0;
    const started = Date.now();
    const pool = await ShellPool.start(2 * availableParallelism());
    // Another narrowing waits for this one; a cold one of a widely included header takes long.
    await withTreeLock(
      shadows.patched,
      async () => {
        await restoreTree(shadows.patched, journal);
        await applyPatches(shadows.patched, journal, patches);
        try {
          await inParallel(todo, availableParallelism(), async (object) => {
            const command = commands[object]!;
            const decision: ObjectDecision = command.includes(`${tree.sourceTree}/`)
              ? { object, compile: true, reason: 'its command names the kernel tree by its absolute path' }
              : await decide(pool, object, command, shadows, changedFiles);
            decisions.set(object, decision);
            await writeAtomically(join(cacheDir, `${keyOf(object)}.json`), JSON.stringify(decision));
            if (++done % 100 === 0 || done === todo.length) input.log?.(progress(done, todo.length, started));
          });
        } finally {
          await restoreTree(shadows.patched, journal);
          await pool.stop();
        }
      },
      6 * 60 * 60_000,
    );
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

/** One object: its unit from the pristine tree and from the patched one, and the rule's verdict on the two. */
async function decide(pool: ShellPool, object: string, command: string, shadows: Shadows, changedFiles: Set<string>): Promise<ObjectDecision> {
  const [pre, post] = await Promise.all([preprocessObject(pool, shadows.pristine, command), preprocessObject(pool, shadows.patched, command)]);
  // Before: kbuild generates a header while building it (security/selinux's flask.h); make will. After: the patch
  // breaks it, and the compile says so.
  if ('error' in pre) return { object, compile: true, reason: `does not preprocess before the patch: ${pre.error}` };
  if ('error' in post) return { object, compile: true, reason: `does not preprocess after the patch: ${post.error}` };
  return { object, ...headerVerdict(pre.bytes, post.bytes, changedFiles), size: pre.bytes.length };
}

interface Shadows {
  /** Never patched. */
  pristine: string;
  /** Patched (under its own lock and journal) for one narrowing at a time. */
  patched: string;
}

/**
 * Two copies of the kernel tree made of hard links (`cp -al`: seconds, no data copied), one kept pristine and one
 * the narrowing patches, so preprocessing never takes the kernel tree's lock from the builds that share it. A
 * patch never writes into a file (the journal replaces files by renaming a new copy over them, here and in the
 * real tree), so the copies stay what the tree was when they were made: under the tree's lock, after restoring it.
 */
async function shadowTrees(sourceTree: string): Promise<Shadows> {
  const root = treeCacheDir(sourceTree, 'header-narrowing');
  const key = JSON.stringify({ shadow: 1, tree: await treeIdentity(sourceTree) });
  const name = basename(sourceTree);
  const out = { pristine: join(root, 'pristine', name), patched: join(root, 'patched', name) };
  for (const dir of [dirname(out.pristine), dirname(out.patched)]) {
    if (await isDone(dir, key)) continue;
    await withTreeLock(sourceTree, async () => {
      await restoreTree(sourceTree, journalFor(sourceTree));
      await once(dir, key, async (into) => {
        await execa('cp', ['-al', `${sourceTree}/.`, join(into, name)]);
      });
    });
  }
  return out;
}

function progress(done: number, total: number, started: number): string {
  const seconds = (Date.now() - started) / 1000;
  const left = done < total ? `, about ${Math.ceil(((total - done) * seconds) / done / 60)} min left` : '';
  return `hotsplice: header change: ${done}/${total} object(s) preprocessed before and after the patch (${seconds.toFixed(0)} s${left})`;
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
