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
    await copyOut(tree.sourceTree, objects, join(out, 'pre'));
    await applyPatches(tree.sourceTree, journalDir, patches);
    try {
      await compileObjects(tree, objects);
      await copyOut(tree.sourceTree, objects, join(out, 'post'));
    } finally {
      await restoreTree(tree.sourceTree, journalDir);
    }
  });
}

/** One journal per tree, beside it: whoever takes the tree next restores what a killed run left patched. */
export function journalFor(sourceTree: string): string {
  return join(dirname(sourceTree), '.hotsplice-journal');
}

async function copyOut(treeDir: string, objects: string[], dest: string): Promise<void> {
  for (const object of objects) {
    await mkdir(dirname(join(dest, object)), { recursive: true });
    await copyFile(join(treeDir, object), join(dest, object));
  }
}
