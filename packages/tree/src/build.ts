import { copyFile, mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { kbuildVariables, run } from '@hotsplice/kernel';
import { recordedCommand } from './fresh';
import { type PatchInput, applyPatches, restoreTree } from './journal';
import { withTreeLock } from './lock';

export interface TreeInfo {
  sourceTree: string;
  abi: string;
}

/**
 * Compile kernel objects as kbuild does, with the variables `kernel prepare` used (so nothing of `prepare` is
 * rebuilt). An object kbuild has built before gets its recorded command (gcc, then objtool) run directly in the
 * tree: what make's if_changed would run, without make's walk of the top Makefile, which costs ~2 s per call
 * (measured on fs/proc/meminfo.o: 2.7 s through make, 0.7 s direct, byte-identical objects). The rest go to
 * make, many per call, which also records their commands for next time.
 */
export async function compileObjects(tree: TreeInfo, objects: string[]): Promise<void> {
  const recorded = await Promise.all(objects.map((object) => (object.endsWith('.o') ? recordedCommand(tree.sourceTree, object) : undefined)));
  const viaMake = objects.filter((_, i) => recorded[i] === undefined);
  if (viaMake.length) {
    const jobs = `-j${Math.max(1, availableParallelism())}`;
    await run('make', ['-C', tree.sourceTree, '-s', jobs, ...kbuildVariables(tree.sourceTree, tree.abi), ...viaMake]);
  }
  const direct = objects.flatMap((object, i) => (recorded[i] === undefined ? [] : [{ object, command: recorded[i]! }]));
  await inParallel(direct, availableParallelism(), ({ object, command }) => runRecorded(tree.sourceTree, object, command));
}

/** One recorded kbuild command, run as make runs it (/bin/sh in the tree); the dependency file gcc writes is
 * dropped as kbuild's fixdep step does (the `.cmd` keeps the list of the last make build). */
async function runRecorded(sourceTree: string, object: string, command: string): Promise<void> {
  try {
    await run('/bin/sh', ['-c', command], { cwd: sourceTree }, `compiling ${object}`);
  } finally {
    await rm(join(sourceTree, dirname(object), `.${basename(object)}.d`), { force: true });
  }
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
}

/**
 * Ksplice's snap + patch + build: compile `objects` from the pristine tree into `<out>/pre/`, apply the patches
 * under the tree's journal, compile again into `<out>/post/`, and restore the tree (also when the build fails),
 * all under the tree lock.
 */
export async function buildPrePost(
  tree: TreeInfo,
  patches: PatchInput[],
  objects: string[],
  out: string,
): Promise<void> {
  const journalDir = journalFor(tree.sourceTree);
  await withTreeLock(tree.sourceTree, async () => {
    await restoreTree(tree.sourceTree, journalDir);
    await compileObjects(tree, objects);
    await copyObjects(tree.sourceTree, objects, (o) => join(out, 'pre', o));
    await applyPatches(tree.sourceTree, journalDir, patches);
    try {
      await compileObjects(tree, objects);
      await copyObjects(tree.sourceTree, objects, (o) => join(out, 'post', o));
    } finally {
      await restoreTree(tree.sourceTree, journalDir);
    }
  });
}

/** One journal per tree, beside it: whoever takes the tree next restores what a killed run left patched. */
export function journalFor(sourceTree: string): string {
  return join(dirname(sourceTree), '.hotsplice-journal');
}

/** Copy built objects out of the tree (the next build overwrites them there): `object` → `destOf(object)`. */
export async function copyObjects(treeDir: string, objects: string[], destOf: (object: string) => string): Promise<void> {
  for (const object of objects) {
    await mkdir(dirname(destOf(object)), { recursive: true });
    await copyFile(join(treeDir, object), destOf(object));
  }
}
