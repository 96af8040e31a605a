import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { compilerVersionLine, inParallel } from '@hotsplice/kernel';
import { type TreeInfo, journalFor } from './build';
import { type HeaderVerdict, headerVerdict } from './header-verdict';
import { applyPatches, type PatchInput, restoreTree } from './journal';
import { plannedCommands, treeIdentity } from './kbuild-plan';
import { withTreeLock } from './lock';
import { RULE_VERSION, narrowingDir, readJson, sha256, writeJson } from './narrowing-answers';
import { changesByFile } from './patch';
import { mergedFile, splitUnit } from './merged-change';
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
  tree: TreeInfo;
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
  const commands = await plannedCommands(tree);
  const base = { rule: RULE_VERSION, tree: await treeIdentity(tree.sourceTree), compiler: await compilerVersionLine(tree) };
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
    await preprocessBoth(tree, patches, new Set(changes.keys()), todo, input.log, async (object, judge) => {
      const command = commands[object]!;
      const verdict = command.includes(`${tree.sourceTree}/`) ? { compile: true, reason: 'its command names the kernel tree by its absolute path' } : await judge(command);
      if (!verdict) return false;
      decisions.set(object, { object, ...verdict });
      await writeJson(decisionFile(object), { object, ...verdict });
      return true;
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

/** The verdict on one command's units, or undefined when this way of preprocessing cannot tell (then the other). */
type Judge = (command: string) => Promise<Omit<ObjectDecision, 'object'> | undefined>;

/**
 * Run `each` for every object, two objects per core at a time, with a `judge` that gives the rule's verdict on the
 * object's unit before and after the change. The patched copy stays patched under its lock for the whole run
 * (another narrowing waits, for hours if it must). When every changed file can be merged (mergedFile), the copy
 * holds the merged files and one preprocessor run gives both units; a unit the merge cannot serve (splitUnit), and
 * every unit when a file cannot be merged, is preprocessed in both copies.
 */
async function preprocessBoth(
  tree: TreeInfo,
  patches: PatchInput[],
  changedFiles: Set<string>,
  objects: string[],
  log: ((line: string) => void) | undefined,
  each: (object: string, judge: Judge) => Promise<boolean>,
): Promise<void> {
  const shadows = await shadowTrees(tree.sourceTree);
  const journal = journalFor(shadows.patched);
  const pool = await ShellPool.start(2 * availableParallelism(), tree);
  const started = Date.now();
  let done = 0;
  const undecided: string[] = [];
  const run = (list: string[], judge: Judge) =>
    inParallel(list, availableParallelism(), async (object) => {
      if (!(await each(object, judge))) return void undecided.push(object);
      if (++done % 100 === 0 || done === objects.length) log?.(progress(done, objects.length, started));
    });
  const twoRuns: Judge = (command) => judged(pool, shadows, command, changedFiles);
  try {
    await withTreeLock(
      shadows.patched,
      async () => {
        await restoreTree(shadows.patched, journal);
        const merged = await mergedPatches(shadows, journal, patches, changedFiles);
        if (merged.patches) {
          await applyPatches(shadows.patched, journal, merged.patches);
          try {
            // A unit that does not preprocess, or that the merge cannot serve, is preprocessed twice below.
            const oneRun: Judge = async (command) => {
              const unit = await preprocessObject(pool, shadows.patched, command);
              const views = 'bytes' in unit ? splitUnit(unit.bytes) : undefined;
              return views && 'pre' in views ? { ...headerVerdict(views.pre, views.post, changedFiles), size: views.pre.length } : undefined;
            };
            await run(objects, oneRun);
          } finally {
            await restoreTree(shadows.patched, journal);
          }
        } else {
          log?.(`hotsplice: header change: each unit preprocessed before and after the patch (${merged.refused})`);
        }
        const again = merged.patches ? undecided.splice(0) : objects;
        if (!again.length) return;
        await applyPatches(shadows.patched, journal, patches);
        try {
          await run(again, twoRuns);
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

/**
 * Patches that turn the changed files of the pristine copy into merged files (both versions in one), read from the
 * pristine copy and the patched one; or why a file cannot be merged.
 */
async function mergedPatches(shadows: Shadows, journal: string, patches: PatchInput[], files: Set<string>): Promise<{ patches?: PatchInput[]; refused?: string }> {
  // As the patches themselves are read: UTF-8 text (GNU patch gets them on its standard input as such).
  const read = (tree: string, file: string) => readFile(join(tree, file), 'utf8').catch(() => undefined);
  const after = new Map<string, string | undefined>();
  await applyPatches(shadows.patched, journal, patches);
  try {
    for (const file of files) after.set(file, await read(shadows.patched, file));
  } finally {
    await restoreTree(shadows.patched, journal);
  }
  const out: PatchInput[] = [];
  for (const file of files) {
    const before = await read(shadows.pristine, file);
    const now = after.get(file);
    if (before === undefined || now === undefined) return { refused: `${file} is created` };
    const merged = mergedFile(before, now);
    if ('refused' in merged) return { refused: `${file}: ${merged.refused}` };
    out.push({ name: `merged ${file}`, text: await replacement(file, before, merged.text) });
  }
  return { patches: out };
}

/** A unified diff turning `before` into `after` for `path` (diff -u). */
async function replacement(path: string, before: string, after: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hotsplice-merged-'));
  try {
    await writeFile(join(dir, 'a'), before);
    await writeFile(join(dir, 'b'), after);
    const r = await execa('diff', ['-u', '--label', `a/${path}`, '--label', `b/${path}`, 'a', 'b'], { cwd: dir, reject: false, stripFinalNewline: false });
    if (r.exitCode !== 1) throw new Error(`diff of the merged ${path} failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
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
