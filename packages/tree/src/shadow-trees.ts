import { basename, join } from 'node:path';
import { execa } from 'execa';
import { isDone, once } from '@hotsplice/kernel';
import { journalFor } from './build';
import { restoreTree } from './journal';
import { treeIdentity } from './kbuild-plan';
import { withTreeLock } from './lock';
import { narrowingDir } from './narrowing-answers';

export interface Shadows {
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
 * Files a later build generates in the real tree (security/selinux's flask.h) are not in them: a unit that needs
 * one does not preprocess, and its object is compiled.
 */
export async function shadowTrees(sourceTree: string): Promise<Shadows> {
  const key = JSON.stringify({ shadow: 1, tree: await treeIdentity(sourceTree) });
  const name = basename(sourceTree);
  const dirs = { pristine: join(narrowingDir(sourceTree, 'shadows'), 'pristine'), patched: join(narrowingDir(sourceTree, 'shadows'), 'patched') };
  for (const dir of Object.values(dirs)) {
    if (await isDone(dir, key)) continue;
    await withTreeLock(sourceTree, async () => {
      await restoreTree(sourceTree, journalFor(sourceTree));
      await once(dir, key, async (into) => {
        await execa('cp', ['-al', `${sourceTree}/.`, join(into, name)]);
      });
    });
  }
  return { pristine: join(dirs.pristine, name), patched: join(dirs.patched, name) };
}
