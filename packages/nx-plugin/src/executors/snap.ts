import { join } from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { compileObjects, copyObjects, isUpToDate, journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';
import { layout, placeOf } from '../layout';
import { type ObjectOptions, type TaskResults, compilerWrapper, kernelFor, runAll, single, withCompilerWrapper } from './common';

/**
 * Makefile.ksplice's snap: build the pre objects from the pristine tree, all of the batch together (kbuild's recorded
 * commands, else one make call: compileObjects), and copy them into the workspace.
 */
export async function batch(taskGraph: TaskGraph, inputs: Record<string, ObjectOptions>, _o: ObjectOptions, context: ExecutorContext): Promise<TaskResults> {
  return runAll(taskGraph, inputs, async (tasks) => {
    const kernel = await kernelFor(tasks[0].abi);
    const objects = tasks.map((t) => t.object);
    await withTreeLock(kernel.sourceTree, async () => {
      await restoreTree(kernel.sourceTree, journalFor(kernel.sourceTree));
      const stale: string[] = [];
      for (const object of objects) if (!(await isUpToDate(kernel.sourceTree, object, kernel.compiler))) stale.push(object);
      await withCompilerWrapper(compilerWrapper(context, tasks[0].root), kernel, () => compileObjects(kernel, stale));
      // Per task: one batch may hold the same object for two updates (ids).
      for (const t of tasks) await copyObjects(kernel.sourceTree, [t.object], (o) => join(context.root, layout.pre(placeOf(t), o)));
    });
    return `snap: ${objects.length} pre object(s): ${objects.join(' ')}`;
  });
}

export default single(batch);
