import { copyFile, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { kbuildVariables, run } from '@hotsplice/kernel';
import { type PatchInput, applyPatches, restoreTree } from './journal';
import { withTreeLock } from './lock';

export interface TreeInfo {
  sourceTree: string;
  abi: string;
}

/**
 * Compile kernel objects with kbuild, many per make call (~1.3 s of make overhead each, design.md §6), with the
 * same variables `kernel prepare` used, so nothing of `prepare` is rebuilt.
 */
export async function compileObjects(tree: TreeInfo, objects: string[]): Promise<void> {
  if (!objects.length) return;
  const jobs = `-j${Math.max(1, availableParallelism())}`;
  await run('make', ['-C', tree.sourceTree, '-s', jobs, ...kbuildVariables(tree.sourceTree, tree.abi), ...objects]);
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
