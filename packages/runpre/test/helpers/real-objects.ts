// Real pre objects of the prepared Debian tree: compiled by kbuild from the pristine tree (the pipeline's flags,
// -ffunction-sections included) under the tree lock, then copied out with their kbuild .cmd records.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type TreeInfo, cmdFileOf, compileObjects, copyObjects, journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';

export async function buildPristineObjects(kernel: TreeInfo, objects: string[], out: string): Promise<void> {
  await withTreeLock(kernel.sourceTree, async () => {
    await restoreTree(kernel.sourceTree, journalFor(kernel.sourceTree));
    await compileObjects(kernel, objects);
    await copyObjects(kernel.sourceTree, objects, (o) => join(out, o));
    for (const o of objects) {
      await mkdir(dirname(join(out, cmdFileOf(o))), { recursive: true });
      await writeFile(join(out, cmdFileOf(o)), await readFile(join(kernel.sourceTree, cmdFileOf(o))));
    }
  });
}
