import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { compileObjects, copyObjects, isUpToDate, journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';
import { layout, placeOf } from '../layout';
import { type ObjectOptions, type TaskResults, compileSetup, dropPackages, kernelFor, runAll, single, withCompileSetup } from './common';

/**
 * Makefile.ksplice's snap: build the pre objects from the pristine tree, all of one kernel's tasks together (kbuild's recorded
 * commands, else one make call: compileObjects), and copy them into the workspace.
 */
export async function batch(taskGraph: TaskGraph, inputs: Record<string, ObjectOptions>, _o: ObjectOptions, context: ExecutorContext): Promise<TaskResults> {
  return runAll(taskGraph, inputs, async (tasks) => {
    await dropPackages(context, tasks.map(placeOf));
    const kernel = await kernelFor(tasks[0].abi);
    const objects = tasks.map((t) => t.object);
    const setup = await compileSetup(context, tasks[0].root, kernel);
    await withTreeLock(kernel.sourceTree, async () => {
      await restoreTree(kernel.sourceTree, journalFor(kernel.sourceTree));
      // The tree's objects are the kernel compiler's: a chosen compiler builds every pre object itself.
      const stale: string[] = [];
      for (const object of objects) if (setup.use || !(await isUpToDate(kernel.sourceTree, object, kernel.compiler))) stale.push(object);
      await withCompileSetup(setup, kernel, () => compileObjects(kernel, stale));
      // Per task: one batch may hold the same object for two updates (ids).
      for (const t of tasks) await copyObjects(kernel.sourceTree, [t.object], (o) => join(context.root, layout.pre(placeOf(t), o)));
      // …and leaves none of them in the shared tree, where their recorded command would make them look the kernel
      // compiler's to the next update.
      if (setup.use) await Promise.all(objects.map((o) => rm(join(kernel.sourceTree, o), { force: true })));
    });
    return `snap: ${objects.length} pre object(s): ${objects.join(' ')}`;
  }, (t) => t.abi); // each kernel of a fleet: its own tree
}

export default single(batch);
