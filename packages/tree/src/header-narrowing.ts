import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { KERNEL_CC, inParallel } from '@hotsplice/kernel';
import { journalFor } from './build';
import { type HeaderVerdict, headerVerdict } from './header-verdict';
import { applyPatches, type PatchInput, restoreTree } from './journal';
import { plannedCommands, treeIdentity } from './kbuild-plan';
import { withTreeLock } from './lock';
import { RULE_VERSION, narrowingDir, readJson, sha256, writeJson } from './narrowing-answers';
import { changesByFile } from './patch';
import { preprocessObject } from './preprocess';
import { type Shadows, shadowTrees } from './shadow-trees';
import { ShellPool } from './shell-pool';

/** One candidate object's answer. */
export interface ObjectDecision extends HeaderVerdict {
  object: string;
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
 * preprocessed with its own kbuild command before and after the patch, in the tree's two hard-linked copies
 * (shadowTrees), so the kernel tree's lock stays free for builds. Decisions are kept per object, command and the
 * changes to the files it includes, so a second run of the same change (or of another change to other headers)
 * preprocesses nothing again. Where the change reaches some unit but no object needs compiling, the smallest such
 * unit is compiled anyway (the witness): the patched header must have been compiled before the update says it
 * changes nothing.
 */
export async function narrowHeaderChange(input: NarrowingInput): Promise<FileNarrowing[]> {
  const { tree, patches } = input;
  const changes = changesByFile(patches);
  const readsChanged = new Map<string, string[]>();
  for (const [file, objects] of input.candidates) for (const o of objects) readsChanged.set(o, [...(readsChanged.get(o) ?? []), file]);
  const commands = await plannedCommands(tree.sourceTree, tree.abi);
  const base = { rule: RULE_VERSION, tree: await treeIdentity(tree.sourceTree), compiler: await compilerVersion() };
  const decisionFile = (object: string) => {
    const reads = [...new Set(readsChanged.get(object))].sort().map((f) => [f, changes.get(f) ?? '']);
    return join(narrowingDir(tree.sourceTree, 'decisions'), `${sha256(JSON.stringify({ ...base, object, command: commands[object], reads }))}.json`);
  };

  const decisions = new Map<string, ObjectDecision>();
  const todo: string[] = [];
  for (const object of [...readsChanged.keys()].sort()) {
    const cached = commands[object] ? await readJson<ObjectDecision>(decisionFile(object)) : undefined;
    if (!commands[object]) decisions.set(object, { object, compile: true, reason: 'no kbuild command to preprocess with' });
    else if (cached?.object === object) decisions.set(object, { ...cached, cached: true });
    else todo.push(object);
  }
  if (todo.length) {
    await preprocessBoth(tree.sourceTree, patches, new Set(changes.keys()), todo, input.log, async (object, judge) => {
      const command = commands[object]!;
      const decision: ObjectDecision = command.includes(`${tree.sourceTree}/`)
        ? { object, compile: true, reason: 'its command names the kernel tree by its absolute path' }
        : { object, ...(await judge(command)) };
      decisions.set(object, decision);
      await writeJson(decisionFile(object), decision);
    });
  }
  return [...input.candidates].map(([path, objects]) => {
    const mine = objects.map((o) => decisions.get(o)!);
    const compile = mine.filter((d) => d.compile).map((d) => ({ object: d.object, reason: d.reason }));
    const witness = mine.filter((d) => d.unused && d.size !== undefined).sort((a, b) => a.size! - b.size!)[0];
    if (!compile.length && witness) compile.push({ object: witness.object, reason: `witness: compiles the changed declarations (${witness.reason})` });
    return {
      path,
      candidates: objects.length,
      preprocessed: mine.filter((d) => d.size !== undefined && !d.cached).length,
      cached: mine.filter((d) => d.cached).length,
      compile,
    };
  });
}

type Judge = (command: string) => Promise<Omit<ObjectDecision, 'object'>>;

/**
 * Run `each` for every object, two objects per core at a time, with the patched copy patched (under its lock, for
 * the whole run: another narrowing waits, for hours if it must) and a `judge` that preprocesses one command in
 * both copies and gives the rule's verdict on the two units.
 */
async function preprocessBoth(
  sourceTree: string,
  patches: PatchInput[],
  changedFiles: Set<string>,
  objects: string[],
  log: ((line: string) => void) | undefined,
  each: (object: string, judge: Judge) => Promise<void>,
): Promise<void> {
  const shadows = await shadowTrees(sourceTree);
  const journal = journalFor(shadows.patched);
  const pool = await ShellPool.start(2 * availableParallelism());
  const started = Date.now();
  let done = 0;
  const judge: Judge = (command) => judged(pool, shadows, command, changedFiles);
  try {
    await withTreeLock(
      shadows.patched,
      async () => {
        await restoreTree(shadows.patched, journal);
        await applyPatches(shadows.patched, journal, patches);
        try {
          await inParallel(objects, availableParallelism(), async (object) => {
            await each(object, judge);
            if (++done % 100 === 0 || done === objects.length) log?.(progress(done, objects.length, started));
          });
        } finally {
          await restoreTree(shadows.patched, journal);
        }
      },
      6 * 60 * 60_000,
    );
  } finally {
    await pool.stop();
  }
}

/** One command preprocessed in the pristine copy and in the patched one, and the rule's verdict on the two units. */
async function judged(pool: ShellPool, shadows: Shadows, command: string, changedFiles: Set<string>): Promise<Omit<ObjectDecision, 'object'>> {
  const [pre, post] = await Promise.all([preprocessObject(pool, shadows.pristine, command), preprocessObject(pool, shadows.patched, command)]);
  // Before: kbuild generates a header while building the object (security/selinux's flask.h); make will then.
  // After: the patch breaks the unit, and the compile says how.
  if ('error' in pre) return { compile: true, reason: `does not preprocess before the patch: ${pre.error}` };
  if ('error' in post) return { compile: true, reason: `does not preprocess after the patch: ${post.error}` };
  return { ...headerVerdict(pre.bytes, post.bytes, changedFiles), size: pre.bytes.length };
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
